/**
 * BaRS, the fifth supplier, end to end: the gateway, every subgraph and every simulator as separate processes (one
 * stack for the file), a real redis-server for idempotency records. What the BaRS receiver stored and was sent is read
 * back from its control API. The token's expiry and a refused assertion are covered against the simulator in
 * subgraphs/bars/flows.test.ts, where its clock and registered keys can be set.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePorts, startStack, type Stack } from '../scripts/stack.js';
import { devToken } from '../scripts/token.js';
import { decodeSlotId } from '../common/slot-id.js';
import { gql, injectFault, sandboxRequests } from './helpers.js';
import { startRedis, type TestRedis } from './redis.js';

const BS = '1402000102'; // St James's UTC (Booking Standard, Harbour)
const PAS = '1402000107'; // Leeds Dental Institute (Oakfield PAS)
const FEED = 'smart:smart-urgent-care:0:556'; // SMART feed location
const SDEC = '1402000113'; // St James's Same Day Emergency Care (BaRS), in the same building as BS
const NHS_NUMBER = '9476719931';

let stack: Stack;
let redis: TestRedis;
let bars: string;
let auth: Record<string, string>;

const BOOK = /* GraphQL */ `
  mutation Book($input: BookAppointmentInput!) {
    bookAppointment(input: $input) {
      outcome
      error { message field }
      appointment { id status serviceId supplierSystem start end clinicalReportId }
    }
  }
`;
const READ = /* GraphQL */ `query Read($id: ID!) { appointment(id: $id) { outcome error { message } appointment { id status start serviceId } } }`;
const CANCEL = /* GraphQL */ `mutation Cancel($id: ID!) { cancelAppointment(input: { appointmentId: $id, reason: "Patient feels better" }) { outcome error { message } appointment { id status } } }`;
const LIST = /* GraphQL */ `query List($p: PatientLookupInput!) { appointments(patient: $p) { appointments { id status serviceId supplierSystem } failures { supplierSystem outcome } } }`;

const PATIENT = {
  nhsNumber: NHS_NUMBER,
  name: { family: 'Chalmers', given: ['Peter'], prefix: ['Mr'] },
  birthDate: '1974-12-25',
  gender: 'MALE',
  address: { lines: ['123 High Street'], city: 'Leeds', postcode: 'LS1 4HR' },
  phone: '0113 496 0000',
};
const HANDOVER = { reportId: '0b8e4c2a-5d1f-4e6a-9b3c-7d2e1f0a9b8c', summary: 'Abdominal pain, stable observations.', authorOdsCode: 'RX8' };
let keySeq = 0;
const bookingInput = (slotId: string) => ({ slotId, patient: PATIENT, clinicalHandover: HANDOVER, description: '111 referral: abdominal pain', idempotencyKey: `bars-e2e-${Date.now()}-${++keySeq}` });

function window(fromDays: number, days: number) {
  const from = new Date(Date.now() + fromDays * 86_400_000);
  return { from: from.toISOString(), to: new Date(from.getTime() + days * 86_400_000).toISOString() };
}

/** Free BaRS slots at SDEC, from the gateway, `fromDays` ahead. */
async function barsSlots(fromDays: number): Promise<{ id: string; start: string; end: string }[]> {
  const res = await gql(
    stack.gatewayUrl,
    `query($id: ID!, $from: DateTime!, $to: DateTime!) { service(id: $id) { __typename ... on BarsService { slots(from: $from, to: $to, first: 200) { nodes { id start end bookable } } } } }`,
    { id: SDEC, ...window(fromDays, 1) },
    auth,
  );
  expect(res.errors).toBeUndefined();
  expect(res.data!.service.__typename).toBe('BarsService');
  return res.data!.service.slots.nodes;
}

async function stored(): Promise<any[]> {
  return (await (await fetch(`${bars}/_sandbox/appointments`)).json()) as any[];
}
const slotRefOf = (slotId: string) => decodeSlotId(slotId)!.ref.split('~')[1]!;

beforeAll(async () => {
  redis = await startRedis();
  stack = await startStack({ ports: await freePorts(), env: { LOG_LEVEL: 'warn', REDIS_URL: redis.url, SMART_LINKS_POLL_FLOOR_SECONDS: '1' }, readyTimeoutMs: 120_000 });
  bars = stack.url('sandbox-bars');
  auth = { authorization: `Bearer ${await devToken({ org: 'RX8' })}` };
}, 180_000);

afterAll(async () => {
  await stack?.stopAll();
  await redis?.dispose();
});

describe('BaRS beside the other suppliers', () => {
  it('availability answers with slots of all four kinds in one list', async () => {
    const query = `query($s: AvailabilitySearch!) { availability(search: $s) {
      coverage { servicesAsked servicesAnswered failures { serviceId reason } }
      edges { node { slot { id start serviceId } service { id supplierSystem } } } } }`;
    // The feed is read in the background: poll until its snapshot is in.
    let answer: any;
    for (let i = 0; i < 60; i++) {
      const res = await gql(stack.gatewayUrl, query, { s: { serviceIds: [BS, PAS, FEED, SDEC], ...window(1, 1), first: 200 } }, auth);
      expect(res.errors).toBeUndefined();
      answer = res.data!.availability;
      if (new Set(answer.edges.map((e: any) => e.node.service.id)).size === 4) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(answer.coverage.failures).toEqual([]);
    const systems = new Set(answer.edges.map((e: any) => e.node.service.supplierSystem));
    expect([...systems].sort()).toEqual(expect.arrayContaining(['bars-sandbox', 'harbour-uec', 'oakfield-pas', 'smart-urgent-care']));
    const starts = answer.edges.map((e: any) => Date.parse(e.node.slot.start));
    expect(starts).toEqual([...starts].sort((a: number, b: number) => a - b));
    for (const e of answer.edges.filter((x: any) => x.node.service.id === SDEC)) expect(decodeSlotId(e.node.slot.id)?.system).toBe('bars-sandbox');
  });

  it('a BaRS service in a building with other services is listed as its own service', async () => {
    const res = await gql(
      stack.gatewayUrl,
      `query { services(filter: { ids: ["${SDEC}", "1402000101", "${BS}", "1402000103"] }, first: 10) { nodes { __typename id name bookable supplier { id kind } location { siteId postcode } } } }`,
      {},
      auth,
    );
    expect(res.errors).toBeUndefined();
    const nodes = res.data!.services.nodes as any[];
    expect(nodes).toHaveLength(4);
    expect(new Set(nodes.map((n) => n.location.siteId))).toEqual(new Set(['site-ls9-sjuh']));
    const sdec = nodes.find((n) => n.id === SDEC);
    expect(sdec).toMatchObject({ __typename: 'BarsService', bookable: true, supplier: { id: 'bars-sandbox', kind: 'BARS' } });
    expect(nodes.filter((n) => n.__typename === 'BarsService')).toHaveLength(1);
  });
});

describe('booking a BaRS slot through the gateway', () => {
  it('books, reads, lists and cancels; the receiver got the patient, the handover reference and our organisation', async () => {
    const [slot] = await barsSlots(1);
    expect(slot).toBeDefined();
    const booked = await gql(stack.gatewayUrl, BOOK, { input: bookingInput(slot!.id) }, auth);
    expect(booked.errors).toBeUndefined();
    const b = booked.data!.bookAppointment;
    expect(b).toMatchObject({ outcome: 'BOOKED', appointment: { status: 'BOOKED', serviceId: SDEC, supplierSystem: 'bars-sandbox', start: slot!.start, clinicalReportId: HANDOVER.reportId } });

    const held = (await stored()).filter((a) => a.slotId === slotRefOf(slot!.id));
    expect(held).toHaveLength(1);
    expect(held[0]).toMatchObject({ serviceId: SDEC, bookingOds: 'RX8', nhsNumber: NHS_NUMBER, status: 'booked' });
    const resources = held[0].messages[0].bundle.entry.map((e: any) => e.resource);
    const patient = resources.find((r: any) => r.resourceType === 'Patient');
    expect(patient.identifier[0].value).toBe(NHS_NUMBER);
    expect(patient.name[0].family).toBe('Chalmers');
    const appointment = resources.find((r: any) => r.resourceType === 'Appointment');
    expect(appointment.supportingInformation[0].identifier.value).toBe(HANDOVER.reportId);
    const senderRef = resources[0].sender.reference;
    const sender = held[0].messages[0].bundle.entry.find((e: any) => e.fullUrl === senderRef).resource;
    expect(sender.identifier[0]).toEqual({ system: 'https://fhir.nhs.uk/Id/ods-organization-code', value: 'RX8' });

    const read = await gql(stack.gatewayUrl, READ, { id: b.appointment.id }, auth);
    expect(read.data!.appointment).toMatchObject({ outcome: 'FOUND', appointment: { id: b.appointment.id, status: 'BOOKED', serviceId: SDEC } });

    const listed = await gql(stack.gatewayUrl, LIST, { p: { nhsNumber: NHS_NUMBER } }, auth);
    expect(listed.errors).toBeUndefined();
    expect(listed.data!.appointments.failures.filter((f: any) => f.supplierSystem === 'bars-sandbox')).toEqual([]);
    expect(listed.data!.appointments.appointments.map((a: any) => a.id)).toContain(b.appointment.id);

    const cancelled = await gql(stack.gatewayUrl, CANCEL, { id: b.appointment.id }, auth);
    expect(cancelled.data!.cancelAppointment).toMatchObject({ outcome: 'CANCELLED', appointment: { status: 'CANCELLED' } });
    expect((await stored()).find((a) => a.id === held[0].id).status).toBe('cancelled');
    // The slot is free again.
    expect((await barsSlots(1)).map((s) => s.start)).toContain(slot!.start);
  });

  it('50 concurrent bookings of one BaRS slot: one BOOKED, 49 SLOT_UNAVAILABLE, one appointment at the receiver', async () => {
    const [, slot] = await barsSlots(2);
    const results = await Promise.all(Array.from({ length: 50 }, () => gql(stack.gatewayUrl, BOOK, { input: bookingInput(slot!.id) }, auth)));
    const outcomes = results.map((r) => r.data?.bookAppointment.outcome ?? `error: ${r.errors?.[0]?.message}`);
    expect(outcomes.filter((o) => o === 'BOOKED'), outcomes.join()).toHaveLength(1);
    expect(outcomes.filter((o) => o === 'SLOT_UNAVAILABLE'), outcomes.join()).toHaveLength(49);
    expect((await stored()).filter((a) => a.slotId === slotRefOf(slot!.id) && a.status === 'booked')).toHaveLength(1);
  });

  it('a lost booking answer is reconciled: the retry with the same idempotency key gets the same appointment, one booking', async () => {
    const [, , slot] = await barsSlots(3);
    await injectFault(bars, { pathPrefix: '/booking-and-referral/FHIR/R4/$process-message', method: 'POST', afterHandling: true, reset: true, times: 1 });
    const input = bookingInput(slot!.id);
    const first = await gql(stack.gatewayUrl, BOOK, { input }, auth);
    expect(first.data!.bookAppointment.outcome).toBe('BOOKED');
    const retry = await gql(stack.gatewayUrl, BOOK, { input }, auth);
    expect(retry.data!.bookAppointment).toMatchObject({ outcome: 'BOOKED', appointment: { id: first.data!.bookAppointment.appointment.id } });
    const held = (await stored()).filter((a) => a.slotId === slotRefOf(slot!.id));
    expect(held).toHaveLength(1);
    // The same message went twice under one X-Request-Id: a replay, never a second booking.
    const posts = (await sandboxRequests(bars)).filter((r) => r.method === 'POST' && r.path.endsWith('/$process-message') && held[0].messages.some((m: any) => m.requestId === r.headers['x-request-id']));
    expect(posts.length).toBeGreaterThanOrEqual(2);
    expect(new Set(posts.map((p) => p.body)).size).toBe(1);
  });
});
