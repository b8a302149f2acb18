/**
 * The BaRS messages this adapter sends to `$process-message`, built as the spec's example
 * (examples/process_message/POST-body.json) builds them. Pure; no I/O.
 *
 * Booking: a `message` Bundle whose first entry is the MessageHeader (event `booking-request`, reason `new`, focus the
 * Appointment, destination the DoS service, sender the consumer organisation), then the Appointment (booked, the
 * slot's times, the patient as participant, our booking reference, the clinical handover as supportingInformation
 * and comment), the Patient, the Slot and its Schedule, the HealthcareService (the DoS id), the consumer
 * Organization and the handover's DocumentReference.
 *
 * Every id in a booking message is derived from the request id (itself derived from the client's idempotency key):
 * the same booking always produces the same JSON. A message re-sent after a lost answer is then the very message
 * the receiver may already have processed: with the same X-Request-Id it answers what it answered first, and under
 * any other X-Request-Id its Bundle.id is a duplicate (409 `duplicate`), never a second booking. Each booking is
 * still a new Bundle.id (a new request id), as the spec asks. For the same reason there is no Bundle.timestamp and
 * no Appointment.created: the receiver stamps its own.
 */
import { createHash } from 'node:crypto';
import type { Appointment, Bundle, DocumentReference, HealthcareService, MessageHeader, Organization, Patient, Resource, Schedule, Slot } from '../kit/fhir/r4.js';
import { DOS_SERVICE_ID_SYSTEM, fhirInstant, NHS_NUMBER_SYSTEM, ODS_ORGANIZATION_SYSTEM, UUID_IDENTIFIER_SYSTEM } from '../kit/fhir/identifiers.js';
import type { ConsumerOrganisation } from '../../common/consumer.js';
import type { SupplierBookingInput } from './generated/resolvers.js';
import { consumerOrganization } from './headers.js';
import type { BarsSlotRef } from './slot-ref.js';

export const MESSAGE_EVENT_SYSTEM = 'https://fhir.nhs.uk/CodeSystem/message-events-bars';
export const MESSAGE_REASON_SYSTEM = 'https://fhir.nhs.uk/CodeSystem/message-reason-bars';
export const BOOKING_REQUEST_DEFINITION = 'https://fhir.nhs.uk/MessageDefinition/bars-message-booking-request';
export const BOOKING_CANCELLED_DEFINITION = 'https://fhir.nhs.uk/MessageDefinition/bars-message-booking-request-cancelled';
/**
 * Our booking reference in Appointment.identifier: the request id as a URN (FHIR's system for URIs), so an
 * appointment read back shows which booking of ours it is.
 */
export const BOOKING_REFERENCE_SYSTEM = 'urn:ietf:rfc:3986';
export const bookingReference = (requestId: string) => `urn:uuid:${requestId}`;

/** A UUID named by `seed` and `name` (SHA-256, version and variant bits set): stable for one request. */
export function nameUuid(seed: string, name: string): string {
  const h = createHash('sha256').update(`${seed}\n${name}`).digest();
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

export interface BookingMessageInput {
  input: SupplierBookingInput;
  slot: BarsSlotRef;
  consumer: ConsumerOrganisation;
  /** Where our software is reached, for MessageHeader.source. */
  sourceEndpoint: string;
  softwareName: string;
}

export function bookingMessage(m: BookingMessageInput): Bundle {
  const { input, slot, consumer } = m;
  const seed = input.requestId;
  const url = (name: string) => `urn:uuid:${nameUuid(seed, name)}`;
  const u = {
    header: url('MessageHeader'),
    appointment: url('Appointment'),
    patient: url('Patient'),
    slot: url('Slot'),
    schedule: url('Schedule'),
    service: url('HealthcareService'),
    sender: url('Organization'),
    report: url('DocumentReference'),
  };

  const header: MessageHeader = {
    resourceType: 'MessageHeader',
    id: nameUuid(seed, 'MessageHeader.id'),
    meta: { profile: ['https://fhir.nhs.uk/StructureDefinition/BARSMessageHeader-booking-request'] },
    eventCoding: { system: MESSAGE_EVENT_SYSTEM, code: 'booking-request' },
    destination: [{ endpoint: `${DOS_SERVICE_ID_SYSTEM}|${input.serviceId}`, receiver: { reference: u.service } }],
    sender: { reference: u.sender },
    source: { name: consumer.name, software: m.softwareName, endpoint: m.sourceEndpoint },
    reason: { coding: [{ system: MESSAGE_REASON_SYSTEM, code: 'new' }] },
    focus: [{ reference: u.appointment }],
    definition: BOOKING_REQUEST_DEFINITION,
  };

  const h = input.handover;
  const appointment: Appointment = {
    resourceType: 'Appointment',
    identifier: [{ system: BOOKING_REFERENCE_SYSTEM, value: bookingReference(input.requestId) }],
    status: 'booked',
    description: input.description,
    start: fhirInstant(slot.start),
    end: fhirInstant(slot.end),
    slot: [{ reference: u.slot }],
    comment: h.summary,
    supportingInformation: [
      {
        reference: u.report,
        type: 'DocumentReference',
        identifier: { system: UUID_IDENTIFIER_SYSTEM, value: h.reportId },
        display: h.reportTypeDisplay,
      },
    ],
    participant: [{ actor: { reference: u.patient, ...(input.patient.nhsNumber ? { identifier: { system: NHS_NUMBER_SYSTEM, value: input.patient.nhsNumber } } : {}) }, status: 'accepted' }],
  };

  const p = input.patient;
  const patient: Patient = {
    resourceType: 'Patient',
    meta: { profile: ['https://fhir.hl7.org.uk/StructureDefinition/UKCore-Patient'] },
    ...(p.nhsNumber ? { identifier: [{ system: NHS_NUMBER_SYSTEM, value: p.nhsNumber }] } : {}),
    name: [{ use: 'official', family: p.family, given: [...p.given], ...(p.prefix?.length ? { prefix: [...p.prefix] } : {}) }],
    gender: p.gender as Patient['gender'],
    birthDate: p.birthDate,
    address: [{ use: 'home', line: [...p.addressLines], ...(p.city ? { city: p.city } : {}), postalCode: p.postcode }],
    ...(p.phone ? { telecom: [{ system: 'phone', value: p.phone, use: 'home' }] } : {}),
  };

  const fhirSlot: Slot = {
    resourceType: 'Slot',
    id: slot.slotId,
    schedule: { reference: u.schedule },
    status: 'busy',
    start: fhirInstant(slot.start),
    end: fhirInstant(slot.end),
  };
  const schedule: Schedule = { resourceType: 'Schedule', id: slot.scheduleId, actor: [{ reference: u.service }] };
  const service: HealthcareService = {
    resourceType: 'HealthcareService',
    id: input.serviceId,
    identifier: [{ system: DOS_SERVICE_ID_SYSTEM, value: input.serviceId }],
  };
  const sender: Organization = consumerOrganization(consumer);
  const report: DocumentReference = {
    resourceType: 'DocumentReference',
    masterIdentifier: { system: UUID_IDENTIFIER_SYSTEM, value: h.reportId },
    status: 'current',
    type: { coding: [{ system: 'https://fhir.nhs.uk/CodeSystem/message-types', code: h.reportTypeCode, display: h.reportTypeDisplay }] },
    author: [{ identifier: { system: ODS_ORGANIZATION_SYSTEM, value: h.authorOdsCode } }],
    description: h.summary,
    content: [{ attachment: { contentType: 'application/hl7-v3+xml', title: h.reportTypeDisplay } }],
  };

  return message(nameUuid(seed, 'Bundle'), [
    [u.header, header],
    [u.appointment, appointment],
    [u.patient, patient],
    [u.slot, fhirSlot],
    [u.schedule, schedule],
    [u.service, service],
    [u.sender, sender],
    [u.report, report],
  ]);
}

/**
 * A cancellation: the Appointment as the receiver holds it with `status: cancelled` (spec: "an updated payload
 * request ensuring the status of the appointment is set to 'cancelled'"), reason `cancelled`, the cancellation's
 * MessageDefinition, and the consumer organisation as sender. Ids derive from the cancellation's request id.
 */
export function cancelMessage(o: { requestId: string; serviceId: string; appointment: Appointment; consumer: ConsumerOrganisation; sourceEndpoint: string; softwareName: string; reason?: string | null }): Bundle {
  const seed = o.requestId;
  const url = (name: string) => `urn:uuid:${nameUuid(seed, name)}`;
  const u = { header: url('MessageHeader'), appointment: url('Appointment'), sender: url('Organization') };
  const header: MessageHeader = {
    resourceType: 'MessageHeader',
    id: nameUuid(seed, 'MessageHeader.id'),
    eventCoding: { system: MESSAGE_EVENT_SYSTEM, code: 'booking-request' },
    destination: [{ endpoint: `${DOS_SERVICE_ID_SYSTEM}|${o.serviceId}` }],
    sender: { reference: u.sender },
    source: { name: o.consumer.name, software: o.softwareName, endpoint: o.sourceEndpoint },
    reason: { coding: [{ system: MESSAGE_REASON_SYSTEM, code: 'cancelled' }] },
    focus: [{ reference: u.appointment }],
    definition: BOOKING_CANCELLED_DEFINITION,
  };
  const appointment: Appointment = {
    ...o.appointment,
    status: 'cancelled',
    ...(o.reason ? { cancelationReason: { text: o.reason.slice(0, 200) } } : {}),
  };
  return message(nameUuid(seed, 'Bundle'), [
    [u.header, header],
    [u.appointment, appointment],
    [u.sender, consumerOrganization(o.consumer)],
  ]);
}

function message(id: string, items: [string, Resource][]): Bundle {
  return {
    resourceType: 'Bundle',
    id,
    meta: { profile: ['https://fhir.nhs.uk/StructureDefinition/BARSBundleMessage'] },
    type: 'message',
    entry: items.map(([fullUrl, resource]) => ({ fullUrl, resource })),
  };
}
