/**
 * What the booking flows share: the context they run in, the outcome shapes, and the words of their messages, in the
 * same codes and style as every supplier adapter (kit/booking-outcomes.ts holds the shapes and the shared words;
 * Oakfield's own are here). Messages are shown to the booking organisation: they name the supplier system by
 * registry id, never a URL, and never repeat patient data. The supplier's own error text (which may) travels
 * separately in `diagnostics` and is never logged.
 */
import type { Logger } from 'pino';
import { bookingSay } from '../kit/booking-outcomes.js';
import type { PasRestSystem } from '../kit/registry.js';
import type { CallContext, PasRestClient } from './client.js';
import type { ClinicDirectory } from './clinics.js';

export { list, outcome } from '../kit/booking-outcomes.js';

export interface Flow {
  client: PasRestClient;
  system: PasRestSystem;
  call: CallContext;
  /** Already bound to the system, the request's trace id and the operation's ids. */
  log: Logger;
  clinics: ClinicDirectory;
}

/** Message texts, by situation. `s` is the registry id of the supplier system. */
export const say = {
  ...bookingSay,
  unknownSystem: (s: string) => `Supplier system ${s} is not a PAS REST system this gateway knows`,
  keyReused: (s: string) => `Supplier system ${s} has already taken a different booking request with this idempotency key`,
  notCancellable: (s: string) => `Supplier system ${s} will not cancel this appointment: its time has passed or the patient attended`,
};
