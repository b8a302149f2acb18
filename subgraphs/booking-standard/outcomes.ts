/**
 * What the booking flows share: the context they run in, the outcome shapes, and the words of their messages. The
 * shapes and most words are every booking adapter's (kit/booking-outcomes.ts); the Booking Standard's own are here.
 * Messages are shown to the booking organisation: they name the supplier system by registry id, never a URL, and
 * never repeat patient data. Provider diagnostics (which may) travel separately in `diagnostics` and are never logged.
 */
import type { Logger } from 'pino';
import { bookingSay } from '../kit/booking-outcomes.js';
import type { BookingStandardSystem } from '../kit/registry.js';
import type { BookingStandardClient, CallContext } from './client.js';
import type { ScheduleServices } from './schedule-services.js';

export { list, outcome } from '../kit/booking-outcomes.js';

export interface Flow {
  client: BookingStandardClient;
  system: BookingStandardSystem;
  call: CallContext;
  /** Already bound to the system, the request's trace id and the operation's ids. */
  log: Logger;
  now: () => Date;
  schedules: ScheduleServices;
}

/** Message texts, by situation. `s` is the registry id of the supplier system. */
export const say = {
  ...bookingSay,
  unknownSystem: (s: string) => `Supplier system ${s} is not a Booking Standard system this gateway knows`,
  slotNotBookable: 'This slot cannot be booked through the gateway: the supplier system did not say which diary it is in',

  noBookingEndpoint: (s: string) => `Supplier system ${s} has no booking endpoint where the registry says; nothing was booked`,
  requestSeenNoBooking: (s: string) =>
    `Supplier system ${s} has already processed this booking request, but no booking from it could be found. ` +
    'Check with the service before booking this patient again',

  cancelConflict: (s: string) => `The appointment kept changing at supplier system ${s} while it was being cancelled; read it and try again`,
  enteredInError: 'The supplier system has marked this appointment as entered in error: there is nothing to cancel',
  noVersion: (s: string) => `Supplier system ${s} gave no version for the appointment, which a cancellation must quote`,

  searchNotSupported: (s: string, status: number) => `Supplier system ${s} does not support finding a patient's appointments (HTTP ${status})`,
};
