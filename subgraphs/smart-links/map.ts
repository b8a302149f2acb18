/**
 * Pure mapping from feed slots (kit/feeds) to the shared Slot contract. Only free slots with room are offered:
 * a busy slot (or one whose published capacity is 0) cannot be booked, and the contract lists free slots. A feed
 * slot is never bookable through this gateway: the patient books it on the provider's site or by phone
 * (bookingLink, bookingPhone), which is what smartLinksBook hands back.
 */
import type { FeedSlot } from '../kit/feeds/index.js';
import { encodeSlotId } from '../../common/slot-id.js';
import type { SupplierSlotModel } from '../kit/slot-model.js';

/** A feed slot: offered free, booked on the provider's own site (bookable false), always from the snapshot. */
export type SlotModel = SupplierSlotModel & { status: 'FREE'; deliveryChannel: 'IN_PERSON'; bookable: false; source: 'CACHE' };

/** Free, and not published as full. */
export function isOffered(s: FeedSlot): boolean {
  return s.status === 'free' && s.capacity !== 0;
}

export function toSlot(systemId: string, s: FeedSlot): SlotModel {
  return {
    // The slot's key in the feed is the adapter's reference: smartLinksBook looks it up in the current feed.
    id: encodeSlotId({ system: systemId, serviceId: s.serviceId, ref: s.id }),
    serviceId: s.serviceId,
    start: s.start,
    end: s.end,
    status: 'FREE',
    // SMART Locations are places; the HL7 IG's virtual locations are not modelled yet.
    deliveryChannel: 'IN_PERSON',
    practitioner: s.practitioner,
    capacity: s.capacity,
    bookingLink: s.bookingLink,
    bookingPhone: s.bookingPhone,
    bookable: false,
    // The shared snapshot's fetch time (when the publisher last gave or confirmed it: kit/feeds/shared.ts).
    fetchedAt: s.fetchedAt,
    // Always from the snapshot a background poller keeps: never fetched for this request, so never LIVE.
    source: 'CACHE',
  };
}

/** The offered slots starting in [from, to], earliest first (the feed's order), as the contract's Slots. */
export function slotsInWindow(systemId: string, slots: readonly FeedSlot[], from: Date, to: Date): SlotModel[] {
  const lo = from.getTime();
  const hi = to.getTime();
  const out: SlotModel[] = [];
  for (const s of slots) {
    const t = Date.parse(s.start);
    if (t >= lo && t <= hi && isOffered(s)) out.push(toSlot(systemId, s));
  }
  return out;
}
