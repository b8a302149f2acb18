/**
 * The whole stack on a real Redis Cluster (three masters, three replicas; REDIS_CLUSTER_NODES): the essential
 * booking and availability scenarios, then a master killed under load. What the provider stored is read back from
 * the simulator's control API; what Redis holds, from the cluster.
 *
 * Failover: a few clients search and book for about fifteen seconds; a few seconds in, the master holding the most
 * idempotency records is killed (SIGKILL: a crash, nothing flushed or handed over). Its replica is promoted after
 * cluster-node-timeout (2 s here). Asserted: every answer is a 200 with data or a typed error, availability keeps
 * answering (its coverage says when a supplier was not reached), no slot is booked twice at the provider, and once
 * the cluster has settled every booking retried with its key returns its one appointment. The figures are printed
 * on one line (requests sent, failed, the span of the failures).
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePorts, startStack, type Stack } from '../scripts/stack.js';
import { SUBGRAPHS } from '../subgraphs/catalog.js';
import { devToken } from '../scripts/token.js';
import { clearSandbox, gql, noInternalAddress, sandboxRequests, type GraphQLResponse } from './helpers.js';
import { startRedisCluster, type ClusterNodeProcess, type TestRedisCluster } from './support/redis-cluster.js';

let cluster: TestRedisCluster;
let stack: Stack;
let bs: string;
let auth: Record<string, string>;

const BOOK = /* GraphQL */ `
  mutation Book($input: BookAppointmentInput!) {
    bookAppointment(input: $input) { outcome error { message field } appointment { id status serviceId start } }
  }
`;
const CANCEL = /* GraphQL */ `
  mutation Cancel($id: ID!) { cancelAppointment(input: { appointmentId: $id, reason: "Patient feels better" }) { outcome appointment { id status } } }
`;
const AVAILABILITY = /* GraphQL */ `
  query($s: AvailabilitySearch!) {
    availability(search: $s) {
      coverage { servicesAsked servicesAnswered failures { serviceId reason } }
      edges { node { slot { id source } service { id } } }
    }
  }
`;
const SLOTS = /* GraphQL */ `
  query($id: ID!, $from: DateTime!, $to: DateTime!) { service(id: $id) { ... on BookingStandardService { slots(from: $from, to: $to, first: 500) { nodes { id start } } } } }
`;

const PATIENT = {
  nhsNumber: '9476719931',
  name: { family: 'Jones', given: ['Sian'] },
  birthDate: '1984-02-29',
  gender: 'FEMALE',
  address: { lines: ['1 Park Row'], postcode: 'LS1 5AB' },
};
let keySeq = 0;
function bookingInput(slotId: string) {
  return {
    slotId,
    patient: PATIENT,
    clinicalHandover: { reportId: '6f1f1c2e-8c7b-4d6e-9f0a-1b2c3d4e5f61', summary: 'Wrist injury.', authorOdsCode: 'RX8' },
    idempotencyKey: `cluster-${Date.now()}-${++keySeq}`,
  };
}

/** A one-day window `n` days ahead, so each scenario reads day buckets no other has cached. */
function day(n: number) {
  const from = new Date(Date.now() + n * 86_400_000);
  from.setUTCHours(0, 0, 0, 0);
  return { from: from.toISOString(), to: new Date(from.getTime() + 86_400_000 - 1000).toISOString() };
}

/** Why a subgraph refused the gateway, from its log: a failure here says which check and which process. */
function refusals(): string {
  const lines = SUBGRAPHS.filter((g) => g.remote).flatMap((g) =>
    stack.output(g.name).split('\n').filter((l) => l.includes('refused a request not signed by the gateway')).map((l) => `${g.name}: ${l}`),
  );
  return lines.length ? `subgraph refusals:\n${lines.slice(-5).join('\n')}` : 'no subgraph refused the gateway';
}

async function freeSlots(serviceId: string, n: number): Promise<{ id: string; start: string }[]> {
  const res = await gql(stack.gatewayUrl, SLOTS, { id: serviceId, ...day(n) }, auth);
  expect(res.errors, refusals()).toBeUndefined();
  return res.data!.service.slots.nodes;
}

interface StoredAppointment { resource: Record<string, any> }
/** The latest version of every appointment the provider holds. */
async function appointments(): Promise<Record<string, any>[]> {
  const latest = new Map<string, Record<string, any>>();
  for (const a of (await (await fetch(`${bs}/_sandbox/appointments`)).json()) as StoredAppointment[]) latest.set(a.resource.id, a.resource);
  return [...latest.values()];
}
/** Which slot a stored appointment holds: its contained Slot (schedule and start). */
function heldSlot(a: Record<string, any>): string {
  const slot = (a.contained as Record<string, any>[] | undefined)?.find((r) => r.resourceType === 'Slot');
  return `${Date.parse(a.start)}|${slot?.schedule?.reference ?? ''}|${slot?.id ?? ''}`;
}
const bookedAt = async (start: string) => (await appointments()).filter((a) => a.status === 'booked' && Date.parse(a.start) === Date.parse(start));
const appointmentPosts = async () => (await sandboxRequests(bs)).filter((r) => r.method === 'POST' && r.path.endsWith('/Appointment')).length;

const keysOnMasters = (pattern: string) => cluster.keysOnMasters(pattern);
const idempotencyRecords = async () => [...(await keysOnMasters('idem:*')).values()].flat().length;

beforeAll(async () => {
  cluster = await startRedisCluster();
  stack = await startStack({
    ports: await freePorts(),
    env: {
      LOG_LEVEL: 'warn',
      REDIS_CLUSTER_NODES: cluster.nodesSetting,
      // The failover load sends as fast as answers come: on an idle machine that outran the consumer's request and
      // cost limits, and their refusals were counted as failover failures. Raised, as the bench raises them.
      RATE_LIMIT_PER_MINUTE: '1000000',
      COST_LIMIT_PER_MINUTE: '100000000',
    },
    readyTimeoutMs: 120_000,
  });
  bs = stack.url('sandbox-booking-standard');
  auth = { authorization: `Bearer ${await devToken({ org: 'RX8' })}` };
}, 240_000);

afterAll(async () => {
  await stack?.stopAll();
  await cluster?.dispose();
});

describe('booking on a Redis Cluster', () => {
  it('books, returns the same appointment for the same key without a second booking, and cancels', async () => {
    await clearSandbox(bs);
    const [slot] = await freeSlots('1402000102', 2);
    const input = bookingInput(slot!.id);
    const first = await gql(stack.gatewayUrl, BOOK, { input }, auth);
    expect(first.data!.bookAppointment.outcome).toBe('BOOKED');
    const id = first.data!.bookAppointment.appointment.id;
    const again = await gql(stack.gatewayUrl, BOOK, { input }, auth);
    expect(again.data!.bookAppointment).toMatchObject({ outcome: 'BOOKED', appointment: { id } });
    expect(await appointmentPosts()).toBe(1);
    // The record is in the cluster (its key a digest: no patient data in it).
    expect([...(await keysOnMasters('idem:*')).values()].flat().length).toBeGreaterThan(0);

    const cancelled = await gql(stack.gatewayUrl, CANCEL, { id }, auth);
    expect(cancelled.data!.cancelAppointment).toMatchObject({ outcome: 'CANCELLED', appointment: { status: 'CANCELLED' } });
    expect(await bookedAt(slot!.start)).toHaveLength(0);
    // The slot is free again, at once (the day's generation moved in the cluster).
    expect((await freeSlots('1402000102', 2)).map((s) => s.id)).toContain(slot!.id);
  });

  it('twenty concurrent bookings of one slot: exactly one BOOKED, one appointment stored', async () => {
    const [slot] = await freeSlots('1402000105', 3);
    const results = await Promise.all(Array.from({ length: 20 }, () => gql(stack.gatewayUrl, BOOK, { input: bookingInput(slot!.id) }, auth)));
    const outcomes = results.map((r) => r.data?.bookAppointment.outcome ?? `error: ${r.errors?.[0]?.message}`);
    expect(outcomes.filter((o) => o === 'BOOKED')).toHaveLength(1);
    expect(outcomes.filter((o) => o === 'SLOT_UNAVAILABLE')).toHaveLength(19);
    expect(await bookedAt(slot!.start)).toHaveLength(1);
  }, 60_000);
});

describe('availability on a Redis Cluster', () => {
  it('serves a warm search from the cluster, and a second gateway process sees the first one\'s caches', async () => {
    const search = { serviceIds: ['1402000102', '1402000105', '1402000107', '1402000108'], ...day(5), first: 200 };
    const query = '{ service(id: "1402000101") { name } }';
    const ext = { persistedQuery: { version: 1, sha256Hash: createHash('sha256').update(query).digest('hex') } };
    const post = (body: object) =>
      fetch(stack.gatewayUrl, { method: 'POST', headers: { 'content-type': 'application/json', ...auth }, body: JSON.stringify(body) }).then((r) => r.json() as Promise<any>);

    // Until every supplier has answered once (a cold process on a busy machine may miss its first deadline).
    let cold = await gql(stack.gatewayUrl, AVAILABILITY, { s: search }, auth);
    for (let i = 0; i < 10 && cold.data!.availability.coverage.failures.length > 0; i++) {
      await new Promise((r) => setTimeout(r, 1000));
      cold = await gql(stack.gatewayUrl, AVAILABILITY, { s: search }, auth);
    }
    expect(cold.data!.availability.coverage.failures).toEqual([]);
    expect(cold.data!.availability.edges.length).toBeGreaterThan(0);
    expect((await post({ query, extensions: ext })).data.service.name).toMatch(/St James/);

    // A new gateway process: nothing in its memory, so whatever it does not ask the suppliers for came from Redis.
    await stack.stop('gateway');
    await stack.start('gateway');
    await clearSandbox(bs);
    await clearSandbox(stack.url('sandbox-pas-rest'));
    const warm = await gql(stack.gatewayUrl, AVAILABILITY, { s: search }, auth);
    expect(warm.data!.availability.edges.map((e: any) => e.node.slot.id)).toEqual(cold.data!.availability.edges.map((e: any) => e.node.slot.id));
    expect(new Set(warm.data!.availability.edges.map((e: any) => e.node.slot.source))).toEqual(new Set(['CACHE']));
    expect(await sandboxRequests(bs)).toEqual([]);
    expect(await sandboxRequests(stack.url('sandbox-pas-rest'))).toEqual([]);
    // The query hash registered through the first process is known to the second.
    expect((await post({ extensions: ext })).data.service.name).toMatch(/St James/);
    expect([...(await keysOnMasters('apq:*')).values()].flat()).toHaveLength(1);
  }, 90_000);
});

/** `f` over `items`, `n` at a time, results in order. */
async function inBatches<T, R>(items: readonly T[], n: number, f: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += n) out.push(...(await Promise.all(items.slice(i, i + n).map(f))));
  return out;
}

interface Sent {
  kind: 'availability' | 'booking';
  at: number;
  ms: number;
  failed: boolean;
  degraded?: boolean;
  input?: ReturnType<typeof bookingInput>;
  outcome?: string;
  appointmentId?: string;
  start?: string;
}

/** A response is answered (200, data, typed errors only) or failed; either way it must not leak or be untyped. */
function judge(res: GraphQLResponse | Error): { failed: boolean; problem?: string } {
  if (res instanceof Error) return { failed: true };
  const untyped = (res.errors ?? []).filter((e) => typeof e.extensions?.code !== 'string');
  if (untyped.length > 0) return { failed: true, problem: `untyped error (${res.status}): ${res.raw.slice(0, 300)}` };
  if (!noInternalAddress(res.raw)) return { failed: true, problem: `internal detail in: ${res.raw.slice(0, 300)}` };
  return { failed: res.status !== 200 || !!res.errors?.length || !res.data };
}

describe('failover under load', () => {
  it('a master killed: its replica takes over, bookings are neither lost nor doubled, availability keeps answering', async () => {
    await clearSandbox(bs);
    await clearSandbox(stack.url('sandbox-pas-rest'));
    const slots = (await Promise.all([7, 8].flatMap((d) => [freeSlots('1402000102', d), freeSlots('1402000105', d)]))).flat();
    expect(slots.length).toBeGreaterThan(30);
    const search = (n: number) => ({ serviceIds: ['1402000102', '1402000105', '1402000107', '1402000108'], ...day(6 + (n % 3)), first: 100 });
    const sent: Sent[] = [];
    const problems: string[] = [];
    const recordsBefore = await idempotencyRecords();
    const started = Date.now();
    const durationMs = 12_000;
    let killedAt = 0;
    let promotedAt = 0;
    let killed: ClusterNodeProcess | undefined;

    async function client(c: number): Promise<void> {
      for (let i = 0; Date.now() - started < durationMs; i++) {
        if (i % 2 === 0) {
          const t0 = Date.now();
          const res = await gql(stack.gatewayUrl, AVAILABILITY, { s: search(c + i) }, auth).catch((e: unknown) => e as Error);
          const j = judge(res);
          if (j.problem) problems.push(j.problem);
          const cov = res instanceof Error ? undefined : res.data?.availability?.coverage;
          sent.push({ kind: 'availability', at: Date.now(), ms: Date.now() - t0, failed: j.failed, degraded: !!cov && cov.failures.length > 0 });
        } else {
          const slot = slots.shift();
          if (!slot) continue;
          const input = bookingInput(slot.id);
          const t0 = Date.now();
          const res = await gql(stack.gatewayUrl, BOOK, { input }, auth).catch((e: unknown) => e as Error);
          const j = judge(res);
          if (j.problem) problems.push(j.problem);
          const b = res instanceof Error ? undefined : res.data?.bookAppointment;
          sent.push({ kind: 'booking', at: Date.now(), ms: Date.now() - t0, failed: j.failed || b?.outcome !== 'BOOKED', input, outcome: b?.outcome, appointmentId: b?.appointment?.id, start: slot.start });
        }
      }
    }

    async function killBusiestMaster(): Promise<void> {
      await new Promise((r) => setTimeout(r, 3000));
      // The master holding the most idempotency records: the failover then tests them.
      const byMaster = [...(await keysOnMasters('idem:*')).entries()].sort((a, b) => b[1].length - a[1].length);
      killed = cluster.nodes.find((n) => n.port === byMaster[0]![0])!;
      const probe = byMaster[0]![1][0]!;
      killedAt = Date.now();
      await cluster.kill(killed, 'SIGKILL');
      // Polled: when the cluster names another master for the dead one's slots.
      while ((await cluster.masterOf(probe).catch(() => killed!)).port === killed.port && Date.now() - killedAt < 60_000) {
        await new Promise((r) => setTimeout(r, 100));
      }
      promotedAt = Date.now();
    }

    await Promise.all([client(0), client(1), client(2), client(3), killBusiestMaster()]);
    expect(killed).toBeDefined();
    // The replica is promoted and the cluster serves every slot again.
    await cluster.waitHealthy({ timeoutMs: 60_000 });

    expect(problems).toEqual([]);
    const availability = sent.filter((s) => s.kind === 'availability');
    const bookings = sent.filter((s) => s.kind === 'booking');
    const failed = sent.filter((s) => s.failed);
    const window = failed.length ? (Math.max(...failed.map((f) => f.at)) - Math.min(...failed.map((f) => f.at))) / 1000 : 0;

    // Availability kept answering throughout: failures, if any, are few and within the failover.
    expect(availability.filter((a) => !a.failed).length).toBeGreaterThan(availability.length / 2);
    expect(availability.filter((a) => !a.failed && a.at > killedAt).length).toBeGreaterThan(0);

    // Records that could not be written while the cluster moved are written in the background once it has: wait for
    // them (a record lost for good leaves this short, and is counted below).
    const finished = bookings.filter((b) => b.outcome === 'BOOKED');
    for (const until = Date.now() + 40_000; Date.now() < until && (await idempotencyRecords()) < recordsBefore + finished.length; ) {
      await new Promise((r) => setTimeout(r, 250));
    }
    // Every finished booking retried with its own key: the same appointment, from its record, nothing sent upstream.
    await clearSandbox(bs);
    const replays = await inBatches(finished, 4, (b) => gql(stack.gatewayUrl, BOOK, { input: b.input }, auth));
    replays.forEach((r, i) => expect(r.data?.bookAppointment, r.raw).toMatchObject({ outcome: 'BOOKED', appointment: { id: finished[i]!.appointmentId } }));
    // A replay that reached the provider found no record: which bookings those were, by the start it asked for.
    const postsAgain = (await sandboxRequests(bs)).filter((r) => r.method === 'POST' && r.path.endsWith('/Appointment'));
    const startsAgain = new Set(postsAgain.map((r) => Date.parse((JSON.parse(r.body) as { start?: string }).start ?? '')));
    const lostAt = finished.filter((b) => startsAgain.has(Date.parse(b.start!))).map((b) => b.at);
    const recordsLost = new Set(postsAgain.map((r) => r.headers['x-request-id'])).size;
    // Any booking left unfinished by the failover settles with its key: booked once.
    for (const b of bookings.filter((x) => x.outcome !== 'BOOKED')) {
      let res = await gql(stack.gatewayUrl, BOOK, { input: b.input }, auth);
      for (let tries = 0; tries < 5 && res.data?.bookAppointment.outcome === 'OUTCOME_UNKNOWN'; tries++) {
        await new Promise((r) => setTimeout(r, 500));
        res = await gql(stack.gatewayUrl, BOOK, { input: b.input }, auth);
      }
      expect(res.data?.bookAppointment?.outcome, res.raw).toBe('BOOKED');
    }
    // No slot was booked twice at the provider, and every booking holds exactly one appointment.
    const held = (await appointments()).filter((a) => a.status === 'booked');
    const slotsHeld = held.map(heldSlot);
    expect(slotsHeld.length - new Set(slotsHeld).size).toBe(0);
    for (const b of bookings) expect(held.filter((a) => Date.parse(a.start) === Date.parse(b.start!)).length, b.start).toBeGreaterThanOrEqual(1);

    const count = (re: RegExp) => (stack.output('gateway').match(re) ?? []).length;
    const felt = Object.keys(stack.ports).filter((name) => /redis unavailable/.test(stack.output(name)));
    // The processes noticed: the kill was real, and absorbed.
    expect(felt.length).toBeGreaterThan(0);
    const slowest = (kind: Sent['kind']) => (Math.max(...sent.filter((x) => x.kind === kind).map((x) => x.ms)) / 1000).toFixed(1);
    console.log(
      `redis-cluster failover (SIGKILL of the master with the most idempotency records; cluster-node-timeout 2000 ms): ` +
        `requests ${sent.length} (availability ${availability.length}, bookings ${bookings.length}), failed ${failed.length} ` +
        `(availability ${availability.filter((a) => a.failed).length}, bookings ${bookings.filter((b) => b.failed).length}), ` +
        `failures spanning ${window.toFixed(1)} s; availability answers with coverage failures ${availability.filter((a) => a.degraded).length}; ` +
        `slowest answer ${slowest('availability')} s (availability), ${slowest('booking')} s (booking); processes that logged the outage: ${felt.join(', ')}; ` +
        `replica promoted ${((promotedAt - killedAt) / 1000).toFixed(1)} s after the kill; finished bookings whose idempotency record was lost ${recordsLost}` +
        ` (answered ${lostAt.map((t) => `${((t - killedAt) / 1000).toFixed(1)} s`).join(', ') || '-'} after the kill); ` +
        `gateway log lines "idempotency store unavailable": ${count(/idempotency store unavailable/g)}, "could not record the booking outcome": ${count(/could not record the booking outcome/g)}`,
    );
    expect(recordsLost).toBe(0);
  }, 120_000);
});
