/**
 * The slot cache's policy through the kit's slot fields (slot-windows.ts), against a fake supplier that counts its
 * searches, with each store: in process and a real redis-server. The clock is injected where freshness matters.
 */
import { pino } from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { commandCalls, startRedis, type TestRedis } from '../../test/redis.js';
import { supplierError } from '../../common/errors.js';
import { dayStart } from '../../common/london-day.js';
import { registry as metrics } from '../../common/metrics.js';
import { connectRedis, OutageLog, type RedisConnection } from '../../common/redis.js';
import { RedisBucketStore, bucketVersion, dayKey } from './slot-buckets-redis.js';
import { MemoryBucketStore, bucketAddress, type BucketAddress, type BucketStore } from '../../common/slot-buckets.js';
import { MAX_QUEUED_REFRESHES, SlotCache, policyFor, type SlotSource } from './slot-cache.js';
import { freshMs } from './fresh-spread.js';
import { slotFields, type SlotWindow } from './slot-windows.js';
import { ThrottledError, UpstreamError } from '../../common/upstream.js';

const HOUR = 3_600_000;
const SECOND = 1000;
const silent = pino({ level: 'silent' });

interface TestSlot {
  id: string;
  start: string;
  fetchedAt: string;
  source: SlotSource;
}

/** A supplier with a slot on every hour; counts searches, can fail or be slow, and can ring-fence slots. */
class FakeSupplier {
  searches: (SlotWindow & { org: string })[] = [];
  failWith: UpstreamError | null = null;
  /** Services whose searches fail (as failWith would). */
  failing = new Set<string>();
  delayMs = 0;
  /** Slots starting at these hours (UTC) are shown to RX8 only. */
  ringFenced = new Set<number>();
  taken = new Set<string>();
  /** While set, every search waits for it. */
  gate: Promise<void> | null = null;
  /** Searches under way now, and the most there were at once: in all, and per system. */
  running = new Map<string, number>();
  mostAtOnce = new Map<string, number>();

  constructor(private readonly clock: () => number) {}

  search(w: SlotWindow, org: string): Promise<{ slots: TestSlot[]; fetchedAt: string }> {
    this.searches.push({ ...w, org });
    const count = (key: string, by: number) => {
      const n = (this.running.get(key) ?? 0) + by;
      this.running.set(key, n);
      this.mostAtOnce.set(key, Math.max(this.mostAtOnce.get(key) ?? 0, n));
    };
    count(w.system, 1);
    count('*', 1);
    return (async () => {
      try {
        if (this.gate) await this.gate;
        return await this.answer(w, org);
      } finally {
        count(w.system, -1);
        count('*', -1);
      }
    })();
  }

  private answer(w: SlotWindow, org: string): Promise<{ slots: TestSlot[]; fetchedAt: string }> {
    return (async () => {
      if (this.delayMs) await new Promise((r) => setTimeout(r, this.delayMs));
      if (this.failWith) throw this.failWith;
      if (this.failing.has(w.serviceId)) throw new UpstreamError(w.system, 'UNAVAILABLE', 503, 'failing on purpose');
      const fetchedAt = new Date(this.clock()).toISOString();
      const slots: TestSlot[] = [];
      for (let t = Math.ceil(w.from.getTime() / HOUR) * HOUR; t <= w.to.getTime(); t += HOUR) {
        const id = `${w.serviceId}@${t}`;
        if (this.taken.has(id)) continue;
        if (this.ringFenced.has(new Date(t).getUTCHours()) && org !== 'RX8') continue;
        slots.push({ id, start: new Date(t).toISOString(), fetchedAt, source: 'LIVE' });
      }
      return { slots, fetchedAt };
    })();
  }
}

function harness(store: BucketStore, opts: { ttlSeconds?: number; kind?: 'PAS_REST' | 'BOOKING_STANDARD' } = {}) {
  const clock = { t: Date.parse('2026-11-23T08:00:00Z') };
  const supplier = new FakeSupplier(() => clock.t);
  const cache = new SlotCache({
    store,
    // A kind that fetches long runs: these tests count one call per run of contiguous days.
    policy: () => policyFor({ cacheTtlSeconds: opts.ttlSeconds ?? 30, deadlineMs: 1000, kind: opts.kind ?? 'PAS_REST' }),
    logger: silent,
    clock: () => clock.t,
  });
  const fields = slotFields<TestSlot>({
    name: 'test:slots',
    now: () => new Date(clock.t),
    fetchSpans: (spans, consumer) => spans.map((w) => supplier.search(w, consumer.odsCode)),
    toError: (system, err) => (err instanceof UpstreamError ? supplierError(system, err.reason) : (err as Error)),
    cache,
    audience: (c) => c.odsCode,
  });
  async function slots(serviceId: string, from: string, to: string, extra: { maxAge?: number; org?: string; system?: string } = {}) {
    const org = extra.org ?? 'RX8';
    return fields.slots(
      { id: serviceId, supplier: { id: extra.system ?? 'fake-sys' } },
      { from, to, first: 500, ...(extra.maxAge !== undefined ? { maxAge: extra.maxAge } : {}) },
      { consumer: { odsCode: org, name: org }, traceId: 't', loaders: new Map() },
    );
  }
  async function top(serviceId: string, from: string, to: string) {
    return fields.topSlots(
      { services: [{ id: serviceId, system: 'fake-sys', rank: 0 }], from, to, first: 10, mode: 'MERGED', includeHandoff: true },
      { consumer: { odsCode: 'RX8', name: 'RX8' }, traceId: 't', loaders: new Map() },
    );
  }
  return { clock, supplier, cache, slots, top, fields };
}

const sources = (r: { nodes: TestSlot[] }) => new Set(r.nodes.map((n) => n.source));

let redis: TestRedis;
const connections: RedisConnection[] = [];
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  for (const c of connections) await c.close();
  await redis.dispose();
});

async function redisStore(): Promise<BucketStore> {
  const conn = connectRedis(redis.url, { logger: silent, consequence: 'test' });
  connections.push(conn);
  expect(await conn.ready(5000)).toBe(true);
  return new RedisBucketStore(conn.redis);
}

describe.each([
  ['in process', async (): Promise<BucketStore> => new MemoryBucketStore()],
  ['in Redis', redisStore],
] as const)('slot cache %s', (_name, makeStore) => {
  beforeEach(async () => {
    await redis.client().flushall();
  });

  it('assembles windows from day buckets: one search for the missing days only; minutes apart share buckets', async () => {
    const h = harness(await makeStore());
    const one = await h.slots('1', '2026-11-24T10:00:00Z', '2026-11-24T16:00:00Z');
    expect(one.nodes.map((n) => n.start)).toEqual([10, 11, 12, 13, 14, 15, 16].map((x) => `2026-11-24T${x}:00:00.000Z`));
    expect(h.supplier.searches).toHaveLength(1);
    // The search asked for the whole London day, not the window.
    expect(h.supplier.searches[0]).toMatchObject({ from: new Date(dayStart('2026-11-24')), to: new Date(dayStart('2026-11-25') - 1) });

    const three = await h.slots('1', '2026-11-24T10:05:00Z', '2026-11-26T12:00:00Z');
    expect(h.supplier.searches).toHaveLength(2);
    expect(h.supplier.searches[1]).toMatchObject({ from: new Date(dayStart('2026-11-25')), to: new Date(dayStart('2026-11-27') - 1) });
    expect(three.nodes[0]).toMatchObject({ start: '2026-11-24T11:00:00.000Z', source: 'CACHE' });
    expect(three.nodes.at(-1)).toMatchObject({ start: '2026-11-26T12:00:00.000Z', source: 'LIVE' });
    expect(three.totalCount).toBe(13 + 24 + 13);
    const starts = three.nodes.map((n) => Date.parse(n.start));
    expect(starts).toEqual([...starts].sort((a, b) => a - b));

    const again = await h.slots('1', '2026-11-24T10:07:00Z', '2026-11-24T16:03:00Z');
    expect(h.supplier.searches).toHaveLength(2);
    expect(sources(again)).toEqual(new Set(['CACHE']));
    expect(again.nodes.map((n) => n.id)).toEqual(one.nodes.slice(1).map((n) => n.id));
  });

  it('fetches a Booking Standard miss as one search over the missing days too, split into day buckets after', async () => {
    const h = harness(await makeStore(), { kind: 'BOOKING_STANDARD' });
    const three = await h.slots('1', '2026-11-24T00:00:00Z', '2026-11-26T23:00:00Z');
    expect(h.supplier.searches.map((s) => [s.from.toISOString(), s.to.toISOString()])).toEqual([
      [new Date(dayStart('2026-11-24')).toISOString(), new Date(dayStart('2026-11-27') - 1).toISOString()],
    ]);
    expect(three.totalCount).toBe(24 + 24 + 24);
    // Each day is its own bucket: the middle day alone is answered from the cache.
    const middle = await h.slots('1', '2026-11-25T00:00:00Z', '2026-11-25T23:00:00Z');
    expect(sources(middle)).toEqual(new Set(['CACHE']));
    expect(middle.totalCount).toBe(24);
    expect(h.supplier.searches).toHaveLength(1);
  });

  it('serves a stale bucket with its original fetchedAt and refreshes it once in the background', async () => {
    const h = harness(await makeStore());
    const t0 = h.clock.t;
    await h.slots('1', '2026-11-24T10:00:00Z', '2026-11-24T12:00:00Z');

    h.clock.t = t0 + 31 * SECOND;
    h.supplier.delayMs = 50;
    // Two requests read the stale bucket while its refresh is under way: both served, one refresh.
    const [stale, staleToo] = await Promise.all([
      h.slots('1', '2026-11-24T10:00:00Z', '2026-11-24T12:00:00Z'),
      h.slots('1', '2026-11-24T09:00:00Z', '2026-11-24T12:00:00Z'),
    ]);
    for (const r of [stale, staleToo]) {
      expect(sources(r)).toEqual(new Set(['CACHE']));
      expect(r.fetchedAt).toBe(new Date(t0).toISOString());
      expect(r.nodes[0]!.fetchedAt).toBe(new Date(t0).toISOString());
    }
    await h.cache.idle();
    expect(h.supplier.searches).toHaveLength(2);

    const refreshed = await h.slots('1', '2026-11-24T10:00:00Z', '2026-11-24T12:00:00Z');
    expect(refreshed.fetchedAt).toBe(new Date(t0 + 31 * SECOND).toISOString());
    expect(sources(refreshed)).toEqual(new Set(['CACHE']));
    expect(h.supplier.searches).toHaveLength(2);

    // Past ttl + staleness nothing is served from the cache.
    h.clock.t = t0 + 31 * SECOND + 61 * SECOND;
    const live = await h.slots('1', '2026-11-24T10:00:00Z', '2026-11-24T12:00:00Z');
    expect(sources(live)).toEqual(new Set(['LIVE']));
    expect(h.supplier.searches).toHaveLength(3);
  });

  it('refreshes one system\'s stale buckets one after another, another system\'s beside them, a bounded number waiting', async () => {
    const h = harness(await makeStore());
    const t0 = h.clock.t;
    const read = (id: string, system = 'fake-sys') => h.slots(id, '2026-11-24T10:00:00Z', '2026-11-24T12:00:00Z', { system });
    const ids = Array.from({ length: MAX_QUEUED_REFRESHES + 4 }, (_, i) => `${700 + i}`);
    for (const id of ids) await read(id);
    await read('900', 'other-sys');
    const filled = h.supplier.searches.length;
    expect(filled).toBe(ids.length + 1);

    // Past the TTL, every read is served stale at once and asks for its refresh; the supplier holds them all.
    h.clock.t = t0 + 31 * SECOND;
    let release!: () => void;
    h.supplier.gate = new Promise((r) => (release = r));
    for (const id of ids) expect(sources(await read(id))).toEqual(new Set(['CACHE']));
    expect(sources(await read('900', 'other-sys'))).toEqual(new Set(['CACHE']));
    // One of fake-sys's under way, the rest of its lane waiting; other-sys's beside it.
    await expect.poll(() => h.supplier.running.get('other-sys'), { timeout: 10_000 }).toBe(1);
    expect(h.supplier.running.get('fake-sys')).toBe(1);
    release();
    h.supplier.gate = null;
    await h.cache.idle();
    const refreshed = h.supplier.searches.slice(filled);
    expect(h.supplier.mostAtOnce.get('fake-sys')).toBe(1);
    expect(h.supplier.mostAtOnce.get('*')).toBe(2);
    // The lane held MAX_QUEUED_REFRESHES; the reads after that were not queued, and ask again when read again.
    expect(refreshed.filter((x) => x.system === 'fake-sys').map((x) => x.serviceId)).toEqual(ids.slice(0, MAX_QUEUED_REFRESHES));
    expect(refreshed.filter((x) => x.system === 'other-sys')).toHaveLength(1);
    for (const id of ids) await read(id);
    await h.cache.idle();
    expect(h.supplier.searches.slice(filled + MAX_QUEUED_REFRESHES + 1).map((x) => x.serviceId)).toEqual(ids.slice(MAX_QUEUED_REFRESHES));
  });

  it('a queued refresh reads its buckets again first: one fetched meanwhile is not fetched twice', async () => {
    const h = harness(await makeStore());
    const t0 = h.clock.t;
    const read = (id: string) => h.slots(id, '2026-11-24T10:00:00Z', '2026-11-24T12:00:00Z');
    await read('801');
    await read('802');
    h.clock.t = t0 + 31 * SECOND;
    let release!: () => void;
    h.supplier.gate = new Promise((r) => (release = r));
    await read('801'); // its refresh runs, held by the supplier
    await read('802'); // its refresh waits behind it
    await expect.poll(() => h.supplier.running.get('fake-sys'), { timeout: 10_000 }).toBe(1);
    // Past ttl + stale while it waits: a read fetches 802 itself (new searches are not held).
    h.supplier.gate = null;
    h.clock.t = t0 + 62 * SECOND;
    expect(sources(await read('802'))).toEqual(new Set(['LIVE']));
    release();
    await h.cache.idle();
    expect(h.supplier.searches.filter((x) => x.serviceId === '802')).toHaveLength(2);
    expect(h.supplier.searches.filter((x) => x.serviceId === '801')).toHaveLength(2);
  });

  it('a failed refresh does not stop its lane, and closing does not start the refreshes still waiting', async () => {
    const h = harness(await makeStore());
    const t0 = h.clock.t;
    const read = (id: string) => h.slots(id, '2026-11-24T10:00:00Z', '2026-11-24T12:00:00Z');
    for (const id of ['811', '812', '813', '814']) await read(id);
    h.clock.t = t0 + 31 * SECOND;
    h.supplier.failing.add('811');
    let release!: () => void;
    h.supplier.gate = new Promise((r) => (release = r));
    await read('811');
    await read('812');
    release();
    h.supplier.gate = null;
    await h.cache.idle();
    // 811's refresh failed; 812's, queued behind it, still ran.
    expect(h.supplier.searches.slice(4).map((x) => x.serviceId)).toEqual(['811', '812']);
    expect(h.supplier.searches.at(-1)!.serviceId).toBe('812');

    h.supplier.gate = new Promise((r) => (release = r));
    await read('813');
    await read('814');
    await expect.poll(() => h.supplier.running.get('fake-sys'), { timeout: 10_000 }).toBe(1);
    const closed = h.cache.close();
    release();
    await closed;
    // 813's was under way and finished; 814's had not started and never does.
    expect(h.supplier.searches.slice(6).map((x) => x.serviceId)).toEqual(['813']);
  });

  it('lets services filled together go stale over the last fifth of the TTL, each at its own moment', async () => {
    const h = harness(await makeStore());
    const t0 = h.clock.t;
    const ids = Array.from({ length: 40 }, (_, i) => `${500 + i}`);
    const readAll = async () => {
      for (const id of ids) await h.slots(id, '2026-11-24T10:00:00Z', '2026-11-24T12:00:00Z');
      await h.cache.idle();
    };
    await readAll();
    expect(h.supplier.searches).toHaveLength(40);
    // Before four fifths of the TTL, every bucket is fresh: nothing is refreshed.
    h.clock.t = t0 + 23.9 * SECOND;
    await readAll();
    expect(h.supplier.searches).toHaveLength(40);
    // At 27 s, those whose share of the TTL has passed, and only they, are refreshed: some, not all.
    h.clock.t = t0 + 27 * SECOND;
    await readAll();
    const early = ids.filter((id) => freshMs(30_000, 'fake-sys', id) < 27 * SECOND);
    expect(early.length).toBeGreaterThan(0);
    expect(early.length).toBeLessThan(ids.length);
    expect(h.supplier.searches.slice(40).map((x) => x.serviceId)).toEqual(early);
    // Past the TTL itself, the rest.
    h.clock.t = t0 + 30 * SECOND + 1;
    await readAll();
    expect(h.supplier.searches.slice(40 + early.length).map((x) => x.serviceId)).toEqual(ids.filter((id) => !early.includes(id)));
  });

  it('says a stale bucket served while its supplier is failing is stale, and a fresh one is not', async () => {
    const h = harness(await makeStore());
    const t0 = h.clock.t;
    const first = await h.top('3', '2026-11-24T10:00:00Z', '2026-11-24T12:00:00Z');
    expect(first.services[0]).toMatchObject({ stale: false, failure: null });
    // Past its TTL the refresh fails: the failure is remembered, and the last good copy is served marked stale.
    h.clock.t = t0 + 31 * SECOND;
    h.supplier.failWith = new UpstreamError('fake-sys', 'UNAVAILABLE', 503);
    await h.top('3', '2026-11-24T10:00:00Z', '2026-11-24T12:00:00Z');
    await h.cache.idle();
    const during = await h.top('3', '2026-11-24T10:00:00Z', '2026-11-24T12:00:00Z');
    expect(during.services[0]).toMatchObject({ stale: true, failure: null, fetchedAt: new Date(t0).toISOString() });
    expect(during.slots.length).toBeGreaterThan(0);
    // Once the supplier answers again and the bucket is refreshed, it is current again.
    h.supplier.failWith = null;
    h.clock.t += 6 * SECOND;
    await h.top('3', '2026-11-24T10:00:00Z', '2026-11-24T12:00:00Z');
    await h.cache.idle();
    expect((await h.top('3', '2026-11-24T10:00:00Z', '2026-11-24T12:00:00Z')).services[0]).toMatchObject({ stale: false });
  });

  it('remembers a failure for a few seconds: the typed error again, the supplier not called', async () => {
    const h = harness(await makeStore());
    h.supplier.failWith = new UpstreamError('fake-sys', 'UNAVAILABLE', 503);
    const ask = () => h.slots('2', '2026-11-24T10:00:00Z', '2026-11-24T12:00:00Z').catch((e: unknown) => e);
    expect(await ask()).toMatchObject({ extensions: { code: 'SUPPLIER_UNAVAILABLE', supplierSystem: 'fake-sys', reason: 'UNAVAILABLE' } });
    h.supplier.failWith = null;
    h.clock.t += 2 * SECOND;
    expect(await ask()).toMatchObject({ extensions: { reason: 'UNAVAILABLE' } });
    expect(h.supplier.searches).toHaveLength(1);

    h.clock.t += 1.5 * SECOND;
    expect(await ask()).toMatchObject({ totalCount: 3 });
    expect(h.supplier.searches).toHaveLength(2);
  });

  it('honours maxAge down to its five-second floor', async () => {
    const h = harness(await makeStore());
    const t0 = h.clock.t;
    const window = ['2026-11-24T10:00:00Z', '2026-11-24T12:00:00Z'] as const;
    await h.slots('3', ...window);

    h.clock.t = t0 + 10 * SECOND;
    expect(sources(await h.slots('3', ...window, { maxAge: 20 }))).toEqual(new Set(['CACHE']));
    expect(h.supplier.searches).toHaveLength(1);
    const forced = await h.slots('3', ...window, { maxAge: 8 });
    expect(sources(forced)).toEqual(new Set(['LIVE']));
    expect(h.supplier.searches).toHaveLength(2);

    // maxAge 0 means "as fresh as allowed": a bucket up to five seconds old is still served.
    h.clock.t += 4 * SECOND;
    expect(sources(await h.slots('3', ...window, { maxAge: 0 }))).toEqual(new Set(['CACHE']));
    expect(h.supplier.searches).toHaveLength(2);
    h.clock.t += 2 * SECOND;
    expect(sources(await h.slots('3', ...window, { maxAge: 0 }))).toEqual(new Set(['LIVE']));
    expect(h.supplier.searches).toHaveLength(3);

    await expect(h.slots('3', ...window, { maxAge: -1 })).rejects.toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field: 'maxAge' } });
  });

  it('keeps each organisation\'s view: ring-fenced slots never reach another organisation', async () => {
    const h = harness(await makeStore());
    h.supplier.ringFenced = new Set([10, 11]);
    const window = ['2026-11-24T09:00:00Z', '2026-11-24T12:00:00Z'] as const;
    expect((await h.slots('4', ...window, { org: 'RX8' })).totalCount).toBe(4);
    const other = await h.slots('4', ...window, { org: 'A91023' });
    expect(other.nodes.map((n) => n.start)).toEqual(['2026-11-24T09:00:00.000Z', '2026-11-24T12:00:00.000Z']);
    expect(sources(other)).toEqual(new Set(['LIVE']));
    // Both views are now cached, each for its own organisation.
    expect(h.supplier.searches.map((s) => s.org)).toEqual(['RX8', 'A91023']);
    expect((await h.slots('4', ...window, { org: 'A91023' })).totalCount).toBe(2);
    expect((await h.slots('4', ...window, { org: 'RX8' })).totalCount).toBe(4);
    expect(h.supplier.searches).toHaveLength(2);
  });

  it('invalidation drops the day for every organisation, and a search that raced it cannot put it back', async () => {
    const h = harness(await makeStore());
    const window = ['2026-11-24T09:00:00Z', '2026-11-24T12:00:00Z'] as const;
    await h.slots('5', ...window, { org: 'RX8' });
    await h.slots('5', ...window, { org: 'A91023' });
    h.supplier.taken.add(`5@${Date.parse('2026-11-24T10:00:00Z')}`);
    await h.cache.slotsChanged('fake-sys', '5', '2026-11-24T10:00:00Z');
    for (const org of ['RX8', 'A91023']) {
      const r = await h.slots('5', ...window, { org });
      expect(sources(r)).toEqual(new Set(['LIVE']));
      expect(r.totalCount).toBe(3);
    }

    // A search in flight while the day is invalidated: its (pre-booking) answer is served to its own request only.
    await h.cache.invalidate('fake-sys', '5', ['2026-11-24']);
    h.supplier.delayMs = 100;
    const racing = h.slots('5', ...window);
    await new Promise((r) => setTimeout(r, 30));
    await h.cache.invalidate('fake-sys', '5', ['2026-11-24']);
    await racing;
    h.supplier.delayMs = 0;
    const searches = h.supplier.searches.length;
    expect(sources(await h.slots('5', ...window))).toEqual(new Set(['LIVE']));
    expect(h.supplier.searches).toHaveLength(searches + 1);
  });

  it('single-flight: 100 concurrent identical misses make one search per service and day', async () => {
    // Several caches over one store stand for several processes (the Redis case gives each its own connection).
    const stores = [await makeStore(), await makeStore(), await makeStore(), await makeStore()];
    const shared = _name === 'in process' ? [stores[0]!, stores[0]!, stores[0]!, stores[0]!] : stores;
    const replicas = shared.map((s) => harness(s));
    for (const r of replicas) r.supplier.delayMs = 50;
    const answers = await Promise.all(
      Array.from({ length: 100 }, (_, i) => replicas[i % 4]!.slots(String(100 + (i % 2)), '2026-11-24T10:00:00Z', '2026-11-24T14:00:00Z')),
    );
    const searches = replicas.flatMap((r) => r.supplier.searches);
    expect(searches.map((s) => s.serviceId).sort()).toEqual(['100', '101']);
    for (const a of answers) expect(a.totalCount).toBe(5);
  });

  it('a bucket lock is true again for the token holding it, false for any other until released', async () => {
    const store = await makeStore();
    const a = bucketAddress('fake-sys', '1', '2026-11-24', 'RX8');
    const b = bucketAddress('fake-sys', '2', '2026-11-24', 'RX8');
    expect(await store.lock([a], 'one', 5000)).toEqual([true]);
    expect(await store.lock([a], 'one', 5000)).toEqual([true]);
    // Many at once, each answered in its place.
    expect(await store.lock([b, a], 'two', 5000)).toEqual([true, false]);
    await store.unlock([a, b], 'two');
    expect(await store.lock([a, b], 'three', 5000)).toEqual([false, true]);
    await store.unlock([a], 'one');
    expect(await store.lock([a], 'two', 5000)).toEqual([true]);
    expect(await store.lock([], 'two', 5000)).toEqual([]);
  });
});

describe('slot cache in Redis', () => {
  beforeEach(async () => {
    await redis.client().flushall();
  });

  it.each(['lock', 'read'] as const)(
    'a %s lost to our own stalled event loop is asked again, not taken for Redis away: still one search',
    async (command) => {
      // The stall is real: the command goes out, then this process blocks past the command timeout, which fires
      // before the answer (already here) is read. Before, that counted as "store away": the bucket was fetched
      // without the lock (beside a lock this process had in fact taken, for a claim), and the other process fetched
      // it again. The default command timeout, as in production; the stall outlasts it.
      const conn = connectRedis(redis.url, { logger: silent, consequence: 'test' });
      connections.push(conn);
      expect(await conn.ready(5000)).toBe(true);
      const inner = new RedisBucketStore(conn.redis);
      // The lock's script loaded on this connection first, so a stalled claim is the one that takes the lock.
      const warm = bucketAddress('fake-sys', 'warm', '2026-11-20', 'RX8');
      expect(await inner.lock([warm], 'w', 1000)).toEqual([true]);
      await inner.unlock([warm], 'w');
      let calls = 0;
      const stalling: BucketStore = Object.assign(Object.create(inner) as BucketStore, {
        [command](...args: unknown[]) {
          const sent = (inner[command] as (...a: unknown[]) => Promise<unknown>)(...args);
          if (calls++ === 0) {
            const until = performance.now() + 1300;
            while (performance.now() < until);
          }
          return sent;
        },
      });
      const stalled = harness(stalling);
      const other = harness(await redisStore());
      for (const h of [stalled, other]) h.supplier.delayMs = 300;
      const first = stalled.slots('300', '2026-11-24T10:00:00Z', '2026-11-24T14:00:00Z');
      // The other process arrives while the first holds the lock.
      await expect.poll(() => redis.client().keys('*}l:*'), { timeout: 10_000, interval: 5 }).toHaveLength(1);
      const answers = await Promise.all([first, other.slots('300', '2026-11-24T10:00:00Z', '2026-11-24T14:00:00Z')]);
      for (const a of answers) expect(a.totalCount).toBe(5);
      expect([...stalled.supplier.searches, ...other.supplier.searches]).toHaveLength(1);
      expect(calls).toBe(2);
    },
  );

  it('a claim that times out twice counts as Redis away, and for ten seconds claims are not asked twice', async () => {
    const inner = new MemoryBucketStore();
    let claims = 0;
    let failure = new Error('Command timed out');
    const failing: BucketStore = Object.assign(Object.create(inner) as BucketStore, {
      lock: () => {
        claims++;
        return Promise.reject(failure);
      },
    });
    const h = harness(failing);
    expect((await h.slots('310', '2026-11-24T10:00:00Z', '2026-11-24T12:00:00Z')).totalCount).toBe(3);
    expect(claims).toBe(2);
    h.clock.t += 5 * SECOND;
    expect((await h.slots('311', '2026-11-24T10:00:00Z', '2026-11-24T12:00:00Z')).totalCount).toBe(3);
    expect(claims).toBe(3);
    h.clock.t += 11 * SECOND;
    expect((await h.slots('312', '2026-11-24T10:00:00Z', '2026-11-24T12:00:00Z')).totalCount).toBe(3);
    expect(claims).toBe(5);
    // Any other failure is the store away at once: asking again would not help.
    h.clock.t += 11 * SECOND;
    failure = new Error("Stream isn't writeable and enableOfflineQueue options is false");
    expect((await h.slots('313', '2026-11-24T10:00:00Z', '2026-11-24T12:00:00Z')).totalCount).toBe(3);
    expect(claims).toBe(6);
    expect(h.supplier.searches.map((x) => x.serviceId)).toEqual(['310', '311', '312', '313']);
  });

  it('hashes keys and stores slot data only', async () => {
    const h = harness(await redisStore());
    await h.slots('1402000101', '2026-11-24T10:00:00Z', '2026-11-24T12:00:00Z', { org: 'RX8' });
    const keys = await redis.client().keys('*');
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatch(/^slots:v2:\{[0-9a-f]{12}\}d:[0-9a-f]{32}$/);
    const entry = await redis.client().hgetall(keys[0]!);
    const fields = Object.keys(entry).sort();
    expect(fields).toEqual([expect.stringMatching(/^s:[0-9a-f]{16}$/), expect.stringMatching(/^v:[0-9a-f]{16}$/)]);
    const raw = entry[fields[0]!]!;
    expect(entry[fields[1]!]).toBe(bucketVersion(raw));
    expect(raw).not.toMatch(/RX8|fake-sys/);
    const stored = JSON.parse(raw) as { f: number; c: object; t: Record<string, unknown>[] };
    // The whole day; no source, and no per-slot fetchedAt where it is the bucket's (slot-bucket-codec.ts).
    expect(stored.t[0]).toEqual({ id: expect.any(String), start: '2026-11-24T00:00:00.000Z' });
    expect(stored.t).toHaveLength(24);
    expect(stored.c).toEqual({});
    expect(await redis.client().pttl(keys[0]!)).toBeGreaterThan(55_000);
  });

  it('sends a bucket\'s text again only when its version moved; an earlier release\'s unversioned field is ignored', async () => {
    const store = (await redisStore()) as RedisBucketStore;
    const a = bucketAddress('fake-sys', '1402000101', '2026-11-24', 'RX8');
    const b = bucketAddress('fake-sys', '1402000102', '2026-11-24', 'RX8');
    const write = (address: typeof a, bucket: string, generation = 0) => store.write([{ address, generation, bucket, lifetimeMs: 60_000 }]);
    expect(await write(a, '{"f":1,"s":[]}')).toBe(1);
    expect(await write(b, '{"f":2,"s":[]}')).toBe(1);
    const [first, other] = await store.read([a, b]);
    expect(first).toEqual({ generation: 0, bucket: '{"f":1,"s":[]}', version: bucketVersion('{"f":1,"s":[]}') });
    expect(other!.bucket).toBe('{"f":2,"s":[]}');

    // Held at its version: the very string handed in comes back (nothing sent again); a wrong version reads in full.
    const held = { version: first!.version!, text: `${first!.bucket}` };
    const [same, full] = await store.read([a, b], [held, { version: 'not-it', text: 'old' }]);
    expect(same!.bucket).toBe(held.text);
    expect(same!.version).toBe(held.version);
    expect(full).toEqual(other);

    // A failure written since leaves the bucket and its version (and is read with them); a new text moves the version.
    await store.write([{ address: a, generation: 0, failure: '{"r":"TIMEOUT","u":1}', lifetimeMs: 60_000 }]);
    expect(await store.read([a], [held])).toEqual([{ generation: 0, bucket: held.text, version: held.version, failure: '{"r":"TIMEOUT","u":1}' }]);
    await write(a, '{"f":3,"s":[]}');
    expect(await store.read([a], [held])).toEqual([{ generation: 0, bucket: '{"f":3,"s":[]}', version: bucketVersion('{"f":3,"s":[]}') }]);

    // Invalidated: gone for the holder too.
    await store.invalidate([a.day], 60_000);
    expect(await store.read([a], [held])).toEqual([{ generation: 1 }]);

    // A replica of the release before versions writes `b:` into the same day: never taken for this release's bucket.
    await redis.client().hset(dayKey(a.day), `b:${a.audience}`, '{"f":9,"s":[]}');
    expect(await store.read([a], [held])).toEqual([{ generation: 1 }]);
  });

  it('reads a request\'s buckets, held and not, in one command on one server, each answer at its own address', async () => {
    const store = (await redisStore()) as RedisBucketStore;
    const addresses = Array.from({ length: 60 }, (_, i) => bucketAddress('fake-sys', `14020001${String(i % 20).padStart(2, '0')}`, `2026-11-${24 + Math.floor(i / 20)}`, 'RX8'));
    const texts = addresses.map((_, i) => `{"f":${i},"s":[]}`);
    // Every third bucket never written (a miss); the rest written, each with its own text.
    await store.write(addresses.flatMap((address, i) => (i % 3 === 0 ? [] : [{ address, generation: 0, bucket: texts[i]!, lifetimeMs: 60_000 }])));
    // Held: every other bucket, half of them at a version that moved since.
    const known = addresses.map((_, i) => (i % 2 === 0 ? undefined : { version: i % 4 === 1 ? bucketVersion(texts[i]!) : 'moved', text: texts[i]! }));
    await redis.client().config('RESETSTAT');
    const read = await store.read(addresses, known);
    // One script for all 60; the held ones whose version moved and that have a text (10; 5 more are misses) are
    // read again in a second. Inside them, one HMGET per bucket.
    const { evalsha = 0, eval: evals = 0, ...inside } = await commandCalls(redis.client());
    expect(evalsha + evals).toBe(2);
    expect(inside).toEqual({ hmget: 70 });
    read.forEach((entry, i) => expect(entry.bucket, `address ${i}`).toBe(i % 3 === 0 ? undefined : texts[i]));
  });

  it('takes a cold request\'s bucket locks in one command, and releases each run\'s in one', async () => {
    const inner = (await redisStore()) as RedisBucketStore;
    const calls = { lock: [] as number[], unlock: [] as number[] };
    const counting: BucketStore = Object.assign(Object.create(inner) as BucketStore, {
      lock: (a: readonly BucketAddress[], token: string, ttl: number) => (calls.lock.push(a.length), inner.lock(a, token, ttl)),
      unlock: (a: readonly BucketAddress[], token: string) => (calls.unlock.push(a.length), inner.unlock(a, token)),
    });
    const h = harness(counting);
    const services = ['1402000101', '1402000102', '1402000103', '1402000104'];
    const answer = await h.fields.topSlots(
      { services: services.map((id, rank) => ({ id, system: 'fake-sys', rank })), from: '2026-11-24T00:00:00Z', to: '2026-11-26T23:59:59Z', first: 10, mode: 'MERGED', includeHandoff: true },
      { consumer: { odsCode: 'RX8', name: 'RX8' }, traceId: 't', loaders: new Map() },
    );
    expect(answer.services.map((s) => s.failure)).toEqual([null, null, null, null]);
    // Twelve service-days: one claim for all, one release per service's run of three days (its one supplier call).
    expect(calls.lock).toEqual([12]);
    expect(calls.unlock.sort()).toEqual([3, 3, 3, 3]);
    expect(h.supplier.searches).toHaveLength(4);
    // Released: another token takes every one of them at once, one script on one server.
    const addresses = services.flatMap((id) => ['2026-11-24', '2026-11-25', '2026-11-26'].map((d) => bucketAddress('fake-sys', id, d, 'RX8')));
    await redis.client().config('RESETSTAT');
    expect(await inner.lock(addresses, 'other', 5000)).toEqual(addresses.map(() => true));
    const { evalsha = 0, eval: evals = 0, ...inside } = await commandCalls(redis.client());
    expect(evalsha + evals).toBe(1);
    expect(inside).toEqual({ get: 12, set: 12 });
  });

  it('releases the locks a failed claim took (one server answered, another did not) rather than leave them to expire', async () => {
    const inner = (await redisStore()) as RedisBucketStore;
    const failing: BucketStore = Object.assign(Object.create(inner) as BucketStore, {
      // The locks are taken, then the answer is lost: as a cluster whose other node failed the same batch.
      lock: async (a: readonly BucketAddress[], token: string, ttl: number) => {
        await inner.lock(a, token, ttl);
        throw new Error('CLUSTERDOWN');
      },
    });
    const h = harness(failing);
    const answer = await h.slots('1402000101', '2026-11-24T10:00:00Z', '2026-11-25T12:00:00Z');
    expect(answer.totalCount).toBeGreaterThan(0);
    const addresses = ['2026-11-24', '2026-11-25'].map((d) => bucketAddress('fake-sys', '1402000101', d, 'RX8'));
    // At once, well within the locks' lifetime: the release went out before the fetch, on the same connection.
    expect(await inner.lock(addresses, 'another', 5000)).toEqual([true, true]);
  });

  it('keeps a bumped generation a minute at least, however short the supplier TTL (a reused answer must see it)', async () => {
    const h = harness(await redisStore(), { ttlSeconds: 1 });
    await h.slots('1402000101', '2026-11-24T10:00:00Z', '2026-11-24T12:00:00Z');
    await h.cache.invalidate('fake-sys', '1402000101', ['2026-11-24']);
    const keys = await redis.client().keys('*');
    expect(keys.length).toBeGreaterThanOrEqual(2);
    for (const k of keys) expect(await redis.client().pttl(k), k).toBeGreaterThan(55_000);
  });

  it('carries on without Redis while it is stopped (from its local copy, then the supplier), and uses Redis again when it is back', async () => {
    const conn = connectRedis(redis.url, { logger: silent, consequence: 'test' });
    connections.push(conn);
    expect(await conn.ready(5000)).toBe(true);
    const h = harness(new RedisBucketStore(conn.redis));
    const window = ['2026-11-24T10:00:00Z', '2026-11-24T12:00:00Z'] as const;
    await h.slots('6', ...window);
    expect(sources(await h.slots('6', ...window))).toEqual(new Set(['CACHE']));

    await redis.stop();
    try {
      // What this process read from Redis moments ago answers, without waiting on Redis or calling the supplier.
      for (let i = 0; i < 3; i++) {
        const started = performance.now();
        const r = await h.slots('6', ...window);
        expect(sources(r)).toEqual(new Set(['CACHE']));
        expect(r.totalCount).toBe(3);
        expect(performance.now() - started).toBeLessThan(600);
      }
      expect(h.supplier.searches).toHaveLength(1);
      // The local copy lasts seconds: then one search, kept locally in its turn.
      h.clock.t += 6 * SECOND;
      expect(sources(await h.slots('6', ...window))).toEqual(new Set(['LIVE']));
      expect(sources(await h.slots('6', ...window))).toEqual(new Set(['CACHE']));
      expect(h.supplier.searches).toHaveLength(2);
    } finally {
      await redis.start();
    }
    expect(await conn.ready(10_000)).toBe(true);
    // Redis restarted empty: read again (its answer, not the local copy's), then cached there.
    expect(sources(await h.slots('6', ...window))).toEqual(new Set(['LIVE']));
    expect(sources(await h.slots('6', ...window))).toEqual(new Set(['CACHE']));
    expect(h.supplier.searches).toHaveLength(3);
    expect(await redis.client().keys('slots:v2:{*}d:*')).toHaveLength(1);
  });

  it('with Redis stopped, concurrent misses still make one search per bucket, and failures are remembered locally', async () => {
    const conn = connectRedis(redis.url, { logger: silent, consequence: 'test' });
    connections.push(conn);
    expect(await conn.ready(5000)).toBe(true);
    const h = harness(new RedisBucketStore(conn.redis));
    h.supplier.delayMs = 50;
    await redis.stop();
    try {
      const answers = await Promise.all(
        Array.from({ length: 60 }, (_, i) =>
          h.slots(String(200 + (i % 3)), i % 2 ? '2026-11-24T10:00:00Z' : '2026-11-24T09:30:00Z', '2026-11-24T14:00:00Z'),
        ),
      );
      for (const a of answers) expect(a.totalCount).toBe(5);
      expect(h.supplier.searches.map((x) => x.serviceId).sort()).toEqual(['200', '201', '202']);
      // And the next requests within seconds are served locally.
      await Promise.all(Array.from({ length: 30 }, (_, i) => h.slots(String(200 + (i % 3)), '2026-11-24T11:00:00Z', '2026-11-24T13:00:00Z')));
      expect(h.supplier.searches).toHaveLength(3);

      // A failing supplier is asked once per few seconds, not once per request.
      h.supplier.failWith = new UpstreamError('fake-sys', 'UNAVAILABLE', 503);
      const failures = await Promise.all(
        Array.from({ length: 20 }, () => h.slots('203', '2026-11-24T10:00:00Z', '2026-11-24T12:00:00Z').catch((e: unknown) => e)),
      );
      for (const f of failures) expect(f).toMatchObject({ extensions: { reason: 'UNAVAILABLE' } });
      expect(await h.slots('203', '2026-11-24T10:00:00Z', '2026-11-24T12:00:00Z').catch((e: unknown) => e)).toMatchObject({ extensions: { reason: 'UNAVAILABLE' } });
      expect(h.supplier.searches.filter((x) => x.serviceId === '203')).toHaveLength(1);

      // Our own throttle's refusal is not the supplier's answer: not remembered.
      h.supplier.failWith = new ThrottledError('fake-sys', 800);
      await h.slots('204', '2026-11-24T10:00:00Z', '2026-11-24T12:00:00Z').catch(() => {});
      h.supplier.failWith = null;
      expect((await h.slots('204', '2026-11-24T10:00:00Z', '2026-11-24T12:00:00Z')).totalCount).toBe(3);

      // A booking here drops the day locally too: the next read goes to the supplier.
      h.supplier.taken.add(`200@${Date.parse('2026-11-24T11:00:00Z')}`);
      await h.cache.slotsChanged('fake-sys', '200', '2026-11-24T11:00:00Z');
      const after = await h.slots('200', '2026-11-24T10:00:00Z', '2026-11-24T14:00:00Z');
      expect(sources(after)).toEqual(new Set(['LIVE']));
      expect(after.totalCount).toBe(4);
    } finally {
      await redis.start();
    }
    expect(await conn.ready(10_000)).toBe(true);
  });

  it('logs an outage at most once per ten seconds', () => {
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (l: string) => lines.push(l) });
    const clock = { t: 0 };
    const log = new OutageLog(logger, 'slot reads go to the suppliers', 10_000, () => clock.t);
    for (let i = 0; i < 50; i++) {
      log.report(new Error('ECONNREFUSED'));
      clock.t += 100;
    }
    expect(lines).toHaveLength(1);
    clock.t += 5_100;
    log.report(new Error('ECONNREFUSED'));
    expect(lines).toHaveLength(2);
    log.recovered();
    log.recovered();
    expect(lines).toHaveLength(3);
    // A cluster's refreshed slot map counts as recovery only once no failure has come for a while.
    expect(log.quietFor(10_000)).toBe(false);
    clock.t += 10_000;
    expect(log.quietFor(10_000)).toBe(true);
    expect(lines[0]).toContain('redis unavailable: slot reads go to the suppliers');
  });
});

describe('metrics', () => {
  it('count lookups per system by result', async () => {
    const h = harness(new MemoryBucketStore());
    const count = async (result: string) =>
      (await metrics.getSingleMetric('slot_cache_lookups_total')!.get()).values.find((v) => v.labels.system === 'fake-sys' && v.labels.result === result)?.value ?? 0;
    const before = { hit: await count('hit'), miss: await count('miss'), stale: await count('stale') };
    await h.slots('7', '2026-11-24T10:00:00Z', '2026-11-25T12:00:00Z');
    await h.slots('7', '2026-11-24T10:00:00Z', '2026-11-24T12:00:00Z');
    h.clock.t += 40 * SECOND;
    await h.slots('7', '2026-11-24T10:00:00Z', '2026-11-24T12:00:00Z');
    await h.cache.idle();
    expect(await count('miss')).toBe(before.miss + 2);
    expect(await count('hit')).toBe(before.hit + 1);
    expect(await count('stale')).toBe(before.stale + 1);
  });
});
