/**
 * SMART feeds off the request path, through the real stack (every process on its own, one redis-server): the
 * directory and two smart-links processes share one poller per feed (a lease in Redis) and one snapshot, so the
 * publisher sees one manifest request per poll floor between them; a publisher stalled for 10 s delays no search
 * without its services, and searches with them are answered from the snapshot (`source: CACHE`, the true
 * `fetchedAt`), marked stale when the snapshot is older than the search's maxAge (or the poll failed).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, freePorts, startStack, stopChild, type Stack } from '../scripts/stack.js';
import { devToken } from '../scripts/token.js';
import { gatewayHeaders } from '../common/internal-auth.js';
import { clearSandbox, gql, injectFault, sandboxRequests } from './helpers.js';
import { startRedis, type TestRedis } from './redis.js';

const FLOOR_SECONDS = 2;
const BOSTON = 'smart:smart-vaccines:0:57';
const NHS111 = { odsCode: 'RX8', name: 'Yorkshire Ambulance Service NHS 111' };

let stack: Stack;
let redis: TestRedis;
let feedsUrl: string;
let auth: Record<string, string>;
let second: ChildProcess;
let secondUrl: string;

beforeAll(async () => {
  redis = await startRedis();
  const env = {
    LOG_LEVEL: 'warn',
    REDIS_URL: redis.url,
    SMART_LINKS_POLL_FLOOR_SECONDS: String(FLOOR_SECONDS),
    // general-appointments then polls at the floor too (max-age 0), not every 5 minutes.
    SANDBOX_FEEDS_MAX_AGE_SECONDS: '0',
  };
  stack = await startStack({ ports: await freePorts(), env, readyTimeoutMs: 90_000 });
  feedsUrl = stack.url('sandbox-feeds');
  auth = { authorization: `Bearer ${await devToken({ org: 'RX8' })}` };
  // A second smart-links process, as a replica would run: same environment, its own port.
  const port = await freePort();
  second = spawn(process.execPath, ['--import', 'tsx', 'subgraphs/smart-links/index.ts'], {
    env: { ...process.env, ...env, SMART_LINKS_PORT: String(port), SANDBOX_FEEDS_URL: feedsUrl },
    stdio: 'ignore',
  });
  secondUrl = `http://127.0.0.1:${port}/graphql`;
  const until = Date.now() + 30_000;
  while (!(await fetch(`http://127.0.0.1:${port}/health/live`).then((r) => r.ok, () => false))) {
    if (Date.now() > until) throw new Error('the second smart-links process did not start');
    await new Promise((r) => setTimeout(r, 100));
  }
}, 240_000);

afterAll(async () => {
  if (second) await stopChild(second);
  await stack?.stopAll();
  await redis?.dispose();
});

const week = () => ({ from: new Date().toISOString(), to: new Date(Date.now() + 7 * 86_400_000).toISOString() });

const SERVICE_SLOTS = /* GraphQL */ `
  query($id: ID!, $from: DateTime, $to: DateTime, $maxAge: Int) {
    service(id: $id) { id slots(from: $from, to: $to, first: 5, maxAge: $maxAge) { totalCount fetchedAt nodes { id source fetchedAt } } }
  }
`;

const POSTCODE_SEARCH = /* GraphQL */ `
  query { services(near: { postcode: "LS1 4AP" }, radiusKm: 10, first: 5) { edges { node { id } } } }
`;

async function timed<T>(f: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t = performance.now();
  const value = await f();
  return { ms: performance.now() - t, value };
}

async function bostonSlots(maxAge?: number) {
  const r = await gql(stack.gatewayUrl, SERVICE_SLOTS, { id: BOSTON, ...week(), ...(maxAge !== undefined ? { maxAge } : {}) }, auth);
  expect(r.errors).toBeUndefined();
  return r.data!.service.slots as { totalCount: number; fetchedAt: string; nodes: { id: string; source: string; fetchedAt: string }[] };
}

/** The internal top-K operation, signed as the gateway signs it, straight to a smart-links process. */
async function topSlots(url: string, maxAge: number | null) {
  const sent = JSON.stringify({
    query: `query($input: SupplierTopSlotsInput!) { smartLinksTopSlots(input: $input) { services { serviceId totalCount fetchedAt stale failure } slots { slot { source fetchedAt } } } }`,
    variables: { input: { services: [{ id: BOSTON, system: 'smart-vaccines', rank: 0 }], ...week(), first: 5, maxAge, mode: 'MERGED', includeHandoff: true } },
  });
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...gatewayHeaders(NHS111, { url, body: sent }) }, body: sent });
  const body = (await res.json()) as { data?: any; errors?: unknown[] };
  expect(body.errors).toBeUndefined();
  return body.data.smartLinksTopSlots as { services: { serviceId: string; totalCount: number; fetchedAt: string; stale: boolean; failure: string | null }[]; slots: { slot: { source: string; fetchedAt: string } }[] };
}

async function waitFor(cond: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const manifests = async (dataSet: string) => (await sandboxRequests(feedsUrl)).filter((r) => r.path === `/${dataSet}/$bulk-publish`) as { path: string; status?: number; at?: string; seq: number }[];

describe('one poller per feed between the directory and two smart-links processes', () => {
  it('the publisher sees one manifest request per poll floor, and every process serves the snapshot', async () => {
    // Both smart-links processes and the directory answer from the shared snapshot.
    await waitFor(async () => (await bostonSlots()).totalCount > 0, 30_000, 'the first snapshot');
    const direct = await topSlots(secondUrl, null);
    expect(direct.services[0]).toMatchObject({ serviceId: BOSTON, failure: null, stale: false });
    expect(direct.services[0]!.totalCount).toBeGreaterThan(0);

    await clearSandbox(feedsUrl);
    // Three pollers each at the floor would make about three requests per floor; one poller makes one.
    await waitFor(async () => (await manifests('vaccine-clinic')).length >= 4 && (await manifests('general-appointments')).length >= 4, 40_000, 'four polls of each feed');
    for (const dataSet of ['vaccine-clinic', 'general-appointments']) {
      const at = (await manifests(dataSet)).map((r) => Date.parse(r.at!));
      // `at` is when the request arrived (ms precision): the next may not arrive before a floor after the last answer.
      for (let i = 1; i < at.length; i++) expect(at[i]! - at[i - 1]!, `${dataSet} polls ${i - 1} → ${i}`).toBeGreaterThanOrEqual(FLOOR_SECONDS * 1000 - 5);
    }
    // Conditional GETs: an unchanged publication is a 304, its files not asked for again.
    expect((await manifests('vaccine-clinic')).every((r) => r.status === 304)).toBe(true);
    const files = (await sandboxRequests(feedsUrl)).filter((r) => r.path.endsWith('.ndjson'));
    expect(files).toEqual([]);
  }, 90_000);
});

describe('a feed publisher stalled for 10 s', () => {
  it('delays no search without its services; searches with them answer from the snapshot: CACHE, the true fetchedAt, stale past maxAge', async () => {
    await waitFor(async () => (await bostonSlots()).totalCount > 0, 30_000, 'the first snapshot');
    // Normal time of a postcode search (no feed service has coordinates, so none is in it).
    const normal: number[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await timed(() => gql(stack.gatewayUrl, POSTCODE_SEARCH, {}, auth));
      expect(r.value.errors).toBeUndefined();
      normal.push(r.ms);
    }
    const bound = Math.max(1000, 3 * Math.max(...normal));

    // The snapshot is current before the stall: its fetch time is the publisher's last answer, at most a floor ago.
    const before = await bostonSlots();
    const lastGood = Date.parse(before.fetchedAt);
    expect(Date.now() - lastGood).toBeLessThan(FLOOR_SECONDS * 1000 + 5000);

    await clearSandbox(feedsUrl);
    const stalledAt = Date.now();
    await injectFault(feedsUrl, { pathPrefix: '/vaccine-clinic/', stall: true, forMs: 10_000 });
    // The poller is now hanging on the publisher (the registry gives it 5 s).
    await waitFor(async () => (await manifests('vaccine-clinic')).length > 0, 15_000, 'a poll of the stalled publisher');
    const stalledPoll = (await manifests('vaccine-clinic'))[0]!;
    expect(stalledPoll.status).toBeUndefined(); // not answered

    for (let i = 0; i < 3; i++) {
      const r = await timed(() => gql(stack.gatewayUrl, POSTCODE_SEARCH, {}, auth));
      expect(r.value.errors).toBeUndefined();
      expect(r.value.data!.services.edges.length).toBeGreaterThan(0);
      expect(r.ms).toBeLessThan(bound);
    }

    const during = await timed(() => bostonSlots());
    expect(during.ms).toBeLessThan(bound);
    const slots = during.value;
    expect(slots.nodes.length).toBeGreaterThan(0);
    for (const n of slots.nodes) expect(n).toMatchObject({ source: 'CACHE', fetchedAt: slots.fetchedAt });
    // The true fetch time: the publisher's last answer before the stall, not now.
    const fetchedAt = Date.parse(slots.fetchedAt);
    expect(fetchedAt).toBeLessThanOrEqual(Date.parse(stalledPoll.at!));
    expect(fetchedAt, `fetchedAt ${slots.fetchedAt}, stalled at ${new Date(stalledAt).toISOString()}; ${stack.output('smart-links').slice(-2000)}`).toBeGreaterThanOrEqual(lastGood - 5000);

    // Older than maxAge: still answered, labelled CACHE with the same fetchedAt, and marked stale (both processes).
    await waitFor(async () => Date.now() - fetchedAt > 2000, 10_000, 'the snapshot to be 2 s old');
    for (const url of [stack.url('smart-links'), secondUrl]) {
      const t = await timed(() => topSlots(url, 1));
      expect(t.ms).toBeLessThan(bound);
      expect(t.value.services[0]).toMatchObject({ serviceId: BOSTON, failure: null, stale: true, fetchedAt: slots.fetchedAt });
      expect(t.value.slots.every((s) => s.slot.source === 'CACHE' && s.slot.fetchedAt === slots.fetchedAt)).toBe(true);
    }
    const viaGateway = await bostonSlots(1);
    expect(viaGateway.fetchedAt).toBe(slots.fetchedAt);
    expect(viaGateway.nodes.every((n) => n.source === 'CACHE')).toBe(true);

    // When the hanging poll gives up (the registry's 5 s deadline), the answer is stale whatever the maxAge.
    await waitFor(async () => (await topSlots(secondUrl, null)).services[0]!.stale, 15_000, 'the failed poll to mark the feed stale');
    // The other process learns of the failed poll from the shared store on its own next tick (under a second here).
    await waitFor(async () => (await topSlots(stack.url('smart-links'), null)).services[0]!.stale, 5_000, 'the other process to see the failed poll');
    const failed = await timed(() => topSlots(stack.url('smart-links'), null));
    expect(failed.ms).toBeLessThan(bound);
    expect(failed.value.services[0]).toMatchObject({ stale: true, failure: null, fetchedAt: slots.fetchedAt });

    // Once the stall is over, the next poll brings a fresh snapshot: not stale, fetched after the stall.
    await waitFor(async () => Date.parse((await topSlots(secondUrl, null)).services[0]!.fetchedAt) >= stalledAt + 10_000, 30_000, 'a snapshot fetched after the stall');
    const after = await topSlots(secondUrl, 30);
    expect(after.services[0]!.stale).toBe(false);
    // The other process (the one the gateway asks) picks the shared snapshot up on its own next look at the store.
    await waitFor(async () => Date.parse((await bostonSlots()).fetchedAt) >= stalledAt + 10_000, 15_000, 'the gateway to see the fresh snapshot');
  }, 90_000);
});

describe('a publication that suddenly lists no files', () => {
  it('keeps the last snapshot: the services keep their slots, and availability lists them as STALE until files return', async () => {
    await waitFor(async () => (await bostonSlots()).totalCount > 0, 30_000, 'the first snapshot');
    const before = await bostonSlots();
    const AVAILABILITY = `query($s: AvailabilitySearch!) { availability(search: $s) { totalCount coverage { servicesAsked failures { serviceId reason } } edges { node { slot { serviceId source } } } } }`;
    const search = { serviceIds: [BOSTON], ...week(), first: 50 };

    await clearSandbox(feedsUrl);
    const emptiedAt = Date.now();
    // The publisher's manifest now answers 200 with an empty `output`: a broken publish, not every clinic closing.
    await injectFault(feedsUrl, {
      pathPrefix: '/vaccine-clinic/$bulk-publish',
      status: 200,
      body: { transactionTime: new Date().toISOString(), request: `${feedsUrl}/vaccine-clinic/$bulk-publish`, requiresAccessToken: false, output: [], error: [] },
    });
    await waitFor(async () => (await manifests('vaccine-clinic')).some((r) => r.status === 200), 15_000, 'a poll of the emptied manifest');
    await waitFor(
      async () => {
        const r = await gql(stack.gatewayUrl, AVAILABILITY, { s: search }, auth);
        return (r.data?.availability?.coverage?.failures ?? []).some((f: { reason: string }) => f.reason === 'STALE');
      },
      15_000,
      'availability to report the feed STALE',
    );
    const during = await gql(stack.gatewayUrl, AVAILABILITY, { s: search }, auth);
    expect(during.errors).toBeUndefined();
    expect(during.data!.availability.coverage.failures).toEqual([{ serviceId: BOSTON, reason: 'STALE' }]);
    expect(during.data!.availability.totalCount).toBeGreaterThan(0);
    expect(during.data!.availability.edges.length).toBeGreaterThan(0);
    expect(during.data!.availability.edges.every((e: { node: { slot: { source: string } } }) => e.node.slot.source === 'CACHE')).toBe(true);
    expect((await bostonSlots()).fetchedAt).toBe(before.fetchedAt);

    // Files listed again: the next poll reads them and the STALE goes.
    await clearSandbox(feedsUrl);
    await waitFor(
      async () => {
        const r = await gql(stack.gatewayUrl, AVAILABILITY, { s: search }, auth);
        return r.data?.availability?.coverage?.failures?.length === 0;
      },
      20_000,
      'availability to be whole again',
    );
    expect(Date.parse((await bostonSlots()).fetchedAt)).toBeGreaterThanOrEqual(emptiedAt);
  }, 90_000);
});
