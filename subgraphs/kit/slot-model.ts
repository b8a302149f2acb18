/**
 * The shared Slot (schema/shared.graphql) as supplier adapters map it, before GraphQL: one shape, which each
 * adapter narrows to what its supplier can say (a Booking Standard or BaRS slot has no places count; a PAS session
 * always has one; a feed slot is booked on the provider's site).
 */
export type DeliveryChannel = 'IN_PERSON' | 'TELEPHONE' | 'VIDEO';

export type SlotKind = 'APPOINTMENT' | 'SESSION';

/** The schema's SlotQualityFlag values (each documented there). */
export type SlotQualityFlag =
  | 'OFFSET_MISMATCH'
  | 'DAY_SESSION'
  | 'MULTI_DAY_SESSION'
  | 'SHARED_BOOKING_LINK'
  | 'GENERIC_BOOKING_LINK'
  | 'COERCED_CAPACITY'
  | 'PLACEHOLDER_IDENTIFIER'
  | 'TRUNCATED_PHONE';

export interface SupplierSlotModel {
  id: string;
  serviceId: string;
  /** RFC 3339 with the offset the supplier published; compare with Date.parse, never as strings. */
  start: string;
  end: string;
  kind: SlotKind;
  /** IANA zone of the slot's location, when known. */
  timeZone: string | null;
  qualityFlags: SlotQualityFlag[];
  status: 'FREE' | 'BUSY';
  deliveryChannel: DeliveryChannel;
  practitioner: { name: string | null; role: string | null } | null;
  /** Places left at this time, when the supplier counts them. */
  capacity: number | null;
  bookingLink: string | null;
  bookingPhone: string | null;
  bookable: boolean;
  fetchedAt: string;
  source: 'LIVE' | 'CACHE';
  /**
   * The supplier's own identity of the physical slot (unique within its system), set only where the supplier says one
   * slot is listed under several services (a Booking Standard schedule naming several HealthcareServices), so the
   * top-K answer lists it once (common/top-slots.ts claimShared). Internal: not in the GraphQL Slot.
   */
  nativeKey?: string;
}

/** A slot booked through the supplier's own API, which counts no places and hands nothing off (STU3, BaRS). */
export type ApiBookedSlotModel = SupplierSlotModel & { capacity: null; bookingLink: null; bookingPhone: null };

/** A slot the supplier sent that could not be mapped, and why (logged for operators, never shown to clients). */
export interface SkippedSlot {
  slotId: string;
  reason: string;
}

/** Four hours or more is a session or a whole opening day ("coarse-grained" in SMART Scheduling Links), not one appointment. */
export const SESSION_MS = 4 * 3_600_000;
export const DAY_MS = 24 * 3_600_000;

export function slotKind(startMs: number, endMs: number): SlotKind {
  return endMs - startMs >= SESSION_MS ? 'SESSION' : 'APPOINTMENT';
}

/** DAY_SESSION or MULTI_DAY_SESSION for a session by its length (a feed publishes it as one slot); none for an appointment. */
export function sessionFlags(startMs: number, endMs: number): SlotQualityFlag[] {
  const span = endMs - startMs;
  if (span > DAY_MS) return ['MULTI_DAY_SESSION'];
  return span >= SESSION_MS ? ['DAY_SESSION'] : [];
}
