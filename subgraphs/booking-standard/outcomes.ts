/**
 * What the booking flows share: the context they run in, the outcome shapes, and the words of their messages.
 * Messages are shown to the booking organisation: they name the supplier system by registry id, never a URL, and
 * never repeat patient data. Provider diagnostics (which may) travel separately in `diagnostics` and are never logged.
 */
import type { Logger } from 'pino';
import type { BookingStandardSystem } from '../kit/registry.js';
import type { BookingStandardClient, CallContext } from './client.js';
import type { SupplierAppointment, SupplierAppointmentList, SupplierOutcome, SupplierOutcomeCode } from './generated/resolvers.js';
import type { ScheduleServices } from './schedule-services.js';

export interface Flow {
  client: BookingStandardClient;
  system: BookingStandardSystem;
  call: CallContext;
  /** Already bound to the system, the request's trace id and the operation's ids. */
  log: Logger;
  now: () => Date;
  schedules: ScheduleServices;
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
  unknownSystem: (s: string) => `Supplier system ${s} is not a Booking Standard system this gateway knows`,
  slotRefInvalid: 'The slot id is not one this gateway issued for this supplier system; search for slots again',
  slotNotBookable: 'This slot cannot be booked through the gateway: the supplier system did not say which diary it is in',
  appointmentRefInvalid: 'Not an appointment reference this supplier system could have issued',

  bookedEarlier: 'Booked by an earlier attempt with the same idempotency key',
  slotTaken: 'The slot is no longer available; search again for a free slot',
  invalidPatient: (s: string) => `Supplier system ${s} did not accept the patient's details (see diagnostics)`,
  invalidBooking: (s: string) => `Supplier system ${s} did not accept the booking request (see diagnostics)`,
  forbiddenBooking: (s: string) => `Supplier system ${s} refused this booking for your organisation`,
  noBookingEndpoint: (s: string) => `Supplier system ${s} has no booking endpoint where the registry says; nothing was booked`,
  bookingUnavailable: (s: string) => `Supplier system ${s} could not be reached; nothing was booked`,
  outcomeUnknown: (s: string) =>
    `Supplier system ${s} may or may not have booked this slot. Retry with the same idempotency key to find out; ` +
    'do not book again with a new key until then',
  requestSeenNoBooking: (s: string) =>
    `Supplier system ${s} has already processed this booking request, but no booking from it could be found. ` +
    'Check with the service before booking this patient again',
  bookedUnreadable: (s: string) =>
    `Supplier system ${s} confirmed the booking but its answer could not be read. Retry with the same idempotency key to fetch it`,

  notFound: (s: string) => `Supplier system ${s} has no such appointment`,
  forbiddenAppointment: (s: string) => `Supplier system ${s} does not let your organisation see or change this appointment`,
  unavailable: (s: string) => `Supplier system ${s} could not be reached`,
  unreadable: (s: string) => `Supplier system ${s} sent an appointment that could not be read`,
  rejected: (s: string) => `Supplier system ${s} rejected the request (see diagnostics)`,

  cancelConflict: (s: string) => `The appointment kept changing at supplier system ${s} while it was being cancelled; read it and try again`,
  enteredInError: 'The supplier system has marked this appointment as entered in error: there is nothing to cancel',
  noVersion: (s: string) => `Supplier system ${s} gave no version for the appointment, which a cancellation must quote`,
  cancelUnavailable: (s: string) => `Supplier system ${s} could not be reached; the appointment was not cancelled`,
  cancelUnknown: (s: string) =>
    `Supplier system ${s} may or may not have cancelled the appointment. Read it to find out, or cancel again: cancelling is safe to repeat`,
  invalidCancel: (s: string) => `Supplier system ${s} did not accept the cancellation (see diagnostics)`,

  searchNotSupported: (s: string, status: number) => `Supplier system ${s} does not support finding a patient's appointments (HTTP ${status})`,
  leftOut: (n: number) => `${n} appointment${n === 1 ? '' : 's'} left out: the supplier system did not say which service ${n === 1 ? 'it is' : 'they are'} at`,
};
