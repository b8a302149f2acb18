/**
 * The receiver's bookings: POST /$process-message (book, cancel), GET /Appointment/{id}, GET /Appointment by
 * patient. Every read is limited to the target service and the organisation that booked (NHSD-End-User-Organisation):
 * another organisation's appointment is 404 REC_NOT_FOUND, as if it did not exist.
 *
 * Booking is check-and-set in one synchronous step, so concurrent messages for one slot give exactly one booking and
 * 409 REC_CONFLICT for the rest.
 */
import { randomUUID } from 'node:crypto';
import { isValidNhsNumber } from '../booking-standard/nhs-number.js';
import { barsInstant, type BarsSlot, type DiaryStore } from './diary.js';
import { DOS_SERVICE_ID_SYSTEM } from './headers.js';
import { BOOKING_CANCELLED_URL, BOOKING_FOCUS, BOOKING_REQUEST_URL, CANCEL_FOCUS, type FocusRule } from './message-definitions.js';
import { barsError } from './outcome.js';
import { scheduleId } from './resources.js';
import { BARS_SERVICE_BY_ID } from './services.js';

export const NHS_NUMBER_SYSTEM = 'https://fhir.nhs.uk/Id/nhs-number';

type Json = Record<string, any>;

export interface StoredAppointment {
  id: string;
  versionId: number;
  serviceId: string;
  slotId: string;
  /** ODS code of the organisation that booked (NHSD-End-User-Organisation); the only one that may read or cancel. */
  bookingOds: string;
  clientId: string;
  nhsNumber?: string;
  status: 'booked' | 'cancelled';
  startMs: number;
  endMs: number;
  created: string;
  lastUpdated: string;
  patientId: string;
  /** The sender's Appointment as received (handover fields: description, basedOn, supportingInformation...). */
  sent: Json;
  /** Every message that touched this appointment, as received, with its X-Request-Id. */
  messages: Array<{ requestId: string; bundle: unknown }>;
}

export interface MessageContext {
  serviceId: string;
  bookingOds: string;
  clientId: string;
  requestId: string;
  nowMs: number;
}

export class AppointmentBook {
  private readonly byId = new Map<string, StoredAppointment>();
  /** `<service>|<Bundle.id>` of every message processed successfully (a re-sent message is 409 REC_CONFLICT duplicate). */
  private readonly processed = new Set<string>();

  constructor(private readonly diary: DiaryStore) {}

  all(): StoredAppointment[] {
    return [...this.byId.values()];
  }

  /** POST /$process-message. Returns the response message Bundle (200). */
  process(bundle: unknown, ctx: MessageContext): unknown {
    const msg = parseMessage(bundle, ctx.serviceId);
    if (msg.bundleId && this.processed.has(`${ctx.serviceId}|${msg.bundleId}`)) {
      throw barsError(409, 'REC_CONFLICT', 'duplicate', 'This message has been recognised as having already been successfully processed.');
    }
    const status = msg.appointment['status'];
    const reason = msg.reason;
    let stored: StoredAppointment;
    if (status === 'booked') {
      if (reason && reason !== 'new') throw barsError(400, 'REC_BAD_REQUEST', 'invariant', `A booked Appointment with MessageHeader.reason "${reason}": a new booking has reason "new".`);
      requireFocus(msg, BOOKING_FOCUS);
      stored = this.book(msg, ctx);
    } else if (status === 'cancelled') {
      if (reason === 'new') throw barsError(400, 'REC_BAD_REQUEST', 'invariant', 'A cancelled Appointment with MessageHeader.reason "new": a cancellation updates an existing booking.');
      requireFocus(msg, CANCEL_FOCUS);
      stored = this.cancel(msg, ctx);
    } else {
      throw barsError(400, 'REC_BAD_REQUEST', 'value', `Appointment.status "${String(status)}": this receiver takes "booked" (a booking) or "cancelled" (a cancellation).`, { expression: 'Appointment.status' });
    }
    stored.messages.push({ requestId: ctx.requestId, bundle });
    if (msg.bundleId) this.processed.add(`${ctx.serviceId}|${msg.bundleId}`);
    return responseMessage(msg, stored, ctx.nowMs);
  }

  /** GET /Appointment/{id} for the booking organisation at the target service. */
  read(id: string, serviceId: string, ods: string): Json {
    const a = this.byId.get(id);
    if (!a || a.serviceId !== serviceId || a.bookingOds !== ods) throw barsError(404, 'REC_NOT_FOUND', 'not-found', 'the resource requested was not found.');
    return appointmentResource(a);
  }

  /** GET /Appointment?patient:identifier=...: the patient's appointments at the target service booked by this organisation. */
  search(nhsNumber: string, serviceId: string, ods: string): StoredAppointment[] {
    return this.all()
      .filter((a) => a.serviceId === serviceId && a.bookingOds === ods && a.nhsNumber === nhsNumber)
      .sort((x, y) => x.startMs - y.startMs || (x.id < y.id ? -1 : 1));
  }

  private book(msg: ParsedMessage, ctx: MessageContext): StoredAppointment {
    const patient = msg.resolve(firstPatientRef(msg.appointment), 'Patient') ?? msg.first('Patient');
    if (!patient) throw barsError(400, 'REC_BAD_REQUEST', 'required', 'The Appointment has no Patient participant in the message.', { expression: 'Appointment.participant.actor' });
    const nhsNumber = nhsNumberOf(patient);
    if (nhsNumber === undefined) {
      const name = Array.isArray(patient['name']) ? (patient['name'][0] as Json | undefined) : undefined;
      if (!name?.['family'] || typeof patient['birthDate'] !== 'string') {
        throw barsError(400, 'REC_BAD_REQUEST', 'required', 'A Patient without an NHS number needs a family name and a birth date.', { expression: 'Patient' });
      }
    } else if (!isValidNhsNumber(nhsNumber)) {
      throw barsError(400, 'REC_BAD_REQUEST', 'value', 'the identifier was in the incorrect format: the NHS number fails its check digit.', { expression: 'Patient.identifier' });
    }
    const sender = msg.resolve(msg.header['sender']?.['reference'], 'Organization');
    if (!sender) throw barsError(400, 'REC_BAD_REQUEST', 'required', 'MessageHeader.sender must reference the sending Organization in the message.', { expression: 'MessageHeader.sender' });

    const slot = this.slotOf(msg, ctx);
    const service = BARS_SERVICE_BY_ID.get(slot.serviceId)!;
    for (const hs of msg.all('HealthcareService')) {
      const dos = (hs['identifier'] as Json[] | undefined)?.find((i) => i['system'] === DOS_SERVICE_ID_SYSTEM)?.['value'];
      if (dos !== undefined && dos !== service.id) {
        throw barsError(400, 'REC_BAD_REQUEST', 'invariant', `The message's HealthcareService is DoS service ${String(dos)}, but it was sent to ${service.id}.`);
      }
    }
    const start = msg.appointment['start'];
    const end = msg.appointment['end'];
    if ((start !== undefined && Date.parse(String(start)) !== slot.startMs) || (end !== undefined && Date.parse(String(end)) !== slot.endMs)) {
      throw barsError(422, 'REC_UNPROCESSABLE_ENTITY', 'processing', 'Message was not malformed but deemed unprocessable: Appointment.start/end differ from the slot booked.');
    }
    if (slot.startMs <= ctx.nowMs) {
      throw barsError(422, 'REC_UNPROCESSABLE_ENTITY', 'processing', 'Message was not malformed but deemed unprocessable: the slot has already started.');
    }
    // Check and take in one synchronous step: nothing else runs between them.
    if (this.diary.statusOf(slot) !== 'free') throw barsError(409, 'REC_CONFLICT', 'conflict', 'local data updates conflict with the updates in the message: the slot is no longer free.');
    slot.status = 'busy';

    const nowIso = barsInstant(ctx.nowMs);
    const stored: StoredAppointment = {
      id: randomUUID(),
      versionId: 1,
      serviceId: service.id,
      slotId: slot.id,
      bookingOds: ctx.bookingOds,
      clientId: ctx.clientId,
      ...(nhsNumber !== undefined ? { nhsNumber } : {}),
      status: 'booked',
      startMs: slot.startMs,
      endMs: slot.endMs,
      created: nowIso,
      lastUpdated: nowIso,
      patientId: typeof patient['id'] === 'string' && patient['id'] ? patient['id'] : randomUUID(),
      sent: msg.appointment,
      messages: [],
    };
    this.byId.set(stored.id, stored);
    return stored;
  }

  private cancel(msg: ParsedMessage, ctx: MessageContext): StoredAppointment {
    const id = msg.appointment['id'];
    if (typeof id !== 'string' || !id) throw barsError(400, 'REC_BAD_REQUEST', 'required', 'A cancellation must carry the Appointment id being cancelled.', { expression: 'Appointment.id' });
    const a = this.byId.get(id);
    if (!a || a.serviceId !== ctx.serviceId || a.bookingOds !== ctx.bookingOds) throw barsError(404, 'REC_NOT_FOUND', 'not-found', 'the resource requested was not found.');
    if (a.status === 'cancelled') return a; // already cancelled: the same answer again
    a.status = 'cancelled';
    a.versionId += 1;
    a.lastUpdated = barsInstant(ctx.nowMs);
    const slot = this.diary.find(a.slotId);
    if (slot) slot.status = 'free';
    return a;
  }

  /** The diary slot a booking message names: by the Slot's id, else by its Schedule and start. */
  private slotOf(msg: ParsedMessage, ctx: MessageContext): BarsSlot {
    const refs = Array.isArray(msg.appointment['slot']) ? (msg.appointment['slot'] as Json[]) : [];
    if (refs.length !== 1) throw barsError(400, 'REC_BAD_REQUEST', 'invalid', 'The Appointment must reference exactly one Slot.', { expression: 'Appointment.slot' });
    const ref = String(refs[0]?.['reference'] ?? '');
    const inMessage = msg.resolve(ref, 'Slot');
    let slot: BarsSlot | undefined;
    const literal = /^Slot\/(.+)$/.exec(ref)?.[1];
    const slotId = typeof inMessage?.['id'] === 'string' ? inMessage['id'] : literal;
    if (slotId) slot = this.diary.find(slotId);
    // Only a Slot without an id (as the spec's example sends it) is looked up by its Schedule and start.
    else if (inMessage) {
      const schedule = msg.resolve(inMessage['schedule']?.['reference'], 'Schedule');
      const service = BARS_SERVICE_BY_ID.get(ctx.serviceId);
      const startMs = Date.parse(String(inMessage['start'] ?? ''));
      const def = service?.schedules.find((s) => {
        const id = scheduleId(service, s);
        return schedule?.['id'] === id || (inMessage['schedule']?.['reference'] as string | undefined) === `Schedule/${id}`;
      });
      if (service && def && !Number.isNaN(startMs)) slot = this.diary.findByStart(service, def, startMs);
    }
    if (!slot) throw barsError(422, 'REC_UNPROCESSABLE_ENTITY', 'processing', 'Message was not malformed but deemed unprocessable: the Slot is not in this service\'s diary.');
    if (slot.serviceId !== ctx.serviceId) {
      throw barsError(422, 'REC_UNPROCESSABLE_ENTITY', 'processing', `Message was not malformed but deemed unprocessable: the Slot belongs to DoS service ${slot.serviceId}, not ${ctx.serviceId}.`);
    }
    return slot;
  }
}

interface ParsedMessage {
  bundleId?: string;
  header: Json;
  appointment: Json;
  appointmentEntry: Json;
  reason?: string;
  entries: Json[];
  resolve(ref: unknown, type: string): Json | undefined;
  first(type: string): Json | undefined;
  all(type: string): Json[];
}

const SUPPORTED_EVENT_SYSTEMS = ['https://fhir.nhs.uk/CodeSystem/message-events-bars', 'https://fhir.nhs.uk/CodeSystem/message-event-servicerequest'];

function parseMessage(bundle: unknown, serviceId: string): ParsedMessage {
  const b = bundle as Json;
  if (typeof b !== 'object' || b === null || b['resourceType'] !== 'Bundle') throw barsError(400, 'REC_BAD_REQUEST', 'invalid', 'The body must be a FHIR Bundle.');
  if (b['type'] !== 'message') throw barsError(400, 'REC_BAD_REQUEST', 'invalid', 'Bundle.type must be "message".', { expression: 'Bundle.type' });
  const entries = Array.isArray(b['entry']) ? (b['entry'] as Json[]) : [];
  if (entries.some((e) => typeof e !== 'object' || e === null || typeof e['resource'] !== 'object' || e['resource'] === null || typeof e['resource']['resourceType'] !== 'string')) {
    throw barsError(400, 'REC_BAD_REQUEST', 'invalid', 'Every Bundle.entry must hold a resource.', { expression: 'Bundle.entry' });
  }
  const header = entries[0]?.['resource'] as Json | undefined;
  if (header?.['resourceType'] !== 'MessageHeader') throw barsError(400, 'REC_BAD_REQUEST', 'invalid', 'The first entry of a message Bundle must be its MessageHeader.', { expression: 'Bundle.entry[0]' });
  const event = header['eventCoding'] as Json | undefined;
  if (!event?.['code']) throw barsError(400, 'REC_BAD_REQUEST', 'required', 'MessageHeader.eventCoding is required.', { expression: 'MessageHeader.eventCoding' });
  if (event['system'] !== undefined && !SUPPORTED_EVENT_SYSTEMS.includes(event['system'])) {
    throw barsError(400, 'REC_BAD_REQUEST', 'value', `Unknown MessageHeader.eventCoding.system "${String(event['system'])}".`, { expression: 'MessageHeader.eventCoding' });
  }
  if (event['code'] !== 'booking-request') {
    if (/^servicerequest-/.test(String(event['code']))) {
      throw barsError(400, 'REC_BAD_REQUEST', 'not-supported', `This receiver takes bookings only; "${String(event['code'])}" is not supported.`, { expression: 'MessageHeader.eventCoding' });
    }
    throw barsError(400, 'REC_BAD_REQUEST', 'invariant', 'A combination of workflow variables has lead to a non-standard or unknown workflow.', { expression: 'MessageHeader.eventCoding' });
  }
  const definition = header['definition'];
  if (definition !== undefined && definition !== BOOKING_REQUEST_URL && definition !== BOOKING_CANCELLED_URL) {
    throw barsError(400, 'REC_BAD_REQUEST', 'not-supported', `MessageHeader.definition "${String(definition)}" is not one of this receiver's MessageDefinitions.`, { expression: 'MessageHeader.definition' });
  }
  for (const d of (header['destination'] as Json[] | undefined) ?? []) {
    const m = /\|(\d+)$/.exec(String(d['endpoint'] ?? ''));
    if (m && m[1] !== serviceId) {
      throw barsError(400, 'REC_BAD_REQUEST', 'invariant', `MessageHeader.destination names DoS service ${m[1]}, but NHSD-Target-Identifier names ${serviceId}.`, { expression: 'MessageHeader.destination' });
    }
  }
  const resolve = (ref: unknown, type: string): Json | undefined => {
    if (typeof ref !== 'string' || !ref) return undefined;
    const byUrl = entries.find((e) => e['fullUrl'] === ref)?.['resource'] as Json | undefined;
    if (byUrl) return byUrl['resourceType'] === type ? byUrl : undefined;
    const m = /^([A-Za-z]+)\/(.+)$/.exec(ref);
    if (!m || m[1] !== type) return undefined;
    return entries.map((e) => e['resource'] as Json).find((r) => r['resourceType'] === type && r['id'] === m[2]);
  };
  const focusRef = (header['focus'] as Json[] | undefined)?.[0]?.['reference'];
  const appointment = resolve(focusRef, 'Appointment');
  if (!appointment) throw barsError(400, 'REC_BAD_REQUEST', 'invalid', 'MessageHeader.focus must reference the Appointment in the message.', { expression: 'MessageHeader.focus' });
  const resources = entries.map((e) => e['resource'] as Json);
  const reason = (header['reason'] as Json | undefined)?.['coding']?.[0]?.['code'];
  return {
    ...(typeof b['id'] === 'string' && b['id'] ? { bundleId: b['id'] } : {}),
    header,
    appointment,
    appointmentEntry: entries.find((e) => e['resource'] === appointment)!,
    ...(typeof reason === 'string' ? { reason } : {}),
    entries,
    resolve,
    first: (type) => resources.find((r) => r['resourceType'] === type),
    all: (type) => resources.filter((r) => r['resourceType'] === type),
  };
}

function requireFocus(msg: ParsedMessage, rules: FocusRule[]): void {
  for (const r of rules) {
    if (r.code === 'Bundle' || r.min === 0) continue;
    if (msg.all(r.code).length < r.min) {
      throw barsError(400, 'REC_BAD_REQUEST', 'required', `The message lacks a ${r.code}, which this receiver's MessageDefinition requires.`, { expression: r.code });
    }
  }
}

function firstPatientRef(appointment: Json): unknown {
  const participants = Array.isArray(appointment['participant']) ? (appointment['participant'] as Json[]) : [];
  return participants.map((p) => p['actor']?.['reference']).find((r) => typeof r === 'string');
}

function nhsNumberOf(patient: Json): string | undefined {
  const ids = Array.isArray(patient['identifier']) ? (patient['identifier'] as Json[]) : [];
  const v = ids.find((i) => i['system'] === NHS_NUMBER_SYSTEM)?.['value'];
  return typeof v === 'string' ? v.replace(/\s+/g, '') : undefined;
}

/** The Appointment as the receiver holds it (examples/appointment/id/GET-success.json, with the handover fields kept). */
export function appointmentResource(a: StoredAppointment): Json {
  const { id: _id, meta: _meta, status: _status, slot: _slot, participant: _participant, start: _start, end: _end, created: _created, resourceType: _rt, ...handover } = a.sent;
  return {
    resourceType: 'Appointment',
    id: a.id,
    meta: { versionId: String(a.versionId), lastUpdated: a.lastUpdated, profile: ['https://fhir.hl7.org.uk/StructureDefinition/UKCore-Appointment'] },
    status: a.status,
    ...handover,
    start: barsInstant(a.startMs),
    end: barsInstant(a.endMs),
    slot: [{ reference: `Slot/${a.slotId}` }],
    created: a.created,
    participant: [
      {
        actor: {
          reference: `Patient/${a.patientId}`,
          ...(a.nhsNumber ? { identifier: { system: NHS_NUMBER_SYSTEM, value: a.nhsNumber } } : {}),
        },
        status: 'accepted',
      },
    ],
  };
}

/** The answer to a processed message: the message echoed with the receiver's ids, as examples/process_message/POST-success.json. */
function responseMessage(msg: ParsedMessage, a: StoredAppointment, nowMs: number): unknown {
  const nowIso = barsInstant(nowMs);
  return {
    resourceType: 'Bundle',
    id: randomUUID(),
    meta: { lastUpdated: nowIso, profile: ['https://fhir.hl7.org.uk/StructureDefinition/UKCore-Bundle'] },
    type: 'message',
    timestamp: nowIso,
    entry: msg.entries.map((e) => {
      const r = e['resource'] as Json;
      if (r === msg.appointment) return { fullUrl: e['fullUrl'], resource: appointmentResource(a) };
      if (r === msg.header) return { fullUrl: e['fullUrl'], resource: { ...r, id: typeof r['id'] === 'string' ? r['id'] : randomUUID() } };
      if (r['resourceType'] === 'Slot' && a.status === 'booked') return { fullUrl: e['fullUrl'], resource: { ...r, id: a.slotId, status: 'busy' } };
      if (r['resourceType'] === 'Patient') return { fullUrl: e['fullUrl'], resource: { ...r, id: a.patientId } };
      return { fullUrl: e['fullUrl'], resource: { ...r, id: typeof r['id'] === 'string' ? r['id'] : randomUUID() } };
    }),
  };
}
