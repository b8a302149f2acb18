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

/** The Redis store, counting the takes that reach it and the points they charged. */
class Counted implements RateStore {
  calls = 0;
  charged = 0;
  constructor(private readonly inner: RateStore) {}
  async take(key: string, cost: number, rule: RateRule, nowMs: number): Promise<RateDecision> {
    this.calls++;
    const d = await this.inner.take(key, cost, rule, nowMs);
    if (d.allowed) this.charged += cost;
    return d;
  }
}

const redisStore = () => new Counted(new RedisRateStore(redis.client(), `lease${Math.random()}:`));
// 60,000 a minute: 100 points earned per 100 ms lease, bursts of 500 (lease capped at a tenth: 50).
const busy: RateRule = { rate: 60_000, periodMs: 60_000, burst: 500 };
const t0 = Date.UTC(2026, 11, 2, 10, 0, 0);

/** Admissions of `takes` steps of `cost`, `stepMs` apart, spread over the stores round robin (replicas). */
async function admitted(stores: RateStore[], rule: RateRule, takes: number, stepMs: number, cost = 1, from = t0): Promise<number> {
  let n = 0;
  for (let i = 0; i < takes; i++) if ((await stores[i % stores.length]!.take('org:RX8', cost, rule, from + i * stepMs)).allowed) n++;
  return n;
}

describe('LeasedRateStore', () => {
  it('caps a lease at what the rule earns in one period, and a tenth of its burst', () => {
    expect(leaseSize(busy)).toBe(50);
    expect(leaseSize({ rate: 600, periodMs: 60_000, burst: 300 })).toBe(1);
    expect(leaseSize({ rate: 600_000, periodMs: 60_000, burst: 300_000 })).toBe(1000);
  });

  it('admits a busy consumer from leases: a Redis command per lease, not per request', async () => {
    const shared = redisStore();
    const leased = new LeasedRateStore(shared);
    // 1,000 requests within a second, inside the burst's refill: every one admitted.
    expect(await admitted([leased], busy, 1000, 1)).toBe(1000);
    // The first period asks for each (nothing known of the consumer yet), then a lease per 50.
    expect(shared.calls).toBeLessThanOrEqual(100 + 900 / leaseSize(busy) + 10);
    // What leases left unused: at most the last one.
    expect(shared.charged - 1000).toBeLessThanOrEqual(leaseSize(busy));
  });

  it('never leases for a sparse consumer: on three replicas, every point charged is a point used', async () => {
    const shared = redisStore();
    const replicas = [0, 1, 2].map(() => new LeasedRateStore(shared));
    // Five requests a second on each replica, for four seconds.
    expect(await admitted(replicas, busy, 60, 200 / 3)).toBe(60);
    expect(shared.calls).toBe(60);
    expect(shared.charged).toBe(60);
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

  it('concurrent takes wait for the one lease being taken, then ask for exactly their cost: no second lease', async () => {
    const shared = redisStore();
    const leased = new LeasedRateStore(shared);
    // A period of traffic first (each asked for), so the next period leases.
    await admitted([leased], busy, 60, 1);
    const before = { calls: shared.calls, charged: shared.charged };
    // 64 at once, of 10 points each: the lease (50 points) serves five, the rest ask for their 10 each.
    const decisions = await Promise.all(Array.from({ length: 64 }, () => leased.take('org:RX8', 10, busy, t0 + LEASE_MS)));
    expect(decisions.filter((d) => d.allowed).length).toBeGreaterThan(0);
    const leases = shared.calls - before.calls - (64 - 5);
    expect(leases).toBe(1);
    // Charged: what was admitted, and nothing more.
    expect(shared.charged - before.charged).toBe(decisions.filter((d) => d.allowed).length * 10);
  });

  it('lets a lease expire after its period: the next take asks the store again', async () => {
    const shared = redisStore();
    const leased = new LeasedRateStore(shared);
    await admitted([leased], busy, 20, 5); // 100 ms of traffic, each asked for
    const calls = shared.calls;
    await leased.take('org:RX8', 1, busy, t0 + 100); // leases
    await leased.take('org:RX8', 1, busy, t0 + 100 + LEASE_MS - 1); // from the lease
    expect(shared.calls).toBe(calls + 1);
    await leased.take('org:RX8', 1, busy, t0 + 100 + LEASE_MS); // expired: asks again
    expect(shared.calls).toBe(calls + 2);
  });

  it('passes every take straight to the store where a lease would not cover two, and every check (cost 0)', async () => {
    const shared = redisStore();
    const leased = new LeasedRateStore(shared);
    const modest: RateRule = { rate: 600, periodMs: 60_000, burst: 300 };
    await admitted([leased], modest, 20, 1);
    expect(shared.calls).toBe(20);
    await leased.take('org:RX8', 30, busy, t0); // a cost more than half the largest lease
    await leased.take('auth:10.0.0.1', 0, busy, t0);
    expect(shared.calls).toBe(22);
  });

  it('a store error reaches every waiting take at once (the limits then apply locally), and nothing is kept', async () => {
    let fail = false;
    let failed = 0;
    const inner = redisStore();
    const flaky: RateStore = { take: (...a) => (fail ? (failed++, Promise.reject(new Error('redis away'))) : inner.take(...a)) };
    const leased = new LeasedRateStore(flaky);
    await admitted([leased], busy, 60, 1);
    fail = true;
    const outcomes = await Promise.allSettled(Array.from({ length: 10 }, () => leased.take('org:RX8', 1, busy, t0 + LEASE_MS)));
    expect(outcomes.every((o) => o.status === 'rejected')).toBe(true);
    // One lease asked for; the nine waiting on it had its answer, and did not each wait for Redis again.
    expect(failed).toBe(1);
    fail = false;
    expect((await leased.take('org:RX8', 1, busy, t0 + LEASE_MS + 1)).allowed).toBe(true);
  });
});
