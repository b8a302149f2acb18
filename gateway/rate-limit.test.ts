import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type TestRedis } from '../test/redis.js';
import { MemoryRateLimiter, RedisRateLimiter, type RateLimiter } from './rate-limit.js';

let redis: TestRedis;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis.dispose();
});

const t0 = Date.UTC(2026, 10, 21, 10, 0, 15); // 15 s into a minute

describe.each([
  ['memory', () => new MemoryRateLimiter(3)],
  ['redis', () => new RedisRateLimiter(redis.client(), 3, pino({ level: 'silent' }), `t${Math.random()}:`)],
] as const)('%s rate limiter', (_name, make: () => RateLimiter) => {
  it('allows the limit per minute per consumer, then refuses until the window turns', async () => {
    const limiter = make();
    const decisions = [];
    for (let i = 0; i < 4; i++) decisions.push(await limiter.take('org:RX8', t0));
    expect(decisions.map((d) => d.allowed)).toEqual([true, true, true, false]);
    expect(decisions[3]!.retryAfterSeconds).toBe(45);
    expect((await limiter.take('org:NLO11', t0)).allowed).toBe(true);
    expect((await limiter.take('org:RX8', t0 + 45_000)).allowed).toBe(true);
  });
});

describe('redis rate limiter', () => {
  it('lets requests through when Redis is gone, and counts again when it is back', async () => {
    const own = await (await import('../test/redis.js')).startRedis();
    const { Redis } = await import('ioredis');
    const client = new Redis(own.url, { maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => 100 });
    client.on('error', () => {}); // the outage below is deliberate
    const limiter = new RedisRateLimiter(client, 1, pino({ level: 'silent' }), 'x:');
    const ready = async () => {
      const until = Date.now() + 5000;
      while (client.status !== 'ready' && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    };
    try {
      await ready();
      expect((await limiter.take('org:RX8', t0)).allowed).toBe(true);
      expect((await limiter.take('org:RX8', t0)).allowed).toBe(false);
      await own.stop();
      expect((await limiter.take('org:RX8', t0)).allowed).toBe(true);
      await own.start();
      await ready();
      expect((await limiter.take('org:RX8', t0 + 60_000)).allowed).toBe(true);
      expect((await limiter.take('org:RX8', t0 + 60_000)).allowed).toBe(false);
    } finally {
      client.disconnect();
      await own.dispose();
    }
  });
});
