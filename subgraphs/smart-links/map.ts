/**
 * Pure mapping from feed slots (kit/feeds) to the shared Slot contract. Only free slots with room are offered:
 * a busy slot (or one whose published capacity is 0) cannot be booked, and the contract lists free slots. A feed
 * slot is never bookable through this gateway: the patient books it on the provider's site or by phone
 * (bookingLink, bookingPhone), which is what smartLinksBook hands back.
 *
 * Times go out with the offset the publisher wrote (the feed slot keeps it beside its UTC instant), and what ingest
 * found doubtful about the slot goes out as its quality flags.
 */
import type { FeedSlot } from '../kit/feeds/index.js';
import { currentKey, encodeSlotId } from '../../common/slot-id.js';
import { rfc3339AtOffset } from '../../common/offset-time.js';
import { compareCodeUnits } from '../../common/code-units.js';
import type { SlotQualityFlag, SupplierSlotModel } from '../kit/slot-model.js';

/** A feed slot: offered free, booked on the provider's own site (bookable false), always from the snapshot. */
export type SlotModel = SupplierSlotModel & { status: 'FREE'; deliveryChannel: 'IN_PERSON'; bookable: false; source: 'CACHE' };

/** Free, and not published as full. */
export function isOffered(s: FeedSlot): boolean {
  return s.status === 'free' && s.capacity !== 0;
}

/** A session (four hours or more: ingest's `coarse`) stays listed while it runs. */
export function isSession(s: FeedSlot): boolean {
  return s.coarse !== null;
}

/** The slot's defects as the schema's SlotQualityFlag values, in the schema's order. */
export function qualityFlags(s: FeedSlot): SlotQualityFlag[] {
  const flags: SlotQualityFlag[] = [];
  if (s.offsetSuspect) flags.push('OFFSET_MISMATCH');
  if (s.coarse === 'day') flags.push('DAY_SESSION');
  if (s.coarse === 'multi-day') flags.push('MULTI_DAY_SESSION');
  if (s.bookingLinkShared) flags.push('SHARED_BOOKING_LINK');
  // Generic for another reason than sharing: it is a site's home page.
  if (s.bookingLinkGeneric && !s.bookingLinkShared) flags.push('GENERIC_BOOKING_LINK');
  if (s.capacityCoerced) flags.push('COERCED_CAPACITY');
  if (s.placeholder) flags.push('PLACEHOLDER_IDENTIFIER');
  if (s.phoneTruncated) flags.push('TRUNCATED_PHONE');
  return flags;
}

/**
 * For the operator's view: how many of a snapshot's slots carry each flag (keyed by the schema's enum value, beside
 * the feed issues' kebab-case kinds). Computed once per snapshot: a snapshot is immutable, replaced whole.
 */
const counted = new WeakMap<readonly FeedSlot[], Record<string, number>>();
export function slotFlagCounts(slots: readonly FeedSlot[]): Record<string, number> {
  let counts = counted.get(slots);
  if (!counts) {
    counts = {};
    for (const s of slots) for (const f of qualityFlags(s)) counts[f] = (counts[f] ?? 0) + 1;
    counted.set(slots, counts);
  }
  return counts;
}

export function toSlot(systemId: string, s: FeedSlot, key: Buffer = currentKey()): SlotModel {
  return {
    // The slot's key in the feed is the adapter's reference: smartLinksBook looks it up in the current feed.
    id: encodeSlotId({ system: systemId, serviceId: s.serviceId, ref: s.id }, key),
    serviceId: s.serviceId,
    start: rfc3339AtOffset(Date.parse(s.start), s.startOffset),
    end: rfc3339AtOffset(Date.parse(s.end), s.endOffset),
    kind: isSession(s) ? 'SESSION' : 'APPOINTMENT',
    timeZone: s.timeZone,
    qualityFlags: qualityFlags(s),
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

/**
 * The offered slots starting in [from, to], and the sessions running at `from` (started before it, ending after
 * it), in the order ranking uses (start, then id: common/top-slots.ts compareSlots), as the contract's Slots. A
 * walk-in session stays bookable until it closes, so it is listed until then (kit/slot-windows.ts inWindow applies
 * the same rule). Binary searches into the service's index (below), so a window costs its own slots and the
 * sessions that could still be running at its start, not the service's whole horizon.
 */
export function slotsInWindow(systemId: string, slots: readonly FeedSlot[], from: Date, to: Date): SlotModel[] {
  if (slots.length === 0) return [];
  const lo = from.getTime();
  const hi = to.getTime();
  const idx = indexed(systemId, slots);
  const out: SlotModel[] = [];
  let i = firstAtOrAfter(idx.startMs, lo);
  // Sessions started before the window (all before position i) that still run at its start: none started more than
  // the longest session before it.
  const earliest = firstAtOrAfter(idx.startMs, lo - idx.longestSessionMs);
  for (let k = firstAtOrAfter(idx.sessions, earliest); k < idx.sessions.length; k++) {
    const p = idx.sessions[k]!;
    if (p >= i) break;
    if (idx.endMs[p]! > lo) out.push(idx.slots[p]!);
  }
  for (; i < idx.slots.length && idx.startMs[i]! <= hi; i++) out.push(idx.slots[i]!);
  return out;
}

/**
 * One service's offered slots of the snapshot in hand, mapped once (mapping signs each id: per request it was most
 * of a warm search's smart-links CPU) and ordered by start then id, with their times in ms and where its sessions
 * are. Kept per slots list, which a snapshot never changes (the poller replaces it whole); made again under another
 * system or signing key (common/slot-id.ts: one Buffer per key configuration).
 */
interface WindowIndex {
  system: string;
  key: Buffer;
  slots: SlotModel[];
  startMs: Float64Array;
  endMs: Float64Array;
  /** Positions of the sessions (isSession), ascending. */
  sessions: number[];
  /** The longest session's length (0 without sessions). */
  longestSessionMs: number;
}

const indexes = new WeakMap<readonly FeedSlot[], WindowIndex>();

function indexed(systemId: string, list: readonly FeedSlot[]): WindowIndex {
  const key = currentKey();
  const known = indexes.get(list);
  if (known && known.system === systemId && known.key === key) return known;
  const offered = list
    .filter(isOffered)
    .map((s) => ({ s, slot: toSlot(systemId, s, key), startMs: Date.parse(s.start), endMs: Date.parse(s.end) }))
    // Ingest checked every time; one that does not parse could sit in no window anyway.
    .filter((o) => !Number.isNaN(o.startMs) && !Number.isNaN(o.endMs));
  // Ranking's order, so it takes the list as it is (equal starts by id, not the feed's order).
  offered.sort((a, b) => a.startMs - b.startMs || compareCodeUnits(a.slot.id, b.slot.id));
  const sessions = offered.flatMap((o, i) => (isSession(o.s) ? [i] : []));
  const idx: WindowIndex = {
    system: systemId,
    key,
    slots: offered.map((o) => o.slot),
    startMs: Float64Array.from(offered, (o) => o.startMs),
    endMs: Float64Array.from(offered, (o) => o.endMs),
    sessions,
    longestSessionMs: sessions.reduce((m, i) => Math.max(m, offered[i]!.endMs - offered[i]!.startMs), 0),
  };
  indexes.set(list, idx);
  return idx;
}

/** The first position of an ascending list holding `ms` or more (the length when none does). */
function firstAtOrAfter(starts: ArrayLike<number>, ms: number): number {
  let lo = 0;
  let hi = starts.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (starts[mid]! < ms) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
