/** Leased shared limits against the real Redis store: fewer round trips, and never more admitted than without leases. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type TestRedis } from '../../../test/redis.js';
import { LEASE_MS, LeasedRateStore, leaseSize } from './leased-store.js';
import { RedisRateStore } from './redis-store.js';
import type { RateDecision, RateRule, RateStore } from './store.js';

let redis: TestRedis;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis.dispose();
});

/** The Redis store, counting the takes that reach it. */
class Counted implements RateStore {
  calls = 0;
  constructor(private readonly inner: RateStore) {}
  take(key: string, cost: number, rule: RateRule, nowMs: number): Promise<RateDecision> {
    this.calls++;
    return this.inner.take(key, cost, rule, nowMs);
  }
}

const redisStore = () => new Counted(new RedisRateStore(redis.client(), `lease${Math.random()}:`));
// 60,000 a minute: 100 points earned per 100 ms lease, bursts of 500 (lease capped at a tenth: 50).
const busy: RateRule = { rate: 60_000, periodMs: 60_000, burst: 500 };
const t0 = Date.UTC(2026, 11, 2, 10, 0, 0);

/** Admissions of `takes` steps of `cost`, `stepMs` apart, spread over the stores round robin (replicas). */
async function admitted(stores: RateStore[], rule: RateRule, takes: number, stepMs: number, cost = 1): Promise<number> {
  let n = 0;
  for (let i = 0; i < takes; i++) if ((await stores[i % stores.length]!.take('org:RX8', cost, rule, t0 + i * stepMs)).allowed) n++;
  return n;
}

describe('LeasedRateStore', () => {
  it('sizes a lease by what the rule earns in one period, within a tenth of its burst', () => {
    expect(leaseSize(busy)).toBe(50);
    expect(leaseSize({ rate: 600, periodMs: 60_000, burst: 300 })).toBe(1);
    expect(leaseSize({ rate: 600_000, periodMs: 60_000, burst: 300_000 })).toBe(1000);
  });

  it('admits a busy consumer from leases: a Redis command per lease, not per request', async () => {
    const shared = redisStore();
    const leased = new LeasedRateStore(shared);
    // 1,000 requests within a second, inside the burst's refill: every one admitted.
    expect(await admitted([leased], busy, 1000, 1)).toBe(1000);
    expect(shared.calls).toBeLessThanOrEqual(1000 / leaseSize(busy) + 1);
  });

  it('never admits more than the shared store alone would, on one replica or three, and is exact near the limit', async () => {
    // Hammer far past the limit: 3,000 takes in 1.5 s against 500 at once plus 1,000 a second.
    const plain = await admitted([redisStore()], busy, 3000, 0.5);
    const one = await admitted([new LeasedRateStore(redisStore())], busy, 3000, 0.5);
    const shared = new RedisRateStore(redis.client(), `lease${Math.random()}:`);
    const three = await admitted([0, 1, 2].map(() => new LeasedRateStore(shared)), busy, 3000, 0.5);
    expect(plain).toBeGreaterThan(1500);
    for (const n of [one, three]) {
      expect(n).toBeLessThanOrEqual(plain);
      // What leases leave unused is lost: at most a lease per replica per period (15 periods here).
      expect(n).toBeGreaterThanOrEqual(plain - 3 * 15 * leaseSize(busy));
    }
  });

  it('asks the store once for concurrent requests that find no lease', async () => {
    const shared = redisStore();
    const leased = new LeasedRateStore(shared);
    const decisions = await Promise.all(Array.from({ length: 40 }, () => leased.take('org:RX8', 1, busy, t0)));
    expect(decisions.every((d) => d.allowed)).toBe(true);
    expect(shared.calls).toBe(1);
  });

  it('lets a lease expire after its period: the next take asks the store again', async () => {
    const shared = redisStore();
    const leased = new LeasedRateStore(shared);
    await leased.take('org:RX8', 1, busy, t0);
    await leased.take('org:RX8', 1, busy, t0 + LEASE_MS - 1);
    expect(shared.calls).toBe(1);
    await leased.take('org:RX8', 1, busy, t0 + LEASE_MS);
    expect(shared.calls).toBe(2);
  });

  it('passes every take straight to the store where a lease would not cover two, and every check (cost 0)', async () => {
    const shared = redisStore();
    const leased = new LeasedRateStore(shared);
    const modest: RateRule = { rate: 600, periodMs: 60_000, burst: 300 };
    await admitted([leased], modest, 20, 1);
    expect(shared.calls).toBe(20);
    await leased.take('org:RX8', 300, busy, t0); // a cost as large as the lease
    await leased.take('auth:10.0.0.1', 0, busy, t0);
    expect(shared.calls).toBe(22);
  });
});
