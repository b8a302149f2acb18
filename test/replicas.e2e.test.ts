/**
 * Replicas behind a real load balancer: two gateways and two of each remote subgraph (directory and suppliers)
 * behind HAProxy, one redis-server shared by all, the sandbox simulators as upstreams. Clients call the gateways'
 * frontend; the gateways call each subgraph's frontend. Shows round robin, that a replica killed mid-load costs at
 * most the requests it had in flight, that a booking made through one gateway is read and cancelled through the
 * other, and that a consumer's request limit is one limit across both gateways (shared in Redis).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GATEWAY, SANDBOXES, freePort } from '../scripts/stack.js';
import { devToken } from '../scripts/token.js';
import { ADAPTERS } from '../subgraphs/adapters.js';
import { SUBGRAPHS } from '../subgraphs/catalog.js';
import type { SupplierAdapter } from '../subgraphs/kit/adapter.js';
import { gql } from './helpers.js';
import { startRedis, type TestRedis } from './redis.js';
import { startHaproxy, type BalancedService, type Haproxy } from './support/haproxy.js';
import { defineReplica, type Replica } from './support/replicas.js';

const REMOTE = SUBGRAPHS.filter((s) => s.remote);
/** Sandbox-only values both sides of a sandbox connection need (an API key), from the adapters' descriptors. */
const SANDBOX_ENV: Record<string, string> = Object.assign({}, ...(ADAPTERS as readonly SupplierAdapter[]).map((a) => a.simulator?.env ?? {}));
/** Clients of the load runs: each has at most one request in flight, so at most this many are in flight anywhere. */
const CLIENTS = 6;
/**
 * The consumer request limit, lowered from the default (600) so the shared-limit test goes past it with a burst's
 * worth of small requests at each gateway; every load client is its own consumer, well inside it.
 */
const LIMIT_PER_MINUTE = 120;
/** Burst for that limit, as gateway/plugins/rate-limit/limits.ts derives it: half a minute's worth, at least 10. */
const LIMIT_BURST = Math.min(LIMIT_PER_MINUTE, Math.max(10, Math.ceil(LIMIT_PER_MINUTE * 0.5)));
/** Every replica starts at once (seventeen processes): on a busy 2-core machine one can take minutes to answer. */
const READY_TIMEOUT_MS = 240_000;

let redis: TestRedis;
let lb: Haproxy;
const sandboxes: Replica[] = [];
/** Two replicas of each remote subgraph, by subgraph name. */
const subgraphs = new Map<string, [Replica, Replica]>();
let gateways: [Replica, Replica];
let gatewayUrl: string;
let auth: Record<string, string>;

const SERVICE = '1402000102';
const SLOTS = /* GraphQL */ `
  query($id: ID!, $from: DateTime!, $to: DateTime!) {
    service(id: $id) { id ... on BookingStandardService { slots(from: $from, to: $to, first: 500) { nodes { id start end } } } }
  }
`;
const BOOK = /* GraphQL */ `
  mutation Book($input: BookAppointmentInput!) {
    bookAppointment(input: $input) { outcome error { message } appointment { id status serviceId start } }
  }
`;
const READ = /* GraphQL */ `
  query Read($id: ID!) { appointment(id: $id) { outcome error { message } appointment { id status start serviceId } } }
`;
const CANCEL = /* GraphQL */ `
  mutation Cancel($id: ID!) { cancelAppointment(input: { appointmentId: $id, reason: "Patient feels better" }) { outcome error { message } appointment { id status } } }
`;

function window() {
  const from = new Date(Date.now() + 24 * 3600_000);
  from.setUTCHours(0, 0, 0, 0);
  return { from: from.toISOString(), to: new Date(from.getTime() + 24 * 3600_000).toISOString() };
}

/** One slot search through `url`: null when it answered in full, else why not (the balancer's own pages included). */
async function search(url: string, headers = auth): Promise<string | null> {
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ query: SLOTS, variables: { id: SERVICE, ...window() } }),
    });
    const text = await res.text();
    if (res.status !== 200) return `HTTP ${res.status}`;
    const body = JSON.parse(text) as { data?: { service?: { slots?: { nodes?: unknown } } }; errors?: { message: string; extensions?: { code?: string } }[] };
    if (body.errors?.length) return body.errors[0]!.extensions?.code ?? body.errors[0]!.message;
    if (!Array.isArray(body.data?.service?.slots?.nodes)) return 'no slots';
    return null;
  } catch (err) {
    const cause = (err as Error & { cause?: { code?: string } }).cause;
    return `${(err as Error).message}${cause?.code ? ` (${cause.code})` : ''}`;
  }
}

interface Load {
  sent(): number;
  /** Each failed request: when it was sent, and why it failed. */
  failures(): { sentAt: number; why: string }[];
  stop(): Promise<void>;
}

/** CLIENTS loops calling `one` back to back until stopped; client `i` passes `i` (its own consumer, say). */
function startLoad(one: (client: number) => Promise<string | null>): Load {
  let sent = 0;
  let stopping = false;
  const failures: { sentAt: number; why: string }[] = [];
  const loops = Array.from({ length: CLIENTS }, async (_, i) => {
    while (!stopping) {
      sent++;
      const sentAt = Date.now();
      const why = await one(i);
      if (why) failures.push({ sentAt, why });
    }
  });
  return {
    sent: () => sent,
    failures: () => [...failures],
    async stop() {
      stopping = true;
      await Promise.all(loops);
    },
  };
}

async function until(what: string, cond: () => Promise<boolean> | boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** How often each server has gone from UP to DOWN, by backend/server. */
async function downs(): Promise<Record<string, number>> {
  const rows = (await lb.stats()).filter((r) => r.svname !== 'BACKEND' && r.svname !== 'FRONTEND');
  return Object.fromEntries(rows.map((r) => [`${r.pxname}/${r.svname}`, Number(r.chkdown || 0)]));
}

let loadRuns = 0;
/**
 * Kills `victim` (SIGKILL by pid) once it has served part of a load run through the balancer, and stops the run once
 * HAProxy has taken it out of rotation and the other replica has served 60 more. Prints and returns the figures.
 */
async function killMidLoad(backend: string, victim: Replica) {
  // Each client is its own consumer (a call centre), so the load stays inside the lowered request limit.
  const run = ++loadRuns;
  const consumers = await Promise.all(
    Array.from({ length: CLIENTS }, async (_, i) => ({ authorization: `Bearer ${await devToken({ org: `LOAD${run}C${i}` })}` })),
  );
  const before = await lb.served(backend);
  const downsBefore = await downs();
  const started = Date.now();
  const load = startLoad((i) => search(gatewayUrl, consumers[i]));
  let killedAt: number;
  let downAt: number;
  let inFlightAtKill: string;
  try {
    await until(`${victim.name} to serve part of the load`, async () => (await lb.served(backend))[victim.name]! - before[victim.name]! >= 20);
    // What HAProxy had open at the victim just before the kill (it moves while we read it: reported, not asserted).
    inFlightAtKill = (await lb.server(backend, victim.name)).scur!;
    killedAt = Date.now();
    await victim.kill();
    await lb.waitFor(backend, victim.name, 'DOWN');
    downAt = Date.now();
    const sentAtDown = load.sent();
    await until('the load to go on without it', () => load.sent() - sentAtDown >= 60);
  } finally {
    await load.stop();
  }
  const downsAfter = await downs();
  // Any other server the health checks took out meanwhile (a busy machine answering a check too slowly).
  const othersDown = Object.keys(downsAfter).filter((k) => k !== `${backend}/${victim.name}` && downsAfter[k]! > (downsBefore[k] ?? 0));
  const failures = load.failures();
  const reasons: Record<string, number> = {};
  for (const f of failures) reasons[f.why] = (reasons[f.why] ?? 0) + 1;
  const figures = {
    sent: load.sent(),
    failed: failures.length,
    /** Sent after the kill signal: a request the dying process still accepted, or one sent to it before HAProxy knew. */
    failedSentAfterKill: failures.filter((f) => f.sentAt >= killedAt).length,
    failedAfterDown: failures.filter((f) => f.sentAt >= downAt).length,
    seconds: (Date.now() - started) / 1000,
    downAfterMs: downAt - killedAt,
  };
  console.log(
    `${victim.name} killed mid-load (${CLIENTS} clients, ${figures.seconds.toFixed(1)} s): ${figures.sent} requests sent, ${figures.failed} failed ` +
      `${JSON.stringify(reasons)}, ${figures.failedSentAfterKill} of them sent after the kill; ${inFlightAtKill} open at it just before; ` +
      `out of rotation ${figures.downAfterMs} ms later, ` +
      `${figures.failedAfterDown} failed after that; others taken out: ${othersDown.join(', ') || 'none'}`,
  );
  return figures;
}

beforeAll(async () => {
  const setupStarted = Date.now();
  redis = await startRedis();
  for (const s of SANDBOXES) sandboxes.push(await defineReplica({ process: s.name, name: s.name, env: { ...SANDBOX_ENV, LOG_LEVEL: 'warn' }, readyTimeoutMs: READY_TIMEOUT_MS }));
  // Where each subgraph's and the gateways' frontends listen, known before anything starts.
  const frontends = new Map<string, number>();
  for (const s of [...REMOTE.map((r) => r.name), GATEWAY.name]) frontends.set(s, await freePort());
  const env: Record<string, string> = {
    LOG_LEVEL: 'warn',
    REDIS_URL: redis.url,
    ...SANDBOX_ENV,
    RATE_LIMIT_PER_MINUTE: String(LIMIT_PER_MINUTE),
  };
  SANDBOXES.forEach((s, i) => (env[s.urlEnv] = sandboxes[i]!.url));
  for (const s of REMOTE) env[s.remote!.urlEnv] = `http://127.0.0.1:${frontends.get(s.name)}/graphql`;
  for (const s of REMOTE) {
    const pair = [1, 2].map((n) => defineReplica({ process: s.name, name: `${s.name}-${n}`, env, readyTimeoutMs: READY_TIMEOUT_MS }));
    subgraphs.set(s.name, (await Promise.all(pair)) as [Replica, Replica]);
  }
  gateways = (await Promise.all([1, 2].map((n) => defineReplica({ process: GATEWAY.name, name: `gateway-${n}`, env, readyTimeoutMs: READY_TIMEOUT_MS })))) as [Replica, Replica];
  gatewayUrl = `http://127.0.0.1:${frontends.get(GATEWAY.name)}/graphql`;

  const services: BalancedService[] = [
    // Gateways are checked on readiness (internal port): 503 while one drains takes it out before it stops.
    { name: GATEWAY.name, port: frontends.get(GATEWAY.name)!, checkPath: '/health/ready', servers: gateways.map((g) => ({ name: g.name, port: g.port, checkPort: g.internalPort })) },
    ...REMOTE.map((s) => ({ name: s.name, port: frontends.get(s.name)!, checkPath: '/health/ready', servers: subgraphs.get(s.name)!.map((r) => ({ name: r.name, port: r.port })) })),
  ];
  lb = await startHaproxy(services);
  await Promise.all(sandboxes.map((s) => s.start()));
  // Subgraphs and gateways need each other only at request time: start them together.
  await Promise.all([...[...subgraphs.values()].flat(), ...gateways].map((s) => s.start()));
  for (const s of services) for (const v of s.servers) await lb.waitFor(s.name, v.name, 'UP', 60_000);
  auth = { authorization: `Bearer ${await devToken({ org: 'RX8' })}` };
  console.log(`${sandboxes.length + 2 * REMOTE.length + 2} processes and HAProxy ready in ${((Date.now() - setupStarted) / 1000).toFixed(1)} s`);
}, READY_TIMEOUT_MS + 60_000);

afterAll(async () => {
  await lb?.dispose();
  await Promise.all([...(gateways ?? []), ...[...subgraphs.values()].flat(), ...sandboxes].map((r) => r.stop()));
  await redis?.dispose();
}, 60_000);

describe('two replicas of each process behind HAProxy', () => {
  it('round robin: requests through the balancer land on both gateways and on both replicas of each subgraph they use', async () => {
    const before = { gateway: await lb.served(GATEWAY.name), directory: await lb.served('directory'), bs: await lb.served('booking-standard') };
    const n = 20;
    for (let i = 0; i < n; i++) expect(await search(gatewayUrl)).toBeNull();
    const delta = (now: Record<string, number>, then: Record<string, number>) => Object.fromEntries(Object.entries(now).map(([k, v]) => [k, v - then[k]!]));
    const gw = delta(await lb.served(GATEWAY.name), before.gateway);
    const dir = delta(await lb.served('directory'), before.directory);
    const bs = delta(await lb.served('booking-standard'), before.bs);
    console.log(`round robin over ${n} searches: gateways ${JSON.stringify(gw)}, directory ${JSON.stringify(dir)}, booking-standard ${JSON.stringify(bs)}`);
    // Only this test calls the gateways' frontend, one request at a time: round robin alternates exactly.
    expect(gw).toEqual({ 'gateway-1': n / 2, 'gateway-2': n / 2 });
    // Each search is one directory and one booking-standard fetch; the gateways' readiness probes add a few more.
    for (const counts of [dir, bs]) for (const [server, c] of Object.entries(counts)) expect(c, server).toBeGreaterThanOrEqual(n / 2 - 2);
  }, 60_000);

  it('a booking made through gateway 1 is read and cancelled through gateway 2', async () => {
    const [one, two] = gateways;
    const slots = await gql(one.url, SLOTS, { id: SERVICE, ...window() }, auth);
    expect(slots.errors, slots.raw).toBeUndefined();
    const slot = slots.data!.service.slots.nodes[0] as { id: string; start: string };
    expect(slot).toBeDefined();
    const input = {
      slotId: slot.id,
      patient: {
        nhsNumber: '9476719931',
        name: { family: 'Jones', given: ['Sian'] },
        birthDate: '1984-02-29',
        gender: 'FEMALE',
        address: { lines: ['1 Park Row'], city: 'Leeds', postcode: 'LS1 5AB' },
      },
      clinicalHandover: { reportId: '6f1f1c2e-8c7b-4d6e-9f0a-1b2c3d4e5f61', summary: 'Wrist pain after a fall.', authorOdsCode: 'RX8' },
      description: '111 referral',
      idempotencyKey: `replicas-${Date.now()}`,
    };
    const booked = await gql(one.url, BOOK, { input }, auth);
    expect(booked.errors, booked.raw).toBeUndefined();
    expect(booked.data!.bookAppointment).toMatchObject({ outcome: 'BOOKED', appointment: { status: 'BOOKED', serviceId: SERVICE } });
    const id = booked.data!.bookAppointment.appointment.id as string;

    const read = await gql(two.url, READ, { id }, auth);
    expect(read.data!.appointment, read.raw).toMatchObject({ outcome: 'FOUND', appointment: { id, status: 'BOOKED' } });
    expect(Date.parse(read.data!.appointment.appointment.start)).toBe(Date.parse(slot.start));
    const cancelled = await gql(two.url, CANCEL, { id }, auth);
    expect(cancelled.data!.cancelAppointment, cancelled.raw).toMatchObject({ outcome: 'CANCELLED', appointment: { id, status: 'CANCELLED' } });
    // And gateway 1 sees the cancellation; the same key replayed through gateway 2 is the first booking's answer.
    const after = await gql(one.url, READ, { id }, auth);
    expect(after.data!.appointment, after.raw).toMatchObject({ outcome: 'FOUND', appointment: { id, status: 'CANCELLED' } });
    const replay = await gql(two.url, BOOK, { input }, auth);
    expect(replay.data!.bookAppointment.appointment?.id ?? null, replay.raw).toBe(id);
  }, 60_000);

  it('a consumer request limit holds across both gateways: the sum they admit is bounded by the one limit', async () => {
    // A consumer no other test uses, so its bucket is full; requests alternate between the gateways, four at a time:
    // a burst's worth at each, which limits kept per replica would admit in full.
    const limited = { authorization: `Bearer ${await devToken({ org: 'NLO11' })}` };
    const admitted: Record<string, number> = { 'gateway-1': 0, 'gateway-2': 0 };
    const refused: Record<string, number> = { 'gateway-1': 0, 'gateway-2': 0 };
    const sends = 2 * LIMIT_BURST;
    let next = 0;
    const started = Date.now();
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (next < sends) {
          const g = gateways[next++ % 2]!;
          const res = await gql(g.url, '{ __typename }', {}, limited);
          if (res.status === 200 && !res.errors) admitted[g.name]!++;
          else {
            expect(res.status, res.raw).toBe(429);
            expect(res.errors![0]!.extensions).toMatchObject({ code: 'RATE_LIMITED' });
            refused[g.name]!++;
          }
        }
      }),
    );
    const elapsedMs = Date.now() - started;
    // One bucket: the burst, plus what the rate refills while the test runs (one request per 60/limit seconds).
    const bound = LIMIT_BURST + Math.ceil((elapsedMs * LIMIT_PER_MINUTE) / 60_000);
    const total = admitted['gateway-1']! + admitted['gateway-2']!;
    console.log(`shared limit ${LIMIT_PER_MINUTE}/min (burst ${LIMIT_BURST}): ${sends} sent, admitted ${JSON.stringify(admitted)} (${total}), refused ${JSON.stringify(refused)} in ${elapsedMs} ms; bound ${bound}`);
    expect(total).toBeLessThanOrEqual(bound);
    // Limits kept per replica would admit a burst at each: the bound is below that, or the test shows nothing.
    expect(bound).toBeLessThan(2 * LIMIT_BURST);
    for (const g of gateways) {
      expect(admitted[g.name], g.name).toBeGreaterThan(0);
      expect(refused[g.name], g.name).toBeGreaterThan(0);
    }
  }, 60_000);

  // The kill tests come last: each leaves its victim down (the other replica carries on, which is the point).
  it('a booking-standard replica killed mid-load costs at most the requests it had in flight', async () => {
    const victim = subgraphs.get('booking-standard')![1];
    const figures = await killMidLoad('booking-standard', victim);
    // Each search makes one booking-standard fetch and each client has one search in flight: at most CLIENTS fetches
    // can have been in flight at the killed replica. Later ones are refused a connection and resent to the other.
    expect(figures.failed).toBeLessThanOrEqual(CLIENTS);
    expect(figures.failedAfterDown).toBe(0);
  }, 120_000);

  it('a gateway replica killed mid-load costs at most the requests sent to it before it was out of rotation', async () => {
    const victim = gateways[1];
    const figures = await killMidLoad(GATEWAY.name, victim);
    // Each client has one request in flight. A client's next request may still reach the dead gateway before the
    // health check notices, on a connection HAProxy kept open to it (an idle connection it reuses): that one fails
    // after it was sent, which HAProxy rightly does not resend (the gateway might have acted on it). So at most two
    // per client, and none once HAProxy has taken the gateway out.
    expect(figures.failed).toBeLessThanOrEqual(2 * CLIENTS);
    expect(figures.failedAfterDown).toBe(0);
  }, 120_000);

});
