import { describe, expect, it } from 'vitest';
import type { FeedSlot } from '../kit/feeds/index.js';
import { decodeSlotId } from '../../common/slot-id.js';
import { isOffered, slotsInWindow, toSlot } from './map.js';

const SERVICE = 'smart:smart-vaccines:0:57';

function feedSlot(over: Partial<FeedSlot> = {}): FeedSlot {
  return {
    id: '20',
    publishedId: '20',
    scheduleId: '10',
    serviceId: SERVICE,
    start: '2026-11-23T14:00:00.000Z',
    end: '2026-11-23T23:00:00.000Z',
    status: 'free',
    capacity: 100,
    bookingLink: 'https://ehr-portal.example.org/bookings?slot=1000000',
    bookingLinkGeneric: false,
    bookingPhone: '000-000-0000',
    practitioner: null,
    coarse: 'day',
    offsetSuspect: false,
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

  it('keeps the slots starting inside the window, in feed order', () => {
    const slots = [
      feedSlot({ id: 'a', start: '2026-11-23T08:59:59.000Z' }),
      feedSlot({ id: 'b', start: '2026-11-23T09:00:00.000Z' }),
      feedSlot({ id: 'c', start: '2026-11-23T12:00:00.000Z', status: 'busy' }),
      feedSlot({ id: 'd', start: '2026-11-23T17:00:00.000Z' }),
      feedSlot({ id: 'e', start: '2026-11-23T17:00:01.000Z' }),
    ];
    const got = slotsInWindow('smart-vaccines', slots, new Date('2026-11-23T09:00:00Z'), new Date('2026-11-23T17:00:00Z'));
    expect(got.map((s) => decodeSlotId(s.id)!.ref)).toEqual(['b', 'd']);
  });
});
