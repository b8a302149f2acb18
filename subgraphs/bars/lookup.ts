/**
 * Reading appointments: `barsAppointment` (GET /Appointment/{id} at the service the appointment id names) and
 * `barsPatientAppointments` (GET /Appointment?patient:identifier at every receiver this adapter has met; each
 * receiver answers with what the consumer organisation booked there, cancelled ones included).
 */
import pLimit from 'p-limit';
import { unreadOutcome } from '../kit/booking-outcomes.js';
import { FHIR_ID } from '../kit/fhir/identifiers.js';
import { classifyBarsFailure } from '../kit/fhir/operation-outcome.js';
import type { Appointment } from '../kit/fhir/r4.js';
import { compareCodeUnits } from '../../common/code-units.js';
import { UpstreamError, type UpstreamReason } from '../../common/upstream.js';
import { toSupplierAppointment } from './appointment-map.js';
import type { SupplierAppointment, SupplierAppointmentInput, SupplierAppointmentList, SupplierOutcome, SupplierPatientAppointmentsInput } from './generated/resolvers.js';
import { list, outcome, say, type Flow } from './outcomes.js';

/** Receivers asked at once for a patient's appointments. */
const RECEIVERS_AT_ONCE = 8;

export type ReadResult =
  | { kind: 'ok'; appointment: Appointment }
  | { kind: 'refused'; code: string; diagnostics?: string }
  | { kind: 'failed'; reason: UpstreamReason };

export async function readOne(flow: Flow, serviceId: string, ref: string): Promise<ReadResult> {
  try {
    const a = await flow.client.readAppointment(flow.system, serviceId, ref, flow.call);
    flow.log.info({ step: 'read', appointment: ref, status: a.status }, 'appointment read');
    if (a.status === 200) {
      const body = a.body as Appointment | undefined;
      if (body?.resourceType === 'Appointment') return { kind: 'ok', appointment: body };
      return { kind: 'failed', reason: 'INVALID_RESPONSE' };
    }
    const code = classifyBarsFailure(a.status, a.outcome);
    return { kind: 'refused', code: code === 'UNAUTHORIZED' ? 'SUPPLIER_UNAVAILABLE' : code, ...(a.outcome.diagnostics ? { diagnostics: a.outcome.diagnostics } : {}) };
  } catch (err) {
    if (!(err instanceof UpstreamError)) throw err;
    flow.log.warn({ step: 'read', appointment: ref, reason: err.reason, status: err.status }, 'appointment read failed');
    return { kind: 'failed', reason: err.reason };
  }
}

export function readOutcome(flow: Flow, read: ReadResult, serviceId: string, success: 'FOUND' | 'CANCELLED'): SupplierOutcome {
  const s = flow.system.id;
  if (read.kind !== 'ok') return unreadOutcome(s, read);
  const mapped = toSupplierAppointment(read.appointment, serviceId);
  if ('reason' in mapped) {
    flow.log.warn({ reason: mapped.reason }, 'unreadable appointment');
    return outcome('SUPPLIER_UNAVAILABLE', say.unreadable(s));
  }
  return outcome(success, null, { appointment: mapped });
}

export async function readFlow(flow: Flow, input: SupplierAppointmentInput): Promise<SupplierOutcome> {
  if (!FHIR_ID.test(input.appointmentRef)) return outcome('INVALID_REQUEST', say.appointmentRefInvalid);
  const result = readOutcome(flow, await readOne(flow, input.serviceId, input.appointmentRef), input.serviceId, 'FOUND');
  flow.log.info({ outcome: result.code }, 'appointment lookup');
  return result;
}

export type SearchResult = { kind: 'ok'; appointments: Appointment[] } | { kind: 'refused'; status: number } | { kind: 'failed'; reason: UpstreamReason };

/** One receiver's answer for the patient. */
export async function searchAt(flow: Flow, serviceId: string, nhsNumber: string): Promise<SearchResult> {
  try {
    const a = await flow.client.patientAppointments(flow.system, serviceId, nhsNumber, flow.call);
    flow.log.info({ step: 'search', serviceId, status: a.status }, 'patient appointment search');
    return a.appointments ? { kind: 'ok', appointments: a.appointments } : { kind: 'refused', status: a.status };
  } catch (err) {
    if (!(err instanceof UpstreamError)) throw err;
    flow.log.warn({ step: 'search', serviceId, reason: err.reason, status: err.status }, 'patient appointment search failed');
    return { kind: 'failed', reason: err.reason };
  }
}

export async function patientAppointmentsFlow(flow: Flow, input: SupplierPatientAppointmentsInput): Promise<SupplierAppointmentList> {
  const s = flow.system.id;
  const services = await flow.services.of(s);
  // One search per receiver, a few at a time: a system may front hundreds of receivers.
  const limit = pLimit(RECEIVERS_AT_ONCE);
  const answers = await Promise.all(services.map((serviceId) => limit(async () => ({ serviceId, r: await searchAt(flow, serviceId, input.nhsNumber) }))));
  if (answers.some((a) => a.r.kind === 'failed')) return list('SUPPLIER_UNAVAILABLE', say.unavailable(s));
  const appointments: SupplierAppointment[] = [];
  for (const { serviceId, r } of answers) {
    if (r.kind !== 'ok') continue;
    for (const a of r.appointments) {
      const mapped = toSupplierAppointment(a, serviceId);
      if ('reason' in mapped) flow.log.warn({ reason: mapped.reason }, 'skipped an appointment the receiver sent');
      else appointments.push(mapped);
    }
  }
  // Code-unit order between equal starts: the same on every machine (a locale's order is not).
  appointments.sort((x, y) => Date.parse(x.start) - Date.parse(y.start) || compareCodeUnits(x.ref, y.ref));
  flow.log.info({ outcome: 'FOUND', count: appointments.length, receivers: services.length }, 'patient appointments');
  return list('FOUND', say.receiversAsked(services.length), appointments);
}
