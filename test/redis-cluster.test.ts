/**
 * Every Redis store on a real Redis Cluster (three masters, three replicas), through the same factory the processes
 * use (REDIS_CLUSTER_NODES). Each multi-key command, Lua script and batched read is run with keys that land on
 * different masters, so a key layout without hash tags fails here with CROSSSLOT (or ioredis's refusal of a
 * pipeline spanning nodes). The key builders of each multi-key operation are checked to map to one slot, by the
 * cluster itself (CLUSTER KEYSLOT).
 */
import { randomUUID } from 'node:crypto';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cluster } from 'ioredis';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { RedisIdempotencyStore } from '../gateway/operations/idempotency-redis-store.js';
import { DirectoryCache, SlotGenerations } from '../gateway/operations/read-cache.js';
import { RedisApqCache } from '../gateway/plugins/persisted-queries.js';
import { RedisRateStore } from '../gateway/plugins/rate-limit/redis-store.js';
import { RedisFeedStore, feedKey } from '../subgraphs/kit/feeds/store-redis.js';
import { ReplayGuard } from '../common/internal-auth.js';
import { londonDay } from '../common/london-day.js';
import { connectRedis, redisTargetFromEnv, type RedisConnection } from '../common/redis.js';
import { bucketAddress, dayDigest } from '../common/slot-buckets.js';
import { RedisBucketStore, bucketVersion, dayKey, lockKey } from '../subgraphs/kit/slot-buckets-redis.js';
import { SupplierThrottle } from '../subgraphs/kit/supplier-throttle.js';
import { HoldStore, holdsKey } from '../common/holds.js';
import { onNode, startRedisCluster, type TestRedisCluster } from './support/redis-cluster.js';

const silent = pino({ level: 'silent' });
let cluster: TestRedisCluster;
const connections: RedisConnection[] = [];

async function connect(): Promise<RedisConnection> {
  const conn = connectRedis(redisTargetFromEnv({ REDIS_CLUSTER_NODES: cluster.nodesSetting })!, { logger: silent, consequence: 'test', commandTimeoutMs: 5000 });
  connections.push(conn);
  expect(await conn.ready(30_000)).toBe(true);
  return conn;
}

beforeAll(async () => {
  cluster = await startRedisCluster();
}, 120_000);

afterAll(async () => {
  for (const c of connections) await c.close();
  await cluster?.dispose();
});

const slotOf = async (key: string) => Number(await cluster.client().call('CLUSTER', 'KEYSLOT', key));
const mastersOf = async (keys: string[]) => new Set(await Promise.all(keys.map(async (k) => (await cluster.masterOf(k)).port)));

// Twenty services of one system: enough that their keys land on every master.
const services = Array.from({ length: 20 }, (_, i) => `14020001${String(i).padStart(2, '0')}`);
const days = ['2026-11-24', '2026-11-25', '2026-11-26'];

describe('Redis Cluster: key layout', () => {
  it('keeps every key of one multi-key operation in one slot, and spreads services and feeds over the masters', async () => {
    // Slot cache: a service's days and locks together (its reads are batched per service).
    for (const s of services.slice(0, 4)) {
      const keys = days.flatMap((d) => [dayKey(dayDigest('oak', s, d)), lockKey(bucketAddress('oak', s, d, 'aud'))]);
      expect(new Set(await Promise.all(keys.map(slotOf))).size).toBe(1);
    }
    expect((await mastersOf(services.map((s) => dayKey(dayDigest('oak', s, days[0]!))))).size).toBe(3);
    // Feeds: lease, meta, body and want of one feed together (the fenced write and the state read).
    const parts = ['lease', 'meta', 'body', 'want'] as const;
    for (const f of ['feed-a', 'feed-b']) expect(new Set(await Promise.all(parts.map((p) => slotOf(feedKey(f, p))))).size).toBe(1);
    expect((await mastersOf(Array.from({ length: 20 }, (_, i) => feedKey(`feed-${i}`, 'lease')))).size).toBe(3);
  });
});

describe('Redis Cluster: every store', () => {
  it('slot buckets: batched reads, conditional writes and invalidations across masters; locks', async () => {
    const { redis } = await connect();
    const store = new RedisBucketStore(redis);
    // Interleaved (each day across every service), so each service's group gathers items from all over the batch.
    const addresses = days.flatMap((d) => services.map((s) => bucketAddress('oak', s, d, 'aud')));
    expect(await store.read(addresses)).toEqual(addresses.map(() => ({ generation: 0 })));
    const written = await store.write(addresses.map((address, i) => ({ address, generation: 0, bucket: `b${i}`, lifetimeMs: 60_000 })));
    expect(written).toBe(addresses.length);
    const read = await store.read(addresses);
    expect(read.map((e) => e.bucket)).toEqual(addresses.map((_, i) => `b${i}`));
    // Invalidate one day of every service: their generation moves, the others keep their buckets.
    await store.invalidate(services.map((s) => dayDigest('oak', s, days[1]!)), 60_000);
    // Read as a warm reader does, holding every text at the version it read (every third at one that moved, so
    // read again in a second pass): the kept ones come back as the very strings held (versions checked on every
    // master), the invalidated ones as gone.
    const held = read.map((e, i) => ({ version: i % 3 === 0 ? 'moved' : e.version!, text: `${e.bucket}` }));
    const after = await store.read(addresses, held);
    after.forEach((e, i) => {
      const invalidated = Math.floor(i / services.length) === 1;
      expect(e).toEqual(invalidated ? { generation: 1 } : { generation: 0, bucket: `b${i}`, version: bucketVersion(`b${i}`) });
      if (!invalidated) expect(e.bucket).toBe(held[i]!.text);
    });
    // A write carrying the old generation is dropped (the first service's second day, invalidated above).
    expect(await store.write([{ address: addresses[services.length]!, generation: 0, bucket: 'late', lifetimeMs: 60_000 }])).toBe(0);
    expect(await store.lock([addresses[0]!], 't1', 5000)).toEqual([true]);
    expect(await store.lock([addresses[0]!], 't2', 5000)).toEqual([false]);
    await store.unlock([addresses[0]!], 't1');
    expect(await store.lock([addresses[0]!], 't2', 5000)).toEqual([true]);
    // Every address at once (services on several nodes): one script per service, each answer in its place.
    const all = await store.lock(addresses, 't3', 5000);
    expect(all).toEqual(addresses.map((_, i) => i !== 0));
    await store.unlock(addresses, 't3');
    expect(await store.lock(addresses, 't4', 5000)).toEqual(addresses.map((_, i) => i !== 0));
  });

  it("the gateway's slot generations: one number per (system, service), read across masters", async () => {
    const { redis } = await connect();
    const store = new RedisBucketStore(redis);
    const generations = new SlotGenerations(redis);
    const from = new Date('2026-12-01T09:00:00Z');
    const to = new Date('2026-12-02T17:00:00Z');
    const pairs = services.map((serviceId) => ({ system: 'pas', serviceId }));
    const before = await generations.read(pairs, from, to);
    expect(before.split(',')).toHaveLength(services.length);
    // The day bump and the service's (two keys, one tag) in one script on the service's master.
    await store.invalidate([dayDigest('pas', services[7]!, londonDay(to.getTime()))], 60_000);
    const after = (await generations.read(pairs, from, to)).split(',');
    expect(after.filter((g) => g !== '0')).toHaveLength(1);
    expect(after.findIndex((g) => g !== '0')).toBe(7);
  });

  it('holds: the grant and end scripts (three keys, one tag) and the batched live read, across masters', async () => {
    const { redis } = await connect();
    const holds = new HoldStore(redis);
    // Holds are kept per supplier system: one system per service here, so they spread over the masters.
    const records = services.map((serviceId, i) => ({ hid: `c${i}`, system: `bs-${i}`, serviceId, slotId: `slot-${i}`, consumer: 'RX8', kind: 'GATEWAY_SOFT' as const, expiresAtMs: Date.now() + 60_000 }));
    expect(new Set(await Promise.all(records.map((r) => slotOf(holdsKey(r.system))))).size).toBeGreaterThan(1);
    for (const r of records) expect((await holds.acquire(r, true)).granted).toBe(true);
    expect((await holds.acquire({ ...records[0]!, hid: 'other' }, true)).granted).toBe(false);
    const live = await holds.live(records);
    expect([...live.values()].map((l) => l.length)).toEqual(records.map(() => 1));
    expect(await holds.end(records[3]!)).toBe(true);
    expect((await holds.live([records[3]!])).get(`bs-3\n${records[3]!.serviceId}`)).toEqual([]);
  });

  it('feeds: lease, fenced write (three keys, one script), state read (MGET), want, release', async () => {
    const { redis } = await connect();
    const store = new RedisFeedStore(redis);
    const meta = { bodyVersion: 'v1', checkedAt: '2026-12-01T09:00:00Z', nextPollAt: 1, attemptAt: 1, stale: null, failure: null, files: 2 };
    for (const feed of Array.from({ length: 6 }, (_, i) => `feed-${i}`)) {
      expect(await store.lease(feed, 'me', 10_000)).toBe(true);
      expect(await store.lease(feed, 'other', 10_000)).toBe(false);
      expect(await store.write(feed, 'me', meta, 'body', 60_000)).toBe(true);
      expect(await store.write(feed, 'other', meta, 'theirs', 60_000)).toBe(false);
      await store.want(feed, 1234, 60_000);
      const state = await store.readState(feed);
      expect(state.meta?.bodyVersion).toBe('v1');
      expect(state.wantedAt).toBe(1234);
      expect(await store.readBody(feed)).toBe('body');
      await store.release(feed, 'me');
      expect(await store.lease(feed, 'other', 10_000)).toBe(true);
    }
  });

  it('idempotency records: claim, finish, replay, mismatch, release', async () => {
    const { redis } = await connect();
    const store = new RedisIdempotencyStore(redis);
    const result = { outcome: 'BOOKED', appointment: null, message: null, field: null };
    for (const key of Array.from({ length: 6 }, () => randomUUID())) {
      expect(await store.claim(key, 'fp', 10_000)).toEqual({ kind: 'claimed', mayHaveBooked: false });
      expect(await store.claim(key, 'fp', 10_000)).toEqual({ kind: 'in-progress' });
      const master = await cluster.masterOf(`idem:${key}`);
      const waits = async () => Number(/cmdstat_wait:calls=(\d+)/.exec(await onNode(master.port, (r) => r.info('commandstats')))?.[1] ?? 0);
      const waitsBefore = await waits();
      await store.finish(key, { state: 'done', fingerprint: 'fp', result });
      // Acknowledged by a replica before finish() returned (WAIT on the key's own master), so a failover keeps it.
      expect(await waits()).toBe(waitsBefore + 1);
      expect(JSON.parse((await cluster.readOnReplica(`idem:${key}`))!)).toMatchObject({ state: 'done', result });
      expect(await store.claim(key, 'fp', 10_000)).toEqual({ kind: 'done', result });
      expect(await store.claim(key, 'other', 10_000)).toEqual({ kind: 'mismatch' });
      await store.release(key, 'fp');
      expect(await store.claim(key, 'fp', 10_000)).toEqual({ kind: 'done', result });
    }
  });

  it('rate limits (GCRA script), persisted queries, the directory cache and the replay guard', async () => {
    const { redis } = await connect();
    const rates = new RedisRateStore(redis);
    const rule = { rate: 2, periodMs: 60_000, burst: 2 };
    const now = Date.now();
    const decisions = [];
    for (let i = 0; i < 3; i++) decisions.push((await rates.take('consumer-x', 1, rule, now)).allowed);
    expect(decisions).toEqual([true, true, false]);

    const apq = new RedisApqCache(redis);
    await apq.set('hash-1', '{ a }');
    expect(await apq.get('hash-1')).toBe('{ a }');

    const directory = new DirectoryCache<string[]>({ ttlMs: 30_000, redis, onStoreError: (err) => { throw err; } });
    await directory.set({ q: 'x' }, ['svc']);
    const elsewhere = new DirectoryCache<string[]>({ ttlMs: 30_000, redis: (await connect()).redis });
    expect(await elsewhere.get({ q: 'x' })).toEqual(['svc']);

    const guardA = new ReplayGuard({ redis, onRedisError: (err) => { throw err; } });
    const guardB = new ReplayGuard({ redis: (await connect()).redis });
    expect(await guardA.firstUse('sig-1', Date.now() + 10_000)).toBe(true);
    expect(await guardB.firstUse('sig-1', Date.now() + 10_000)).toBe(false);
  });

  it("rate-limiter-flexible's RateLimiterRedis shares one budget through the Cluster client; the supplier throttle runs on it", async () => {
    const a = await connect();
    const b = await connect();
    expect(a.redis).toBeInstanceOf(Cluster);
    // A minute's window, so the counts do not depend on how fast a busy machine runs the calls.
    const prefix = `rl:test:${randomUUID()}`;
    const limiters = [a, b].map((c) => new RateLimiterRedis({ storeClient: c.redis, keyPrefix: prefix, points: 3, duration: 60 }));
    const outcomes: string[] = [];
    for (let i = 0; i < 6; i++) {
      outcomes.push(await limiters[i % 2]!.consume('sys').then(() => 'ok', (e: unknown) => (e instanceof RateLimiterRes ? 'refused' : String(e))));
    }
    // Three between both clients (six if each kept its own budget); the counter lives in the cluster.
    expect(outcomes).toEqual(['ok', 'ok', 'ok', 'refused', 'refused', 'refused']);
    expect(Number(await cluster.client().get(`${prefix}:sys`))).toBeGreaterThanOrEqual(3);

    // The supplier throttle's one-second windows, through the cluster: its script ran there, not only in process.
    const scriptCalls = async () => {
      let n = 0;
      for (const node of cluster.nodes) {
        const stats = await onNode(node.port, (r) => r.info('commandstats'));
        n += Number(/cmdstat_evalsha:calls=(\d+)/.exec(stats)?.[1] ?? 0) + Number(/cmdstat_eval:calls=(\d+)/.exec(stats)?.[1] ?? 0);
      }
      return n;
    };
    const before = await scriptCalls();
    await new SupplierThrottle({ rateOf: () => 3, redis: a.redis, logger: silent, keyPrefix: `throttle:test:${randomUUID()}` }).acquire('sys', 5000);
    expect(await scriptCalls()).toBeGreaterThan(before);
  });
});
