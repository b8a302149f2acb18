import { describe, expect, it } from 'vitest';
import { encodeSlotId } from '../../common/slot-id.js';
import type { BookAppointmentInput } from './generated/resolvers.js';
import { checkBirthDate, ukToday, validateBooking } from './validate.js';

const now = new Date('2026-11-21T10:00:00Z');
const slotId = encodeSlotId({ system: 'harbour-uec', serviceId: '1402000102', ref: 'r1' });

function input(change: (i: BookAppointmentInput) => void = () => {}): BookAppointmentInput {
  const i: BookAppointmentInput = {
    slotId,
    idempotencyKey: 'case-0001:attempt',
    description: '111 referral: minor injury',
    patient: {
      nhsNumber: '947 671 9931',
      name: { family: 'Jones', given: ['Sian'], prefix: ['Ms'] },
      birthDate: '1984-02-29',
      gender: 'FEMALE',
      address: { lines: ['1 Park Row'], city: 'Leeds', postcode: 'ls14ap' },
      phone: '0113 496 0000',
    },
    clinicalHandover: { reportId: '6f1f1c2e-8c7b-4d6e-9f0a-1b2c3d4e5f60', reportType: 'INTEGRATED_URGENT_CARE_REPORT', summary: 'Fall onto wrist.', authorOdsCode: 'rx8' },
  };
  change(i);
  return i;
}

function problem(i: BookAppointmentInput) {
  const r = validateBooking(i, now);
  if (r.ok) throw new Error('expected a problem');
  return r.problem;
}

describe('validateBooking', () => {
  it('accepts five given names and five address lines', () => {
    const r = validateBooking(input((i) => {
      i.patient.name.given = ['A', 'B', 'C', 'D', 'E'];
      i.patient.address.lines = ['1', '2', '3', '4', '5'];
    }), now);
    expect(r.ok).toBe(true);
  });

  it('never repeats a patient value in any message', () => {
    const values = ['9476719932', 'Zebedee-Unique', 'Quaintstreet 42', '2099-01-01', 'NOTAPOSTCODE', 'call me maybe'];
    const changes: ((i: BookAppointmentInput) => void)[] = [
      (i) => { i.patient.nhsNumber = values[0]!; },
      (i) => { i.patient.name.given = [`Zebedee\n${values[1]!}`]; },
      (i) => { i.patient.address.lines = [`${values[2]!}${'x'.repeat(100)}`]; },
      (i) => { i.patient.birthDate = values[3]!; },
      (i) => { i.patient.address.postcode = values[4]!; },
      (i) => { i.patient.phone = values[5]!; },
      (i) => { i.patient.name.given = Array.from({ length: 6 }, () => values[1]!); },
    ];
    for (const change of changes) {
      const p = problem(input(change));
      for (const v of values) expect(p.message).not.toContain(v);
    }
  });

  it('accepts a complete booking and normalises what it can', () => {
    const r = validateBooking(input(), now);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.slot).toEqual({ system: 'harbour-uec', serviceId: '1402000102', ref: 'r1' });
    expect(r.value.patient).toMatchObject({ nhsNumber: '9476719931', gender: 'female', postcode: 'LS1 4AP', birthDate: '1984-02-29' });
    expect(r.value.handover).toMatchObject({ reportTypeCode: 'POCD_MT200001GB02', authorOdsCode: 'RX8' });
  });

  it('accepts a patient without an NHS number', () => {
    const r = validateBooking(input((i) => { i.patient.nhsNumber = null; }), now);
    expect(r.ok && r.value.patient.nhsNumber).toBeNull();
  });

  it.each([
    ['1234567890', 'check digit would be 10'],
    ['9476719932', 'wrong check digit'],
    ['11122233333', 'eleven digits (the NBA sample)'],
    ['94767199', 'too short'],
    ['947671993X', 'not digits'],
    ['0000000000', 'all zeros: passes modulus 11, never issued'],
    ['1111111111', 'one repeated digit: passes modulus 11, never issued'],
    ['999 999 9999', 'one repeated digit, spaced'],
  ])('rejects NHS number %s (%s) as INVALID_PATIENT, without echoing it', (nhs) => {
    const p = problem(input((i) => { i.patient.nhsNumber = nhs; }));
    expect(p).toMatchObject({ outcome: 'INVALID_PATIENT', field: 'patient.nhsNumber' });
    expect(p.message).not.toContain(nhs);
  });

  it.each([
    ['2026-11-22', 'must not be in the future'],
    ['2025-02-29', 'not a real calendar date'],
    ['1984-13-01', 'not a real calendar date'],
    ['21/11/1984', 'YYYY-MM-DD'],
    ['1850-01-01', 'too far in the past'],
  ])('rejects birth date %s: %s', (birthDate, why) => {
    const p = problem(input((i) => { i.patient.birthDate = birthDate; }));
    expect(p).toMatchObject({ outcome: 'INVALID_PATIENT', field: 'patient.birthDate' });
    expect(p.message).toContain(why);
  });

  it('judges "the future" by the UK date, not UTC', () => {
    // 23:30 UTC on 31 May is already 1 June in the UK (BST).
    expect(ukToday(new Date('2026-05-31T23:30:00Z'))).toBe('2026-06-01');
    expect(checkBirthDate('2026-06-01', ukToday(new Date('2026-05-31T23:30:00Z')))).toBeNull();
  });

  it.each<[string, (i: BookAppointmentInput) => void, string, string]>([
    ['slot id', (i) => { i.slotId = 'not-a-slot-id'; }, 'INVALID_REQUEST', 'slotId'],
    ['idempotency key', (i) => { i.idempotencyKey = 'short'; }, 'INVALID_REQUEST', 'idempotencyKey'],
    ['hold id', (i) => { i.holdId = 'not a hold id'; }, 'INVALID_REQUEST', 'holdId'],
    ['hold id over 800 characters', (i) => { i.holdId = 'h'.repeat(801); }, 'INVALID_REQUEST', 'holdId'],
    ['family name', (i) => { i.patient.name.family = '  '; }, 'INVALID_PATIENT', 'patient.name.family'],
    ['given names', (i) => { i.patient.name.given = []; }, 'INVALID_PATIENT', 'patient.name.given'],
    ['control characters', (i) => { i.patient.name.given = ['Si\nan']; }, 'INVALID_PATIENT', 'patient.name.given[0]'],
    ['postcode', (i) => { i.patient.address.postcode = 'LEEDS'; }, 'INVALID_PATIENT', 'patient.address.postcode'],
    ['address', (i) => { i.patient.address.lines = []; }, 'INVALID_PATIENT', 'patient.address.lines'],
    ['phone', (i) => { i.patient.phone = 'call me'; }, 'INVALID_PATIENT', 'patient.phone'],
    ['report id', (i) => { i.clinicalHandover.reportId = 'x'; }, 'INVALID_REQUEST', 'clinicalHandover.reportId'],
    ['report id over 36 characters', (i) => { i.clinicalHandover.reportId = `${'a'.repeat(37)}`; }, 'INVALID_REQUEST', 'clinicalHandover.reportId'],
    ['summary', (i) => { i.clinicalHandover.summary = ''; }, 'INVALID_REQUEST', 'clinicalHandover.summary'],
    ['author', (i) => { i.clinicalHandover.authorOdsCode = 'not an ods code'; }, 'INVALID_REQUEST', 'clinicalHandover.authorOdsCode'],
    ['description', (i) => { i.description = 'x'.repeat(101); }, 'INVALID_REQUEST', 'description'],
    ['report id that is not a UUID', (i) => { i.clinicalHandover.reportId = 'report-2026-0001'; }, 'INVALID_REQUEST', 'clinicalHandover.reportId'],
    ['six given names', (i) => { i.patient.name.given = ['A', 'B', 'C', 'D', 'E', 'F']; }, 'INVALID_PATIENT', 'patient.name.given'],
    ['six prefixes', (i) => { i.patient.name.prefix = ['Dr', 'Prof', 'Sir', 'Rev', 'Hon', 'Capt']; }, 'INVALID_PATIENT', 'patient.name.prefix'],
    ['six address lines', (i) => { i.patient.address.lines = ['1', '2', '3', '4', '5', '6']; }, 'INVALID_PATIENT', 'patient.address.lines'],
    ['a given name over 100 characters', (i) => { i.patient.name.given = ['x'.repeat(101)]; }, 'INVALID_PATIENT', 'patient.name.given[0]'],
    ['an address line over 100 characters', (i) => { i.patient.address.lines = ['x'.repeat(101)]; }, 'INVALID_PATIENT', 'patient.address.lines[0]'],
    ['a family name over 100 characters', (i) => { i.patient.name.family = 'x'.repeat(101); }, 'INVALID_PATIENT', 'patient.name.family'],
  ])('names the field for a bad %s', (_what, change, outcome, field) => {
    expect(problem(input(change))).toMatchObject({ outcome, field });
  });
});
