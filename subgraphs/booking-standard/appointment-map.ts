/**
 * Pure mapping between the booking contract (schema/supplier-booking.graphql) and Booking Standard STU3
 * Appointments: the book request exactly as spec 2.4 / 5.4–5.7 / 8.2 lay it out, and a provider's Appointment back
 * to a SupplierAppointment. No I/O, no clock (the caller passes `now`), no logging.
 */
import type {
  SupplierAppointment,
  SupplierAppointmentStatus,
  SupplierBookingInput,
} from './generated/resolvers.js';
import type { Received, r3 } from '../kit/fhir/stu3.js';
import { NHS_NUMBER_SYSTEM, type FhirAppointment, type FhirIdentifier, type FhirResource } from './client.js';
import { UUID_SYSTEM, instant, logicalId } from './map.js';
import type { SlotCopy } from './slot-ref.js';

const CC = 'https://fhir.hl7.org.uk/STU3/StructureDefinition';
const PROFILE = {
  appointment: `${CC}/CareConnect-Appointment-1`,
  patient: `${CC}/CareConnect-Patient-1`,
  documentReference: `${CC}/CareConnect-DocumentReference-1`,
} as const;
const ODS_SYSTEM = 'https://fhir.nhs.uk/Id/ods-organization-code';
/** The IUC report's document type (spec 5.7): the code itself comes from the handover input. */
const REPORT_TYPE_SYSTEM = 'urn:oid:2.16.840.1.113883.2.1.3.2.4.18.17';
const VERIFICATION_EXTENSION = `${CC}/Extension-CareConnect-NHSNumberVerificationStatus-1`;
const VERIFICATION_SYSTEM = 'https://fhir.hl7.org.uk/STU3/CodeSystem/CareConnect-NHSNumberVerificationStatus-1';
/** Registry-style search entries name the real appointment by URL with this system (spec 2.7). */
const URL_IDENTIFIER_SYSTEM = 'urn:ietf:rfc:3986';
/**
 * Our booking reference, carried as an Appointment.identifier: the request id the gateway derives from the client's
 * idempotency key (the same X-Request-ID every attempt sends). The appointment's own identifier, so the provider
 * finds it with the `identifier` search its CapabilityStatement declares (spec 2.2), and an attempt whose answer was
 * lost can be found again without an NHS number.
 */
export const BOOKING_REFERENCE_SYSTEM = 'urn:nhs-booking-gateway:booking-reference';

/**
 * "02 Number present but not traced". The NHS number reaches us checked against its modulus-11 check digit only:
 * neither the gateway nor this adapter traces it against PDS, and the contract does not say whether the consumer
 * did. "01 Number present and verified" would claim a trace nobody here made, so a provider relying on it could
 * skip its own check.
 */
const VERIFICATION = { code: '02', display: 'Number present but not traced' };

type Booking = Pick<SupplierBookingInput, 'description' | 'patient' | 'handover'>;

/**
 * The POST /Appointment body (spec 8.2): no id; status booked; the three contained resources in NBA order
 * (DocumentReference, Patient, Slot) referenced as `#id`; start and end equal to the slot's, in UTC.
 */
export function bookingAppointment(booking: Booking, slot: SlotCopy & { scheduleId: string }, now: Date, reference?: string): FhirAppointment {
  // Local ids only have to be unique within the Appointment; the Slot keeps the provider's own id (TKW keys on it).
  const patientId = slot.slotId === 'P1' ? 'P1-patient' : 'P1';
  const documentId = slot.slotId === 'D1' ? 'D1-report' : 'D1';
  const start = slot.start.toISOString();
  const end = slot.end.toISOString();
  const nhsNumber = booking.patient.nhsNumber || null;
  return {
    resourceType: 'Appointment',
    meta: { profile: [PROFILE.appointment] },
    ...(reference ? { identifier: [{ system: BOOKING_REFERENCE_SYSTEM, value: reference }] } : {}),
    language: 'en-GB',
    contained: [
      documentReference(documentId, booking.handover, now),
      patient(patientId, booking.patient, nhsNumber),
      {
        resourceType: 'Slot',
        id: slot.slotId,
        ...(slot.identifier ? { identifier: [{ system: UUID_SYSTEM, value: slot.identifier }] } : {}),
        schedule: { reference: `Schedule/${slot.scheduleId}` },
        status: 'busy',
        start,
        end,
      },
    ],
    status: 'booked',
    description: booking.description,
    supportingInformation: [{ reference: `#${documentId}` }],
    start,
    end,
    slot: [{ reference: `#${slot.slotId}` }],
    // The profile requires it although the provider may overwrite it (spec 2.4, 10.6).
    created: now.toISOString(),
    participant: [
      {
        actor: {
          reference: `#${patientId}`,
          ...(nhsNumber ? { identifier: { use: 'official', system: NHS_NUMBER_SYSTEM, value: nhsNumber } } : {}),
        },
        // Required by base STU3 though missing from the NBA example (spec 10.7).
        status: 'accepted',
      },
    ],
  };
}

function documentReference(id: string, h: Booking['handover'], now: Date): FhirResource {
  return {
    resourceType: 'DocumentReference',
    id,
    // Exactly this one profile: the DEMO rejects any other (spec 5.7).
    meta: { profile: [PROFILE.documentReference] },
    // A pointer to the CDA report, which travels separately; the report itself is never embedded (spec 11).
    identifier: [{ system: UUID_SYSTEM, value: h.reportId }],
    status: 'current',
    type: { coding: [{ system: REPORT_TYPE_SYSTEM, code: h.reportTypeCode, display: h.reportTypeDisplay }] },
    indexed: now.toISOString(),
    author: [{ identifier: { system: ODS_SYSTEM, value: h.authorOdsCode } }],
    description: h.summary,
    content: [{ attachment: { contentType: 'application/hl7-v3+xml', language: 'en-GB' } }],
  };
}

function patient(id: string, p: Booking['patient'], nhsNumber: string | null): FhirResource {
  const address = {
    // No `use`: the contract gives an address, not whether it is home or where the patient is now.
    line: p.addressLines,
    ...(p.city ? { city: p.city } : {}),
    postalCode: p.postcode,
  };
  return {
    resourceType: 'Patient',
    id,
    meta: { profile: [PROFILE.patient] },
    // Without an NHS number no identifier at all (spec 5.5): the provider then records its own.
    ...(nhsNumber
      ? {
          identifier: [
            {
              extension: [{ url: VERIFICATION_EXTENSION, valueCodeableConcept: { coding: [{ system: VERIFICATION_SYSTEM, ...VERIFICATION }] } }],
              use: 'official',
              system: NHS_NUMBER_SYSTEM,
              value: nhsNumber,
            },
          ],
        }
      : {}),
    name: [{ use: 'official', family: p.family, given: p.given, ...(p.prefix?.length ? { prefix: p.prefix } : {}) }],
    // The call-back number; rank is required whenever telecom is present, and exactly one may be rank 1.
    ...(p.phone ? { telecom: [{ system: 'phone', value: p.phone, rank: 1 }] } : {}),
    gender: p.gender,
    birthDate: p.birthDate,
    address: [address],
  };
}

// ---- a provider's Appointment → SupplierAppointment --------------------------------------------------------------

export interface AppointmentContext {
  /** The DoS service the appointment is at: the Booking Standard Appointment does not name it. */
  serviceId: string;
  /** The ETag of the answer that carried it, when there was one. */
  etag?: string;
  /** A version-specific URL (search entries' fullUrl), when there was one. */
  fullUrl?: string;
}

export type Mapped<T> = T | { reason: string };

/**
 * STU3 Appointment.status to the contract's three. The Booking Standard's own appointments are booked, cancelled
 * or entered in error (spec 2.5: written with spaces there). arrived, fulfilled and noshow describe the visit after
 * a booking that stands, so they are BOOKED here; proposed and pending are not bookings at all.
 */
export function appointmentStatus(status: string | undefined): SupplierAppointmentStatus | null {
  switch ((status ?? '').trim().toLowerCase().replace(/\s+/g, '-')) {
    case 'booked':
    case 'arrived':
    case 'fulfilled':
    case 'noshow':
      return 'BOOKED';
    case 'cancelled':
      return 'CANCELLED';
    case 'entered-in-error':
      return 'ENTERED_IN_ERROR';
    default:
      return null;
  }
}

export function toSupplierAppointment(a: FhirAppointment, ctx: AppointmentContext): Mapped<SupplierAppointment> {
  const ref = appointmentRef(a, ctx.fullUrl);
  if (!ref) return { reason: 'appointment has no id' };
  const status = appointmentStatus(a.status);
  if (!status) return { reason: `unknown appointment status ${String(a.status)}` };
  const start = instant(a.start);
  const end = instant(a.end);
  if (!start || !end) return { reason: 'start or end is not a FHIR instant with an offset' };
  const created = instant(a.created);
  return {
    ref,
    serviceId: ctx.serviceId,
    status,
    start: start.toISOString(),
    end: end.toISOString(),
    created: created ? created.toISOString() : null,
    description: typeof a.description === 'string' ? a.description : null,
    version: a.meta?.versionId ?? versionFromUrl(ctx.fullUrl) ?? etagValue(ctx.etag),
    patient: patientSummary(a),
    handoverReportId: handoverReportId(a),
  };
}

/**
 * The provider's id for an appointment: the resource id, else the id in a version-specific URL (search entry
 * fullUrl), else the registry-style `urn:ietf:rfc:3986` identifier pointing at the real appointment (spec 2.7).
 */
export function appointmentRef(a: FhirAppointment, fullUrl?: string): string | null {
  if (a.id) return a.id;
  const urls = [fullUrl, ...(a.identifier ?? []).filter((i) => i.system === URL_IDENTIFIER_SYSTEM).map((i) => i.value)];
  for (const url of urls) {
    const id = logicalId(url, 'Appointment');
    if (id) return id;
  }
  return null;
}

/** `W/"abc"`, `"abc"` or `abc` → `abc`; null for none. */
export function etagValue(etag: string | undefined): string | null {
  if (!etag) return null;
  const v = etag.trim().replace(/^W\//, '').replace(/^"(.*)"$/, '$1');
  return v || null;
}

/** What If-Match must carry: the ETag as the provider sent it, else one built from meta.versionId (STU3 http.html). */
export function ifMatchFor(a: FhirAppointment, etag: string | undefined): string | null {
  if (etag) return etag;
  return a.meta?.versionId ? `W/"${a.meta.versionId}"` : null;
}

function versionFromUrl(url: string | undefined): string | null {
  return url?.match(/\/_history\/([^/?#]+)$/)?.[1] ?? null;
}

/** A contained resource by local reference (`#id`), else the first of that type. */
function contained<T extends FhirResource>(a: FhirAppointment, type: string, reference?: string): T | undefined {
  const all = (a.contained ?? []).filter((r) => r.resourceType === type);
  const byRef = reference?.startsWith('#') ? all.find((r) => r.id === reference.slice(1)) : undefined;
  return (byRef ?? all[0]) as T | undefined;
}

type FhirPatient = FhirResource & Received<r3.Patient>;

function patientSummary(a: FhirAppointment): SupplierAppointment['patient'] {
  const p = contained<FhirPatient>(a, 'Patient', a.participant?.[0]?.actor?.reference);
  if (!p) return null;
  const name = p.name?.find((n) => n.use === 'official') ?? p.name?.[0];
  return {
    // Only an NHS number: with none the provider records its own local identifier, which is not one (spec 2.5).
    nhsNumber: p.identifier?.find((i) => i.system === NHS_NUMBER_SYSTEM)?.value ?? null,
    family: name?.family ?? null,
    given: (name?.given ?? []).filter((g): g is string => typeof g === 'string'),
    birthDate: typeof p.birthDate === 'string' ? p.birthDate : null,
  };
}

function handoverReportId(a: FhirAppointment): string | null {
  const doc = contained<FhirResource & { identifier?: FhirIdentifier[] }>(a, 'DocumentReference', a.supportingInformation?.[0]?.reference);
  const ids = doc?.identifier ?? [];
  return (ids.find((i) => i.system === UUID_SYSTEM) ?? ids[0])?.value ?? null;
}

interface ContainedSlot extends FhirResource {
  identifier?: FhirIdentifier[];
  schedule?: { reference?: string };
}

/** The schedule id of the appointment's contained Slot: what says which diary (and so which service) it is in. */
export function scheduleIdOf(a: FhirAppointment): string | null {
  const slot = contained<ContainedSlot>(a, 'Slot', a.slot?.[0]?.reference);
  return logicalId(slot?.schedule?.reference, 'Schedule');
}

/**
 * Whether an appointment is the booking of this slot: the same start and end, and, where the provider returned the
 * contained Slot as spec 2.5 says it does, the same slot (by identifier, or by schedule and id).
 */
export function isBookingOf(a: FhirAppointment, slot: SlotCopy): boolean {
  const start = instant(a.start);
  const end = instant(a.end);
  if (start?.getTime() !== slot.start.getTime() || end?.getTime() !== slot.end.getTime()) return false;
  const copy = contained<ContainedSlot>(a, 'Slot', a.slot?.[0]?.reference);
  if (!copy) return true;
  const identifier = copy.identifier?.find((i) => i.system === UUID_SYSTEM)?.value;
  if (identifier && slot.identifier) return identifier === slot.identifier;
  return copy.id === slot.slotId && logicalId(copy.schedule?.reference, 'Schedule') === slot.scheduleId;
}
