/**
 * Reading appointments: one by id (spec 2.5), and a patient's by NHS number (spec 2.7, optional and unreliable at
 * STU3 providers). Also the one read every flow uses, which sorts the provider's answer into what a flow acts on.
 */
import { unreadOutcome } from '../kit/booking-outcomes.js';
import { UpstreamError, type UpstreamReason } from '../../common/upstream.js';
import { BOOKING_REFERENCE_SYSTEM, appointmentRef, scheduleIdOf, toSupplierAppointment } from './appointment-map.js';
import type { FhirAppointment, SearchAnswer } from './client.js';
import type {
  SupplierAppointment,
  SupplierAppointmentInput,
  SupplierAppointmentList,
  SupplierOutcome,
  SupplierPatientAppointmentsInput,
} from './generated/resolvers.js';
import { classifyFailure, type FailureCode } from './map.js';
import { list, outcome, say, type Flow } from './outcomes.js';

/** FHIR logical ids: anything else is not an id the provider issued, and must not reach its URL path. */
export const FHIR_ID = /^[A-Za-z0-9\-.]{1,64}$/;

/** Most appointments read back for a registry-style (slim) search answer; the rest are counted as left out. */
const MAX_SLIM_READS = 10;

export type ReadResult =
  | { kind: 'ok'; appointment: FhirAppointment; etag?: string }
  /** The provider answered with an error status: what it means (404 NOT_FOUND, 403 FORBIDDEN, ...). */
  | { kind: 'refused'; code: FailureCode; status: number; diagnostics?: string }
  /** No answer we could use: timeout, network, 5xx after the retry, or a body that was not an Appointment. */
  | { kind: 'failed'; reason: UpstreamReason };

export async function readOne(flow: Flow, ref: string): Promise<ReadResult> {
  try {
    const a = await flow.client.read(flow.system, ref, flow.call);
    flow.log.info({ step: 'read', appointment: ref, status: a.status }, 'appointment read');
    if (a.appointment) return { kind: 'ok', appointment: a.appointment, ...(a.etag ? { etag: a.etag } : {}) };
    return { kind: 'refused', code: classifyFailure(a.status, a.issue, false), status: a.status, ...(a.diagnostics ? { diagnostics: a.diagnostics } : {}) };
  } catch (err) {
    if (!(err instanceof UpstreamError)) throw err;
    flow.log.warn({ step: 'read', appointment: ref, reason: err.reason, status: err.status }, 'appointment read failed');
    return { kind: 'failed', reason: err.reason };
  }
}

/** `bookingStandardAppointment`: FOUND, NOT_FOUND, FORBIDDEN, INVALID_REQUEST or SUPPLIER_UNAVAILABLE. */
export async function readFlow(flow: Flow, input: SupplierAppointmentInput): Promise<SupplierOutcome> {
  if (!FHIR_ID.test(input.appointmentRef)) return outcome('INVALID_REQUEST', say.appointmentRefInvalid);
  const read = await readOne(flow, input.appointmentRef);
  const result = readOutcome(flow, read, input.serviceId, 'FOUND');
  flow.log.info({ outcome: result.code }, 'appointment lookup');
  return result;
}

/**
 * The service an appointment is at, from the provider's record: its contained Slot's Schedule, as slot searches
 * taught it (schedule-services.ts). Only when the record does not tell (a schedule not seen yet, or shared by two
 * services) is it the service the appointment id names, which the gateway signed when it issued the id.
 */
export function recordedService(flow: Flow, appointment: FhirAppointment, fromId: string): string {
  const recorded = flow.schedules.serviceOf(flow.system.id, scheduleIdOf(appointment));
  if (recorded && recorded !== fromId) flow.log.warn({ serviceId: recorded, idServiceId: fromId }, 'appointment is at another service than its id names');
  return recorded ?? fromId;
}

/** A read's result as an outcome: `success` with the appointment (at the service its record names), or why not. */
export function readOutcome(flow: Flow, read: ReadResult, serviceId: string, success: 'FOUND' | 'CANCELLED'): SupplierOutcome {
  const s = flow.system.id;
  if (read.kind !== 'ok') return unreadOutcome(s, read);
  const mapped = toSupplierAppointment(read.appointment, { serviceId: recordedService(flow, read.appointment, serviceId), ...(read.etag ? { etag: read.etag } : {}) });
  if ('reason' in mapped) {
    flow.log.warn({ reason: mapped.reason }, 'unreadable appointment');
    return outcome('SUPPLIER_UNAVAILABLE', say.unreadable(s));
  }
  return outcome(success, null, { appointment: mapped });
}

export type SearchResult =
  | { kind: 'ok'; entries: { appointment: FhirAppointment; fullUrl?: string }[] }
  | { kind: 'unsupported'; status: number }
  | { kind: 'failed'; reason: UpstreamReason };

/** The NHS-number search (spec 2.7), sorted into: the Appointments found, not supported here, or no answer. */
export async function searchByNhsNumber(flow: Flow, nhsNumber: string): Promise<SearchResult> {
  return search(flow, () => flow.client.searchPatientAppointments(flow.system, nhsNumber, flow.call));
}

/**
 * The appointment carrying our booking reference (appointment-map BOOKING_REFERENCE_SYSTEM), by the `identifier`
 * search: needs no NHS number. Sorted as the NHS-number search is.
 */
export async function searchByBookingReference(flow: Flow, reference: string): Promise<SearchResult> {
  return search(flow, () => flow.client.searchAppointmentsByIdentifier(flow.system, BOOKING_REFERENCE_SYSTEM, reference, flow.call));
}

async function search(flow: Flow, ask: () => Promise<SearchAnswer>): Promise<SearchResult> {
  try {
    const answer = await ask();
    flow.log.info({ step: 'search', status: answer.status }, 'patient appointment search');
    // Any refusal means the same to us: this provider will not answer this search for us (no registry-era search,
    // another parameter spelling, or the SSP not authorising the interaction). None is fixed by asking again.
    if (!answer.bundle) return { kind: 'unsupported', status: answer.status };
    const entries = (answer.bundle.entry ?? []).flatMap((e) =>
      e.resource?.resourceType === 'Appointment' && e.search?.mode !== 'include' && e.search?.mode !== 'outcome'
        ? [{ appointment: e.resource as FhirAppointment, ...(e.fullUrl ? { fullUrl: e.fullUrl } : {}) }]
        : [],
    );
    return { kind: 'ok', entries };
  } catch (err) {
    if (!(err instanceof UpstreamError)) throw err;
    flow.log.warn({ step: 'search', reason: err.reason, status: err.status }, 'patient appointment search failed');
    return { kind: 'failed', reason: err.reason };
  }
}

/**
 * `bookingStandardPatientAppointments`: FOUND with the appointments this organisation booked for the patient;
 * NOT_SUPPORTED when the provider refuses the search; SUPPLIER_UNAVAILABLE when it cannot be reached.
 *
 * Providers may answer with the registry's slim entries (no contained resources, spec 2.7); those are read back,
 * in parallel and at most MAX_SLIM_READS of them. An appointment whose service cannot be told (see schedule-services.ts) is left out and counted in `message`,
 * because the contract requires a service id and a guess would misroute a later read or cancel.
 */
export async function patientAppointmentsFlow(flow: Flow, input: SupplierPatientAppointmentsInput): Promise<SupplierAppointmentList> {
  const s = flow.system.id;
  const found = await searchByNhsNumber(flow, input.nhsNumber);
  if (found.kind === 'unsupported') return list('NOT_SUPPORTED', say.searchNotSupported(s, found.status));
  if (found.kind === 'failed') return list('SUPPLIER_UNAVAILABLE', found.reason === 'INVALID_RESPONSE' ? say.unreadable(s) : say.unavailable(s));

  // Slim entries are read in parallel (at most MAX_SLIM_READS), so the whole list takes about two deadlines.
  let slimReads = 0;
  const resolved = await Promise.all(
    found.entries.map(async (entry): Promise<{ appointment: FhirAppointment; etag?: string; fullUrl?: string } | 'left-out' | 'gone' | 'failed'> => {
      if (entry.appointment.contained?.length) return entry;
      const ref = appointmentRef(entry.appointment, entry.fullUrl);
      if (!ref || !FHIR_ID.test(ref) || ++slimReads > MAX_SLIM_READS) return 'left-out';
      const read = await readOne(flow, ref);
      if (read.kind === 'failed') return 'failed';
      // Not ours to see after all, or gone since the search: not this organisation's appointment to list.
      if (read.kind === 'refused') return 'gone';
      return { appointment: read.appointment, ...(read.etag ? { etag: read.etag } : {}), ...(entry.fullUrl ? { fullUrl: entry.fullUrl } : {}) };
    }),
  );
  if (resolved.includes('failed')) return list('SUPPLIER_UNAVAILABLE', say.unavailable(s));

  let leftOut = 0;
  const appointments: SupplierAppointment[] = [];
  for (const r of resolved) {
    if (r === 'gone' || r === 'failed') continue;
    const serviceId = r === 'left-out' ? null : flow.schedules.serviceOf(s, scheduleIdOf(r.appointment));
    if (r === 'left-out' || !serviceId) {
      leftOut++;
      continue;
    }
    const { appointment, ...versionHints } = r;
    const mapped = toSupplierAppointment(appointment, { serviceId, ...versionHints });
    if ('reason' in mapped) {
      flow.log.warn({ reason: mapped.reason }, 'skipped an appointment the provider sent');
      leftOut++;
      continue;
    }
    appointments.push(mapped);
  }
  flow.log.info({ outcome: 'FOUND', count: appointments.length, leftOut }, 'patient appointments');
  return list('FOUND', leftOut > 0 ? say.leftOut(leftOut) : null, appointments);
}
