import { describe, expect, it } from 'vitest';
import type { FeedSlot } from '../kit/feeds/index.js';
import { decodeSlotId } from '../../common/slot-id.js';
import { isOffered, slotsInWindow, toSlot } from './map.js';
import { seededRandom } from '../../sandbox/booking-standard/prng.js';
import { compareCodeUnits } from '../../common/code-units.js';

const SERVICE = 'smart:smart-vaccines:0:57';

function feedSlot(over: Partial<FeedSlot> = {}): FeedSlot {
  return {
    id: '20',
    publishedId: '20',
    scheduleId: '10',
    serviceId: SERVICE,
    start: '2026-11-23T14:00:00.000Z',
    end: '2026-11-23T23:00:00.000Z',
    startOffset: 0,
    endOffset: 0,
    timeZone: 'America/New_York',
    status: 'free',
    capacity: 100,
    bookingLink: 'https://ehr-portal.example.org/bookings?slot=1000000',
    bookingLinkGeneric: false,
    bookingLinkShared: false,
    bookingPhone: '000-000-0000',
    practitioner: null,
    coarse: 'day',
    offsetSuspect: false,
    capacityCoerced: false,
    placeholder: true,
    phoneTruncated: false,
    fetchedAt: '2026-11-21T10:00:00.000Z',
    ...over,
  };
}

describe('feed slot → shared Slot', () => {
  it('maps every field (from the shared snapshot: CACHE, its fetch time), with an opaque id that names the system, service and feed key', () => {
    const s = toSlot('smart-vaccines', feedSlot());
    expect(s).toEqual({
      id: expect.any(String),
      serviceId: SERVICE,
      start: '2026-11-23T14:00:00.000Z',
      end: '2026-11-23T23:00:00.000Z',
      kind: 'SESSION',
      timeZone: 'America/New_York',
      qualityFlags: ['DAY_SESSION', 'PLACEHOLDER_IDENTIFIER'],
      status: 'FREE',
      deliveryChannel: 'IN_PERSON',
      practitioner: null,
      capacity: 100,
      bookingLink: 'https://ehr-portal.example.org/bookings?slot=1000000',
      bookingPhone: '000-000-0000',
      bookable: false,
      fetchedAt: '2026-11-21T10:00:00.000Z',
      source: 'CACHE',
    });
    expect(decodeSlotId(s.id)).toEqual({ system: 'smart-vaccines', serviceId: SERVICE, ref: '20' });
  });

  it('offers free slots only, and not a free one published as full', () => {
    expect(isOffered(feedSlot())).toBe(true);
    expect(isOffered(feedSlot({ capacity: null }))).toBe(true);
    expect(isOffered(feedSlot({ capacity: 0 }))).toBe(false);
    for (const status of ['busy', 'busy-tentative', 'busy-unavailable', 'entered-in-error'] as const) expect(isOffered(feedSlot({ status }))).toBe(false);
  });

  it('keeps the appointments starting inside the window, in feed order', () => {
    const appointment = (id: string, start: string, over: Partial<FeedSlot> = {}) =>
      feedSlot({ id, start, end: new Date(Date.parse(start) + 900_000).toISOString(), coarse: null, ...over });
    const slots = [
      appointment('a', '2026-11-23T08:59:59.000Z'),
      appointment('b', '2026-11-23T09:00:00.000Z'),
      appointment('c', '2026-11-23T12:00:00.000Z', { status: 'busy' }),
      appointment('d', '2026-11-23T17:00:00.000Z'),
      appointment('e', '2026-11-23T17:00:01.000Z'),
    ];
    const got = slotsInWindow('smart-vaccines', slots, new Date('2026-11-23T09:00:00Z'), new Date('2026-11-23T17:00:00Z'));
    expect(got.map((s) => decodeSlotId(s.id)!.ref)).toEqual(['b', 'd']);
  });

  it('keeps a session listed while it runs: from its start until its end, first in the window by its start', () => {
    const slots = [
      feedSlot({ id: 'clinic', start: '2026-11-23T14:00:00.000Z', end: '2026-11-28T02:00:00.000Z', coarse: 'multi-day' }),
      feedSlot({ id: 'ended', start: '2026-11-24T14:00:00.000Z', end: '2026-11-24T23:00:00.000Z' }),
      feedSlot({ id: 'walk-in', start: '2026-11-25T14:00:00.000Z', end: '2026-11-25T23:00:00.000Z' }),
      feedSlot({ id: 'appt', start: '2026-11-25T15:00:00.000Z', end: '2026-11-25T15:15:00.000Z', coarse: null }),
      feedSlot({ id: 'past-appt', start: '2026-11-25T14:30:00.000Z', end: '2026-11-25T14:45:00.000Z', coarse: null }),
    ];
    // Day three of the five-day clinic, an hour after the walk-in session opened.
    const got = slotsInWindow('smart-vaccines', slots, new Date('2026-11-25T15:00:00Z'), new Date('2026-11-26T15:00:00Z'));
    expect(got.map((s) => [decodeSlotId(s.id)!.ref, s.kind])).toEqual([
      ['clinic', 'SESSION'],
      ['walk-in', 'SESSION'],
      ['appt', 'APPOINTMENT'],
    ]);
    expect(got[0]!.qualityFlags).toEqual(['MULTI_DAY_SESSION', 'PLACEHOLDER_IDENTIFIER']);
    // At its end it is gone.
    expect(slotsInWindow('smart-vaccines', slots, new Date('2026-11-28T02:00:00Z'), new Date('2026-11-28T03:00:00Z'))).toEqual([]);
  });

  it('does not list a session that starts after the window, however long it runs', () => {
    const later = feedSlot({ id: 'later', start: '2026-11-24T08:00:00.000Z', end: '2026-11-26T20:00:00.000Z', coarse: 'multi-day' });
    expect(slotsInWindow('smart-vaccines', [later], new Date('2026-11-23T09:00:00Z'), new Date('2026-11-23T17:00:00Z'))).toEqual([]);
  });

  it('answers every window as a filter of the whole list would, in start order (random lists and windows)', () => {
    const random = seededRandom(20261203);
    const base = Date.parse('2026-11-23T00:00:00Z');
    const HOUR = 3_600_000;
    for (let round = 0; round < 40; round++) {
      const slots = Array.from({ length: 1 + Math.floor(random() * 60) }, (_, i) => {
        const start = base + Math.floor(random() * 96) * 15 * 60_000;
        const session = random() < 0.2;
        const end = start + (session ? (4 + Math.floor(random() * 60)) * HOUR : 15 * 60_000);
        const status = random() < 0.8 ? 'free' : 'busy';
        return feedSlot({ id: `s${round}-${i}`, start: new Date(start).toISOString(), end: new Date(end).toISOString(), coarse: session ? 'day' : null, status, capacity: random() < 0.1 ? 0 : 5 });
      });
      // Unsorted on purpose, with ties on start: the index orders them as ranking does (start, then id).
      for (let w = 0; w < 10; w++) {
        const lo = base + Math.floor(random() * 120) * 15 * 60_000;
        const hi = lo + Math.floor(random() * 48) * 15 * 60_000;
        const expected = slots
          .map((s) => ({ s, id: toSlot('smart-vaccines', s).id, start: Date.parse(s.start), end: Date.parse(s.end) }))
          .filter((x) => isOffered(x.s) && ((x.start >= lo && x.start <= hi) || (x.s.coarse !== null && x.start < lo && x.end > lo)))
          .sort((a, b) => a.start - b.start || compareCodeUnits(a.id, b.id))
          .map((x) => x.id);
        const got = slotsInWindow('smart-vaccines', slots, new Date(lo), new Date(hi)).map((s) => s.id);
        expect(got, `round ${round} window ${w}`).toEqual(expected);
      }
    }
  });

  it('makes its index again for another system or another signing key', () => {
    const slots = [feedSlot({ id: 'x', start: '2026-11-23T10:00:00.000Z', end: '2026-11-23T10:15:00.000Z', coarse: null })];
    const window = [new Date('2026-11-23T09:00:00Z'), new Date('2026-11-23T17:00:00Z')] as const;
    const first = slotsInWindow('smart-vaccines', slots, ...window)[0]!;
    const other = slotsInWindow('smart-urgent-care', slots, ...window)[0]!;
    expect(decodeSlotId(first.id)!.system).toBe('smart-vaccines');
    expect(decodeSlotId(other.id)!.system).toBe('smart-urgent-care');
    const before = process.env.ID_SIGNING_KEY;
    process.env.ID_SIGNING_KEY = 'another-signing-key-for-this-test-0123456789';
    try {
      const rekeyed = slotsInWindow('smart-urgent-care', slots, ...window)[0]!;
      expect(rekeyed.id).not.toBe(other.id);
      // Signed under the key now in force: the id made before no longer checks out, the new one does.
      expect(decodeSlotId(other.id)).toBeNull();
      expect(decodeSlotId(rekeyed.id)).toEqual({ system: 'smart-urgent-care', serviceId: SERVICE, ref: 'x' });
    } finally {
      if (before === undefined) delete process.env.ID_SIGNING_KEY;
      else process.env.ID_SIGNING_KEY = before;
    }
  });

  it('gives each time with the offset the publisher wrote, and the location\'s zone', () => {
    const s = toSlot('smart-vaccines', feedSlot({ start: '2026-07-15T14:00:00.000Z', end: '2026-07-15T14:15:00.000Z', startOffset: -300, endOffset: -300, coarse: null, offsetSuspect: true }));
    expect([s.start, s.end, s.timeZone]).toEqual(['2026-07-15T09:00:00-05:00', '2026-07-15T09:15:00-05:00', 'America/New_York']);
    expect(Date.parse(s.start)).toBe(Date.parse('2026-07-15T14:00:00Z'));
    expect(s.qualityFlags).toEqual(['OFFSET_MISMATCH', 'PLACEHOLDER_IDENTIFIER']);
  });

  it('raises each flag from the feed slot\'s own defect, and none on a clean slot', () => {
    const clean = feedSlot({ coarse: null, placeholder: false, bookingPhone: '617-555-0100' });
    expect(toSlot('x', clean).qualityFlags).toEqual([]);
    const cases: [Partial<FeedSlot>, string][] = [
      [{ offsetSuspect: true }, 'OFFSET_MISMATCH'],
      [{ coarse: 'day' }, 'DAY_SESSION'],
      [{ coarse: 'multi-day' }, 'MULTI_DAY_SESSION'],
      [{ bookingLinkGeneric: true, bookingLinkShared: true }, 'SHARED_BOOKING_LINK'],
      [{ bookingLinkGeneric: true }, 'GENERIC_BOOKING_LINK'],
      [{ capacityCoerced: true }, 'COERCED_CAPACITY'],
      [{ placeholder: true }, 'PLACEHOLDER_IDENTIFIER'],
      [{ phoneTruncated: true }, 'TRUNCATED_PHONE'],
    ];
    for (const [over, flag] of cases) expect(toSlot('x', { ...clean, ...over }).qualityFlags, flag).toEqual([flag]);
  });
});
