/**
 * A second federation engine on the same supergraph: Hive Gateway (bench/hive-gateway.ts) serves the committed
 * schema/supergraph.graphql as composed, beside our gateway, over the same subgraph processes, with the
 * gateway-owned operations as their own subgraph process (gateway/operations/standalone.ts) and consumer tokens and
 * signature headers handled by gateway/engines/hive-plugin.ts. The README's example queries answer the same through
 * both, and a booking made through Hive is read and cancelled through either. A second Hive process plans with
 * @graphql-hive/router-runtime (Hive Router's Rust query planner, a native addon) and answers the README's queries
 * the same too.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SUBGRAPHS } from '../subgraphs/catalog.js';
import { gatewayHeaders } from '../common/internal-auth.js';
import { PROCESSES, freePort, freePorts, entryProgram, startStack, stopChild, type Stack } from '../scripts/stack.js';
import { devToken } from '../scripts/token.js';
import { gql, type GraphQLResponse } from './helpers.js';
import { startRedis, type TestRedis } from './redis.js';

const root = fileURLToPath(new URL('../', import.meta.url));

/** The README's first example (Quick start), verbatim. */
const README_SERVICES = /* GraphQL */ `{
  services(near: { postcode: "LS1 4AP" }, radiusKm: 10, first: 5) {
    edges {
      distanceKm
      node {
        id
        name
        serviceType
        capacityStatus { rag ageMinutes }
        slots(first: 3) { totalCount nodes { id start end deliveryChannel practitioner { name role } } }
      }
    }
    pageInfo { hasNextPage endCursor }
  }
}`;
/** The README's availability example, verbatim. */
const README_AVAILABILITY = /* GraphQL */ `{
  availability(search: { near: { postcode: "LS1 4AP" }, radiusKm: 15, types: [URGENT_TREATMENT_CENTRE, EMERGENCY_DEPARTMENT], first: 10 }) {
    totalCount
    coverage { servicesAsked servicesAnswered failures { serviceId supplierSystem reason } }
    edges { cursor node { distanceKm slot { id start end source fetchedAt } service { id name supplierSystem } } }
    pageInfo { hasNextPage endCursor }
  }
}`;
const SLOTS = /* GraphQL */ `
  query($id: ID!, $from: DateTime!, $to: DateTime!) { service(id: $id) { ... on BookingStandardService { slots(from: $from, to: $to, first: 50) { nodes { id start } } } } }
`;
const BOOK = /* GraphQL */ `
  mutation Book($input: BookAppointmentInput!) { bookAppointment(input: $input) { outcome error { message field } appointment { id status serviceId supplierSystem start } } }
`;
const READ = /* GraphQL */ `query Read($id: ID!) { appointment(id: $id) { outcome appointment { id status start } } }`;
const CANCEL = /* GraphQL */ `mutation Cancel($id: ID!) { cancelAppointment(input: { appointmentId: $id, reason: "Patient feels better" }) { outcome appointment { id status } } }`;
const PATIENT = {
  nhsNumber: '9476719931',
  name: { family: 'Jones', given: ['Sian'] },
  birthDate: '1984-02-29',
  gender: 'FEMALE',
  address: { lines: ['1 Park Row'], city: 'Leeds', postcode: 'LS1 5AB' },
  phone: '0113 496 0000',
};
const HANDOVER = { reportId: '6f1f1c2e-8c7b-4d6e-9f0a-1b2c3d4e5f60', summary: 'Fall onto outstretched hand; wrist pain.', authorOdsCode: 'RX8' };

let redis: TestRedis;
let stack: Stack;
let operations: ChildProcess | undefined;
let hive: ChildProcess | undefined;
let hiveRouter: ChildProcess | undefined;
let operationsUrl: string;
let hiveUrl: string;
let hiveRouterUrl: string;
const output: string[] = [];
const tokens: Record<string, string> = {};

function spawnProcess(entry: string, env: Record<string, string>): ChildProcess {
  const child = spawn(process.execPath, entry.startsWith('bench/') ? ['--import', 'tsx', entry] : entryProgram(entry), { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const keep = (c: Buffer) => {
    output.push(`[${entry}] ${c.toString('utf8')}`);
    if (output.length > 200) output.shift();
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return child;
}

/** Polls until `ready` answers true, the child has not exited, within 120 s (generous: the machine may be loaded). */
async function waitFor(child: ChildProcess, what: string, ready: () => Promise<boolean>): Promise<void> {
  const until = Date.now() + 120_000;
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`${what} exited with code ${child.exitCode}:\n${output.join('')}`);
    if (await ready().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${what} did not become ready within 120 s:\n${output.join('').slice(-3000)}`);
}

const bearer = (name: string) => ({ authorization: `Bearer ${tokens[name]}` });

/**
 * Volatile by nature, so compared by type only: when a supplier gave a slot, whether it came live or from the
 * cache, and ages in minutes. An availability cursor (`["a1", position, search fingerprint]`, base64url JSON) is
 * compared by position: the fingerprint covers the search's window, whose default start is the request's "now".
 */
function normalise(value: unknown, key = ''): unknown {
  if (key === 'fetchedAt' || key === 'source' || key === 'ageMinutes') return typeof value;
  if ((key === 'cursor' || key === 'endCursor') && typeof value === 'string') {
    let decoded: unknown;
    try {
      decoded = JSON.parse(Buffer.from(value, 'base64url').toString('utf8'));
    } catch {
      return value;
    }
    // An availability cursor is its position, a fingerprint of the search and the window's start: a search without
    // `from` starts now (to the second), so answers a second apart differ in all but the position.
    const availability = Array.isArray(decoded) && ((decoded[0] === 'a1' && decoded.length === 3) || (decoded[0] === 'a2' && decoded.length === 4));
    return availability ? (decoded as unknown[]).slice(0, 2) : value;
  }
  if (Array.isArray(value)) return value.map((v) => normalise(v));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, normalise(v, k)]));
  return value;
}

/**
 * The same query through ours, Hive, then ours again: Hive's answer must equal one of ours (a slot may cross the
 * window's edge, which moves with the clock, between two requests; never for both).
 */
async function compare(query: string, engineUrl: string): Promise<void> {
  const before = await gql(stack.gatewayUrl, query, {}, bearer('nhs111'));
  const viaHive = await gql(engineUrl, query, {}, bearer('nhs111'));
  const after = await gql(stack.gatewayUrl, query, {}, bearer('nhs111'));
  for (const r of [before, viaHive, after]) expect(r.errors, r.raw).toBeUndefined();
  expect([normalise(before.data), normalise(after.data)]).toContainEqual(normalise(viaHive.data));
}

beforeAll(async () => {
  redis = await startRedis();
  const [ports, opsPort, hivePort, hiveRouterPort] = await Promise.all([freePorts(), freePort(), freePort(), freePort()]);
  // Every URL is known from the ports, so the standalone operations and Hive start beside the stack, not after it.
  const url = (name: string) => `http://127.0.0.1:${ports[name]}${PROCESSES.find((p) => p.name === name)!.urlPath}`;
  const starting = startStack({ ports, env: { LOG_LEVEL: 'warn', REDIS_URL: redis.url }, readyTimeoutMs: 120_000 });
  // The standalone operations reach every process as our gateway does, and share its Redis.
  const env: Record<string, string> = { LOG_LEVEL: 'warn', REDIS_URL: redis.url, OPERATIONS_PORT: String(opsPort) };
  for (const p of PROCESSES) if (p.urlEnv) env[p.urlEnv] = url(p.name);
  operations = spawnProcess('gateway/operations/standalone.ts', env);
  operationsUrl = `http://127.0.0.1:${opsPort}/graphql`;
  const subgraphUrls = Object.fromEntries(SUBGRAPHS.map((s) => [s.name, s.remote ? url(s.name) : operationsUrl]));
  hive = spawnProcess('bench/hive-gateway.ts', { HIVE_PORT: String(hivePort), HIVE_SUBGRAPH_URLS: JSON.stringify(subgraphUrls) });
  hiveUrl = `http://127.0.0.1:${hivePort}/graphql`;
  hiveRouter = spawnProcess('bench/hive-gateway.ts', { HIVE_PORT: String(hiveRouterPort), HIVE_SUBGRAPH_URLS: JSON.stringify(subgraphUrls), HIVE_ROUTER_RUNTIME: 'true' });
  hiveRouterUrl = `http://127.0.0.1:${hiveRouterPort}/graphql`;
  tokens.nhs111 = await devToken({ org: 'RX8' });
  tokens.readOnly = await devToken({ org: 'RX8', scope: 'slots:read' });
  stack = await starting;
  await waitFor(operations, 'the standalone operations subgraph', async () => (await fetch(`http://127.0.0.1:${opsPort}/health/ready`)).ok);
  await waitFor(hive, 'Hive Gateway', async () => (await gql(hiveUrl, '{ __typename }')).status === 200);
  await waitFor(hiveRouter, 'Hive Gateway with the router runtime', async () => (await gql(hiveRouterUrl, '{ __typename }')).status === 200);
  // The SMART feeds' first snapshots: both engines then see the same complete coverage.
  await gql(stack.gatewayUrl, README_AVAILABILITY, {}, bearer('nhs111'));
}, 300_000);

afterAll(async () => {
  if (hive) await stopChild(hive);
  if (hiveRouter) await stopChild(hiveRouter);
  if (operations) await stopChild(operations);
  await stack?.stopAll();
  await redis?.dispose();
});

describe('Hive Gateway on the committed supergraph', () => {
  it("answers the README's services query as our gateway does", async () => {
    await compare(README_SERVICES, hiveUrl);
  });

  it("answers the README's availability query (the standalone operations subgraph) as our gateway does", async () => {
    await compare(README_AVAILABILITY, hiveUrl);
  });

  it("with the router runtime (Rust query planner), answers the README's queries as our gateway does", async () => {
    // The native planner is loaded in that process, not only asked for.
    expect(readFileSync(`/proc/${hiveRouter!.pid}/maps`, 'utf8')).toMatch(/hive_router_query_planner\.[\w-]+\.node/);
    await compare(README_SERVICES, hiveRouterUrl);
    await compare(README_AVAILABILITY, hiveRouterUrl);
  });

  it('books through Hive; the booking is replayed and read through ours and cancelled through Hive', async () => {
    const from = new Date(Date.now() + 24 * 3600_000);
    const slots = await gql(hiveUrl, SLOTS, { id: '1402000102', from: from.toISOString(), to: new Date(from.getTime() + 2 * 24 * 3600_000).toISOString() }, bearer('nhs111'));
    expect(slots.errors, slots.raw).toBeUndefined();
    const slot = slots.data!.service.slots.nodes[0] as { id: string; start: string };
    expect(slot).toBeDefined();
    const input = { slotId: slot.id, patient: PATIENT, clinicalHandover: HANDOVER, description: '111 referral: wrist injury', idempotencyKey: `hive-${randomUUID()}` };

    const booked = await gql(hiveUrl, BOOK, { input }, bearer('nhs111'));
    expect(booked.errors, booked.raw).toBeUndefined();
    expect(booked.data!.bookAppointment).toMatchObject({ outcome: 'BOOKED', appointment: { status: 'BOOKED', serviceId: '1402000102', supplierSystem: 'harbour-uec' } });
    const id = booked.data!.bookAppointment.appointment.id as string;

    // The same key through our gateway: the standalone process kept the idempotency record in the shared Redis.
    const replay = await gql(stack.gatewayUrl, BOOK, { input }, bearer('nhs111'));
    expect(replay.data?.bookAppointment, replay.raw).toMatchObject({ outcome: 'BOOKED', appointment: { id } });

    const read = await gql(stack.gatewayUrl, READ, { id }, bearer('nhs111'));
    expect(read.data?.appointment, read.raw).toMatchObject({ outcome: 'FOUND', appointment: { id, status: 'BOOKED' } });

    const cancelled = await gql(hiveUrl, CANCEL, { id }, bearer('nhs111'));
    expect(cancelled.data?.cancelAppointment, cancelled.raw).toMatchObject({ outcome: 'CANCELLED', appointment: { status: 'CANCELLED' } });
    const after = await gql(hiveUrl, READ, { id }, bearer('nhs111'));
    expect(after.data?.appointment, after.raw).toMatchObject({ outcome: 'FOUND', appointment: { id, status: 'CANCELLED' } });
  });

  it('refuses booking without a token or without the scope, as our gateway does', async () => {
    const input = { slotId: 'x', patient: PATIENT, clinicalHandover: HANDOVER, idempotencyKey: `hive-${randomUUID()}` };
    const anonymous = await gql(hiveUrl, BOOK, { input });
    expect(anonymous.errors?.[0]?.extensions?.code, anonymous.raw).toBe('UNAUTHENTICATED');
    const readOnly = await gql(hiveUrl, BOOK, { input }, bearer('readOnly'));
    expect(readOnly.errors?.[0]?.extensions?.code, readOnly.raw).toBe('FORBIDDEN');
    const bad = await gql(hiveUrl, '{ __typename }', {}, { authorization: 'Bearer not.a.token' });
    expect(bad.status).toBe(401);
  });
});

describe('the standalone operations subgraph', () => {
  const body = JSON.stringify({ query: '{ appointment(id: "x") { outcome } }' });
  const post = (headers: Record<string, string>): Promise<GraphQLResponse> =>
    fetch(operationsUrl, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body }).then(async (r) => ({ status: r.status, headers: r.headers, raw: await r.clone().text(), ...((await r.json()) as object) }));

  it('answers only requests signed as the gateway signs, and acts only for a consumer the signature vouches for', async () => {
    // Unsigned, even naming a consumer: refused before anything runs.
    const unsigned = await post({ 'x-consumer-organisation': Buffer.from(JSON.stringify({ odsCode: 'RX8', name: 'x' })).toString('base64url') });
    expect(unsigned.status).toBe(401);
    // Signed, but naming no consumer: nothing runs.
    const anonymous = await post(gatewayHeaders(null, { url: operationsUrl, body }));
    expect(anonymous.errors?.[0]?.extensions?.code, anonymous.raw).toBe('UNAUTHENTICATED');
    // Signed for a consumer: the operation runs (an id this gateway never issued is a typed outcome).
    const signed = await post(gatewayHeaders({ odsCode: 'RX8', name: 'Yorkshire Ambulance Service NHS 111' }, { url: operationsUrl, body }));
    expect(signed.data, signed.raw).toEqual({ appointment: { outcome: 'INVALID_REQUEST' } });
  });
});
