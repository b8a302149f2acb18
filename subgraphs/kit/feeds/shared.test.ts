/**
 * Shared feeds: several "processes" (SharedFeeds instances, each with its own Redis connection and holder) against
 * one publisher (the sandbox, over HTTP) and one real redis-server. One poller per feed between them, at most one
 * manifest request per floor, a dead poller's feed taken over, every reader serving the same snapshot from memory;
 * a stalled publisher answered from the last snapshot, marked stale, without waiting; maxAge honoured within the floor.
 */
import { Writable } from 'node:stream';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startRedis, type TestRedis } from '../../../test/redis.js';
import { UpstreamError } from '../../../common/upstream.js';
import { SharedFeeds } from './shared.js';
import { sharedFeedsFromEnv } from './setup.js';
import { MemoryFeedStore } from './store-memory.js';
import { RedisFeedStore } from './store-redis.js';
import { feedKey, type FeedStore } from './store.js';
import { location, schedule, serveFixtures, simpleFeed, slot, testClock, type ServedFixtures } from '../../../test/support/feeds.js';

let redis: TestRedis;
let served: ServedFixtures;
const connections: Redis[] = [];
const running: SharedFeeds[] = [];

const FEED = simpleFeed([slot('s1', '10', '2026-12-01T09:00:00Z', '2026-12-01T09:15:00Z'), slot('s2', '10', '2026-12-01T09:15:00Z', '2026-12-01T09:30:00Z')], {
  locations: [location('1')],
  schedules: [schedule('10', '1')],
});

beforeAll(async () => {
  redis = await startRedis();
  served = await serveFixtures({
    nocache: { ...FEED, cache: { cacheControl: 'no-store', etag: 'weak', lastModified: false } },
    longcache: { ...FEED, cache: { cacheControl: { maxAgeSeconds: 300 } } },
    stalling: { ...FEED, cache: { cacheControl: 'none' } },
    first: { ...FEED, cache: { cacheControl: 'none' } },
  });
});
afterAll(async () => {
  await served?.close();
  await redis?.dispose();
});
beforeEach(async () => {
  await fetch(`${served.publisher.url}/_sandbox/faults`, { method: 'DELETE' });
  await served.clearRequests();
});
afterEach(async () => {
  await Promise.all(running.splice(0).map((f) => f.close()));
  for (const c of connections.splice(0)) c.disconnect();
});

function redisStore(): RedisFeedStore {
  const c = new Redis(redis.url);
  connections.push(c);
  return new RedisFeedStore(c);
}

function start(f: SharedFeeds): SharedFeeds {
  running.push(f);
  return f.start();
}

async function until(cond: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}

const manifestRequests = async (name: string) =>
  ((await served.requests()) as unknown as { path: string; at: string; status?: number }[]).filter((r) => r.path === `/${name}/$bulk-publish`);

describe('one poller per feed across processes', () => {
  it('a process starting beside a healthy Redis waits for its connection: nothing reported away, the first poll shared', async () => {
    const system = served.system('first', { pollFloorSeconds: 1 });
    const lines: { level: number; msg: string }[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const l of chunk.toString('utf8').split('\n').filter(Boolean)) lines.push(JSON.parse(l) as { level: number; msg: string });
        done();
      },
    });
    // The store's connection is made here, its first command at once: with no offline queue, a command sent before
    // the connection is up fails, and was reported as Redis away on every start.
    const feeds = sharedFeedsFromEnv({ systems: [system] }, { logger: pino({ level: 'info' }, sink), env: { REDIS_URL: redis.url } });
    running.push(feeds);
    await until(() => feeds.feed(system.id)!.current() !== null);
    expect(lines.filter((l) => l.level >= 40).map((l) => l.msg)).toEqual([]);
    // Shared: the snapshot went to Redis, for the other processes.
    expect((await redis.client().keys('feeds:*')).length).toBeGreaterThan(0);
  });

  it('three processes: one manifest request per floor between them, one poller, the same snapshot everywhere', async () => {
    const system = served.system('nocache', { pollFloorSeconds: 1 });
    const procs = [0, 1, 2].map(() => start(new SharedFeeds({ store: redisStore(), systems: [system], tickMs: 100 })));
    await until(async () => (await manifestRequests('nocache')).length >= 4);
    const polls = await manifestRequests('nocache');
    // At the floor, not three times per floor: consecutive requests at least a floor apart.
    const times = polls.map((r) => Date.parse(r.at));
    for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(1000);
    // Files: once (the first poll); later polls are 304s on the manifest (weak ETag), the files re-used.
    const files = ((await served.requests()) as unknown as { path: string }[]).filter((r) => r.path.endsWith('.ndjson'));
    expect(files.map((r) => r.path).sort()).toEqual(['/nocache/locations.ndjson', '/nocache/schedules.ndjson', '/nocache/slots.ndjson']);
    expect(polls.slice(1).every((r) => r.status === 304)).toBe(true);

    expect(procs.map((p) => p.feed(system.id)!.isPoller()).filter(Boolean)).toHaveLength(1);
    await until(() => new Set(procs.map((p) => p.feed(system.id)!.current()?.checkedAt)).size === 1);
    for (const p of procs) {
      const s = p.feed(system.id)!.current()!;
      expect(s.slots.map((x) => x.id)).toEqual(['s1', 's2']);
      expect(s.slots.every((x) => x.fetchedAt === s.checkedAt)).toBe(true);
      expect(s.services.map((x) => x.id)).toEqual([`smart:${system.id}:1:57`]);
    }
  });

  it('a poller that dies (stops renewing) has its feed taken over by another process', async () => {
    const system = served.system('nocache', { pollFloorSeconds: 1 });
    let dead = false;
    const inner = redisStore();
    // A process that stops answering: every store call from it hangs from now on.
    const dying: FeedStore = new Proxy(inner, {
      get(target, prop, receiver) {
        const v = Reflect.get(target, prop, receiver) as unknown;
        if (typeof v !== 'function') return v;
        return (...args: unknown[]) => (dead ? new Promise(() => {}) : (v as (...a: unknown[]) => unknown).apply(target, args));
      },
    });
    const a = start(new SharedFeeds({ store: dying, systems: [system], tickMs: 100, leaseMs: 600 }));
    await until(() => a.feed(system.id)!.isPoller() && a.feed(system.id)!.current() !== null);
    const b = start(new SharedFeeds({ store: redisStore(), systems: [system], tickMs: 100, leaseMs: 600 }));
    await until(() => b.feed(system.id)!.current() !== null);
    expect(b.feed(system.id)!.isPoller()).toBe(false);

    dead = true;
    const diedAt = Date.now();
    await until(() => b.feed(system.id)!.isPoller());
    expect(Date.now() - diedAt).toBeGreaterThanOrEqual(300);
    const before = (await manifestRequests('nocache')).length;
    await until(async () => (await manifestRequests('nocache')).length > before);
    const times = (await manifestRequests('nocache')).map((r) => Date.parse(r.at));
    for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(1000);
  });
});

describe('while the store (Redis) is away', () => {
  it('each process serves what it holds, then polls for itself at the floor until the store is back', async () => {
    const system = served.system('nocache', { pollFloorSeconds: 1 });
    let down = false;
    const inner = redisStore();
    const flaky: FeedStore = new Proxy(inner, {
      get(target, prop, receiver) {
        const v = Reflect.get(target, prop, receiver) as unknown;
        if (typeof v !== 'function') return v;
        return (...args: unknown[]) => (down ? Promise.reject(new Error('redis unavailable')) : (v as (...a: unknown[]) => unknown).apply(target, args));
      },
    });
    const errors: unknown[] = [];
    const feeds = start(new SharedFeeds({ store: flaky, systems: [system], tickMs: 100, leaseMs: 500, onStoreError: (e) => errors.push(e) }));
    const feed = feeds.feed(system.id)!;
    const first = await feed.snapshot();

    down = true;
    const downAt = Date.now();
    // Still answered from memory at once, then kept current by this process's own polls.
    expect(feed.current()!.slots.map((s) => s.id)).toEqual(['s1', 's2']);
    await until(() => Date.parse(feed.current()!.checkedAt) > downAt + 500);
    expect(errors.length).toBeGreaterThan(0);
    expect(feed.isPoller()).toBe(false);
    expect(feed.freshness().stale).toBe(false);
    const alone = (await manifestRequests('nocache')).filter((r) => Date.parse(r.at) >= downAt).map((r) => Date.parse(r.at));
    for (let i = 1; i < alone.length; i++) expect(alone[i]! - alone[i - 1]!).toBeGreaterThanOrEqual(1000);
    expect(Date.parse(feed.current()!.checkedAt)).toBeGreaterThan(Date.parse(first.checkedAt));

    down = false;
    await until(() => feed.isPoller());
  });
});

describe('a request never waits for a poll', () => {
  it('a stalled publisher: the last snapshot answers at once, stale after the failed poll, its fetch time unchanged; fresh again after', async () => {
    const system = served.system('stalling', { pollFloorSeconds: 1, deadlineMs: 1500 });
    const feeds = start(new SharedFeeds({ store: redisStore(), systems: [system], tickMs: 100 }));
    const feed = feeds.feed(system.id)!;
    const good = await feed.snapshot();
    expect(feed.freshness().stale).toBe(false);

    await fetch(`${served.publisher.url}/_sandbox/faults`, { method: 'POST', body: JSON.stringify({ pathPrefix: '/stalling/', stall: true }) });
    const stalledAt = Date.now();
    await until(async () => (await manifestRequests('stalling')).some((r) => Date.parse(r.at) >= stalledAt));
    // A poll is hanging on the publisher now: a reader is answered from memory, not after the poll.
    const t = performance.now();
    const during = await feed.snapshot();
    expect(performance.now() - t).toBeLessThan(500); // memory only; the poll hangs for its 1.5 s deadline
    expect(during.slots.map((s) => s.id)).toEqual(['s1', 's2']);

    await until(() => feed.freshness().stale);
    const stale = feed.current()!;
    expect(stale.stale).toMatchObject({ reason: 'TIMEOUT' });
    expect(stale.checkedAt).toBe(good.checkedAt);
    expect(stale.slots.every((s) => s.fetchedAt === good.checkedAt)).toBe(true);

    await fetch(`${served.publisher.url}/_sandbox/faults`, { method: 'DELETE' });
    await until(() => !feed.freshness().stale);
    expect(Date.parse(feed.current()!.checkedAt)).toBeGreaterThan(Date.parse(good.checkedAt));
  });

  it('first start with a stalled publisher: a request waits only the bounded first-snapshot wait, then UNAVAILABLE', async () => {
    await fetch(`${served.publisher.url}/_sandbox/faults`, { method: 'POST', body: JSON.stringify({ pathPrefix: '/first/', stall: true }) });
    const system = served.system('first', { pollFloorSeconds: 60, deadlineMs: 5000 });
    const feeds = start(new SharedFeeds({ store: new MemoryFeedStore(), systems: [system], tickMs: 100, firstSnapshotWaitMs: 300 }));
    const t = performance.now();
    await expect(feeds.feed(system.id)!.snapshot()).rejects.toMatchObject({ name: 'UpstreamError', reason: 'UNAVAILABLE' });
    const waited = performance.now() - t;
    expect(waited).toBeGreaterThanOrEqual(250);
    expect(waited).toBeLessThan(4000); // well before the poll's own 5 s deadline
    // Later requests do not wait again.
    const t2 = performance.now();
    await expect(feeds.feed(system.id)!.snapshot()).rejects.toBeInstanceOf(UpstreamError);
    expect(performance.now() - t2).toBeLessThan(100);
  });
});

describe('maxAge, within the poll floor', () => {
  it('an answer older than maxAge is stale, and the demand makes the poller poll at the floor instead of at max-age', async () => {
    const clock = testClock();
    const system = served.system('longcache', { pollFloorSeconds: 60 });
    const store = redisStore();
    const feeds = start(new SharedFeeds({ store, systems: [system], tickMs: 50, now: clock.now }));
    const feed = feeds.feed(system.id)!;
    const first = await feed.snapshot();
    expect(first.checkedAt).toBe(clock.now().toISOString());
    const { meta } = await store.readState(feedKey(system.id, system.manifestUrl));
    // The publisher's max-age (300 s) sets the next poll, above the floor.
    expect(meta!.nextPollAt - Date.parse(first.checkedAt)).toBe(300_000);

    clock.advance(30);
    expect(feed.freshness(60)).toEqual({ stale: false, ageSeconds: 30 });
    expect(feed.freshness(10)).toEqual({ stale: true, ageSeconds: 30 });
    feed.wantFresher();
    await until(async () => (await store.readState(feedKey(system.id, system.manifestUrl))).wantedAt !== null);

    clock.advance(30); // the floor since the last attempt, long before max-age
    await until(async () => (await manifestRequests('longcache')).length === 2);
    await until(() => feed.current()!.checkedAt === clock.now().toISOString());
    expect(feed.freshness(10).stale).toBe(false);
  });
});
