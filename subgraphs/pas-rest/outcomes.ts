/**
 * What the booking flows share: the context they run in, the outcome shapes, and the words of their messages, in the
 * same codes and style as every supplier adapter (subgraphs/booking-standard/outcomes.ts). Messages are shown to the
 * booking organisation: they name the supplier system by registry id, never a URL, and never repeat patient data.
 * The supplier's own error text (which may) travels separately in `diagnostics` and is never logged.
 */
import type { Logger } from 'pino';
import type { PasRestSystem } from '../kit/registry.js';
import type { CallContext, PasRestClient } from './client.js';
import type { ClinicDirectory } from './clinics.js';
import type { SupplierAppointment, SupplierAppointmentList, SupplierOutcome, SupplierOutcomeCode } from './generated/resolvers.js';

export interface Flow {
  client: PasRestClient;
  system: PasRestSystem;
  call: CallContext;
  /** Already bound to the system, the request's trace id and the operation's ids. */
  log: Logger;
  clinics: ClinicDirectory;
}

export function outcome(
  code: SupplierOutcomeCode,
  message: string | null,
  extra: { appointment?: SupplierAppointment; diagnostics?: string | undefined } = {},
): SupplierOutcome {
  return { code, message, appointment: extra.appointment ?? null, diagnostics: extra.diagnostics ?? null };
}

export function list(code: SupplierOutcomeCode, message: string | null, appointments: SupplierAppointment[] = []): SupplierAppointmentList {
  return { code, message, appointments };
}

/** Message texts, by situation. `s` is the registry id of the supplier system. */
export const say = {
  noConsumer: 'No consumer organisation: call through the gateway',
  unknownSystem: (s: string) => `Supplier system ${s} is not a PAS REST system this gateway knows`,
  slotRefInvalid: 'The slot id is not one this gateway issued for this supplier system; search for slots again',
  appointmentRefInvalid: 'Not an appointment reference this supplier system could have issued',

  bookedEarlier: 'Booked by an earlier attempt with the same idempotency key',
  slotTaken: 'The slot is no longer available; search again for a free slot',
  invalidPatient: (s: string) => `Supplier system ${s} did not accept the patient's details (see diagnostics)`,
  invalidBooking: (s: string) => `Supplier system ${s} did not accept the booking request (see diagnostics)`,
  forbiddenBooking: (s: string) => `Supplier system ${s} refused this booking for your organisation`,
  keyReused: (s: string) => `Supplier system ${s} has already taken a different booking request with this idempotency key`,
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

  notCancellable: (s: string) => `Supplier system ${s} will not cancel this appointment: its time has passed or the patient attended`,
  cancelUnavailable: (s: string) => `Supplier system ${s} could not be reached; the appointment was not cancelled`,
  cancelUnknown: (s: string) =>
    `Supplier system ${s} may or may not have cancelled the appointment. Read it to find out, or cancel again: cancelling is safe to repeat`,
  invalidCancel: (s: string) => `Supplier system ${s} did not accept the cancellation (see diagnostics)`,

  leftOut: (n: number) => `${n} appointment${n === 1 ? '' : 's'} left out: the supplier system did not say which service ${n === 1 ? 'it is' : 'they are'} at`,
};
