/**
 * Pure mapping between the booking contract (schema/supplier-booking.graphql) and Oakfield bookings: the POST
 * /bookings body, a supplier booking back to a SupplierAppointment, and what a supplier refusal means. No I/O, no
 * clock, no logging.
 *
 * The request body is built from the contract's input alone, never from a clock or a random value: Oakfield replays a
 * booking only for the same key with the same body (API.md 6.1), so a retry must send the same request the first
 * attempt sent, or it would be refused as a reused key instead of answered with the booking.
 */
import type { SupplierAppointment, SupplierAppointmentStatus, SupplierBookingInput } from './generated/resolvers.js';
import type { PasBooking, PasBookingRequest, PasPatient } from './client.js';
import type { SlotRefParts } from './slot-ref.js';
import { appointmentInstant, isDate, londonRfc3339, parseHhmm } from './wall-clock.js';

type Booking = Pick<SupplierBookingInput, 'description' | 'patient' | 'handover'> & { holdRef?: string | null };

export function bookingRequest(booking: Booking, slot: SlotRefParts): PasBookingRequest {
  const p = booking.patient;
  const h = booking.handover;
  return {
    sessionId: slot.sessionId,
    time: slot.time,
    ...(slot.fold === 1 ? { fold: 1 as const } : {}),
    // The consumer's live hold at Oakfield on this time: a held place is booked only with it (API.md 6.1, 6.5).
    ...(booking.holdRef ? { holdId: booking.holdRef } : {}),
    patient: {
      // Without an NHS number none is sent: Oakfield then keeps its own record, and the booking cannot be found by
      // patient search (API.md 6.4).
      ...(p.nhsNumber ? { nhsNumber: p.nhsNumber } : {}),
      // Oakfield takes one title; the first prefix is the one people are addressed by.
      ...(p.prefix?.[0] ? { title: p.prefix[0] } : {}),
      familyName: p.family,
      givenNames: [...p.given],
      dateOfBirth: p.birthDate,
      gender: genderCode(p.gender),
      address: { lines: [...p.addressLines], ...(p.city ? { town: p.city } : {}), postcode: p.postcode },
      ...(p.phone ? { contactNumber: p.phone } : {}),
    },
    referral: {
      referrerOdsCode: h.authorOdsCode,
      reportId: h.reportId,
      reportType: { code: h.reportTypeCode, display: h.reportTypeDisplay },
      summary: h.summary,
    },
    notes: booking.description,
  };
}

/**
 * FHIR administrative gender to the NHS Data Dictionary Person Stated Gender Code Oakfield uses: male 1, female 2,
 * other 9 (indeterminate), unknown X (not known).
 */
export function genderCode(gender: string): PasPatient['gender'] {
  switch (gender) {
    case 'male':
      return '1';
    case 'female':
      return '2';
    case 'other':
      return '9';
    default:
      return 'X';
  }
}

/**
 * Oakfield's booking statuses to the contract's. Attended and did-not-attend describe the visit after a booking that
 * stood, so they are BOOKED here; anything new is unreadable rather than guessed.
 */
export function appointmentStatus(status: string | undefined): SupplierAppointmentStatus | null {
  switch (status) {
    case 'BOOKED':
    case 'ATTENDED':
    case 'DID_NOT_ATTEND':
      return 'BOOKED';
    case 'CANCELLED':
      return 'CANCELLED';
    default:
      return null;
  }
}

export type Mapped<T> = T | { reason: string };

/** The appointment's instants from the booking's wall-clock date, time and fold; null when they name no real time. */
export function bookingInstants(b: PasBooking): { startMs: number; endMs: number } | null {
  const minutes = parseHhmm(b.time);
  const fold = b.fold === undefined || b.fold === 0 ? 0 : b.fold === 1 ? 1 : null;
  if (!isDate(b.date) || minutes === null || fold === null) return null;
  if (!Number.isInteger(b.durationMinutes) || b.durationMinutes! <= 0) return null;
  const startMs = appointmentInstant(b.date, minutes, fold);
  return startMs === null ? null : { startMs, endMs: startMs + b.durationMinutes! * 60_000 };
}

export function toSupplierAppointment(b: PasBooking, serviceId: string): Mapped<SupplierAppointment> {
  if (typeof b.id !== 'string' || b.id === '') return { reason: 'booking has no id' };
  const status = appointmentStatus(b.status);
  if (!status) return { reason: `unknown booking status ${String(b.status)}` };
  const at = bookingInstants(b);
  if (!at) return { reason: 'date, time, fold and durationMinutes do not name a real appointment time' };
  const p = b.patient;
  return {
    ref: b.id,
    serviceId,
    status,
    start: londonRfc3339(at.startMs),
    end: londonRfc3339(at.endMs),
    created: typeof b.createdAt === 'string' && isInstant(b.createdAt) ? b.createdAt : null,
    description: typeof b.notes === 'string' ? b.notes : null,
    version: Number.isInteger(b.version) ? String(b.version) : null,
    patient: p
      ? {
          nhsNumber: typeof p.nhsNumber === 'string' ? p.nhsNumber : null,
          family: typeof p.familyName === 'string' ? p.familyName : null,
          given: Array.isArray(p.givenNames) ? p.givenNames.filter((g): g is string => typeof g === 'string') : [],
          birthDate: typeof p.dateOfBirth === 'string' ? p.dateOfBirth : null,
        }
      : null,
    handoverReportId: typeof b.referral?.reportId === 'string' ? b.referral.reportId : null,
  };
}

/** Whether a booking is of the slot the consumer chose: same session and the same instant. */
export function isBookingOf(b: PasBooking, slot: SlotRefParts): boolean {
  const at = bookingInstants(b);
  return b.sessionId === slot.sessionId && at?.startMs === slot.start.getTime();
}

function isInstant(v: string): boolean {
  return /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(v) && !Number.isNaN(Date.parse(v));
}

// ---- what a refusal means ------------------------------------------------------------------------------------------

export type FailureCode =
  | 'SLOT_UNAVAILABLE'
  | 'INVALID_PATIENT'
  | 'INVALID_REQUEST'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'CONFLICT'
  /** 422 IDEMPOTENCY_KEY_REUSED: this key already booked, with another body. */
  | 'KEY_REUSED'
  /** 409 IDEMPOTENCY_KEY_IN_USE: a request with this key is still being processed. */
  | 'KEY_IN_USE'
  | 'SUPPLIER_UNAVAILABLE';

/**
 * Classifies an Oakfield error answer on its status and its stable error code (API.md section 7), never on the
 * message. `duringBooking`: a 404 NOT_FOUND there means the endpoint itself is missing, not a booking.
 */
export function classifyFailure(status: number, code: string | undefined, duringBooking: boolean): FailureCode {
  if (status === 401 || status === 403) return 'FORBIDDEN';
  if (code === 'IDEMPOTENCY_KEY_REUSED') return 'KEY_REUSED';
  if (code === 'IDEMPOTENCY_KEY_IN_USE') return 'KEY_IN_USE';
  if (code === 'PATIENT_INVALID') return 'INVALID_PATIENT';
  // Full, suspended, or passed since the search: the consumer should choose another time.
  if (code === 'SLOT_FULL' || code === 'SESSION_CLOSED' || code === 'TIME_IN_PAST') return duringBooking ? 'SLOT_UNAVAILABLE' : 'CONFLICT';
  if (code === 'BOOKING_NOT_CANCELLABLE') return 'CONFLICT';
  if (status === 404) return duringBooking && (code === undefined || code === 'NOT_FOUND') ? 'SUPPLIER_UNAVAILABLE' : 'NOT_FOUND';
  if (status === 409) return duringBooking ? 'SLOT_UNAVAILABLE' : 'CONFLICT';
  if (status >= 400 && status < 500) return 'INVALID_REQUEST';
  return 'SUPPLIER_UNAVAILABLE';
}
