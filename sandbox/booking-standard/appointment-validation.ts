/**
 * Validation of a Booking Standard 2.x book request (spec §2.4, §5.4–5.7, UEC fs_fhir_overrides.md): one Appointment
 * with exactly three contained resources (DocumentReference, Patient, Slot) referenced as `#id`. A missing contained
 * Slot is a 400 (as the TKW simulator answers); every other profile or business-rule failure is a 422 listing all
 * problems found, so a consumer fixes them in one round.
 */
import type { OutcomeIssue } from '../lib/fhir.js';
import { FhirError } from './errors.js';
import { isValidNhsNumber } from './nhs-number.js';
import { PROFILE, SYSTEM } from './resources.js';

type Obj = Record<string, unknown>;

/** What the provider needs from a valid request. */
export interface BookingRequest {
  appointment: Obj;
  slot: { containedId: string; scheduleId: string; startMs: number; endMs: number; uuid: string };
  patient: { containedId: string; nhsNumber?: string };
}

const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;
const DATE_TIME = /^\d{4}(-\d{2}(-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?)?)?$/;
const IUC_REPORT = { system: 'urn:oid:2.16.840.1.113883.2.1.3.2.4.18.17', code: 'POCD_MT200001GB02' };
const NHS_NUMBER_VERIFICATION = 'https://fhir.hl7.org.uk/STU3/StructureDefinition/Extension-CareConnect-NHSNumberVerificationStatus-1';
/** Tolerance for a consumer clock a little ahead when checking `created` is not in the future. */
const CREATED_SKEW_MS = 5 * 60_000;

export function validateBooking(body: unknown, nowMs: number): BookingRequest {
  const a = asAppointment(body);
  const issues: OutcomeIssue[] = [];
  const problem = (expression: string, diagnostics: string, spineCode: OutcomeIssue['spineCode'] = 'INVALID_RESOURCE') =>
    issues.push({ code: 'invalid', spineCode, hl7Code: 'MSG_BAD_FORMAT', expression, diagnostics });

  const contained = Array.isArray(a['contained']) ? (a['contained'] as unknown[]).filter(isObj) : [];
  const ofType = (t: string) => contained.filter((r) => r['resourceType'] === t);
  const slots = ofType('Slot');
  if (slots.length === 0) {
    const literal = refs(a['slot']).some((r) => r.startsWith('Slot/'));
    throw new FhirError(400, {
      code: 'invalid',
      spineCode: 'BAD_REQUEST',
      expression: 'Appointment.contained',
      diagnostics: literal
        ? 'Booking Standard 2.x expects the Slot contained in the Appointment (a literal Slot/<id> reference is the 1.x style)'
        : 'The Appointment must contain the Slot being booked',
    });
  }

  // Appointment itself.
  if (a['id'] !== undefined) problem('Appointment.id', 'Appointment.id must not be sent: the provider assigns it');
  if (!hasProfile(a, PROFILE.appointment)) problem('Appointment.meta.profile', `meta.profile must include ${PROFILE.appointment}`);
  if (a['status'] !== 'booked') problem('Appointment.status', 'Appointment.status must be "booked"');
  const start = instant(a['start']);
  const end = instant(a['end']);
  if (start === undefined) problem('Appointment.start', 'Appointment.start must be a FHIR instant');
  if (end === undefined) problem('Appointment.end', 'Appointment.end must be a FHIR instant');
  if (start !== undefined && end !== undefined && end <= start) problem('Appointment.end', 'Appointment.end must be after start');
  if (typeof a['created'] !== 'string' || !DATE_TIME.test(a['created'])) {
    problem('Appointment.created', 'Appointment.created is required (a dateTime)');
  } else if (Date.parse(a['created']) > nowMs + CREATED_SKEW_MS) {
    problem('Appointment.created', 'Appointment.created is in the future');
  }
  if (typeof a['description'] !== 'string' || a['description'].trim() === '') problem('Appointment.description', 'Appointment.description is required');
  if (a['language'] !== undefined && a['language'] !== 'en' && a['language'] !== 'en-GB') problem('Appointment.language', 'Appointment.language must be en or en-GB');

  // Exactly the three contained resources, with unique local ids.
  const ids = contained.map((r) => r['id']);
  if (ids.some((id) => typeof id !== 'string' || id === '') || new Set(ids).size !== ids.length) {
    problem('Appointment.contained', 'Every contained resource needs a unique id');
  }
  for (const t of ['DocumentReference', 'Patient', 'Slot']) {
    if (ofType(t).length !== 1) problem('Appointment.contained', `Appointment must contain exactly one ${t} (found ${ofType(t).length})`);
  }
  const extra = contained.filter((r) => !['DocumentReference', 'Patient', 'Slot'].includes(r['resourceType'] as string));
  if (extra.length > 0) problem('Appointment.contained', `Unexpected contained ${extra.map((r) => r['resourceType']).join(', ')}`);

  const slot = slots[0]!;
  const patient = ofType('Patient')[0];
  const doc = ofType('DocumentReference')[0];

  // References to the contained resources.
  expectLocalRef(a['slot'], slot, 'Appointment.slot', problem);
  expectLocalRef(a['supportingInformation'], doc, 'Appointment.supportingInformation', problem);
  const participants = Array.isArray(a['participant']) ? (a['participant'] as unknown[]).filter(isObj) : [];
  if (participants.length !== 1) {
    problem('Appointment.participant', 'Appointment must have exactly one participant: the contained Patient');
  } else {
    const p = participants[0]!;
    const actor = isObj(p['actor']) ? p['actor'] : {};
    if (!patient || actor['reference'] !== `#${patient['id'] as string}`) problem('Appointment.participant.actor', 'participant.actor must reference the contained Patient (#id)');
    if (p['status'] !== 'accepted') problem('Appointment.participant.status', 'participant.status must be "accepted"');
  }

  // Contained Slot: the slot from the search, copied with status busy.
  const slotUuid = firstIdentifier(slot, SYSTEM.uuid);
  const scheduleRef = isObj(slot['schedule']) ? slot['schedule']['reference'] : undefined;
  const scheduleId = typeof scheduleRef === 'string' ? /^Schedule\/([A-Za-z0-9\-.]{1,64})$/.exec(scheduleRef)?.[1] : undefined;
  const slotStart = instant(slot['start']);
  const slotEnd = instant(slot['end']);
  if (!slotUuid) problem('Slot.identifier', `The contained Slot must keep its identifier (system ${SYSTEM.uuid})`);
  if (!scheduleId) problem('Slot.schedule', 'The contained Slot must keep its schedule reference (Schedule/<id>)');
  if (slot['status'] !== 'busy') problem('Slot.status', 'The contained Slot must have status "busy"');
  if (slotStart === undefined || slotEnd === undefined) problem('Slot.start', 'The contained Slot must keep start and end');
  else if (slotStart !== start || slotEnd !== end) problem('Appointment.start', 'Appointment start and end must equal the contained Slot start and end');

  // Contained Patient.
  let nhsNumber: string | undefined;
  if (patient) nhsNumber = checkPatient(patient, nowMs, problem);

  // Contained DocumentReference: a pointer to the IUC report, never the report itself.
  if (doc) checkDocumentReference(doc, problem);

  if (issues.length > 0) {
    throw new FhirError(422, issues[0]!, {}, issues);
  }
  return {
    appointment: a,
    slot: { containedId: slot['id'] as string, scheduleId: scheduleId!, startMs: slotStart!, endMs: slotEnd!, uuid: slotUuid! },
    patient: { containedId: patient!['id'] as string, ...(nhsNumber ? { nhsNumber } : {}) },
  };
}

type Problem = (expression: string, diagnostics: string, spineCode?: OutcomeIssue['spineCode']) => void;

function checkPatient(p: Obj, nowMs: number, problem: Problem): string | undefined {
  if (!hasProfile(p, PROFILE.patient)) problem('Patient.meta.profile', `meta.profile must include ${PROFILE.patient}`);
  const identifiers = Array.isArray(p['identifier']) ? (p['identifier'] as unknown[]).filter(isObj) : [];
  let nhsNumber: string | undefined;
  if (identifiers.length > 1) problem('Patient.identifier', 'Patient may carry at most one identifier, the NHS number');
  const id = identifiers[0];
  if (id) {
    // With no NHS number the identifier is left out altogether (spec §5.5), so one that is present must be complete.
    if (id['system'] !== SYSTEM.nhsNumber) problem('Patient.identifier.system', `Patient identifier system must be ${SYSTEM.nhsNumber}`);
    const value = typeof id['value'] === 'string' ? id['value'] : '';
    if (!isValidNhsNumber(value)) problem('Patient.identifier.value', `"${value}" is not a valid NHS number (10 digits, modulus 11)`, 'INVALID_NHS_NUMBER');
    else nhsNumber = value;
    const ext = Array.isArray(id['extension']) ? (id['extension'] as unknown[]).filter(isObj) : [];
    if (!ext.some((e) => e['url'] === NHS_NUMBER_VERIFICATION)) problem('Patient.identifier.extension', 'The NHS number needs the NHSNumberVerificationStatus extension');
  }
  if (!Array.isArray(p['name']) || p['name'].length !== 1) problem('Patient.name', 'Patient.name is required (exactly one)');
  if (!['male', 'female', 'other', 'unknown'].includes(p['gender'] as string)) problem('Patient.gender', 'Patient.gender must be male, female, other or unknown');
  const birth = p['birthDate'];
  if (typeof birth !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(birth) || Number.isNaN(Date.parse(birth))) {
    problem('Patient.birthDate', 'Patient.birthDate is required (YYYY-MM-DD)');
  } else if (Date.parse(birth) > nowMs) {
    problem('Patient.birthDate', 'Patient.birthDate is in the future');
  }
  if (!Array.isArray(p['address']) || p['address'].length !== 1) problem('Patient.address', 'Patient.address is required (exactly one)');
  if (p['telecom'] !== undefined) {
    const telecom = Array.isArray(p['telecom']) ? (p['telecom'] as unknown[]).filter(isObj) : [];
    const ranks = telecom.map((t) => t['rank']);
    if (ranks.some((r) => typeof r !== 'number' || !Number.isInteger(r) || r < 1)) problem('Patient.telecom.rank', 'Every telecom needs a rank (a positive integer)');
    else if (new Set(ranks).size !== ranks.length) problem('Patient.telecom.rank', 'Telecom ranks must be distinct (one rank 1)');
  }
  return nhsNumber;
}

function checkDocumentReference(d: Obj, problem: Problem): void {
  const profiles = isObj(d['meta']) && Array.isArray(d['meta']['profile']) ? d['meta']['profile'] : [];
  if (profiles.length !== 1 || profiles[0] !== PROFILE.documentReference) {
    problem('DocumentReference.meta.profile', `meta.profile must be exactly ${PROFILE.documentReference}`);
  }
  const id = firstIdentifier(d, SYSTEM.uuid);
  if (!id || id.length < 5 || id.length > 36) problem('DocumentReference.identifier', `DocumentReference needs an identifier (system ${SYSTEM.uuid}, the CDA document UUID)`);
  if (d['status'] !== 'current') problem('DocumentReference.status', 'DocumentReference.status must be "current"');
  const coding = isObj(d['type']) && Array.isArray(d['type']['coding']) ? (d['type']['coding'] as unknown[]).filter(isObj) : [];
  if (!coding.some((c) => c['system'] === IUC_REPORT.system && c['code'] === IUC_REPORT.code)) {
    problem('DocumentReference.type', `DocumentReference.type must be ${IUC_REPORT.system}|${IUC_REPORT.code}`);
  }
  const content = Array.isArray(d['content']) ? (d['content'] as unknown[]).filter(isObj) : [];
  const attachment = content[0] && isObj(content[0]['attachment']) ? content[0]['attachment'] : undefined;
  if (!attachment || typeof attachment['contentType'] !== 'string') problem('DocumentReference.content', 'DocumentReference.content.attachment.contentType is required');
  else if ('data' in attachment) problem('DocumentReference.content', 'The clinical report travels separately; do not embed it in the booking');
}

function asAppointment(body: unknown): Obj {
  if (!isObj(body) || body['resourceType'] !== 'Appointment') {
    throw new FhirError(400, { code: 'invalid', spineCode: 'BAD_REQUEST', diagnostics: 'The request body must be a FHIR Appointment resource' });
  }
  return body;
}

function expectLocalRef(value: unknown, target: Obj | undefined, expression: string, problem: Problem): void {
  const r = refs(value);
  if (r.length !== 1 || !target || r[0] !== `#${target['id'] as string}`) {
    problem(expression, `${expression} must be exactly one reference to the contained ${target?.['resourceType'] ?? 'resource'} (#id)`);
  }
}

function refs(value: unknown): string[] {
  return Array.isArray(value) ? value.filter(isObj).map((r) => String(r['reference'] ?? '')) : [];
}

function hasProfile(r: Obj, profile: string): boolean {
  return isObj(r['meta']) && Array.isArray(r['meta']['profile']) && r['meta']['profile'].includes(profile);
}

function firstIdentifier(r: Obj, system: string): string | undefined {
  const ids = Array.isArray(r['identifier']) ? (r['identifier'] as unknown[]).filter(isObj) : [];
  const v = ids.find((i) => i['system'] === system)?.['value'];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function instant(v: unknown): number | undefined {
  return typeof v === 'string' && INSTANT.test(v) && !Number.isNaN(Date.parse(v)) ? Date.parse(v) : undefined;
}

export function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
