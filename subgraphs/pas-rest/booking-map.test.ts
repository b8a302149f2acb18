/**
 * The booking contract ↔ Oakfield bookings, on a recorded booking and error (fixtures/): the request we send, the
 * appointment we return (its times from the supplier's wall-clock date, time and fold), and what refusals mean.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { appointmentStatus, bookingRequest, classifyFailure, genderCode, isBookingOf, toSupplierAppointment } from './booking-map.js';
import { errorBody, type PasBooking } from './client.js';
import type { SupplierBookingInput } from './generated/resolvers.js';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
const recorded = JSON.parse(fixture('booking-fold-1.json')) as PasBooking;

const input: Pick<SupplierBookingInput, 'description' | 'patient' | 'handover'> = {
  description: '111 referral: dental abscess',
  patient: {
    nhsNumber: '9476719931',
    family: 'Jones',
    given: ['Sian'],
    prefix: ['Ms', 'Dr'],
    birthDate: '1984-02-29',
    gender: 'female',
    addressLines: ['1 Park Row'],
    city: 'Leeds',
    postcode: 'LS1 5AB',
    phone: '0113 496 0000',
  },
  handover: {
    reportId: '6f1f1c2e-8c7b-4d6e-9f0a-1b2c3d4e5f60',
    reportTypeCode: 'POCD_MT200001GB02',
    reportTypeDisplay: 'Integrated Urgent Care Report',
    summary: 'Dental abscess, facial swelling, no airway compromise.',
    authorOdsCode: 'RX8',
  },
};
const slot = { sessionId: 'SES-7R8MZ3-20261025-1', time: '01:00', fold: 1 as const, start: new Date('2026-10-25T01:00:00Z'), end: new Date('2026-10-25T01:20:00Z') };

describe('the booking request', () => {
  it('is what the simulator stored for the recorded booking: patient, referral, notes, and the time with its fold', () => {
    const body = bookingRequest(input, slot);
    expect(body).toEqual({
      sessionId: recorded.sessionId,
      time: '01:00',
      fold: 1,
      patient: recorded.patient,
      referral: recorded.referral,
      notes: recorded.notes,
    });
  });

  it('is a pure function of the input (a retry must send the same body for Oakfield to replay it)', () => {
    expect(JSON.stringify(bookingRequest(input, slot))).toBe(JSON.stringify(bookingRequest(structuredClone(input), { ...slot })));
  });

  it('leaves out what the patient does not have, and fold when it is 0', () => {
    const body = bookingRequest({ ...input, patient: { ...input.patient, nhsNumber: null, prefix: null, city: null, phone: null } }, { ...slot, fold: 0 });
    expect(body.fold).toBeUndefined();
    expect(body.patient).toEqual({ familyName: 'Jones', givenNames: ['Sian'], dateOfBirth: '1984-02-29', gender: '2', address: { lines: ['1 Park Row'], postcode: 'LS1 5AB' } });
  });

  it('codes gender as the Person Stated Gender Code', () => {
    expect(['male', 'female', 'other', 'unknown'].map(genderCode)).toEqual(['1', '2', '9', 'X']);
  });
});

describe('a supplier booking as a SupplierAppointment', () => {
  it('maps the recorded booking; 01:00 with fold 1 is 01:00 GMT, the second time the clock showed it', () => {
    expect(toSupplierAppointment(recorded, '1402000107')).toEqual({
      ref: recorded.id,
      serviceId: '1402000107',
      status: 'BOOKED',
      start: '2026-10-25T01:00:00+00:00',
      end: '2026-10-25T01:20:00+00:00',
      created: '2026-10-20T12:00:00Z',
      description: '111 referral: dental abscess',
      version: '1',
      patient: { nhsNumber: '9476719931', family: 'Jones', given: ['Sian'], birthDate: '1984-02-29' },
      handoverReportId: '6f1f1c2e-8c7b-4d6e-9f0a-1b2c3d4e5f60',
    });
    expect(isBookingOf(recorded, slot)).toBe(true);
    expect(isBookingOf({ ...recorded, fold: undefined }, slot)).toBe(false);
  });

  it('without fold the same wall-clock time is the first pass, an hour earlier in real time', () => {
    const first = toSupplierAppointment({ ...recorded, fold: undefined }, '1402000107');
    expect(first).toMatchObject({ start: '2026-10-25T01:00:00+01:00', end: '2026-10-25T01:20:00+01:00' });
  });

  it('refuses to guess a time the clock never showed, or an unknown status', () => {
    expect(toSupplierAppointment({ ...recorded, date: '2026-03-29', time: '01:20', fold: undefined }, 's')).toEqual({ reason: expect.stringMatching(/real appointment time/) });
    expect(toSupplierAppointment({ ...recorded, time: '02:00', fold: 1 }, 's')).toHaveProperty('reason');
    expect(toSupplierAppointment({ ...recorded, status: 'PENCILLED' }, 's')).toEqual({ reason: 'unknown booking status PENCILLED' });
  });

  it('reads Oakfield\'s statuses: a visit that happened (or was missed) stood as a booking', () => {
    expect(['BOOKED', 'ATTENDED', 'DID_NOT_ATTEND', 'CANCELLED', 'X'].map(appointmentStatus)).toEqual(['BOOKED', 'BOOKED', 'BOOKED', 'CANCELLED', null]);
  });
});

describe('refusals', () => {
  it('the recorded 422 PATIENT_INVALID is INVALID_PATIENT, with every field in the diagnostics', () => {
    const { error, diagnostics } = errorBody(fixture('error-patient-invalid.json'));
    expect(classifyFailure(422, error?.code, true)).toBe('INVALID_PATIENT');
    expect(diagnostics).toBe(
      "The patient's details are not valid; patient.nhsNumber: must be 10 digits passing the NHS number check digit; patient.address.postcode: a UK postcode",
    );
  });

  it('classifies on status and the stable code, never the message', () => {
    const cases: [number, string | undefined, boolean, string][] = [
      [409, 'SLOT_FULL', true, 'SLOT_UNAVAILABLE'],
      [409, 'SESSION_CLOSED', true, 'SLOT_UNAVAILABLE'],
      [422, 'TIME_IN_PAST', true, 'SLOT_UNAVAILABLE'],
      [422, 'TIME_NOT_IN_SESSION', true, 'INVALID_REQUEST'],
      [422, 'VALIDATION_FAILED', true, 'INVALID_REQUEST'],
      [422, 'IDEMPOTENCY_KEY_REUSED', true, 'KEY_REUSED'],
      [409, 'IDEMPOTENCY_KEY_IN_USE', true, 'KEY_IN_USE'],
      [404, 'SESSION_NOT_FOUND', true, 'NOT_FOUND'],
      [404, 'NOT_FOUND', true, 'SUPPLIER_UNAVAILABLE'],
      [404, 'BOOKING_NOT_FOUND', false, 'NOT_FOUND'],
      [401, 'UNAUTHORISED', true, 'FORBIDDEN'],
      [403, 'BOOKING_FORBIDDEN', false, 'FORBIDDEN'],
      [409, 'BOOKING_NOT_CANCELLABLE', false, 'CONFLICT'],
      [400, 'BAD_REQUEST', false, 'INVALID_REQUEST'],
      [501, undefined, true, 'SUPPLIER_UNAVAILABLE'],
    ];
    for (const [status, code, booking, expected] of cases) expect([status, code, classifyFailure(status, code, booking)]).toEqual([status, code, expected]);
  });

  it('gives no diagnostics for a body that is not the vendor envelope (an HTML page may carry internals)', () => {
    expect(errorBody('<html>Bad Gateway</html>')).toEqual({});
    expect(errorBody('')).toEqual({});
  });
});
