/**
 * The booking lifecycle end to end: gateway (with a real redis-server for idempotency records), both subgraphs and
 * the sandbox as separate processes. What the provider stored is read back from the simulator's control API.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { decodeSlotId } from '../common/slot-id.js';
import { freePorts, startStack, type Stack } from '../scripts/stack.js';
import { decodeSlotRef } from '../subgraphs/booking-standard/slot-ref.js';
import { devToken } from '../scripts/token.js';
import { clearSandbox, decodeJwt, gql, injectFault, sandboxRequests } from './helpers.js';
import { startRedis, type TestRedis } from './redis.js';

let stack: Stack;
let redis: TestRedis;
let sim: string;
const tokens: Record<string, string> = {};

const BOOK = /* GraphQL */ `
  mutation Book($input: BookAppointmentInput!) {
    bookAppointment(input: $input) {
      outcome
      error { message field diagnostics }
      appointment { id status serviceId supplierSystem start end clinicalReportId patient { nhsNumber family given birthDate } }
    }
  }
`;
const READ = /* GraphQL */ `
  query Read($id: ID!) { appointment(id: $id) { outcome error { message } appointment { id status start end serviceId } } }
`;
const CANCEL = /* GraphQL */ `
  mutation Cancel($id: ID!) { cancelAppointment(input: { appointmentId: $id, reason: "Patient feels better" }) { outcome error { message } appointment { id status } } }
`;

const PATIENT = {
  nhsNumber: '9476719931',
  name: { family: 'Jones', given: ['Sian'], prefix: ['Ms'] },
  birthDate: '1984-02-29',
  gender: 'FEMALE',
  address: { lines: ['1 Park Row'], city: 'Leeds', postcode: 'LS1 5AB' },
  phone: '0113 496 0000',
};
const HANDOVER = { reportId: '6f1f1c2e-8c7b-4d6e-9f0a-1b2c3d4e5f60', summary: 'Fall onto outstretched hand; wrist pain.', authorOdsCode: 'RX8' };

let keySeq = 0;
function bookingInput(slotId: string, change: Record<string, unknown> = {}) {
  return { slotId, patient: PATIENT, clinicalHandover: HANDOVER, description: '111 referral: wrist injury', idempotencyKey: `e2e-${Date.now()}-${++keySeq}`, ...change };
}

function auth(org: keyof typeof tokens) {
  return { authorization: `Bearer ${tokens[org]}` };
}

/** Free slots at a service from tomorrow on (clear of "now"), as the gateway reports them. */
async function freeSlots(serviceId: string, org = 'nhs111'): Promise<{ id: string; start: string; end: string }[]> {
  const from = new Date(Date.now() + 24 * 3600_000);
  const res = await gql(
    stack.gatewayUrl,
    `query($id: ID!, $from: DateTime!, $to: DateTime!) { service(id: $id) { ... on BookingStandardService { slots(from: $from, to: $to, first: 500) { nodes { id start end } } } } }`,
    { id: serviceId, from: from.toISOString(), to: new Date(from.getTime() + 2 * 24 * 3600_000).toISOString() },
    auth(org),
  );
  expect(res.errors).toBeUndefined();
  return res.data!.service.slots.nodes;
}

const usedSlots = new Set<string>();
async function aFreeSlot(serviceId: string): Promise<{ id: string; start: string; end: string }> {
  const slot = (await freeSlots(serviceId)).find((s) => !usedSlots.has(s.id));
  if (!slot) throw new Error(`no free slot left at ${serviceId}`);
  usedSlots.add(slot.id);
  return slot;
}

interface StoredAppointment { tenant: string; organisation: string; resource: Record<string, any> }
async function stored(): Promise<StoredAppointment[]> {
  const res = await fetch(`${sim}/_sandbox/appointments`);
  expect(res.status).toBe(200);
  return (await res.json()) as StoredAppointment[];
}
/**
 * The latest version of every appointment the provider holds for one slot: its start and its diary (the contained
 * Slot's schedule, from the copy the slot id carries). The start alone is not one slot: a service's diaries (its main
 * one and its timed arrivals) can each have a slot then, and another test may have booked the other.
 */
async function storedAt(slot: { id: string; start: string }): Promise<StoredAppointment[]> {
  const copy = decodeSlotRef(decodeSlotId(slot.id)?.ref ?? '');
  expect(copy?.scheduleId, 'a Booking Standard slot id with its schedule').toBeTruthy();
  const latest = new Map<string, StoredAppointment>();
  for (const a of await stored()) latest.set(a.resource.id, a);
  return [...latest.values()].filter(
    (a) =>
      Date.parse(a.resource.start) === Date.parse(slot.start) &&
      (a.resource.contained ?? []).some((r: Record<string, any>) => r.resourceType === 'Slot' && r.schedule?.reference === `Schedule/${copy!.scheduleId}`),
  );
}

async function posts(): Promise<number> {
  return (await sandboxRequests(sim)).filter((r) => r.method === 'POST' && r.path.endsWith('/Appointment')).length;
}

beforeAll(async () => {
  redis = await startRedis();
  stack = await startStack({ ports: await freePorts(), env: { LOG_LEVEL: 'warn', REDIS_URL: redis.url } });
  sim = stack.url('sandbox-booking-standard');
  tokens.nhs111 = await devToken({ org: 'RX8' });
  tokens.cas = await devToken({ org: 'NLO11' });
  tokens.readOnly = await devToken({ org: 'RX8', scope: 'slots:read' });
}, 90_000);

afterAll(async () => {
  await stack?.stopAll();
  await redis?.dispose();
});

beforeEach(async () => {
  await clearSandbox(sim);
});

describe('book, read, cancel', () => {
  it('books with the clinical handover, reads it back, cancels it, and the slot follows', async () => {
    const slot = await aFreeSlot('1402000102');
    const booked = await gql(stack.gatewayUrl, BOOK, { input: bookingInput(slot.id) }, auth('nhs111'));
    expect(booked.errors).toBeUndefined();
    const result = booked.data!.bookAppointment;
    expect(result.outcome).toBe('BOOKED');
    expect(result.appointment).toMatchObject({
      status: 'BOOKED',
      serviceId: '1402000102',
      supplierSystem: 'harbour-uec',
      clinicalReportId: HANDOVER.reportId,
      patient: { nhsNumber: '9476719931', family: 'Jones', given: ['Sian'], birthDate: '1984-02-29' },
    });
    expect(Date.parse(result.appointment.start)).toBe(Date.parse(slot.start));
    expect(Date.parse(result.appointment.end)).toBe(Date.parse(slot.end));

    // What the provider received and stored: one POST with the headers and token the standard requires.
    const post = (await sandboxRequests(sim)).filter((r) => r.method === 'POST' && r.path.endsWith('/Appointment'));
    expect(post).toHaveLength(1);
    expect(post[0]!.headers['ssp-interactionid']).toBe('urn:nhs:names:services:careconnect:fhir:rest:create:appointment');
    expect(post[0]!.headers['x-request-id']).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    const jwt = decodeJwt(post[0]!.headers.authorization!.replace('Bearer ', ''));
    expect(jwt.payload).toMatchObject({
      requested_scope: 'patient/appointment.write',
      requesting_organization: { identifier: [{ value: 'RX8' }] },
    });
    const [appt] = await storedAt(slot);
    expect(appt).toBeDefined();
    const contained = appt!.resource.contained as Record<string, any>[];
    const doc = contained.find((r) => r.resourceType === 'DocumentReference')!;
    const patient = contained.find((r) => r.resourceType === 'Patient')!;
    const cslot = contained.find((r) => r.resourceType === 'Slot')!;
    expect(doc.identifier[0].value).toBe(HANDOVER.reportId);
    expect(doc.type.coding[0].code).toBe('POCD_MT200001GB02');
    expect(patient.identifier[0]).toMatchObject({ system: 'https://fhir.nhs.uk/Id/nhs-number', value: '9476719931' });
    expect(patient.name[0]).toMatchObject({ family: 'Jones', given: ['Sian'] });
    expect(cslot.status).toBe('busy');
    expect(Date.parse(cslot.start)).toBe(Date.parse(slot.start));
    expect(appt!.resource.status).toBe('booked');

    // The slot is no longer offered.
    expect((await freeSlots('1402000102')).map((s) => s.id)).not.toContain(slot.id);

    const read = await gql(stack.gatewayUrl, READ, { id: result.appointment.id }, auth('nhs111'));
    expect(read.data!.appointment).toMatchObject({ outcome: 'FOUND', appointment: { id: result.appointment.id, status: 'BOOKED' } });

    const cancelled = await gql(stack.gatewayUrl, CANCEL, { id: result.appointment.id }, auth('nhs111'));
    expect(cancelled.data!.cancelAppointment).toMatchObject({ outcome: 'CANCELLED', appointment: { status: 'CANCELLED' } });
    const put = (await sandboxRequests(sim)).find((r) => r.method === 'PUT');
    expect(put!.headers['if-match']).toMatch(/^W\/".+"$/);

    const after = await gql(stack.gatewayUrl, READ, { id: result.appointment.id }, auth('nhs111'));
    expect(after.data!.appointment).toMatchObject({ outcome: 'FOUND', appointment: { status: 'CANCELLED' } });
    expect((await storedAt(slot))[0]!.resource.status).toBe('cancelled');
    // Free again.
    expect((await freeSlots('1402000102')).map((s) => s.id)).toContain(slot.id);

    // Cancelling again is not an error.
    const again = await gql(stack.gatewayUrl, CANCEL, { id: result.appointment.id }, auth('nhs111'));
    expect(again.data!.cancelAppointment.outcome).toBe('CANCELLED');
  });

  it('books at a provider that answers "slot taken" with 409 too', async () => {
    const slot = await aFreeSlot('1402000103');
    const first = await gql(stack.gatewayUrl, BOOK, { input: bookingInput(slot.id) }, auth('nhs111'));
    expect(first.data!.bookAppointment.outcome).toBe('BOOKED');
    const second = await gql(stack.gatewayUrl, BOOK, { input: bookingInput(slot.id) }, auth('nhs111'));
    expect(second.data!.bookAppointment).toMatchObject({ outcome: 'SLOT_UNAVAILABLE', appointment: null, error: { field: 'slotId' } });
  });
});

describe('no double booking', () => {
  it('50 concurrent bookings of one slot: exactly one BOOKED, 49 SLOT_UNAVAILABLE, one appointment stored', async () => {
    const slot = await aFreeSlot('1402000102');
    const results = await Promise.all(
      Array.from({ length: 50 }, () => gql(stack.gatewayUrl, BOOK, { input: bookingInput(slot.id) }, auth('nhs111'))),
    );
    const outcomes = results.map((r) => r.data?.bookAppointment.outcome ?? `error: ${r.errors?.[0]?.message}`);
    expect(outcomes.filter((o) => o === 'BOOKED')).toHaveLength(1);
    expect(outcomes.filter((o) => o === 'SLOT_UNAVAILABLE')).toHaveLength(49);
    expect((await storedAt(slot)).filter((a) => a.resource.status === 'booked')).toHaveLength(1);
  }, 60_000);

  it('the same key and input returns the first outcome without a second upstream booking', async () => {
    const slot = await aFreeSlot('1402000102');
    const input = bookingInput(slot.id);
    const first = await gql(stack.gatewayUrl, BOOK, { input }, auth('nhs111'));
    const second = await gql(stack.gatewayUrl, BOOK, { input }, auth('nhs111'));
    expect(first.data!.bookAppointment.outcome).toBe('BOOKED');
    expect(second.data!.bookAppointment).toMatchObject({ outcome: 'BOOKED', appointment: { id: first.data!.bookAppointment.appointment.id } });
    expect(await posts()).toBe(1);

    const reused = await gql(stack.gatewayUrl, BOOK, { input: { ...input, description: 'something else' } }, auth('nhs111'));
    expect(reused.data!.bookAppointment).toMatchObject({ outcome: 'INVALID_REQUEST', error: { field: 'idempotencyKey' } });
    expect(await posts()).toBe(1);
  });

  it('a booking whose response was lost after the provider committed it: the retry gets the same appointment, one booking', async () => {
    const slot = await aFreeSlot('1402000102');
    await injectFault(sim, { pathPrefix: '/harbour/STU3/Appointment', method: 'POST', afterHandling: true, reset: true, times: 1 });
    const input = bookingInput(slot.id);
    const first = await gql(stack.gatewayUrl, BOOK, { input }, auth('nhs111'));
    // The adapter re-sent once with the same X-Request-ID, heard "duplicate", and found the booking by the NHS number.
    expect(first.data!.bookAppointment.outcome).toBe('BOOKED');
    const postsSeen = (await sandboxRequests(sim)).filter((r) => r.method === 'POST' && r.path.endsWith('/Appointment'));
    expect(postsSeen).toHaveLength(2);
    expect(postsSeen[1]!.headers['x-request-id']).toBe(postsSeen[0]!.headers['x-request-id']);

    const retry = await gql(stack.gatewayUrl, BOOK, { input }, auth('nhs111'));
    expect(retry.data!.bookAppointment).toMatchObject({ outcome: 'BOOKED', appointment: { id: first.data!.bookAppointment.appointment.id } });
    expect(await posts()).toBe(2);
    const held = (await storedAt(slot)).filter((a) => a.resource.status === 'booked');
    expect(held).toHaveLength(1);
    const read = await gql(stack.gatewayUrl, READ, { id: retry.data!.bookAppointment.appointment.id }, auth('nhs111'));
    expect(read.data!.appointment.outcome).toBe('FOUND');
  });
});

describe('bad input', () => {
  it.each([
    ['an NHS number failing modulus 11', { patient: { ...PATIENT, nhsNumber: '9476719932' } }, 'INVALID_PATIENT', 'patient.nhsNumber'],
    ['a ten-digit number whose check digit would be 10', { patient: { ...PATIENT, nhsNumber: '1234567890' } }, 'INVALID_PATIENT', 'patient.nhsNumber'],
    ['a birth date in the future', { patient: { ...PATIENT, birthDate: '2099-01-01' } }, 'INVALID_PATIENT', 'patient.birthDate'],
    ['an impossible birth date', { patient: { ...PATIENT, birthDate: '2023-02-29' } }, 'INVALID_PATIENT', 'patient.birthDate'],
    ['a slot id we never issued', { slotId: 'bm90LWEtc2xvdA' }, 'INVALID_REQUEST', 'slotId'],
  ])('%s: a typed error naming the field, and no upstream call', async (_what, change, outcome, field) => {
    const slot = (await freeSlots('1402000102'))[0]!;
    const res = await gql(stack.gatewayUrl, BOOK, { input: bookingInput(slot.id, change) }, auth('nhs111'));
    expect(res.errors).toBeUndefined();
    expect(res.data!.bookAppointment).toMatchObject({ outcome, appointment: null, error: { field } });
    expect(await posts()).toBe(0);
  });
});

describe('who may do what', () => {
  it('another organisation can neither read nor cancel the appointment, and nothing changes', async () => {
    const slot = await aFreeSlot('1402000102');
    const booked = await gql(stack.gatewayUrl, BOOK, { input: bookingInput(slot.id) }, auth('nhs111'));
    const id = booked.data!.bookAppointment.appointment.id as string;

    const read = await gql(stack.gatewayUrl, READ, { id }, auth('cas'));
    expect(read.data!.appointment).toMatchObject({ outcome: 'FORBIDDEN', appointment: null });
    const cancel = await gql(stack.gatewayUrl, CANCEL, { id }, auth('cas'));
    expect(cancel.data!.cancelAppointment).toMatchObject({ outcome: 'FORBIDDEN' });
    expect((await sandboxRequests(sim)).filter((r) => r.method === 'PUT' && r.status === 200)).toHaveLength(0);
    expect((await storedAt(slot))[0]!.resource.status).toBe('booked');
    const own = await gql(stack.gatewayUrl, READ, { id }, auth('nhs111'));
    expect(own.data!.appointment.appointment.status).toBe('BOOKED');
  });

  it('booking needs a token (401) with the booking scope (403); nothing is executed', async () => {
    const slot = (await freeSlots('1402000102'))[0]!;
    const anonymous = await gql(stack.gatewayUrl, BOOK, { input: bookingInput(slot.id) });
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(anonymous.errors![0]!.extensions!.code).toBe('UNAUTHENTICATED');
    const readOnly = await gql(stack.gatewayUrl, BOOK, { input: bookingInput(slot.id) }, auth('readOnly'));
    expect(readOnly.status).toBe(403);
    expect(readOnly.errors![0]!.extensions!.code).toBe('FORBIDDEN');
    const badToken = await gql(stack.gatewayUrl, '{ service(id: "1402000102") { name } }', {}, { authorization: 'Bearer not.a.token' });
    expect(badToken.status).toBe(401);
    expect(await posts()).toBe(0);
  });
});

describe('no patient data at rest', () => {
  it('Redis holds idempotency records without NHS numbers, names or birth dates', async () => {
    const keys = await redis.client().keys('*');
    expect(keys.length).toBeGreaterThan(0);
    for (const key of keys) {
      const type = await redis.client().type(key);
      // Idempotency records are strings; slot cache days are hashes: both are read whole.
      const value = type === 'hash' ? JSON.stringify(await redis.client().hgetall(key)) : ((await redis.client().get(key)) ?? '');
      for (const secret of ['9476719931', 'Jones', 'Sian', '1984-02-29', 'Park Row', 'wrist']) {
        expect(key).not.toContain(secret);
        expect(value).not.toContain(secret);
      }
    }
  });
});
