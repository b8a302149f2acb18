/**
 * The outcome shapes and the shared words of the messages of every supplier adapter that takes bookings
 * (schema/supplier-booking.graphql). Messages are shown to the booking organisation: they name the supplier system
 * by registry id, never a URL, and never repeat patient data. What a supplier says itself (which may) travels
 * separately in `diagnostics` and is never logged.
 *
 * The shapes are structural: each adapter's generated SupplierOutcome and SupplierAppointmentList accept them, with
 * the adapter's own generated SupplierAppointment as `A`. An adapter's `say` spreads `bookingSay` and adds its own.
 */

/**
 * An outcome as the contract's SupplierOutcome. `C` is the code as written (a SupplierOutcomeCode of the contract):
 * kept literal, so each adapter's generated SupplierOutcomeCode checks it wherever an outcome becomes a
 * SupplierOutcome, and the kit holds no copy of the contract's list.
 */
export interface Outcome<C extends string, A> {
  code: C;
  message: string | null;
  appointment: A | null;
  diagnostics: string | null;
}

export interface AppointmentList<C extends string, A> {
  code: C;
  message: string | null;
  appointments: A[];
}

export function outcome<C extends string, A = never>(
  code: C,
  message: string | null,
  extra: { appointment?: A; diagnostics?: string | undefined } = {},
): Outcome<C, A> {
  return { code, message, appointment: extra.appointment ?? null, diagnostics: extra.diagnostics ?? null };
}

export function list<C extends string, A = never>(code: C, message: string | null, appointments: A[] = []): AppointmentList<C, A> {
  return { code, message, appointments };
}

/** Message texts every booking adapter uses, by situation. `s` is the registry id of the supplier system. */
export const bookingSay = {
  noConsumer: 'No consumer organisation: call through the gateway',
  slotRefInvalid: 'The slot id is not one this gateway issued for this supplier system; search for slots again',
  appointmentRefInvalid: 'Not an appointment reference this supplier system could have issued',

  bookedEarlier: 'Booked by an earlier attempt with the same idempotency key',
  slotTaken: 'The slot is no longer available; search again for a free slot',
  invalidPatient: (s: string) => `Supplier system ${s} did not accept the patient's details (see diagnostics)`,
  invalidBooking: (s: string) => `Supplier system ${s} did not accept the booking request (see diagnostics)`,
  forbiddenBooking: (s: string) => `Supplier system ${s} refused this booking for your organisation`,
  bookingUnavailable: (s: string) => `Supplier system ${s} could not be reached; nothing was booked`,
  outcomeUnknown: (s: string) =>
    `Supplier system ${s} may or may not have booked this slot. Retry with the same idempotency key to find out; ` +
    'do not book again with a new key until then',
  bookedUnreadable: (s: string) =>
    `Supplier system ${s} confirmed the booking but its answer could not be read. Retry with the same idempotency key to fetch it`,

  notFound: (s: string) => `Supplier system ${s} has no such appointment`,
  forbiddenAppointment: (s: string) => `Supplier system ${s} does not let your organisation see or change this appointment`,
  unavailable: (s: string) => `Supplier system ${s} could not be reached`,
  unreadable: (s: string) => `Supplier system ${s} sent an appointment that could not be read`,
  rejected: (s: string) => `Supplier system ${s} rejected the request (see diagnostics)`,

  cancelUnavailable: (s: string) => `Supplier system ${s} could not be reached; the appointment was not cancelled`,
  cancelUnknown: (s: string) =>
    `Supplier system ${s} may or may not have cancelled the appointment. Read it to find out, or cancel again: cancelling is safe to repeat`,
  invalidCancel: (s: string) => `Supplier system ${s} did not accept the cancellation (see diagnostics)`,

  leftOut: (n: number) => `${n} appointment${n === 1 ? '' : 's'} left out: the supplier system did not say which service ${n === 1 ? 'it is' : 'they are'} at`,
};

/** A read the supplier did not answer usefully, as the flows sort it (each adapter's lookup.ts ReadResult). */
export type UnreadRead = { kind: 'failed'; reason: string } | { kind: 'refused'; code: string; diagnostics?: string | undefined };

/** Why a read of an appointment gave none: SUPPLIER_UNAVAILABLE, NOT_FOUND, FORBIDDEN or INVALID_REQUEST. */
export function unreadOutcome(s: string, read: UnreadRead) {
  if (read.kind === 'failed') return outcome('SUPPLIER_UNAVAILABLE', read.reason === 'INVALID_RESPONSE' ? bookingSay.unreadable(s) : bookingSay.unavailable(s));
  if (read.code === 'NOT_FOUND') return outcome('NOT_FOUND', bookingSay.notFound(s));
  if (read.code === 'FORBIDDEN') return outcome('FORBIDDEN', bookingSay.forbiddenAppointment(s));
  if (read.code === 'SUPPLIER_UNAVAILABLE') return outcome('SUPPLIER_UNAVAILABLE', bookingSay.unavailable(s));
  return outcome('INVALID_REQUEST', bookingSay.rejected(s), { diagnostics: read.diagnostics });
}

/** A booking request the supplier refused, by its failure code, for the codes every supplier's refusals share. */
export function bookingRefusal(s: string, code: string, diagnostics: string | undefined) {
  switch (code) {
    case 'INVALID_PATIENT':
      return outcome('INVALID_PATIENT', bookingSay.invalidPatient(s), { diagnostics });
    case 'FORBIDDEN':
      return outcome('FORBIDDEN', bookingSay.forbiddenBooking(s));
    case 'SUPPLIER_UNAVAILABLE':
      return outcome('SUPPLIER_UNAVAILABLE', bookingSay.bookingUnavailable(s));
    default:
      return outcome('INVALID_REQUEST', bookingSay.invalidBooking(s), { diagnostics });
  }
}
