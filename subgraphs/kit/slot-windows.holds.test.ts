/**
 * The slot fields with holds (common/holds.ts, read through a HoldReader): another consumer's held slot is out of
 * `slots`, `capacity`, `nextAvailable` and the top K with its counts, a session time loses one place per hold, and
 * the holder sees everything; a holds read that fails serves the slots unfiltered.
 */
import { describe, expect, it } from 'vitest';
import { MAX_PASSED_HOLDS, type LiveHold } from '../../common/holds.js';
import { encodeSlotId } from '../../common/slot-id.js';
import type { SubgraphContext } from '../../common/context.js';
import { PASSED_HOLDS_FOR_MS, slotFields, type HoldReader } from './slot-windows.js';

const NOW = new Date('2026-11-23T08:00:00Z');
const SLOTS = [
  { id: 'a', start: '2026-11-23T09:00:00Z' },
  { id: 'b', start: '2026-11-23T09:15:00Z' },
  { id: 's', start: '2026-11-23T09:30:00Z', capacity: 2 },
];

function fields(holds: LiveHold[] | Error) {
  const reader: HoldReader = {
    live: async (pairs) => {
      if (holds instanceof Error) throw holds;
      return new Map(pairs.map((p) => [`${p.system}\n${p.serviceId}`, holds]));
    },
  };
  return slotFields({
    name: 'test',
    now: () => NOW,
    fetchSpans: (spans) => spans.map(async () => ({ slots: SLOTS, fetchedAt: NOW.toISOString() })),
    toError: (_s, err) => err as Error,
    holds: reader,
    onHoldsError: () => undefined,
  });
}

const ctx = (odsCode: string): SubgraphContext => ({ consumer: { odsCode, name: odsCode } as SubgraphContext['consumer'], traceId: 't', loaders: new Map() });
const parent = { id: 'svc', supplier: { id: 'sys' } };
const window = { from: '2026-11-23T08:00:00Z', to: '2026-11-23T12:00:00Z' };
const HOLDS: LiveHold[] = [
  { hid: '1', slotId: 'a', serviceId: 'svc', ref: 'a', consumer: 'RX8' },
  { hid: '2', slotId: 's', serviceId: 'svc', ref: 's', consumer: 'RX8' },
];

describe('slot fields with holds', () => {
  it('another consumer is served neither the held slot nor the held place, in every field and count', async () => {
    const f = fields(HOLDS);
    const other = ctx('A91');
    const slots = await f.slots(parent, { ...window, first: 10 }, other);
    expect(slots.nodes.map((s) => [s.id, s.capacity])).toEqual([['b', undefined], ['s', 1]]);
    expect(slots.totalCount).toBe(2);
    expect((await f.capacity(parent, window, ctx('A91'))).freeSlots).toBe(2);
    expect((await f.nextAvailable(parent, { from: window.from, withinDays: 1 }, ctx('A91')))!.id).toBe('b');
    const top = await f.topSlots({ services: [{ id: 'svc', system: 'sys', rank: 0 }], ...window, first: 1, mode: 'MERGED', includeHandoff: true }, ctx('A91'));
    expect(top.slots.map((s) => s.slot.id)).toEqual(['b']);
    expect(top.services[0]).toMatchObject({ totalCount: 2, places: 2 });
  });

  it('the holder sees what it holds; a failed holds read hides nothing', async () => {
    expect((await fields(HOLDS).slots(parent, { ...window, first: 10 }, ctx('RX8'))).totalCount).toBe(3);
    expect((await fields(new Error('redis away')).slots(parent, { ...window, first: 10 }, ctx('A91'))).totalCount).toBe(3);
  });
});

describe('top K with the live holds the gateway read (input.liveHolds)', () => {
  const id = (ref: string) => encodeSlotId({ system: 'sys', serviceId: 'svc', ref });
  const member = (hid: string, ref: string, consumer: string) => JSON.stringify([hid, id(ref), consumer]);

  /** Slot fields whose own holds read (counted) finds 'b' held, and whose slots come after `loadMs`. */
  function counted(loadMs = 0) {
    const asked: string[][] = [];
    const reader: HoldReader = {
      live: async (pairs) => {
        asked.push(pairs.map((p) => p.system));
        return new Map(pairs.map((p) => [`${p.system}\n${p.serviceId}`, [{ hid: 'r', slotId: id('b'), serviceId: 'svc', ref: 'b', consumer: 'RX8' }]]));
      },
    };
    const f = slotFields({
      name: 'test',
      now: () => NOW,
      fetchSpans: (spans) =>
        spans.map(async () => {
          if (loadMs > 0) await new Promise((r) => setTimeout(r, loadMs));
          return { slots: SLOTS.map((s) => ({ ...s, id: id(s.id) })), fetchedAt: NOW.toISOString() };
        }),
      toError: (_s, err) => err as Error,
      holds: reader,
      onHoldsError: () => undefined,
    });
    return { f, asked };
  }
  const input = { services: [{ id: 'svc', system: 'sys', rank: 0 }], ...window, first: 10, mode: 'MERGED' as const, includeHandoff: true };

  it('hides what they hold from other consumers and reads no holds of its own for their systems', async () => {
    const { f, asked } = counted();
    const top = await f.topSlots({ ...input, liveHolds: [{ system: 'sys', members: [member('1', 'a', 'RX8')] }] }, ctx('A91'));
    expect(top.slots.map((s) => s.slot.id)).toEqual([id('b'), id('s')]);
    expect(asked).toEqual([]);
    // The holder sees its own.
    const own = await f.topSlots({ ...input, liveHolds: [{ system: 'sys', members: [member('1', 'a', 'RX8')] }] }, ctx('RX8'));
    expect(own.slots).toHaveLength(3);
    // None held, said so: nothing hidden, nothing read.
    expect((await f.topSlots({ ...input, liveHolds: [{ system: 'sys', members: [] }] }, ctx('A91'))).slots).toHaveLength(3);
    expect(asked).toEqual([]);
  });

  it('reads them again when its slots took longer than PASSED_HOLDS_FOR_MS to come (a supplier fetch)', async () => {
    const { f, asked } = counted(PASSED_HOLDS_FOR_MS + 100);
    // Handed over: 'a' held. Read after the slow load: 'b' held (taken meanwhile), and that is what is hidden.
    const top = await f.topSlots({ ...input, liveHolds: [{ system: 'sys', members: [member('1', 'a', 'RX8')] }] }, ctx('A91'));
    expect(asked).toEqual([['sys']]);
    expect(top.slots.map((s) => s.slot.id)).toEqual([id('a'), id('s')]);
  });

  it('counts the 250 ms from when the question arrived, so a request that waited before it ran reads them again', async () => {
    const { f, asked } = counted();
    const late = { ...ctx('A91'), receivedAtMs: performance.now() - PASSED_HOLDS_FOR_MS - 50 };
    const top = await f.topSlots({ ...input, liveHolds: [{ system: 'sys', members: [member('1', 'a', 'RX8')] }] }, late);
    expect(asked).toEqual([['sys']]);
    expect(top.slots.map((s) => s.slot.id)).toEqual([id('a'), id('s')]);
  });

  it('reads its own for a system not handed over, as before', async () => {
    const { f, asked } = counted();
    const top = await f.topSlots({ ...input, liveHolds: [{ system: 'other', members: [] }] }, ctx('A91'));
    expect(top.slots.map((s) => s.slot.id)).toEqual([id('a'), id('s')]);
    expect(asked).toEqual([['sys']]);
    await f.topSlots(input, ctx('A91'));
    expect(asked).toHaveLength(2);
  });

  it('refuses holds that are not holds, too many, or a system twice, naming the field', async () => {
    const { f } = counted();
    const refused = async (liveHolds: unknown) => {
      try {
        await f.topSlots({ ...input, liveHolds: liveHolds as never }, ctx('A91'));
      } catch (err) {
        return (err as { extensions?: { field?: string } }).extensions?.field;
      }
      return 'answered';
    };
    expect(await refused([{ system: 'sys', members: ['not json'] }])).toBe('input.liveHolds.members');
    expect(await refused([{ system: 'sys', members: [JSON.stringify(['1', 2, 'RX8'])] }])).toBe('input.liveHolds.members');
    expect(await refused([{ system: 'sys', members: [JSON.stringify(['1', 'x'.repeat(600), 'RX8'])] }])).toBe('input.liveHolds.members');
    expect(await refused([{ system: 'sys', members: Array.from({ length: MAX_PASSED_HOLDS + 1 }, (_, i) => member(String(i), 'a', 'RX8')) }])).toBe('input.liveHolds.members');
    expect(await refused([{ system: 'sys', members: [] }, { system: 'sys', members: [] }])).toBe('input.liveHolds.system');
    expect(await refused(Array.from({ length: 17 }, (_, i) => ({ system: `s${i}`, members: [] })))).toBe('input.liveHolds');
    const wide = (i: number) => Array.from({ length: 100 }, (_, j) => JSON.stringify([`${i}-${j}`, 'x'.repeat(90), 'RX8']));
    expect(await refused(Array.from({ length: 16 }, (_, i) => ({ system: `s${i}`, members: wide(i) })))).toBe('input.liveHolds');
    expect(await refused([{ system: 'sys', members: Array.from({ length: MAX_PASSED_HOLDS }, (_, i) => member(String(i), 'a', 'RX8')) }])).toBe('answered');
  });
});
