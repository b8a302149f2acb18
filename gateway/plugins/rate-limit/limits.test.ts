import { pino } from 'pino';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type TestRedis } from '../../../test/redis.js';
import { ConsumerLimits } from './limits.js';
import { MemoryRateStore } from './memory-store.js';
import { RedisRateStore } from './redis-store.js';
import type { RateStore } from './store.js';

let redis: TestRedis;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis.dispose();
});

const silent = pino({ level: 'silent' });
const options = { requestsPerMinute: 60, costPerMinute: 3000, failedAuthPerMinute: 5, concurrentPerConsumer: 2 };

describe.each([
  ['memory', () => new MemoryRateStore()],
  ['redis', () => new RedisRateStore(redis.client(), `t${Math.random()}:`)],
] as const)('%s store', (_name, make: () => RateStore) => {
  it('admits a burst, then the steady rate, and never twice the limit across a minute boundary', async () => {
    let now = Date.UTC(2026, 10, 21, 10, 0, 59, 500); // half a second before a minute turns
    const limits = new ConsumerLimits(options, make(), silent, () => now);
    let admitted = 0;
    // Hammer for two seconds around the boundary: a fixed window would admit 60 + 60 here.
    for (let i = 0; i < 400; i++) {
      if ((await limits.request('org:RX8')).allowed) admitted++;
      now += 5;
    }
    expect(admitted).toBeGreaterThanOrEqual(30); // the burst: half a minute's worth
    expect(admitted).toBeLessThanOrEqual(30 + 3); // plus one a second
    await limits.request('org:RX8'); // takes any point the last step earned back
    const refused = await limits.request('org:RX8');
    expect(refused).toMatchObject({ allowed: false });
    expect(refused.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect((await limits.request('org:NLO11')).allowed).toBe(true);
    now += 60_000;
    expect((await limits.request('org:RX8')).allowed).toBe(true);
  });

  it('charges cost, so a few heavy operations use up what many light ones would', async () => {
    const now = Date.UTC(2026, 10, 21, 10, 0, 0);
    const limits = new ConsumerLimits(options, make(), silent, () => now);
    expect((await limits.cost('org:RX8', 1400)).allowed).toBe(true);
    expect((await limits.cost('org:RX8', 100)).allowed).toBe(true);
    expect((await limits.cost('org:RX8', 1400)).allowed).toBe(false);
    expect((await limits.cost('org:NLO11', 1400)).allowed).toBe(true);
    expect((await limits.cost('org:RX8', 0)).allowed).toBe(true);
  });

  it('counts failed authentications per address and refuses the address past them', async () => {
    const now = Date.UTC(2026, 10, 21, 10, 0, 0);
    const limits = new ConsumerLimits(options, make(), silent, () => now);
    for (let i = 0; i < 5; i++) await limits.authFailed('10.1.1.1');
    expect((await limits.authAllowed('10.1.1.1')).allowed).toBe(false);
    expect((await limits.authAllowed('10.1.1.2')).allowed).toBe(true);
  });
});

describe('consumer limits', () => {
  it('hold operations in flight per consumer on this replica', () => {
    const limits = new ConsumerLimits(options, null, silent);
    const a = limits.enter('org:RX8');
    const b = limits.enter('org:RX8');
    expect(a && b).toBeTruthy();
    expect(limits.enter('org:RX8')).toBeNull();
    expect(limits.enter('org:NLO11')).not.toBeNull();
    a!();
    a!(); // releasing twice frees one place only
    expect(limits.enter('org:RX8')).not.toBeNull();
    expect(limits.enter('org:RX8')).toBeNull();
  });

  it('apply the rules on this replica alone while Redis is away, and share them again when it is back', async () => {
    const own = await startRedis();
    const client = new Redis(own.url, { maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => 100 });
    client.on('error', () => {}); // the outage below is deliberate
    const ready = async () => {
      const until = Date.now() + 10_000;
      while (client.status !== 'ready' && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    };
    let now = Date.UTC(2026, 10, 21, 10, 0, 0);
    const rules = { ...options, requestsPerMinute: 10 };
    const replicaA = new ConsumerLimits(rules, new RedisRateStore(client, 'o:'), silent, () => now);
    const replicaB = new ConsumerLimits(rules, new RedisRateStore(client, 'o:'), silent, () => now);
    try {
      await ready();
      for (let i = 0; i < 5; i++) expect((await replicaA.request('org:RX8')).allowed).toBe(true);
      for (let i = 0; i < 5; i++) expect((await replicaB.request('org:RX8')).allowed).toBe(true);
      expect((await replicaA.request('org:RX8')).allowed).toBe(false); // shared: 10 across both
      await own.stop();
      now += 60_000;
      let admitted = 0;
      for (let i = 0; i < 30; i++) if ((await replicaA.request('org:RX8')).allowed) admitted++;
      expect(admitted).toBe(10); // not open: this replica's own bucket
      await own.start();
      await ready();
      now += 60_000;
      for (let i = 0; i < 10; i++) expect((await replicaB.request('org:RX8')).allowed).toBe(true);
      expect((await replicaA.request('org:RX8')).allowed).toBe(false);
    } finally {
      client.disconnect();
      await own.dispose();
    }
  });
});
