/**
 * Booking input, checked before anything is sent upstream. Pure: the same input and clock give the same answer.
 * Each failure names the field (as a path) and says what is wrong in words a consumer system can show its user;
 * messages never repeat the value, because values are patient data.
 */
import { normaliseNhsNumber } from '../../common/nhs-number.js';
import { decodeSlotId, type GlobalRef } from '../../common/slot-id.js';
import { londonDay } from '../../common/london-day.js';
import type { BookAppointmentInput, ClinicalReportType, Gender } from './generated/resolvers.js';

export interface ValidPatient {
  nhsNumber: string | null;
  family: string;
  given: string[];
  prefix: string[];
  birthDate: string;
  gender: 'male' | 'female' | 'other' | 'unknown';
  addressLines: string[];
  city: string | null;
  postcode: string;
  phone: string | null;
}

export interface ValidBooking {
  slot: GlobalRef;
  slotId: string;
  patient: ValidPatient;
  handover: {
    reportId: string;
    reportTypeCode: string;
    reportTypeDisplay: string;
    summary: string;
    authorOdsCode: string;
  };
  description: string | null;
  idempotencyKey: string;
  /** A hold id (`holdSlot`), checked against the hold store when booking. */
  holdId: string | null;
}

export interface InputProblem {
  outcome: 'INVALID_PATIENT' | 'INVALID_REQUEST';
  field: string;
  message: string;
}

export type Checked<T> = { ok: true; value: T } | { ok: false; problem: InputProblem };

const REPORT_TYPES: Record<ClinicalReportType, { code: string; display: string }> = {
  INTEGRATED_URGENT_CARE_REPORT: { code: 'POCD_MT200001GB02', display: 'Integrated Urgent Care Report' },
};

const GENDERS: Record<Gender, ValidPatient['gender']> = { MALE: 'male', FEMALE: 'female', OTHER: 'other', UNKNOWN: 'unknown' };

// UK postcode shape (including BFPO-free forms); the provider does not need a real one, but a typo should not travel.
const POSTCODE = /^([A-Z]{1,2}\d[A-Z\d]?) ?(\d[A-Z]{2})$/i;
export const IDEMPOTENCY_KEY = /^[A-Za-z0-9._:-]{8,128}$/;
// The CDA document id (/ClinicalDocument/id/@root) is a UUID: Oakfield requires one, and the Booking Standard's
// DocumentReference identifier system is RFC 4122. Refused here first, naming the field.
const REPORT_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ODS_CODE = /^[A-Z0-9]{3,10}$/i;
const PHONE = /^\+?[0-9 ()-]{7,20}$/;
// Control characters have no place in names or addresses and break downstream systems' lists.
const CONTROL = /[\u0000-\u001f\u007f]/;
/** At most this many given names, name prefixes and address lines (suppliers store a handful; PDS keeps 5 lines). */
export const MAX_GIVEN_NAMES = 5;
export const MAX_PREFIXES = 5;
export const MAX_ADDRESS_LINES = 5;

class Problem extends Error {
  constructor(readonly problem: InputProblem) {
    super(problem.message);
  }
}

function fail(outcome: InputProblem['outcome'], field: string, message: string): never {
  throw new Problem({ outcome, field, message });
}

function text(value: string | null | undefined, field: string, max: number, outcome: InputProblem['outcome'], required = true): string | null {
  const v = (value ?? '').trim();
  if (!v) {
    if (required) fail(outcome, field, `${field} is required`);
    return null;
  }
  if (v.length > max) fail(outcome, field, `${field} must be at most ${max} characters`);
  if (CONTROL.test(v)) fail(outcome, field, `${field} must not contain control characters`);
  return v;
}

/** YYYY-MM-DD that exists on the calendar, not after `today` (the UK date now), and not absurdly old. */
export function checkBirthDate(value: string, today: string): string | null {
  const m = value.length <= 20 ? /^(\d{4})-(\d{2})-(\d{2})$/.exec(value.trim()) : null;
  if (!m) return 'patient.birthDate must be a date written YYYY-MM-DD';
  const [, y, mo, d] = m;
  const date = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d)));
  if (date.getUTCFullYear() !== Number(y) || date.getUTCMonth() !== Number(mo) - 1 || date.getUTCDate() !== Number(d)) {
    return 'patient.birthDate is not a real calendar date';
  }
  if (value.trim() > today) return 'patient.birthDate must not be in the future';
  if (Number(y) < 1880) return 'patient.birthDate is too far in the past';
  return null;
}

/** Today's date in the UK, where the patient's birth date is understood. */
export function ukToday(now: Date): string {
  return londonDay(now.getTime());
}

export function validateBooking(input: BookAppointmentInput, now: Date): Checked<ValidBooking> {
  try {
    return { ok: true, value: check(input, now) };
  } catch (err) {
    if (err instanceof Problem) return { ok: false, problem: err.problem };
    throw err;
  }
}

function check(input: BookAppointmentInput, now: Date): ValidBooking {
  const R = 'INVALID_REQUEST';
  const P = 'INVALID_PATIENT';

  const slot = decodeSlotId(input.slotId);
  if (!slot) fail(R, 'slotId', 'slotId is not a slot id this gateway issued');
  if (!IDEMPOTENCY_KEY.test(input.idempotencyKey)) {
    fail(R, 'idempotencyKey', "idempotencyKey must be 8 to 128 characters: letters, digits, '-', '_', ':' or '.'");
  }

  const holdId = input.holdId ?? null;
  if (holdId !== null && (typeof holdId !== 'string' || !/^[A-Za-z0-9_-]{8,800}$/.test(holdId))) {
    fail(R, 'holdId', 'holdId is not a hold id this gateway issued');
  }

  const p = input.patient;
  let nhsNumber: string | null = null;
  if (p.nhsNumber !== null && p.nhsNumber !== undefined && p.nhsNumber.trim() !== '') {
    nhsNumber = normaliseNhsNumber(p.nhsNumber);
    if (!nhsNumber) fail(P, 'patient.nhsNumber', 'patient.nhsNumber is not a valid NHS number (10 digits passing the modulus-11 check)');
  }
  const family = text(p.name.family, 'patient.name.family', 100, P)!;
  if (p.name.given.length > MAX_GIVEN_NAMES) fail(P, 'patient.name.given', `patient.name.given takes at most ${MAX_GIVEN_NAMES} given names`);
  const given = p.name.given.map((g, i) => text(g, `patient.name.given[${i}]`, 100, P)!);
  if (given.length === 0) fail(P, 'patient.name.given', 'patient.name.given needs at least one given name');
  if ((p.name.prefix ?? []).length > MAX_PREFIXES) fail(P, 'patient.name.prefix', `patient.name.prefix takes at most ${MAX_PREFIXES} prefixes`);
  const prefix = (p.name.prefix ?? []).map((x, i) => text(x, `patient.name.prefix[${i}]`, 20, P)!);

  const birthProblem = checkBirthDate(p.birthDate, ukToday(now));
  if (birthProblem) fail(P, 'patient.birthDate', birthProblem);

  if (p.address.lines.length > MAX_ADDRESS_LINES) fail(P, 'patient.address.lines', `patient.address.lines takes at most ${MAX_ADDRESS_LINES} lines`);
  const addressLines = p.address.lines.map((l, i) => text(l, `patient.address.lines[${i}]`, 100, P)!);
  if (addressLines.length === 0) fail(P, 'patient.address.lines', 'patient.address.lines needs at least one line');
  const postcodeRaw = text(p.address.postcode, 'patient.address.postcode', 10, P)!;
  const pc = POSTCODE.exec(postcodeRaw);
  if (!pc) fail(P, 'patient.address.postcode', 'patient.address.postcode is not a UK postcode');
  const city = text(p.address.city, 'patient.address.city', 100, P, false);

  const phone = text(p.phone, 'patient.phone', 20, P, false);
  if (phone && !PHONE.test(phone)) fail(P, 'patient.phone', 'patient.phone is not a telephone number');

  const h = input.clinicalHandover;
  const reportId = text(h.reportId, 'clinicalHandover.reportId', 36, R)!;
  if (!REPORT_ID.test(reportId)) fail(R, 'clinicalHandover.reportId', 'clinicalHandover.reportId must be the report document id, a UUID');
  const summary = text(h.summary, 'clinicalHandover.summary', 1000, R)!;
  const authorOdsCode = text(h.authorOdsCode, 'clinicalHandover.authorOdsCode', 10, R)!;
  if (!ODS_CODE.test(authorOdsCode)) fail(R, 'clinicalHandover.authorOdsCode', 'clinicalHandover.authorOdsCode is not an ODS code');
  const type = REPORT_TYPES[h.reportType ?? 'INTEGRATED_URGENT_CARE_REPORT'];

  return {
    slot: slot!,
    slotId: input.slotId,
    patient: {
      nhsNumber,
      family,
      given,
      prefix,
      birthDate: p.birthDate.trim(),
      gender: GENDERS[p.gender],
      addressLines,
      city,
      postcode: `${pc![1]!.toUpperCase()} ${pc![2]!.toUpperCase()}`,
      phone,
    },
    handover: { reportId, reportTypeCode: type.code, reportTypeDisplay: type.display, summary, authorOdsCode: authorOdsCode.toUpperCase() },
    description: text(input.description, 'description', 100, R, false),
    idempotencyKey: input.idempotencyKey,
    holdId,
  };
}
