/**
 * Replicas behind a real load balancer: two gateways and two of each remote subgraph (directory and suppliers)
 * behind HAProxy, one redis-server shared by all, the sandbox simulators as upstreams. Clients call the gateways'
 * frontend; the gateways call each subgraph's frontend. Shows round robin, that a replica killed mid-load costs at
 * most the requests it had in flight, that a booking made through one gateway is read and cancelled through the
 * other, and that a consumer's request limit is one limit across both gateways (shared in Redis).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GATEWAY, SANDBOXES } from '../scripts/stack.js';
import { devToken } from '../scripts/token.js';
import { SUBGRAPHS } from '../subgraphs/catalog.js';
import { gql } from './helpers.js';
import { startRedis, type TestRedis } from './redis.js';
import { startHaproxy, type BalancedService, type Haproxy } from './support/haproxy.js';
import { defineReplica, type Replica } from './support/replicas.js';
import { freePort } from '../scripts/stack.js';

const REMOTE = SUBGRAPHS.filter((s) => s.remote);
/** Clients of the load runs: each has at most one request in flight, so at most this many are in flight anywhere. */
const CLIENTS = 6;
/**
 * The consumer request limit, lowered from the default (600) so the shared-limit test exhausts it in a few hundred
 * small requests; every load client is its own consumer, well inside it.
 */
const LIMIT_PER_MINUTE = 120;
/** Burst for that limit, as gateway/plugins/rate-limit/limits.ts derives it: half a minute's worth, at least 10. */
const LIMIT_BURST = Math.min(LIMIT_PER_MINUTE, Math.max(10, Math.ceil(LIMIT_PER_MINUTE * 0.5)));

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

/** One slot search through `url`: null when it answered in full, else why not. */
async function search(url: string, headers = auth): Promise<string | null> {
  try {
    const res = await gql(url, SLOTS, { id: SERVICE, ...window() }, headers);
    if (res.status !== 200) return `HTTP ${res.status}`;
    if (res.errors?.length) return String(res.errors[0]!.extensions?.code ?? res.errors[0]!.message);
    if (!Array.isArray(res.data?.service?.slots?.nodes)) return 'no slots';
    return null;
  } catch (err) {
    const cause = (err as Error & { cause?: { code?: string } }).cause;
    return `${(err as Error).message}${cause?.code ? ` (${cause.code})` : ''}`;
  }
}

interface Load {
  sent(): number;
  failed(): number;
  /** Failures by reason. */
  reasons(): Record<string, number>;
  stop(): Promise<void>;
}

/** CLIENTS loops calling `one` back to back until stopped; client `i` passes `i` (its own consumer, say). */
function startLoad(one: (client: number) => Promise<string | null>): Load {
  let sent = 0;
  let failed = 0;
  let stopping = false;
  const reasons: Record<string, number> = {};
  const loops = Array.from({ length: CLIENTS }, async (_, i) => {
    while (!stopping) {
      sent++;
      const why = await one(i);
      if (why) {
        failed++;
        reasons[why] = (reasons[why] ?? 0) + 1;
      }
    }
  });
  return {
    sent: () => sent,
    failed: () => failed,
    reasons: () => ({ ...reasons }),
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

/**
 * Kills `victim` (SIGKILL by pid) once it has served some of a load run through the balancer, and stops the run
 * once HAProxy has taken it out of rotation and the rest have served plenty more. Returns the run's figures.
 */
let loadRuns = 0;
async function killMidLoad(backend: string, victim: Replica) {
  // Each client is its own consumer (a call centre), so the load stays inside the lowered request limit.
  const run = ++loadRuns;
  const consumers = await Promise.all(
    Array.from({ length: CLIENTS }, async (_, i) => ({ authorization: `Bearer ${await devToken({ org: `LOAD${run}C${i}` })}` })),
  );
  const before = await lb.served(backend);
  const load = startLoad((i) => search(gatewayUrl, consumers[i]));
  try {
    await until(`${victim.name} to serve part of the load`, async () => (await lb.served(backend))[victim.name]! - before[victim.name]! >= 20);
    const sentAtKill = load.sent();
    const killedAt = Date.now();
    await victim.kill();
    await lb.waitFor(backend, victim.name, 'DOWN');
    const downAfterMs = Date.now() - killedAt;
    const sentAtDown = load.sent();
    await until('the load to go on without it', () => load.sent() - sentAtDown >= 60);
    return { sentAtKill, downAfterMs, load };
  } finally {
    await load.stop();
  }
}

beforeAll(async () => {
  redis = await startRedis();
  for (const s of SANDBOXES) sandboxes.push(await defineReplica({ process: s.name, name: s.name, env: { LOG_LEVEL: 'warn' } }));
  // Where each subgraph's and the gateways' frontends listen, known before anything starts.
  const frontends = new Map<string, number>();
  for (const s of [...REMOTE.map((r) => r.name), GATEWAY.name]) frontends.set(s, await freePort());
  const env: Record<string, string> = {
    LOG_LEVEL: 'warn',
    REDIS_URL: redis.url,
    OAKFIELD_PAS_API_KEY: 'sandbox-oakfield-key',
    SANDBOX_PAS_API_KEY: 'sandbox-oakfield-key',
    RATE_LIMIT_PER_MINUTE: String(LIMIT_PER_MINUTE),
  };
  SANDBOXES.forEach((s, i) => (env[s.urlEnv] = sandboxes[i]!.url));
  for (const s of REMOTE) env[s.remote!.urlEnv] = `http://127.0.0.1:${frontends.get(s.name)}/graphql`;
  for (const s of REMOTE) {
    const pair = [1, 2].map((n) => defineReplica({ process: s.name, name: `${s.name}-${n}`, env }));
    subgraphs.set(s.name, (await Promise.all(pair)) as [Replica, Replica]);
  }
  gateways = (await Promise.all([1, 2].map((n) => defineReplica({ process: GATEWAY.name, name: `gateway-${n}`, env })))) as [Replica, Replica];
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
}, 240_000);

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
    // A consumer no other test uses, so its bucket is full; requests alternate between the gateways, four at a time.
    const limited = { authorization: `Bearer ${await devToken({ org: 'NLO11' })}` };
    const admitted: Record<string, number> = { 'gateway-1': 0, 'gateway-2': 0 };
    const refused: Record<string, number> = { 'gateway-1': 0, 'gateway-2': 0 };
    const sends = 4 * LIMIT_BURST;
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
    const { sentAtKill, downAfterMs, load } = await killMidLoad('booking-standard', victim);
    console.log(`booking-standard replica killed: ${load.sent()} requests sent, ${load.failed()} failed ${JSON.stringify(load.reasons())} (killed after ${sentAtKill}; out of rotation ${downAfterMs} ms later)`);
    // Each search makes one booking-standard fetch and each client has one search in flight: at most CLIENTS fetches
    // can have been in flight at the killed replica. Later requests are refused a connection and resent.
    expect(load.failed()).toBeLessThanOrEqual(CLIENTS);
  }, 120_000);

  it('a gateway replica killed mid-load costs at most the requests it had in flight', async () => {
    const victim = gateways[1];
    const { sentAtKill, downAfterMs, load } = await killMidLoad(GATEWAY.name, victim);
    console.log(`gateway replica killed: ${load.sent()} requests sent, ${load.failed()} failed ${JSON.stringify(load.reasons())} (killed after ${sentAtKill}; out of rotation ${downAfterMs} ms later)`);
    // Each client has one request in flight, so at most CLIENTS were in flight at the killed gateway.
    expect(load.failed()).toBeLessThanOrEqual(CLIENTS);
  }, 120_000);

});
