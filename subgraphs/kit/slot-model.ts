/**
 * The shared Slot (schema/shared.graphql) as supplier adapters map it, before GraphQL: one shape, which each
 * adapter narrows to what its supplier can say (a Booking Standard or BaRS slot has no places count; a PAS session
 * always has one; a feed slot is booked on the provider's site).
 */
export type DeliveryChannel = 'IN_PERSON' | 'TELEPHONE' | 'VIDEO';

export interface SupplierSlotModel {
  id: string;
  serviceId: string;
  start: string;
  end: string;
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
