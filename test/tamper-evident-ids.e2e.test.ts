/**
 * Issue 10, M5: global ids were unsigned. Editing the service id inside a slot id booked the real slot against a
 * service that does not exist (and invalidated the wrong cache entries). Slot and appointment ids now carry a MAC:
 * an edited id is INVALID_REQUEST before any supplier call, which the sandboxes' request logs prove.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { freePorts, startStack, type Stack } from '../scripts/stack.js';
import { devToken } from '../scripts/token.js';
import { clearSandbox, gql, sandboxRequests } from './helpers.js';
import { startRedis, type TestRedis } from './redis.js';

let stack: Stack;
let redis: TestRedis;
let token: string;
let bookingStandard: string;
let pas: string;

const BOOK = /* GraphQL */ `
  mutation Book($input: BookAppointmentInput!) {
    bookAppointment(input: $input) { outcome error { message field } appointment { id status serviceId supplierSystem } }
  }
`;
const READ = /* GraphQL */ `query Read($id: ID!) { appointment(id: $id) { outcome error { message field } appointment { id status serviceId } } }`;
const CANCEL = /* GraphQL */ `
  mutation Cancel($id: ID!) { cancelAppointment(input: { appointmentId: $id }) { outcome error { message field } appointment { id status } } }
`;

const PATIENT = {
  nhsNumber: '9476719931',
  name: { family: 'Jones', given: ['Sian'] },
  birthDate: '1984-02-29',
  gender: 'FEMALE',
  address: { lines: ['1 Park Row'], city: 'Leeds', postcode: 'LS1 5AB' },
  phone: '0113 496 0000',
};
const HANDOVER = { reportId: '6f1f1c2e-8c7b-4d6e-9f0a-1b2c3d4e5f60', summary: 'Fall onto outstretched hand; wrist pain.', authorOdsCode: 'RX8' };
let keySeq = 0;
const input = (slotId: string) => ({ slotId, patient: PATIENT, clinicalHandover: HANDOVER, description: 'tamper test', idempotencyKey: `tamper-${Date.now()}-${++keySeq}` });

/** The id's fields as they sit inside it: [tag, system, serviceId, ref, mac]. */
function fields(id: string): string[] {
  return JSON.parse(Buffer.from(id, 'base64url').toString('utf8')) as string[];
}
/** The id with one field edited, MAC kept (nobody outside can recompute it). */
function edited(id: string, index: number, value: string): string {
  const v = fields(id);
  v[index] = value;
  return Buffer.from(JSON.stringify(v), 'utf8').toString('base64url');
}

async function slots(typename: string, serviceId: string): Promise<{ id: string }[]> {
  const from = new Date(Date.now() + 24 * 3600_000);
  const res = await gql(
    stack.gatewayUrl,
    `query($id: ID!, $from: DateTime!, $to: DateTime!) { service(id: $id) { ... on ${typename} { slots(from: $from, to: $to, first: 50) { nodes { id } } } } }`,
    { id: serviceId, from: from.toISOString(), to: new Date(from.getTime() + 2 * 24 * 3600_000).toISOString() },
    { authorization: `Bearer ${token}` },
  );
  expect(res.errors).toBeUndefined();
  const nodes = res.data!.service.slots.nodes as { id: string }[];
  expect(nodes.length).toBeGreaterThan(0);
  return nodes;
}

/** Requests that reached a sandbox besides its slot searches: anything that books, reads or cancels. */
async function writes(sandbox: string): Promise<unknown[]> {
  return (await sandboxRequests(sandbox)).filter((r) => r.method !== 'GET' || /appointment|booking/i.test(r.path));
}

beforeAll(async () => {
  redis = await startRedis();
  stack = await startStack({ ports: await freePorts(), env: { LOG_LEVEL: 'warn', REDIS_URL: redis.url } });
  bookingStandard = stack.url('sandbox-booking-standard');
  pas = stack.url('sandbox-pas-rest');
  token = await devToken({ org: 'RX8' });
}, 90_000);

afterAll(async () => {
  await stack?.stopAll();
  await redis?.dispose();
});

beforeEach(async () => {
  await clearSandbox(bookingStandard);
  await clearSandbox(pas);
});

describe('tamper-evident slot ids', () => {
  for (const [typename, serviceId, sandbox] of [
    ['BookingStandardService', '1402000102', () => bookingStandard],
    ['PasRestService', '1402000107', () => pas],
  ] as const) {
    it(`a ${typename} slot id with its service edited is INVALID_REQUEST, and the supplier hears nothing`, async () => {
      const [slot] = await slots(typename, serviceId);
      expect(fields(slot!.id)[2]).toBe(serviceId);
      const forged = [
        edited(slot!.id, 2, '1402000999'), // a service that does not exist
        edited(slot!.id, 2, '1402000103'), // another real service
        Buffer.from(JSON.stringify(['s1', ...fields(slot!.id).slice(1, 4)])).toString('base64url'), // the unsigned form
      ];
      await clearSandbox(sandbox());
      for (const id of forged) {
        const res = await gql(stack.gatewayUrl, BOOK, { input: input(id) }, { authorization: `Bearer ${token}` });
        expect(res.errors).toBeUndefined();
        expect(res.data!.bookAppointment).toMatchObject({ outcome: 'INVALID_REQUEST', appointment: null, error: { field: 'slotId' } });
      }
      expect(await writes(sandbox())).toEqual([]);
    });
  }
});

describe('tamper-evident appointment ids', () => {
  it('an appointment id with its service (or reference) edited is INVALID_REQUEST on cancel and read, before any supplier call', async () => {
    const [slot] = await slots('BookingStandardService', '1402000104');
    const booked = await gql(stack.gatewayUrl, BOOK, { input: input(slot!.id) }, { authorization: `Bearer ${token}` });
    expect(booked.data!.bookAppointment).toMatchObject({ outcome: 'BOOKED', appointment: { serviceId: '1402000104' } });
    const id = booked.data!.bookAppointment.appointment.id as string;
    expect(fields(id)[2]).toBe('1402000104');

    await clearSandbox(bookingStandard);
    for (const forged of [edited(id, 2, '1402000999'), edited(id, 2, '1402000105'), edited(id, 1, 'meridian-ooh'), edited(id, 3, `${fields(id)[3]}x`)]) {
      const cancel = await gql(stack.gatewayUrl, CANCEL, { id: forged }, { authorization: `Bearer ${token}` });
      expect(cancel.errors).toBeUndefined();
      expect(cancel.data!.cancelAppointment).toMatchObject({ outcome: 'INVALID_REQUEST', appointment: null, error: { field: 'appointmentId' } });
      const read = await gql(stack.gatewayUrl, READ, { id: forged }, { authorization: `Bearer ${token}` });
      expect(read.data!.appointment).toMatchObject({ outcome: 'INVALID_REQUEST', appointment: null });
    }
    expect(await writes(bookingStandard)).toEqual([]);

    // The genuine id still reads and cancels.
    const read = await gql(stack.gatewayUrl, READ, { id }, { authorization: `Bearer ${token}` });
    expect(read.data!.appointment).toMatchObject({ outcome: 'FOUND', appointment: { id, serviceId: '1402000104' } });
    const cancel = await gql(stack.gatewayUrl, CANCEL, { id }, { authorization: `Bearer ${token}` });
    expect(cancel.data!.cancelAppointment).toMatchObject({ outcome: 'CANCELLED' });
  });
});
