/**
 * The gateway's read caches (read-cache.ts): bounded and expiring in process; the directory's answer shared through
 * Redis; and the answer cache's generation check reading exactly the service generations the slot cache's invalidation
 * bumps (the real RedisBucketStore against a real redis-server), so a booking anywhere makes a kept answer unusable.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisBucketStore } from '../../subgraphs/kit/slot-buckets-redis.js';
import { dayDigest, serviceDigest, serviceGenerationKey } from '../../common/slot-buckets.js';
import { londonDay } from '../../common/london-day.js';
import { commandCalls, startRedis, type TestRedis } from '../../test/redis.js';
import { AnswerCache, DirectoryCache, SlotGenerations, expiringMap } from './read-cache.js';
import { HoldStore, passedHold } from '../../common/holds.js';

let redis: TestRedis;
beforeAll(async () => {
  redis = await startRedis();
}, 30_000);
afterAll(async () => {
  await redis?.dispose();
});

describe('expiringMap', () => {
  it('keeps at most its bound, least recently used out first, and forgets expired entries', () => {
    // A clock as performance.now() reads in a running process (lru-cache takes a start time of 0 as none).
    let now = 50_000;
    const map = expiringMap<number>(3, () => now);
    for (let i = 0; i < 5; i++) map.set(`k${i}`, i, { ttl: 1000 });
    expect(map.size).toBe(3);
    expect(map.get('k0')).toBeUndefined();
    expect(map.get('k4')).toBe(4);
    now = 51_000;
    expect(map.get('k4')).toBe(4);
    now = 51_001;
    expect(map.get('k4')).toBeUndefined();
  });
});

describe('DirectoryCache', () => {
  it('shares a search answer between gateway replicas through Redis, and none when turned off', async () => {
    const a = new DirectoryCache<string[]>({ ttlMs: 30_000, redis: redis.client() });
    const b = new DirectoryCache<string[]>({ ttlMs: 30_000, redis: redis.client() });
    const search = { types: ['PHARMACY'], near: { postcode: 'LS1 4AP' }, radiusKm: 5 };
    expect(await b.get(search)).toBeUndefined();
    await a.set(search, ['1402000109']);
    expect(await b.get(search)).toEqual(['1402000109']);
    expect(await b.get({ ...search, radiusKm: 6 })).toBeUndefined();
    const off = new DirectoryCache<string[]>({ ttlMs: 0, redis: redis.client() });
    expect(await off.get(search)).toBeUndefined();
  });
});

describe('AnswerCache freshness', () => {
  it('fresh for its ttl, then stale for staleMs more, then gone', () => {
    let now = 50_000;
    const cache = new AnswerCache<string>({ ttlMs: 3000, staleMs: 2000, generations: new SlotGenerations(redis.client()), clock: () => now });
    cache.set('k', { answer: 'merged', generations: '1', pairs: [] });
    expect(cache.peek('k')).toMatchObject({ stale: false, entry: { answer: 'merged' } });
    now = 52_999;
    expect(cache.peek('k')?.stale).toBe(false);
    now = 53_000;
    expect(cache.peek('k')?.stale).toBe(true);
    now = 55_000;
    expect(cache.peek('k')?.stale).toBe(true);
    now = 55_001;
    expect(cache.peek('k')).toBeUndefined();
    expect(cache.lifeMs).toBe(5000);
  });

  it('refreshes one key once at a time and a bounded number in all, and reports a failed refresh', async () => {
    const cache = new AnswerCache<string>({ ttlMs: 3000, maxRefreshes: 2, generations: new SlotGenerations(redis.client()) });
    let runs = 0;
    const finishers: (() => void)[] = [];
    const work = () => {
      runs++;
      return new Promise<void>((resolve) => finishers.push(resolve));
    };
    const errors: unknown[] = [];
    const report = (e: unknown) => errors.push(e);
    const settle = () => new Promise((r) => setImmediate(r));
    cache.refresh('k', work, report);
    cache.refresh('k', work, report);
    await settle();
    expect(runs).toBe(1);
    cache.refresh('other', work, report);
    cache.refresh('third', work, report); // two running already: skipped
    await settle();
    expect(runs).toBe(2);
    for (const f of finishers.splice(0)) f();
    await settle();
    cache.refresh('bad', () => Promise.reject(new Error('suppliers away')), report);
    cache.refresh('worse', () => {
      throw new Error('thrown at once');
    }, () => {
      throw new Error('and the report fails too');
    });
    await settle();
    expect((errors as Error[]).map((e) => e.message)).toEqual(['suppliers away']);
    cache.refresh('k', work, report);
    await settle();
    expect(runs).toBe(3);
    finishers.splice(0).forEach((f) => f());
  });

  it('a refresh that keeps no new answer ends the stale one; one that does replaces it; a slower one never wins', async () => {
    let now = 50_000;
    const cache = new AnswerCache<string>({ ttlMs: 3000, generations: new SlotGenerations(redis.client()), clock: () => now });
    const settle = () => new Promise((r) => setImmediate(r));
    cache.set('k', { answer: 'old', generations: '1', pairs: [] });
    now = 53_500;
    // A supplier failed during the refresh, so nothing was kept: the next search fetches (and reports it).
    cache.refresh('k', async () => undefined, () => {});
    await settle();
    expect(cache.peek('k')).toBeUndefined();
    cache.set('k', { answer: 'old', generations: '1', pairs: [] });
    now = 57_000;
    cache.refresh('k', async () => cache.set('k', { answer: 'new', generations: '2', pairs: [] }), () => {});
    await settle();
    expect(cache.peek('k')).toMatchObject({ stale: false, entry: { answer: 'new' } });
    // A fetch that started before 'new' was kept finishes after it: 'new' stays.
    cache.set('k', { answer: 'slower', generations: '1', pairs: [] }, 56_000);
    expect(cache.peek('k')?.entry.answer).toBe('new');
    cache.set('k', { answer: 'later', generations: '3', pairs: [] }, 57_500);
    expect(cache.peek('k')?.entry.answer).toBe('later');
  });
});

describe('the answer cache generation check', () => {
  it('changes when the slot cache invalidates any day of any service behind the answer, and only then', async () => {
    const generations = new SlotGenerations(redis.client());
    const cache = new AnswerCache<string>({ ttlMs: 3000, generations });
    const store = new RedisBucketStore(redis.client());
    const pairs = [
      { system: 'harbour-uec', serviceId: '1402000105' },
      { system: 'oakfield-pas', serviceId: '1402000107' },
    ];
    const from = new Date(Date.now() + 2 * 86_400_000);
    const to = new Date(from.getTime() + 2 * 86_400_000);
    const before = await cache.generationsNow(pairs, from, to);
    cache.set('k', { answer: 'merged', generations: before, pairs });
    expect(await cache.generationsNow(pairs, from, to)).toBe(before);
    // A booking at another service changes nothing here.
    await store.invalidate([dayDigest('oakfield-pas', '1402000108', londonDay(from.getTime()))], 60_000);
    expect(await cache.generationsNow(pairs, from, to)).toBe(before);
    // A booking on the window's last day at one of its services does.
    await store.invalidate([dayDigest('oakfield-pas', '1402000107', londonDay(to.getTime()))], 60_000);
    expect(await cache.generationsNow(pairs, from, to)).not.toBe(cache.peek('k')!.entry.generations);
  });

  it('reads every service behind an answer in one MGET, each generation in its place, and one hold read per system', async () => {
    const generations = new SlotGenerations(redis.client());
    const store = new RedisBucketStore(redis.client());
    const pairs = Array.from({ length: 40 }, (_, i) => ({ system: i % 2 ? 'harbour-uec' : 'oakfield-pas', serviceId: `14020002${String(i).padStart(2, '0')}` }));
    const day = londonDay(Date.now() + 86_400_000);
    // Bumped: services 7 and 31 only. Each of their places in the string moves; no other.
    const before = (await generations.read(pairs, new Date(), new Date())).split(',');
    await store.invalidate([dayDigest(pairs[7]!.system, pairs[7]!.serviceId, day), dayDigest(pairs[31]!.system, pairs[31]!.serviceId, day)], 60_000);
    await redis.client().config('RESETSTAT');
    const after = (await generations.read(pairs, new Date(), new Date())).split(',');
    expect(await commandCalls(redis.client())).toEqual({ mget: 1, zrangebyscore: 2 });
    expect(after.map((g, i) => (g === before[i] ? null : i)).filter((i) => i !== null)).toEqual([7, 31]);
  });

  it('a service generation that expired and is made again never repeats a number an answer may hold', async () => {
    const generations = new SlotGenerations(redis.client());
    const store = new RedisBucketStore(redis.client());
    const pairs = [{ system: 'harbour-uec', serviceId: '1402000199' }];
    const from = new Date(Date.now() + 2 * 86_400_000);
    const to = new Date(from.getTime() + 86_400_000);
    const day = dayDigest('harbour-uec', '1402000199', londonDay(from.getTime()));
    await store.invalidate([day], 60_000);
    const first = await generations.read(pairs, from, to);
    expect(first).not.toBe('0');
    // Its marker expires (as after a quiet minute), then the next booking there makes it again.
    await redis.client().del(serviceGenerationKey(serviceDigest('harbour-uec', '1402000199')));
    expect(await generations.read(pairs, from, to)).toBe('0');
    await store.invalidate([day], 60_000);
    expect(await generations.read(pairs, from, to)).not.toBe(first);
    // And the marker lives as long as the day's.
    expect(await redis.client().pttl(serviceGenerationKey(serviceDigest('harbour-uec', '1402000199')))).toBeGreaterThan(50_000);
  });

  it('changes when a hold is taken or ended behind the answer, and is back once it expires (read from its expiry)', async () => {
    const generations = new SlotGenerations(redis.client());
    const holds = new HoldStore(redis.client());
    const pairs = [{ system: 'harbour-uec', serviceId: '1402000104' }];
    const from = new Date(Date.now() + 2 * 86_400_000);
    const to = new Date(from.getTime() + 86_400_000);
    const before = await generations.read(pairs, from, to);
    const hold = { hid: 'gen-1', system: 'harbour-uec', serviceId: '1402000104', slotId: 's', consumer: 'RX8', kind: 'GATEWAY_SOFT' as const, expiresAtMs: Date.now() + 60_000 };
    await holds.acquire(hold, true);
    const held = await generations.read(pairs, from, to);
    expect(held).not.toBe(before);
    // The same read with its holds: the members as stored, for the subgraphs (common/holds.ts passedHold).
    const withHolds = await generations.readWithHolds(pairs);
    expect(withHolds.generations).toBe(held);
    expect(withHolds.holds).toEqual(new Map([['harbour-uec', [JSON.stringify(['gen-1', 's', 'RX8'])]]]));
    expect(passedHold(withHolds.holds.get('harbour-uec')![0]!)).toMatchObject({ hid: 'gen-1', slotId: 's', consumer: 'RX8' });
    expect(await generations.read(pairs, from, to, hold.expiresAtMs)).toBe(before);
    await holds.end(hold);
    expect(await generations.read(pairs, from, to)).toBe(before);
  });
});
