/**
 * The subgraph itself (in-process, real HTTP both sides): entity resolution of PasRestService slots as the planner
 * sends it, counted against the supplier's request log (fewest upstream calls), the window rules every adapter
 * shares, failures as errors on nullable fields, and the internal booking operations' wiring.
 */
import { randomUUID } from 'node:crypto';
import { pino } from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RecordedRequest, SandboxServer } from '../../sandbox/lib/http.js';
import { startPasRestSimulator } from '../../sandbox/pas-rest/server.js';
import { gatewayHeaders } from '../../common/internal-auth.js';
import { loadRegistry, type Registry } from '../kit/registry.js';
import type { RunningSubgraph } from '../kit/server.js';
import { decodeSlotId } from '../../common/slot-id.js';
import { startPasRestSubgraph } from './index.js';

let sim: SandboxServer;
let registry: Registry;
let subgraph: RunningSubgraph;
const NHS111 = { odsCode: 'RX8', name: 'Yorkshire Ambulance Service NHS 111' };
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

beforeAll(async () => {
  sim = await startPasRestSimulator({ port: 0, apiKeys: ['sandbox-oakfield-key'], rateLimit: { perSecond: 1000 } });
  registry = loadRegistry(undefined, { SANDBOX_PAS_REST_URL: sim.url });
  // No slot cache: these tests count the adapter's own upstream calls (the cache's are in slot-cache.test.ts).
  subgraph = await startPasRestSubgraph({ port: 0, registry, env: { OAKFIELD_PAS_API_KEY: 'sandbox-oakfield-key' }, logger: pino({ level: 'silent' }), slotCache: null });
});
afterAll(async () => {
  await subgraph.close();
  await sim.close();
});
beforeEach(async () => {
  await fetch(`${sim.url}/_sandbox/requests`, { method: 'DELETE' });
  await fetch(`${sim.url}/_sandbox/faults`, { method: 'DELETE' });
});

async function gql(query: string, variables: Record<string, unknown>, consumer: typeof NHS111 | null = NHS111): Promise<{ data?: any; errors?: any[] }> {
  const sent = JSON.stringify({ query, variables });
  const res = await fetch(subgraph.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...gatewayHeaders(consumer ?? null, { url: subgraph.url, body: sent }) },
    body: sent,
  });
  return (await res.json()) as { data?: any; errors?: any[] };
}

async function upstream(): Promise<RecordedRequest[]> {
  return (await (await fetch(`${sim.url}/_sandbox/requests`)).json()) as RecordedRequest[];
}

const rep = (id: string, system = 'oakfield-pas') => ({ __typename: 'PasRestService', id, supplier: { id: system } });

const ENTITIES = `query($reps: [_Any!]!, $from: DateTime, $to: DateTime, $first: Int = 100) {
  _entities(representations: $reps) {
    ... on PasRestService {
      id
      slots(from: $from, to: $to, first: $first) { totalCount hasMore fetchedAt nodes { id serviceId start end status capacity deliveryChannel bookable source } }
      nextAvailable(withinDays: 3) { id start }
    }
  }
}`;

describe('slots through entity resolution', () => {
  it('answers every service of the batch with one clinic lookup and one session search per service', async () => {
    const from = new Date(Date.now() + HOUR).toISOString();
    const to = new Date(Date.now() + 2 * DAY).toISOString();
    const r = await gql(ENTITIES, { reps: [rep('1402000107'), rep('1403000206'), rep('1404000311')], from, to });
    expect(r.errors).toBeUndefined();
    expect(r.data._entities).toHaveLength(3);
    for (const e of r.data._entities) {
      expect(e.slots.totalCount).toBeGreaterThan(0);
      for (const s of e.slots.nodes) {
        expect(s).toMatchObject({ serviceId: e.id, status: 'FREE', bookable: true, source: 'LIVE' });
        expect(s.capacity).toBeGreaterThan(0);
        expect(s.start).toMatch(/[+-]\d{2}:\d{2}$/);
        expect(decodeSlotId(s.id)).toMatchObject({ system: 'oakfield-pas', serviceId: e.id });
        expect(Date.parse(s.start)).toBeGreaterThanOrEqual(Date.parse(from));
        expect(Date.parse(s.start)).toBeLessThanOrEqual(Date.parse(to));
      }
      // nextAvailable's three days and slots' window were one search: its answer is the earliest of the union.
      expect(Date.parse(e.nextAvailable.start)).toBeLessThanOrEqual(Date.parse(e.slots.nodes[0].start));
    }
    const calls = await upstream();
    expect(calls.filter((c) => c.path === '/api/v2/clinics')).toHaveLength(1);
    expect(calls.filter((c) => c.path.endsWith('/sessions'))).toHaveLength(3);
    expect(calls).toHaveLength(4);

    // The clinic lookup is remembered: the next request is the session searches alone.
    await fetch(`${sim.url}/_sandbox/requests`, { method: 'DELETE' });
    await gql(ENTITIES, { reps: [rep('1402000107'), rep('1403000206')], from, to });
    expect((await upstream()).map((c) => c.path.split('/').at(-1))).toEqual(['sessions', 'sessions']);
  });

  it('asks for whole local dates covering the union of the windows', async () => {
    const from = new Date(Date.now() + 6 * HOUR);
    const r = await gql(ENTITIES, { reps: [rep('1402000108')], from: from.toISOString(), to: new Date(from.getTime() + 5 * DAY).toISOString() });
    expect(r.errors).toBeUndefined();
    const [search] = (await upstream()).filter((c) => c.path.endsWith('/sessions'));
    const day = (ms: number) => new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/London' }).format(new Date(ms));
    // nextAvailable starts at now and slots ends five days on: one search from today's date to that date.
    expect([search!.query['from']?.[0], search!.query['to']?.[0]]).toEqual([day(Date.now()), day(from.getTime() + 5 * DAY)]);
  });

  it('applies the window rules every adapter shares', async () => {
    const now = Date.now();
    const backwards = await gql(ENTITIES, { reps: [rep('1402000107')], from: new Date(now + DAY).toISOString(), to: new Date(now).toISOString() });
    expect(backwards.errors?.[0]).toMatchObject({ message: 'to must be after from', extensions: { code: 'BAD_USER_INPUT', field: 'to' } });
    const long = await gql(ENTITIES, { reps: [rep('1402000107')], from: new Date(now).toISOString(), to: new Date(now + 15 * DAY).toISOString() });
    expect(long.errors?.[0]?.message).toBe('The window may span at most 14 days');
    const zero = await gql(ENTITIES, { reps: [rep('1402000107')], first: 0 });
    expect(zero.errors?.[0]?.extensions).toMatchObject({ field: 'first' });
  });

  it('a service Oakfield holds no clinic for fails alone, as a supplier error; the others answer', async () => {
    const r = await gql(ENTITIES, { reps: [rep('1402000107'), rep('1402000101')] });
    expect(r.data._entities[0].slots.totalCount).toBeGreaterThan(0);
    expect(r.data._entities[1]).toMatchObject({ slots: null, nextAvailable: null });
    expect(r.errors?.[0]?.extensions).toMatchObject({ code: 'SUPPLIER_UNAVAILABLE', supplierSystem: 'oakfield-pas', reason: 'REJECTED' });
    expect(JSON.stringify(r.errors)).not.toContain(sim.url);
  });

  it('the supplier down is null slots with a supplier error naming the system, never its URL', async () => {
    await gql(ENTITIES, { reps: [rep('1404000306')] }); // learn the clinic first
    await fetch(`${sim.url}/_sandbox/faults`, { method: 'POST', body: JSON.stringify({ pathPrefix: '/api/v2/clinics/', status: 503 }) });
    const r = await gql(ENTITIES, { reps: [rep('1404000306')] });
    expect(r.data._entities[0]).toMatchObject({ slots: null, nextAvailable: null });
    expect(r.errors?.[0]).toMatchObject({ message: 'Supplier system oakfield-pas is unavailable', extensions: { reason: 'UNAVAILABLE' } });
  });

  it('refuses without a consumer organisation, before any upstream call', async () => {
    const r = await gql(ENTITIES, { reps: [rep('1402000107')] }, null);
    expect(r.data._entities[0].slots).toBeNull();
    expect(r.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(await upstream()).toEqual([]);
  });
});

// ---- internal booking operations ----------------------------------------------------------------------------------

const APPOINTMENT = 'ref serviceId status start end created description version handoverReportId patient { nhsNumber family given birthDate }';
const OUTCOME = `code message diagnostics appointment { ${APPOINTMENT} }`;
const BOOK = `mutation($input: SupplierBookingInput!) { pasRestBook(input: $input) { ${OUTCOME} } }`;
const CANCEL = `mutation($input: SupplierCancelInput!) { pasRestCancel(input: $input) { ${OUTCOME} } }`;
const READ = `query($input: SupplierAppointmentInput!) { pasRestAppointment(input: $input) { ${OUTCOME} } }`;
const LIST = `query($input: SupplierPatientAppointmentsInput!) { pasRestPatientAppointments(input: $input) { code message appointments { ${APPOINTMENT} } } }`;

async function op(query: string, input: Record<string, unknown>, consumer: typeof NHS111 | null = NHS111): Promise<any> {
  const r = await gql(query, { input }, consumer);
  expect(r.errors).toBeUndefined();
  return Object.values(r.data as object)[0];
}

async function slotRef(): Promise<string> {
  const r = await gql(ENTITIES, { reps: [rep('1403000211')], from: new Date(Date.now() + DAY).toISOString(), to: new Date(Date.now() + 4 * DAY).toISOString() });
  return decodeSlotId(r.data._entities[0].slots.nodes[0].id)!.ref;
}

function bookingInput(ref: string) {
  return {
    system: 'oakfield-pas', serviceId: '1403000211', slotRef: ref, requestId: randomUUID(), mayHaveBooked: false,
    description: '111 referral: dental pain',
    patient: { nhsNumber: '9434765919', family: 'Jones', given: ['Sam'], birthDate: '1980-02-03', gender: 'male', addressLines: ['1 High Street'], postcode: 'BS16 3UH' },
    handover: { reportId: randomUUID(), reportTypeCode: 'POCD_MT200001GB02', reportTypeDisplay: 'Integrated Urgent Care Report', summary: 'Toothache', authorOdsCode: 'RX8' },
  };
}

describe('the internal booking operations over GraphQL', () => {
  it('book, read, list and cancel, with the codes the gateway maps', async () => {
    const input = bookingInput(await slotRef());
    const booked = await op(BOOK, input);
    expect(booked).toMatchObject({ code: 'BOOKED', appointment: { serviceId: '1403000211', status: 'BOOKED', patient: { nhsNumber: '9434765919' } } });
    const ref = booked.appointment.ref as string;

    const read = await op(READ, { system: 'oakfield-pas', serviceId: '1403000211', appointmentRef: ref });
    expect(read).toEqual({ ...booked, code: 'FOUND' });

    const listed = await op(LIST, { system: 'oakfield-pas', nhsNumber: '9434765919' });
    expect(listed).toMatchObject({ code: 'FOUND', message: null });
    expect(listed.appointments.map((a: { ref: string; serviceId: string }) => [a.ref, a.serviceId])).toContainEqual([ref, '1403000211']);

    const cancelled = await op(CANCEL, { system: 'oakfield-pas', serviceId: '1403000211', appointmentRef: ref, requestId: randomUUID(), reason: 'Patient recovered' });
    expect(cancelled).toMatchObject({ code: 'CANCELLED', appointment: { ref, status: 'CANCELLED' } });
  });

  it('refuses every operation without a consumer organisation: FORBIDDEN as data, nothing sent', async () => {
    const appointment = { system: 'oakfield-pas', serviceId: '1403000211', appointmentRef: 'bk_x' };
    expect((await op(BOOK, bookingInput('x'), null)).code).toBe('FORBIDDEN');
    expect((await op(CANCEL, { ...appointment, requestId: randomUUID() }, null)).code).toBe('FORBIDDEN');
    expect((await op(READ, appointment, null)).code).toBe('FORBIDDEN');
    expect((await op(LIST, { system: 'oakfield-pas', nhsNumber: '9434765919' }, null)).code).toBe('FORBIDDEN');
    expect(await upstream()).toEqual([]);
  });

  it('answers INVALID_REQUEST for a system that is not a PAS REST one in the registry', async () => {
    const r = await op(READ, { system: 'harbour-uec', serviceId: '1', appointmentRef: 'a' });
    expect(r).toMatchObject({ code: 'INVALID_REQUEST', message: expect.stringContaining('harbour-uec') });
  });
});
