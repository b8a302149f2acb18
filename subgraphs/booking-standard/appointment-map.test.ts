import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  appointmentRef,
  appointmentStatus,
  BOOKING_REFERENCE_SYSTEM,
  bookingAppointment,
  etagValue,
  ifMatchFor,
  isBookingOf,
  scheduleIdOf,
  toSupplierAppointment,
} from './appointment-map.js';
import type { FhirAppointment } from './client.js';
import type { SupplierBookingInput } from './generated/resolvers.js';
import { decodeSlotRef } from './slot-ref.js';

function fixture(name: string): FhirAppointment {
  return JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8')) as FhirAppointment;
}

// The input and slot the recorded request (fixtures/book-request.json) was made from.
const NOW = new Date('2026-06-01T09:00:00Z');
const SLOT = decodeSlotRef('1~slot-1402000102-main-20260601T1015Z~sch-1402000102-main~mpv1yaw0~jag0~eomb1IkKVcKj_sp4uf4qHQ')!;
const INPUT: Pick<SupplierBookingInput, 'description' | 'patient' | 'handover'> = {
  description: '111 referral: minor injury, left wrist',
  patient: {
    nhsNumber: '9476719931', family: 'Jones', given: ['Sam', 'Alex'], prefix: ['Mx'], birthDate: '1980-02-03', gender: 'other',
    addressLines: ['1 High Street', 'Burmantofts'], city: 'Leeds', postcode: 'LS9 7TF', phone: '01632 960000',
  },
  handover: {
    reportId: 'f0e1d2c3-b4a5-4697-8877-665544332211', reportTypeCode: 'POCD_MT200001GB02', reportTypeDisplay: 'Integrated Urgent Care Report',
    summary: 'Fall on outstretched hand; wrist pain and swelling; no deformity.', authorOdsCode: 'RX8',
  },
};
const slot = { ...SLOT, scheduleId: SLOT.scheduleId! };

const contained = (a: FhirAppointment, type: string) => a.contained!.find((r) => r.resourceType === type) as Record<string, any>;

describe('bookingAppointment (spec 2.4, 8.2)', () => {
  const built = bookingAppointment(INPUT, slot, NOW);

  it('is exactly the request the sandbox provider accepted', () => {
    expect(built).toEqual(fixture('book-request.json'));
  });

  it('has no id, status booked, the slot times in UTC, created now, and the three contained resources in NBA order', () => {
    expect(built.id).toBeUndefined();
    expect(built).toMatchObject({ status: 'booked', start: '2026-06-01T10:15:00.000Z', end: '2026-06-01T10:30:00.000Z', created: NOW.toISOString() });
    expect(built.contained!.map((r) => r.resourceType)).toEqual(['DocumentReference', 'Patient', 'Slot']);
    expect(built.slot).toEqual([{ reference: '#slot-1402000102-main-20260601T1015Z' }]);
    expect(built.supportingInformation).toEqual([{ reference: '#D1' }]);
    expect(built.participant).toEqual([
      { actor: { reference: '#P1', identifier: { use: 'official', system: 'https://fhir.nhs.uk/Id/nhs-number', value: '9476719931' } }, status: 'accepted' },
    ]);
  });

  it('copies the slot from the search with status busy', () => {
    expect(contained(built, 'Slot')).toEqual({
      resourceType: 'Slot',
      id: 'slot-1402000102-main-20260601T1015Z',
      identifier: [{ system: 'https://tools.ietf.org/html/rfc4122', value: '7a899bd4-890a-55c2-a3fe-ca78b9fe2a1d' }],
      schedule: { reference: 'Schedule/sch-1402000102-main' },
      status: 'busy',
      start: '2026-06-01T10:15:00.000Z',
      end: '2026-06-01T10:30:00.000Z',
    });
  });

  it('points at the clinical report, never embeds it, and names its author by ODS code', () => {
    const doc = contained(built, 'DocumentReference');
    expect(doc.identifier).toEqual([{ system: 'https://tools.ietf.org/html/rfc4122', value: INPUT.handover.reportId }]);
    expect(doc.type.coding[0]).toMatchObject({ system: 'urn:oid:2.16.840.1.113883.2.1.3.2.4.18.17', code: 'POCD_MT200001GB02' });
    expect(doc.content).toEqual([{ attachment: { contentType: 'application/hl7-v3+xml', language: 'en-GB' } }]);
    expect(doc.author).toEqual([{ identifier: { system: 'https://fhir.nhs.uk/Id/ods-organization-code', value: 'RX8' } }]);
    expect(doc.description).toBe(INPUT.handover.summary);
  });

  it('marks the NHS number as present but not traced: we check the check digit, not PDS', () => {
    const id = contained(built, 'Patient').identifier;
    expect(id).toHaveLength(1);
    expect(id[0].extension[0].valueCodeableConcept.coding[0]).toMatchObject({ code: '02' });
  });

  it('carries our booking reference as an Appointment identifier when given, and none otherwise', () => {
    const a = bookingAppointment(INPUT, slot, NOW, '5d9e2c1a-0b3f-5c4d-8e6f-112233445566');
    expect(a.identifier).toEqual([{ system: BOOKING_REFERENCE_SYSTEM, value: '5d9e2c1a-0b3f-5c4d-8e6f-112233445566' }]);
    expect(bookingAppointment(INPUT, slot, NOW)).not.toHaveProperty('identifier');
  });

  it('sends no identifier at all without an NHS number, and no actor identifier', () => {
    const a = bookingAppointment({ ...INPUT, patient: { ...INPUT.patient, nhsNumber: null } }, slot, NOW);
    expect(contained(a, 'Patient')).not.toHaveProperty('identifier');
    expect(a.participant![0]!.actor).toEqual({ reference: '#P1' });
  });

  it('leaves out telecom without a phone, city and prefix when absent, and the slot identifier when the search had none', () => {
    const a = bookingAppointment({ ...INPUT, patient: { ...INPUT.patient, phone: null, city: null, prefix: [] } }, { ...slot, identifier: null }, NOW);
    const p = contained(a, 'Patient');
    expect(p).not.toHaveProperty('telecom');
    expect(p.address).toEqual([{ line: ['1 High Street', 'Burmantofts'], postalCode: 'LS9 7TF' }]);
    expect(p.name).toEqual([{ use: 'official', family: 'Jones', given: ['Sam', 'Alex'] }]);
    expect(contained(a, 'Slot')).not.toHaveProperty('identifier');
  });

  it('keeps contained ids unique when the provider\'s slot id is one of ours', () => {
    const a = bookingAppointment(INPUT, { ...slot, slotId: 'P1' }, NOW);
    expect(new Set(a.contained!.map((r) => r.id)).size).toBe(3);
    expect(a.participant![0]!.actor!.reference).toBe('#P1-patient');
  });
});

describe('toSupplierAppointment on the recorded read', () => {
  const read = fixture('read-response.json');

  it('maps status, times, version, patient summary and handover report id', () => {
    expect(toSupplierAppointment(read, { serviceId: '1402000102', etag: 'W/"5ab4e1a0-4f7c-44d1-ac3a-ed16f019e3a9"' })).toEqual({
      ref: 'ce5d6395-1572-46e7-b8c6-c6906a40a46e',
      serviceId: '1402000102',
      status: 'BOOKED',
      start: '2026-06-01T10:15:00.000Z',
      end: '2026-06-01T10:30:00.000Z',
      created: '2026-06-01T09:00:00.000Z',
      description: '111 referral: minor injury, left wrist',
      version: '5ab4e1a0-4f7c-44d1-ac3a-ed16f019e3a9',
      patient: { nhsNumber: '9476719931', family: 'Jones', given: ['Sam', 'Alex'], birthDate: '1980-02-03' },
      handoverReportId: 'f0e1d2c3-b4a5-4697-8877-665544332211',
    });
  });

  it('takes the version from the ETag, or a version-specific fullUrl, when meta has none', () => {
    const bare = { ...read, meta: {} };
    expect(toSupplierAppointment(bare, { serviceId: 'x', etag: 'W/"v7"' })).toMatchObject({ version: 'v7' });
    expect(toSupplierAppointment(bare, { serviceId: 'x', fullUrl: 'https://p/STU3/Appointment/a1/_history/9' })).toMatchObject({ version: '9' });
    expect(toSupplierAppointment(bare, { serviceId: 'x' })).toMatchObject({ version: null });
  });

  it('normalises times written in UK local time to UTC', () => {
    const local = { ...read, start: '2026-06-01T11:15:00+01:00', end: '2026-06-01T11:30:00+01:00' };
    expect(toSupplierAppointment(local, { serviceId: 'x' })).toMatchObject({ start: '2026-06-01T10:15:00.000Z', end: '2026-06-01T10:30:00.000Z' });
  });

  it('does not pass a provider\'s local patient identifier off as an NHS number', () => {
    const local = structuredClone(read);
    (local.contained![1] as any).identifier = [{ system: 'https://harbour-uec.sandbox.invalid/Id/patient', value: 'abc' }];
    expect(toSupplierAppointment(local, { serviceId: 'x' })).toMatchObject({ patient: { nhsNumber: null, family: 'Jones' } });
  });

  it('refuses what it cannot read, with a reason', () => {
    expect(toSupplierAppointment({ ...read, status: 'proposed' }, { serviceId: 'x' })).toEqual({ reason: 'unknown appointment status proposed' });
    expect(toSupplierAppointment({ ...read, start: '2026-06-01T10:15:00' }, { serviceId: 'x' })).toMatchObject({ reason: expect.stringMatching(/instant/) });
    const { id: _id, ...noId } = read;
    expect(toSupplierAppointment(noId as FhirAppointment, { serviceId: 'x' })).toEqual({ reason: 'appointment has no id' });
  });
});

describe('appointment helpers', () => {
  it('maps every STU3 status the standard and real providers use', () => {
    expect(['booked', 'cancelled', 'entered-in-error', 'entered in error', 'Booked', 'fulfilled', 'noshow', 'pending', undefined].map(appointmentStatus))
      .toEqual(['BOOKED', 'CANCELLED', 'ENTERED_IN_ERROR', 'ENTERED_IN_ERROR', 'BOOKED', 'BOOKED', 'BOOKED', null, null]);
  });

  it('finds the appointment id in a registry-style search entry (fullUrl or rfc3986 identifier)', () => {
    const slim: FhirAppointment = { resourceType: 'Appointment', identifier: [{ system: 'urn:ietf:rfc:3986', value: 'https://p.nhs.uk/STU3/Appointment/a-9' }] };
    expect(appointmentRef(slim)).toBe('a-9');
    expect(appointmentRef({ resourceType: 'Appointment' }, 'https://p.nhs.uk/STU3/Appointment/a-8/_history/2')).toBe('a-8');
    expect(appointmentRef({ resourceType: 'Appointment' })).toBeNull();
  });

  it('quotes the ETag verbatim in If-Match, or builds one from meta.versionId', () => {
    const read = fixture('read-response.json');
    expect(ifMatchFor(read, 'W/"abc"')).toBe('W/"abc"');
    expect(ifMatchFor(read, undefined)).toBe('W/"5ab4e1a0-4f7c-44d1-ac3a-ed16f019e3a9"');
    expect(ifMatchFor({ resourceType: 'Appointment' }, undefined)).toBeNull();
    expect([etagValue('W/"a"'), etagValue('"b"'), etagValue('c'), etagValue(undefined)]).toEqual(['a', 'b', 'c', null]);
  });

  it('recognises the booking of a slot by its times and contained Slot, and nothing else', () => {
    const read = fixture('read-response.json');
    expect(scheduleIdOf(read)).toBe('sch-1402000102-main');
    expect(isBookingOf(read, SLOT)).toBe(true);
    expect(isBookingOf(read, { ...SLOT, identifier: '00000000-0000-4000-8000-000000000000' })).toBe(false);
    expect(isBookingOf(read, { ...SLOT, end: new Date('2026-06-01T10:45:00Z') })).toBe(false);
    // A registry-style entry has no contained Slot: its times are all there is to go on until it is read.
    expect(isBookingOf({ resourceType: 'Appointment', start: read.start!, end: read.end! }, SLOT)).toBe(true);
  });
});
