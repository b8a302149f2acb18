/**
 * Reading bookings: one by id (API.md 6.2), and a patient's by NHS number (6.4). Also the one read every flow uses,
 * which sorts Oakfield's answer into what a flow acts on. Oakfield shows an organisation only its own bookings:
 * another organisation's is 403, which is FORBIDDEN here.
 */
import { unreadOutcome } from '../kit/booking-outcomes.js';
import { UpstreamError, type UpstreamReason } from '../../common/upstream.js';
import { classifyFailure, toSupplierAppointment, type FailureCode } from './booking-map.js';
import { BOOKING_ID, type PasBooking } from './client.js';
import type {
  SupplierAppointment,
  SupplierAppointmentInput,
  SupplierAppointmentList,
  SupplierOutcome,
  SupplierPatientAppointmentsInput,
} from './generated/resolvers.js';
import { list, outcome, say, type Flow } from './outcomes.js';

export type ReadResult =
  | { kind: 'ok'; booking: PasBooking }
  /** Oakfield answered with an error status: what it means (404 NOT_FOUND, 403 FORBIDDEN, ...). */
  | { kind: 'refused'; code: FailureCode; diagnostics?: string }
  /** No answer we could use: timeout, network, 5xx or 429 after the retry, or a body that was not a booking. */
  | { kind: 'failed'; reason: UpstreamReason };

export async function readOne(flow: Flow, ref: string): Promise<ReadResult> {
  try {
    const a = await flow.client.booking(flow.system, ref, flow.call);
    flow.log.info({ step: 'read', appointment: ref, status: a.status, code: a.error?.code }, 'booking read');
    if (a.booking) return { kind: 'ok', booking: a.booking };
    return { kind: 'refused', code: classifyFailure(a.status, a.error?.code, false), ...(a.diagnostics ? { diagnostics: a.diagnostics } : {}) };
  } catch (err) {
    if (!(err instanceof UpstreamError)) throw err;
    flow.log.warn({ step: 'read', appointment: ref, reason: err.reason, status: err.status }, 'booking read failed');
    return { kind: 'failed', reason: err.reason };
  }
}

/** `pasRestAppointment`: FOUND, NOT_FOUND, FORBIDDEN, INVALID_REQUEST or SUPPLIER_UNAVAILABLE. */
export async function readFlow(flow: Flow, input: SupplierAppointmentInput): Promise<SupplierOutcome> {
  if (!BOOKING_ID.test(input.appointmentRef)) return outcome('INVALID_REQUEST', say.appointmentRefInvalid);
  const read = await readOne(flow, input.appointmentRef);
  const result = readOutcome(flow, read, read.kind === 'ok' ? await recordedService(flow, read.booking, input.serviceId) : input.serviceId, 'FOUND');
  flow.log.info({ outcome: result.code }, 'appointment lookup');
  return result;
}

/**
 * The service a booking is at, from Oakfield's record: its clinic's DoS service (clinics.ts, cached). Only when the
 * record does not tell (no clinic, a clinic with no single service, or the lookup failed) is it the service the
 * appointment id names, which the gateway signed when it issued the id.
 */
export async function recordedService(flow: Flow, booking: PasBooking, fromId: string): Promise<string> {
  if (typeof booking.clinicId !== 'string') return fromId;
  let recorded: string | null;
  try {
    recorded = await flow.clinics.serviceOf(flow.system, booking.clinicId, flow.call);
  } catch (err) {
    if (!(err instanceof UpstreamError)) throw err;
    flow.log.warn({ step: 'clinic', reason: err.reason, status: err.status }, 'clinic lookup failed; the service is the one the id names');
    return fromId;
  }
  if (recorded && recorded !== fromId) flow.log.warn({ serviceId: recorded, idServiceId: fromId }, 'booking is at another service than its id names');
  return recorded ?? fromId;
}

/** A read's result as an outcome: `success` with the appointment, or why not. */
export function readOutcome(flow: Flow, read: ReadResult, serviceId: string, success: 'FOUND' | 'CANCELLED'): SupplierOutcome {
  const s = flow.system.id;
  if (read.kind !== 'ok') return unreadOutcome(s, read);
  const mapped = toSupplierAppointment(read.booking, serviceId);
  if ('reason' in mapped) {
    flow.log.warn({ reason: mapped.reason }, 'unreadable booking');
    return outcome('SUPPLIER_UNAVAILABLE', say.unreadable(s));
  }
  return outcome(success, null, { appointment: mapped });
}

/**
 * `pasRestPatientAppointments`: FOUND with the bookings this organisation made for the patient (Oakfield filters by
 * the requesting organisation), each at its DoS service. A booking names only its clinic, so the clinic's service is
 * looked up (clinics.ts, cached); a booking whose clinic has no single DoS service is left out and counted in
 * `message`, because the contract requires a service id and a guess would misroute a later read or cancel.
 */
export async function patientAppointmentsFlow(flow: Flow, input: SupplierPatientAppointmentsInput): Promise<SupplierAppointmentList> {
  const s = flow.system.id;
  let bookings: PasBooking[];
  try {
    const answer = await flow.client.patientBookings(flow.system, input.nhsNumber, flow.call);
    flow.log.info({ step: 'search', status: answer.status, code: answer.error?.code }, 'patient booking search');
    if (!answer.items) {
      if (answer.status === 401 || answer.status === 403) return list('FORBIDDEN', say.forbiddenAppointment(s));
      if (answer.status === 404) return list('NOT_SUPPORTED', say.rejected(s));
      return list(answer.status < 500 ? 'INVALID_REQUEST' : 'SUPPLIER_UNAVAILABLE', answer.status < 500 ? say.rejected(s) : say.unavailable(s));
    }
    bookings = answer.items;
  } catch (err) {
    if (!(err instanceof UpstreamError)) throw err;
    flow.log.warn({ step: 'search', reason: err.reason, status: err.status }, 'patient booking search failed');
    return list('SUPPLIER_UNAVAILABLE', err.reason === 'INVALID_RESPONSE' ? say.unreadable(s) : say.unavailable(s));
  }

  // One lookup per distinct clinic, in parallel (most are cached from slot searches).
  const clinicIds = [...new Set(bookings.map((b) => b.clinicId).filter((c): c is string => typeof c === 'string'))];
  let services: Map<string, string | null>;
  try {
    services = new Map(await Promise.all(clinicIds.map(async (c) => [c, await flow.clinics.serviceOf(flow.system, c, flow.call)] as const)));
  } catch (err) {
    if (!(err instanceof UpstreamError)) throw err;
    flow.log.warn({ step: 'clinic', reason: err.reason, status: err.status }, 'clinic lookup failed');
    return list('SUPPLIER_UNAVAILABLE', say.unavailable(s));
  }

  let leftOut = 0;
  const appointments: SupplierAppointment[] = [];
  for (const b of bookings) {
    const serviceId = typeof b.clinicId === 'string' ? services.get(b.clinicId) : null;
    const mapped = serviceId ? toSupplierAppointment(b, serviceId) : null;
    if (!mapped || 'reason' in mapped) {
      if (mapped) flow.log.warn({ reason: mapped.reason }, 'skipped a booking the supplier sent');
      leftOut++;
      continue;
    }
    appointments.push(mapped);
  }
  flow.log.info({ outcome: 'FOUND', count: appointments.length, leftOut }, 'patient appointments');
  return list('FOUND', leftOut > 0 ? say.leftOut(leftOut) : null, appointments);
}
