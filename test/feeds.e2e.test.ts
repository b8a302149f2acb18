/**
 * SMART feeds off the request path, through the real stack (every process on its own, one redis-server): the
 * directory and two smart-links processes share one poller per feed (a lease in Redis) and one snapshot, so the
 * publisher sees one manifest request per poll floor between them; a publisher stalled for 10 s delays no search
 * without its services, and searches with them are answered from the snapshot (`source: CACHE`, the true
 * `fetchedAt`), marked stale when the snapshot is older than the search's maxAge (or the poll failed).
 *
 * A third feed (a fixture publisher in this process, added to the registry) holds a five-day clinic that opened two
 * days ago and an appointment, both published at -05:00: the running session is in `availability`, `slots`,
 * `capacity` and `nextAvailable` on its third day, and every time comes back with the offset it was published with.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, freePorts, processProgram, startStack, stopChild, type Stack } from '../scripts/stack.js';
import { devToken } from '../scripts/token.js';
import { gatewayHeaders } from '../common/internal-auth.js';
import { rfc3339AtOffset } from '../common/offset-time.js';
import { repoRoot } from '../subgraphs/kit/schema.js';
import { clearSandbox, gql, injectFault, sandboxRequests } from './helpers.js';
import { startRedis, type TestRedis } from './redis.js';
import { capacity, deepLink, serveFixtures, simpleFeed, slot, type ServedFixtures } from './support/feeds.js';

const FLOOR_SECONDS = 2;
const BOSTON = 'smart:smart-vaccines:0:57';
const NHS111 = { odsCode: 'RX8', name: 'Yorkshire Ambulance Service NHS 111' };

let stack: Stack;
let redis: TestRedis;
let feedsUrl: string;
let auth: Record<string, string>;
let second: ChildProcess;
let secondUrl: string;
let clinicFeed: ServedFixtures;

const CLINIC_SYSTEM = 'fixture-clinic';
const CLINIC = `smart:${CLINIC_SYSTEM}:1:57`;
const HOUR = 3_600_000;
/** Published at -05:00 (Boston in winter; in summer ingest also flags the offset, which these tests do not assert). */
const at0500 = (ms: number) => rfc3339AtOffset(ms, -300);
// Whole minutes, so the times read back exactly as written.
const t0 = Math.floor(Date.now() / 60_000) * 60_000;
const clinicOpened = t0 - 2 * 24 * HOUR - HOUR;
const clinicCloses = clinicOpened + 4 * 24 * HOUR + 8 * HOUR;
const appointmentAt = t0 + 3 * HOUR;

beforeAll(async () => {
  redis = await startRedis();
  clinicFeed = await serveFixtures({
    clinic: simpleFeed([
      slot('five-day-clinic', '10', at0500(clinicOpened), at0500(clinicCloses), { extension: [capacity(250), deepLink('https://portal.example/book?clinic=week')] }),
      slot('appointment', '10', at0500(appointmentAt), at0500(appointmentAt + 15 * 60_000)),
    ]),
  });
  // The sandbox registry and the fixture feed, for every process of the stack.
  const registry = JSON.parse(readFileSync(`${repoRoot}config/suppliers.sandbox.json`, 'utf8')) as { systems: Record<string, unknown>[] };
  registry.systems.push({ ...clinicFeed.system('clinic'), id: CLINIC_SYSTEM, pollFloorSeconds: '${SMART_LINKS_POLL_FLOOR_SECONDS:-60}' });
  const registryFile = `${clinicFeed.dir('clinic')}/../suppliers.json`;
  writeFileSync(registryFile, JSON.stringify(registry));
  const env = {
    LOG_LEVEL: 'warn',
    SUPPLIER_REGISTRY: registryFile,
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
  second = spawn(process.execPath, processProgram('smart-links'), {
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
  await clinicFeed?.close();
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
    // A search held up by the stall would wait out the publisher's 5 s deadline; 3 s tells the two apart even on a
    // loaded 2-core machine, where an unaffected search has taken 1.2 s.
    const bound = Math.max(3000, 3 * Math.max(...normal));

    // The snapshot is current before the stall: its fetch time is the publisher's last answer, at most a floor ago.
    const before = await bostonSlots();
    const lastGood = Date.parse(before.fetchedAt);
    expect(Date.now() - lastGood).toBeLessThan(FLOOR_SECONDS * 1000 + 5000);

    await clearSandbox(feedsUrl);
    const stalledAt = Date.now();
    await injectFault(feedsUrl, { pathPrefix: '/vaccine-clinic/', stall: true, forMs: 10_000 });
    // The poller is now hanging on the publisher (the registry gives it 5 s). A poll may have slipped in between
    // clearing the log and the fault (answered 304 as usual): the stalled one is the poll left unanswered.
    const unanswered = async () => (await manifests('vaccine-clinic')).find((r) => r.status === undefined);
    await waitFor(async () => (await unanswered()) !== undefined, 15_000, 'a poll of the stalled publisher');
    const stalledPoll = (await unanswered())!;
    expect((await manifests('vaccine-clinic')).filter((r) => r.status === undefined)).toHaveLength(1);

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
    // The publisher's manifest now answers 200 with an empty `output`: a broken publish, not every clinic closing.
    await injectFault(feedsUrl, {
      pathPrefix: '/vaccine-clinic/$bulk-publish',
      status: 200,
      body: { transactionTime: new Date().toISOString(), request: `${feedsUrl}/vaccine-clinic/$bulk-publish`, requiresAccessToken: false, output: [], error: [] },
    });
    const emptiedAt = Date.now();
    // Polls run one after another, so once a manifest request arrives after the fault, any poll that began before it
    // (and may still have read the full publication) has finished: the snapshot it left is the one to keep.
    const emptyPolls = async () => (await manifests('vaccine-clinic')).filter((r) => r.status === 200 && Date.parse(r.at!) >= emptiedAt);
    await waitFor(async () => (await emptyPolls()).length > 0, 15_000, 'a poll of the emptied manifest');
    const firstEmptyAt = Date.parse((await emptyPolls())[0]!.at!);
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
    // The kept snapshot is the last full one: fetched no later than the first empty answer, and no empty poll replaces it.
    const kept = (await bostonSlots()).fetchedAt;
    expect(Date.parse(kept)).toBeGreaterThanOrEqual(Date.parse(before.fetchedAt));
    expect(Date.parse(kept)).toBeLessThanOrEqual(firstEmptyAt);
    const polled = (await emptyPolls()).length;
    await waitFor(async () => (await emptyPolls()).length > polled, 15_000, 'another poll of the emptied manifest');
    expect((await bostonSlots()).fetchedAt).toBe(kept);

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

describe('a five-day clinic on its third day, published at -05:00', () => {
  const SLOT = 'start end kind timeZone qualityFlags capacity serviceId';

  it('is in availability, slots, capacity and nextAvailable while it runs, first by its start; times keep -05:00 and the zone', async () => {
    const AVAILABILITY = `query($s: AvailabilitySearch!) { availability(search: $s) { totalCount edges { cursor node { slot { ${SLOT} } } } pageInfo { hasNextPage endCursor } } }`;
    const search = { serviceIds: [CLINIC], from: new Date().toISOString(), to: new Date(Date.now() + 24 * HOUR).toISOString(), first: 1 };
    await waitFor(
      async () => ((await gql(stack.gatewayUrl, AVAILABILITY, { s: search }, auth)).data?.availability?.totalCount ?? 0) > 0,
      30_000,
      'the clinic feed to be read',
    );

    // availability: the running session first (its start is before the window), then the appointment on page two.
    const page1 = await gql(stack.gatewayUrl, AVAILABILITY, { s: search }, auth);
    expect(page1.errors).toBeUndefined();
    expect(page1.data!.availability.totalCount).toBe(2);
    expect(page1.data!.availability.edges.map((e: { node: { slot: unknown } }) => e.node.slot)).toEqual([
      {
        start: at0500(clinicOpened),
        end: at0500(clinicCloses),
        kind: 'SESSION',
        timeZone: 'America/New_York',
        qualityFlags: expect.arrayContaining(['MULTI_DAY_SESSION']),
        capacity: 250,
        serviceId: CLINIC,
      },
    ]);
    expect(at0500(clinicOpened)).toMatch(/-05:00$/);
    const page2 = await gql(stack.gatewayUrl, AVAILABILITY, { s: { ...search, after: page1.data!.availability.pageInfo.endCursor } }, auth);
    expect(page2.errors).toBeUndefined();
    expect(page2.data!.availability.edges.map((e: { node: { slot: unknown } }) => e.node.slot)).toEqual([
      expect.objectContaining({ start: at0500(appointmentAt), kind: 'APPOINTMENT', timeZone: 'America/New_York' }),
    ]);
    expect(page2.data!.availability.pageInfo.hasNextPage).toBe(false);

    // The service's own fields, and root capacity: the session counts its places while it runs.
    const FIELDS = `query($id: ID!, $from: DateTime, $to: DateTime) { service(id: $id) { id
      slots(from: $from, to: $to) { totalCount nodes { ${SLOT} } }
      nextAvailable { start kind }
      capacity(from: $from, to: $to) { freeSlots nextAvailableStart } } }`;
    const own = await gql(stack.gatewayUrl, FIELDS, { id: CLINIC, from: search.from, to: search.to }, auth);
    expect(own.errors).toBeUndefined();
    const svc = own.data!.service;
    expect(svc.slots.nodes.map((n: { kind: string; start: string }) => [n.kind, n.start])).toEqual([
      ['SESSION', at0500(clinicOpened)],
      ['APPOINTMENT', at0500(appointmentAt)],
    ]);
    expect(svc.nextAvailable).toEqual({ start: at0500(clinicOpened), kind: 'SESSION' });
    expect(svc.capacity.freeSlots).toBe(251);
    const root = await gql(stack.gatewayUrl, `query($ids: [ID!]!) { capacity(serviceIds: $ids) { services { serviceId freeSlots nextAvailableStart } } }`, { ids: [CLINIC] }, auth);
    expect(root.errors).toBeUndefined();
    expect(root.data!.capacity.services).toEqual([{ serviceId: CLINIC, freeSlots: 251, nextAvailableStart: at0500(clinicOpened) }]);

    // After its end it is gone: a window starting at its close finds only what starts later.
    const later = await gql(stack.gatewayUrl, AVAILABILITY, { s: { serviceIds: [CLINIC], from: new Date(clinicCloses).toISOString(), to: new Date(clinicCloses + HOUR).toISOString() } }, auth);
    expect(later.errors).toBeUndefined();
    expect(later.data!.availability.totalCount).toBe(0);
  }, 90_000);
});
