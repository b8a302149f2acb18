import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../sandbox/booking-standard/prng.js';
import { decodeBucket, encodeBucket } from './slot-bucket-codec.js';
import type { CacheableSlot } from './slot-cache.js';

const FETCHED = '2026-11-24T08:00:00.000Z';

/** Slots shaped like the adapters' (ids, times, nulls, lists, nested objects), some fields alike and some not. */
function slots(seed: number): CacheableSlot[] {
  // Seeded, so a failure names the seed that made it.
  const r = seededRandom(seed);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)]!;
  const n = Math.floor(r() * 6);
  // Each field is either fixed for the whole bucket or drawn per slot, so both paths are taken.
  const fixed = { channel: r() < 0.5, practitioner: r() < 0.5, flags: r() < 0.5, fetchedAt: r() < 0.7, nativeKey: r() < 0.5 };
  return Array.from({ length: n }, (_, i) => {
    const start = Date.parse('2026-11-24T09:00:00Z') + i * 900_000;
    const slot: Record<string, unknown> = {
      id: `s-${seed}-${i}`,
      serviceId: '1402000101',
      start: new Date(start).toISOString(),
      end: new Date(start + 900_000).toISOString(),
      kind: 'APPOINTMENT',
      status: 'FREE',
      deliveryChannel: fixed.channel ? 'IN_PERSON' : pick(['IN_PERSON', 'VIDEO', 'TELEPHONE']),
      practitioner: fixed.practitioner ? null : pick([null, { name: 'Dr Ada Okafor', role: null }]),
      qualityFlags: fixed.flags ? [] : pick([[], ['OFFSET_UNSTATED']]),
      capacity: pick([null, 1, 3]),
      bookable: pick([true, false]),
      fetchedAt: fixed.fetchedAt ? FETCHED : pick([FETCHED, '2026-11-24T07:59:00.000Z']),
      source: 'LIVE',
    };
    if (!fixed.nativeKey && r() < 0.5) slot.nativeKey = `native-${i}`;
    return slot as unknown as CacheableSlot;
  });
}

const asCache = (list: CacheableSlot[]) => list.map((s) => ({ ...s, source: 'CACHE' }));

describe('slot bucket codec', () => {
  it('decodes what it encodes, slot for slot, marked CACHE (300 seeded buckets)', () => {
    for (let seed = 1; seed <= 300; seed++) {
      const list = slots(seed);
      const decoded = decodeBucket(encodeBucket(list, FETCHED));
      expect(decoded, `seed ${seed}`).toEqual({ slots: asCache(list), fetchedAt: FETCHED, source: 'CACHE' });
    }
  });

  it('writes once what every slot has alike, and keeps what differs with each slot', () => {
    let seed = 1;
    while (slots(seed).length < 3) seed++;
    const list = slots(seed);
    const stored = JSON.parse(encodeBucket(list, FETCHED)) as { f: number; c: Record<string, unknown>; t: Record<string, unknown>[] };
    expect(stored.f).toBe(Date.parse(FETCHED));
    expect(stored.c).toMatchObject({ serviceId: '1402000101', kind: 'APPOINTMENT', status: 'FREE' });
    expect(Object.keys(stored.c)).not.toContain('source');
    expect(stored.t).toHaveLength(list.length);
    for (const row of stored.t) {
      expect(row).toHaveProperty('id');
      expect(row).toHaveProperty('start');
      expect(row).not.toHaveProperty('kind');
      expect(row).not.toHaveProperty('source');
    }
  });

  it('factors nothing out of a single slot, and keeps a field missing from some slots off the others', () => {
    const one = slots(11).slice(0, 1);
    const single = JSON.parse(encodeBucket(one, FETCHED)) as { c: object };
    expect(single.c).toEqual({});
    const two = [
      { id: 'a', start: '2026-11-24T09:00:00.000Z', fetchedAt: FETCHED, source: 'LIVE', nativeKey: 'x' },
      { id: 'b', start: '2026-11-24T09:15:00.000Z', fetchedAt: FETCHED, source: 'LIVE' },
    ] as unknown as CacheableSlot[];
    expect(decodeBucket(encodeBucket(two, FETCHED))!.slots).toEqual(asCache(two));
    // A list every slot has empty is one frozen list in the decoded slots (they are never changed).
    const flagged = two.map((x) => ({ ...x, qualityFlags: [] }));
    const decoded = decodeBucket<CacheableSlot & { qualityFlags: string[] }>(encodeBucket(flagged, FETCHED))!;
    expect(decoded.slots.map((x) => x.qualityFlags)).toEqual([[], []]);
    for (const slot of decoded.slots) expect(Object.isFrozen(slot.qualityFlags)).toBe(true);
    expect(decodeBucket(encodeBucket([], FETCHED))).toEqual({ slots: [], fetchedAt: FETCHED, source: 'CACHE' });
  });

  it('still reads the earlier format (every slot whole under `s`); the earlier release finds no `s` in this one', () => {
    const earlier = JSON.stringify({ f: Date.parse(FETCHED), s: [{ id: 'a', start: '2026-11-24T09:00:00.000Z', kind: 'APPOINTMENT' }] });
    expect(decodeBucket(earlier)!.slots).toEqual([{ id: 'a', start: '2026-11-24T09:00:00.000Z', kind: 'APPOINTMENT', fetchedAt: FETCHED, source: 'CACHE' }]);
    expect(JSON.parse(encodeBucket(slots(3), FETCHED))).not.toHaveProperty('s');
  });

  it('takes unreadable text for no bucket', () => {
    for (const text of ['', 'not json', 'null', '[]', '{"t":[]}', '{"f":1,"t":[],"c":[]}', '{"f":"x","s":[]}', '{"f":1}', '{"f":1e20,"t":[],"c":{}}']) {
      expect(decodeBucket(text), text).toBeNull();
    }
  });
});
