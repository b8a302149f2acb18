/**
 * Checking a booking request body (API.md 6.1). Every problem is collected, with the dotted path of its field, so an
 * integrator sees them all at once. Problems with the patient alone are PATIENT_INVALID; any other is
 * VALIDATION_FAILED. Messages never quote the submitted values: they end up in integrators' logs.
 */
import { isValidNhsNumber } from '../booking-standard/nhs-number.js';
import { daysBetween, londonDateOf } from '../lib/london-time.js';
import type { ErrorDetail } from './errors.js';
import { parseDate, parseTime, type Fold } from './wall-clock.js';

export type GenderCode = '1' | '2' | '9' | 'X';

export interface Patient {
  nhsNumber?: string;
  title?: string;
  familyName: string;
  givenNames: string[];
  dateOfBirth: string;
  gender: GenderCode;
  address: { lines: string[]; town?: string; postcode: string };
  contactNumber?: string;
}

export interface Referral {
  referrerOdsCode: string;
  reportId: string;
  reportType: { code: string; display: string };
  summary: string;
}

export interface BookingRequest {
  sessionId: string;
  time: string;
  fold: Fold;
  patient: Patient;
  referral: Referral;
  notes?: string;
}

export type Checked = { ok: true; request: BookingRequest } | { ok: false; code: 'PATIENT_INVALID' | 'VALIDATION_FAILED'; details: ErrorDetail[] };

const POSTCODE = /^[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}$/i;
const ODS = /^[A-Z0-9]{2,10}$/i;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const PHONE = /^\+?[\d ()-]{7,20}$/;
const GENDERS: readonly string[] = ['1', '2', '9', 'X'];
const NAME_MAX = 35;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => !!v && typeof v === 'object' && !Array.isArray(v);
const isText = (v: unknown, max: number): v is string => typeof v === 'string' && v.trim() !== '' && v.length <= max;

export function checkBookingRequest(body: unknown, now: Date): Checked {
  const details: ErrorDetail[] = [];
  const bad = (field: string, message: string) => void details.push({ field, message });
  if (!isObj(body)) return { ok: false, code: 'VALIDATION_FAILED', details: [{ field: '', message: 'the body must be a JSON object' }] };

  if (!isText(body.sessionId, 64)) bad('sessionId', 'required: the session id');
  if (typeof body.time !== 'string' || parseTime(body.time) === null) bad('time', 'required: HH:mm, 24-hour');
  if (body.fold !== undefined && body.fold !== 0 && body.fold !== 1) bad('fold', 'must be 0 or 1 when given');
  if (body.notes !== undefined && !(typeof body.notes === 'string' && body.notes.length <= 500)) bad('notes', 'at most 500 characters');

  const p = body.patient;
  if (!isObj(p)) {
    bad('patient', 'required');
  } else {
    if (p.nhsNumber !== undefined && !(typeof p.nhsNumber === 'string' && isValidNhsNumber(p.nhsNumber))) {
      bad('patient.nhsNumber', 'must be 10 digits passing the NHS number check digit');
    }
    if (p.title !== undefined && !isText(p.title, NAME_MAX)) bad('patient.title', `at most ${NAME_MAX} characters`);
    if (!isText(p.familyName, NAME_MAX)) bad('patient.familyName', `required, at most ${NAME_MAX} characters`);
    if (!Array.isArray(p.givenNames) || p.givenNames.length < 1 || p.givenNames.length > 5 || !p.givenNames.every((g) => isText(g, NAME_MAX))) {
      bad('patient.givenNames', `one to five names, each at most ${NAME_MAX} characters`);
    }
    const dob = typeof p.dateOfBirth === 'string' ? parseDate(p.dateOfBirth) : null;
    if (!dob || dob.year < 1900 || daysBetween(londonDateOf(now.getTime()), dob) > 0) bad('patient.dateOfBirth', 'a real date (YYYY-MM-DD), not in the future');
    if (typeof p.gender !== 'string' || !GENDERS.includes(p.gender)) bad('patient.gender', 'Person Stated Gender Code: 1, 2, 9 or X');
    const a = p.address;
    if (!isObj(a)) {
      bad('patient.address', 'required');
    } else {
      if (!Array.isArray(a.lines) || a.lines.length < 1 || a.lines.length > 5 || !a.lines.every((l) => isText(l, NAME_MAX))) {
        bad('patient.address.lines', `one to five lines, each at most ${NAME_MAX} characters`);
      }
      if (a.town !== undefined && !isText(a.town, NAME_MAX)) bad('patient.address.town', `at most ${NAME_MAX} characters`);
      if (typeof a.postcode !== 'string' || !POSTCODE.test(a.postcode.trim())) bad('patient.address.postcode', 'a UK postcode');
    }
    if (p.contactNumber !== undefined && !(typeof p.contactNumber === 'string' && PHONE.test(p.contactNumber))) {
      bad('patient.contactNumber', 'a telephone number: digits, spaces, +, ( ) and -');
    }
  }

  const r = body.referral;
  if (!isObj(r)) {
    bad('referral', 'required');
  } else {
    if (typeof r.referrerOdsCode !== 'string' || !ODS.test(r.referrerOdsCode)) bad('referral.referrerOdsCode', 'an ODS code');
    if (typeof r.reportId !== 'string' || !UUID.test(r.reportId)) bad('referral.reportId', 'a UUID');
    if (!isObj(r.reportType) || !isText(r.reportType.code, 64) || !isText(r.reportType.display, 200)) {
      bad('referral.reportType', 'code and display required');
    }
    if (!isText(r.summary, 2000)) bad('referral.summary', 'required, at most 2000 characters');
  }

  if (details.length > 0) {
    const patientOnly = details.every((d) => d.field.startsWith('patient.') || d.field === 'patient');
    return { ok: false, code: patientOnly ? 'PATIENT_INVALID' : 'VALIDATION_FAILED', details };
  }
  return { ok: true, request: { ...(body as unknown as BookingRequest), fold: body.fold === 1 ? 1 : 0 } };
}
