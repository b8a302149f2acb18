import { describe, expect, it } from 'vitest';
import { appointmentOfMessage, isBookingOf, toSupplierAppointment } from './appointment-map.js';
import type { SupplierBookingInput } from './generated/resolvers.js';
import { bookingMessage, cancelMessage } from './message.js';
import { specExample } from './spec-examples.test-support.js';

const slot = { slotId: '1402000113-sdec-20300106T0900Z', scheduleId: 'sched-1402000113-sdec', start: new Date('2030-01-06T09:00:00Z'), end: new Date('2030-01-06T09:30:00Z') };
const consumer = { odsCode: 'RX8', name: 'Yorkshire Ambulance Service 111' };
const input: SupplierBookingInput = {
  system: 'bars-sandbox',
  serviceId: '1402000113',
  slotRef: 'unused here',
  requestId: '6f1c1c8e-4a1e-4d55-9a57-1c2a2b9d7a01',
  mayHaveBooked: false,
  description: 'Chest pain, call back within the hour',
  patient: { nhsNumber: '9476719931', family: 'Chalmers', given: ['Peter'], prefix: ['Mr'], birthDate: '1974-12-25', gender: 'male', addressLines: ['123 High Street'], city: 'Leeds', postcode: 'LS1 4HR', phone: '07736312544' },
  handover: { reportId: '2a4c1f5e-7d3b-4b7a-9c1e-5f6a7b8c9d0e', reportTypeCode: 'POCD_MT200001GB02', reportTypeDisplay: 'Integrated Urgent Care Report', summary: 'Chest pain', authorOdsCode: 'RX8' },
};
const build = (i = input) => bookingMessage({ input: i, slot, consumer, sourceEndpoint: 'https://gateway.invalid/fhir', softwareName: 'NHS booking gateway' });
const res = (m: any, type: string) => m.entry.map((e: any) => e.resource).filter((r: any) => r.resourceType === type);

describe('the booking message', () => {
  const example = specExample('process_message/POST-body.json');
  const m: any = build();

  it('has the shape of the specification\'s example: a message Bundle led by its booking-request MessageHeader', () => {
    expect(m.type).toBe(example.type);
    const [header] = res(m, 'MessageHeader');
    const exHeader = example.entry[0].resource;
    expect(m.entry[0].resource).toBe(header);
    expect(header.eventCoding).toEqual(exHeader.eventCoding);
    expect(header.reason).toEqual(exHeader.reason);
    expect(header.definition).toBe(exHeader.definition);
    expect(header.destination[0].endpoint).toBe('https://fhir.nhs.uk/Id/dos-service-id|1402000113');
    // The focus is the Appointment; every reference resolves within the message.
    const urls = new Set(m.entry.map((e: any) => e.fullUrl));
    expect(m.entry.find((e: any) => e.fullUrl === header.focus[0].reference).resource.resourceType).toBe('Appointment');
    for (const r of JSON.stringify(m).match(/"reference":"urn:uuid:[0-9a-f-]{36}"/g)!) expect(urls.has(JSON.parse(`{${r}}`).reference)).toBe(true);
    // What the receiver's MessageDefinition requires, as the example carries it.
    for (const type of ['MessageHeader', 'Appointment', 'Patient', 'Slot', 'Schedule', 'HealthcareService', 'Organization']) {
      expect(res(m, type).length, type).toBeGreaterThanOrEqual(1);
      expect(res(example, type).length, type).toBeGreaterThanOrEqual(1);
    }
  });

  it('carries the patient, the clinical handover reference and the consumer organisation as sender', () => {
    const [patient] = res(m, 'Patient');
    expect(patient.identifier).toEqual([{ system: 'https://fhir.nhs.uk/Id/nhs-number', value: '9476719931' }]);
    expect(patient).toMatchObject({ birthDate: '1974-12-25', gender: 'male', name: [{ family: 'Chalmers', given: ['Peter'] }] });
    const [appointment] = res(m, 'Appointment');
    expect(appointment).toMatchObject({ status: 'booked', start: '2030-01-06T09:00:00+00:00', end: '2030-01-06T09:30:00+00:00', description: input.description });
    expect(appointment.supportingInformation[0].identifier.value).toBe(input.handover.reportId);
    expect(appointment.identifier).toEqual([{ system: 'urn:ietf:rfc:3986', value: `urn:uuid:${input.requestId}` }]);
    const [report] = res(m, 'DocumentReference');
    expect(report.masterIdentifier.value).toBe(input.handover.reportId);
    const sender = m.entry.find((e: any) => e.fullUrl === m.entry[0].resource.sender.reference).resource;
    expect(sender.identifier[0]).toEqual({ system: 'https://fhir.nhs.uk/Id/ods-organization-code', value: 'RX8' });
    const [s] = res(m, 'Slot');
    expect(s).toMatchObject({ id: slot.slotId, start: appointment.start, end: appointment.end });
    expect(res(m, 'Schedule')[0].id).toBe(slot.scheduleId);
  });

  it('is the same JSON for the same request id (a replay), and a new Bundle.id for a new one', () => {
    expect(JSON.stringify(build())).toBe(JSON.stringify(m));
    const other: any = build({ ...input, requestId: '0d7b4a52-2f4e-4c38-8d0e-0f8ce0a1b2c3' });
    expect(other.id).not.toBe(m.id);
    expect(other.entry[0].fullUrl).not.toBe(m.entry[0].fullUrl);
  });

  it('leaves out the NHS number of a patient without one', () => {
    const without: any = build({ ...input, patient: { ...input.patient, nhsNumber: null } });
    expect(res(without, 'Patient')[0].identifier).toBeUndefined();
  });

  it('a cancellation carries the Appointment as read, cancelled, under the cancellation definition', () => {
    const read = specExample('appointment/id/GET-success.json');
    const c: any = cancelMessage({ requestId: input.requestId, serviceId: '1402000113', appointment: read, consumer, sourceEndpoint: 'x', softwareName: 'y' });
    expect(c.entry[0].resource.definition).toBe('https://fhir.nhs.uk/MessageDefinition/bars-message-booking-request-cancelled');
    expect(c.entry[0].resource.reason.coding[0].code).not.toBe('new');
    expect(res(c, 'Appointment')[0]).toMatchObject({ id: read.id, status: 'cancelled', start: read.start });
  });
});

describe('appointments as the contract has them, on the specification\'s examples', () => {
  it('reads examples/appointment/id/GET-success.json', () => {
    const a = specExample('appointment/id/GET-success.json');
    expect(toSupplierAppointment(a, '1402000113')).toEqual({
      ref: '91607239-b002-470a-8709-6b25bd50fdd1',
      serviceId: '1402000113',
      status: 'BOOKED',
      start: '2021-10-12T12:30:30.000Z',
      end: '2021-10-12T12:40:30.000Z',
      created: '2021-10-11T15:01:30.000Z',
      description: 'Reason for calling',
      version: null,
      patient: null,
      handoverReportId: null,
    });
  });

  it('finds the focused Appointment and its Patient in examples/process_message/POST-success.json', () => {
    const found = appointmentOfMessage(specExample('process_message/POST-success.json'));
    expect(found?.appointment.id).toBe('e284470a-6695-4c95-b2ad-fa26b3a486c7');
    const mapped = toSupplierAppointment(found!.appointment, '1402000113', found!.patient);
    expect(mapped).toMatchObject({ ref: 'e284470a-6695-4c95-b2ad-fa26b3a486c7', status: 'BOOKED' });
    expect((mapped as any).patient?.nhsNumber).toMatch(/^\d{10}$/);
  });

  it('tells a booking of this slot by its Slot reference, else by its times', () => {
    const a: any = { resourceType: 'Appointment', status: 'booked', start: '2030-01-06T09:00:00+00:00', end: '2030-01-06T09:30:00+00:00', slot: [{ reference: `Slot/${slot.slotId}` }] };
    expect(isBookingOf(a, slot)).toBe(true);
    expect(isBookingOf({ ...a, slot: [{ reference: 'Slot/another' }] }, slot)).toBe(false);
    expect(isBookingOf({ ...a, slot: [{ reference: 'urn:uuid:1' }] }, slot)).toBe(true);
  });
});
