/**
 * The internal booking operations through the subgraph itself (in-process, real HTTP both sides): the wiring the
 * gateway relies on, i.e. field names, enum values, the consumer header, and data (never errors) for failures.
 */
import { randomUUID } from 'node:crypto';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBookingStandardSimulator } from '../../sandbox/booking-standard/server.js';
import type { SandboxServer } from '../../sandbox/lib/http.js';
import { gatewayHeaders } from '../../common/internal-auth.js';
import { loadRegistry, type BookingStandardSystem, type Registry } from '../kit/registry.js';
import type { RunningSubgraph } from '../kit/server.js';
import { decodeSlotId } from '../../common/slot-id.js';
import { BookingStandardClient } from './client.js';
import { startBookingStandardSubgraph } from './index.js';
import { mapSlots } from './map.js';

let sim: SandboxServer;
let registry: Registry;
let subgraph: RunningSubgraph;
const NHS111 = { odsCode: 'RX8', name: 'Yorkshire Ambulance Service NHS 111' };

beforeAll(async () => {
  sim = await startBookingStandardSimulator({ port: 0 });
  registry = loadRegistry(undefined, { SANDBOX_BOOKING_STANDARD_URL: sim.url });
  subgraph = await startBookingStandardSubgraph(0, { registry, logger: pino({ level: 'silent' }) });
});
afterAll(async () => {
  await subgraph.close();
  await sim.close();
});

const APPOINTMENT = 'ref serviceId status start end created description version handoverReportId patient { nhsNumber family given birthDate }';
const OUTCOME = `code message diagnostics appointment { ${APPOINTMENT} }`;

async function gql(query: string, input: Record<string, unknown>, consumer: typeof NHS111 | null = NHS111): Promise<any> {
  const sent = JSON.stringify({ query, variables: { input } });
  const res = await fetch(subgraph.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...gatewayHeaders(consumer ?? null, { url: subgraph.url, body: sent }) },
    body: sent,
  });
  const body = (await res.json()) as { data?: Record<string, unknown>; errors?: unknown[] };
  expect(body.errors).toBeUndefined();
  return body.data;
}

const BOOK = `mutation($input: SupplierBookingInput!) { bookingStandardBook(input: $input) { ${OUTCOME} } }`;
const CANCEL = `mutation($input: SupplierCancelInput!) { bookingStandardCancel(input: $input) { ${OUTCOME} } }`;
const READ = `query($input: SupplierAppointmentInput!) { bookingStandardAppointment(input: $input) { ${OUTCOME} } }`;
const LIST = `query($input: SupplierPatientAppointmentsInput!) { bookingStandardPatientAppointments(input: $input) { code message appointments { ${APPOINTMENT} } } }`;

async function slotRef(): Promise<string> {
  const client = new BookingStandardClient(registry);
  const from = new Date(Date.now() + 3 * 3_600_000);
  const to = new Date(from.getTime() + 86_400_000);
  const found = await client.searchSlots(registry.system('harbour-uec') as BookingStandardSystem, { serviceId: '1402000105', from, to }, { consumer: NHS111, traceId: '0b6f1c2e-8c7b-4d6e-9f0a-0000000000ff' });
  const slot = mapSlots({ system: 'harbour-uec', serviceId: '1402000105', resources: found.resources, from, to, fetchedAt: found.fetchedAt }).slots[0]!;
  return decodeSlotId(slot.id)!.ref;
}

function bookingInput(ref: string) {
  return {
    system: 'harbour-uec', serviceId: '1402000105', slotRef: ref, requestId: randomUUID(), mayHaveBooked: false,
    description: '111 referral: minor injury',
    patient: { nhsNumber: '1234554321', family: 'Jones', given: ['Sam'], birthDate: '1980-02-03', gender: 'female', addressLines: ['1 High Street'], postcode: 'LS10 1AA' },
    handover: { reportId: randomUUID(), reportTypeCode: 'POCD_MT200001GB02', reportTypeDisplay: 'Integrated Urgent Care Report', summary: 'Minor injury', authorOdsCode: 'RX8' },
  };
}

describe('the internal booking operations over GraphQL', () => {
  it('book, read, list and cancel, with the codes the gateway maps', async () => {
    const input = bookingInput(await slotRef());
    const booked = (await gql(BOOK, input)).bookingStandardBook;
    expect(booked).toMatchObject({ code: 'BOOKED', appointment: { serviceId: '1402000105', status: 'BOOKED', patient: { nhsNumber: '1234554321' } } });
    const ref = booked.appointment.ref as string;

    const read = (await gql(READ, { system: 'harbour-uec', serviceId: '1402000105', appointmentRef: ref })).bookingStandardAppointment;
    expect(read).toEqual({ ...booked, code: 'FOUND' });

    // The subgraph learnt the schedule's service from the booking, so the list can say where the appointment is.
    const listed = (await gql(LIST, { system: 'harbour-uec', nhsNumber: '1234554321' })).bookingStandardPatientAppointments;
    expect(listed).toMatchObject({ code: 'FOUND', message: null });
    expect(listed.appointments.map((a: { ref: string; serviceId: string }) => [a.ref, a.serviceId])).toContainEqual([ref, '1402000105']);

    const cancelled = (await gql(CANCEL, { system: 'harbour-uec', serviceId: '1402000105', appointmentRef: ref, requestId: randomUUID(), reason: 'Patient recovered' }))
      .bookingStandardCancel;
    expect(cancelled).toMatchObject({ code: 'CANCELLED', appointment: { ref, status: 'CANCELLED' } });
  });

  it('refuses every operation without a consumer organisation: FORBIDDEN as data, nothing sent', async () => {
    await fetch(`${sim.url}/_sandbox/requests`, { method: 'DELETE' });
    const appointment = { system: 'harbour-uec', serviceId: '1402000105', appointmentRef: randomUUID() };
    expect((await gql(BOOK, bookingInput('x'), null)).bookingStandardBook.code).toBe('FORBIDDEN');
    expect((await gql(CANCEL, { ...appointment, requestId: randomUUID() }, null)).bookingStandardCancel.code).toBe('FORBIDDEN');
    expect((await gql(READ, appointment, null)).bookingStandardAppointment.code).toBe('FORBIDDEN');
    expect((await gql(LIST, { system: 'harbour-uec', nhsNumber: '1234554321' }, null)).bookingStandardPatientAppointments.code).toBe('FORBIDDEN');
    expect(await (await fetch(`${sim.url}/_sandbox/requests`)).json()).toEqual([]);
  });

  it('answers INVALID_REQUEST for a system that is not a Booking Standard one in the registry', async () => {
    const r = (await gql(READ, { system: 'oakfield-pas', serviceId: '1', appointmentRef: 'a' })).bookingStandardAppointment;
    expect(r).toMatchObject({ code: 'INVALID_REQUEST', message: expect.stringContaining('oakfield-pas') });
  });
});
