/**
 * What the BaRS flows share: the context they run in, and the words of their messages (kit/booking-outcomes.ts
 * holds every adapter's; the BaRS ones are here). Messages name the supplier system by registry id, never a URL,
 * and never repeat patient data.
 */
import type { Logger } from 'pino';
import { bookingSay } from '../kit/booking-outcomes.js';
import type { BarsClient, CallContext } from './client.js';
import type { BarsSystem } from './system.js';
import type { KnownServices } from './known-services.js';

export { list, outcome } from '../kit/booking-outcomes.js';

export interface Flow {
  client: BarsClient;
  system: BarsSystem;
  call: CallContext;
  /** Already bound to the system, the request's trace id and the operation's ids. */
  log: Logger;
  /** The BaRS services (DoS ids) this adapter has met, per system: where a patient's appointments are asked for. */
  services: KnownServices;
  /** Where our software is reached, for MessageHeader.source. */
  sourceEndpoint: string;
}

export const say = {
  ...bookingSay,
  unknownSystem: (s: string) => `Supplier system ${s} is not a BaRS system this gateway knows`,
  duplicateNoBooking: (s: string) =>
    `Supplier system ${s} has already processed this booking message, but no booking from it could be found. ` +
    'Check the patient\'s appointments before booking again',
  cancelConflict: (s: string) => `Supplier system ${s} could not cancel the appointment; read it and try again`,
  enteredInError: 'The appointment was entered in error: there is nothing to cancel',
  /** BaRS searches one receiver at a time: say how many were asked (those this gateway has searched or booked at). */
  receiversAsked: (n: number) =>
    n === 0
      ? 'No BaRS service has been searched or booked through this gateway process yet, so none was asked'
      : `Asked the ${n} BaRS service${n === 1 ? '' : 's'} this gateway process has searched or booked at`,
};
