/**
 * The per-supplier throttle against a real redis-server: one budget shared by replicas, waiting within the deadline,
 * RATE_LIMITED (never sent) past it, the per-replica limit while Redis is stopped, and upstreamFetch going through it.
 */
import { createServer, type Server } from 'node:http';
import { pino } from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startRedis, type TestRedis } from '../../test/redis.js';
import { CircuitBreaker, DEFAULT_BREAKER } from './circuit-breaker.js';
import { connectRedis, type RedisConnection } from '../../common/redis.js';
import { parseRegistry } from './registry.js';
import { SupplierThrottle, supplierThrottleFromEnv } from './supplier-throttle.js';
import { supplierStatus } from './supplier-status.js';
import { upstreamFetch } from './supplier-http.js';
import { installSupplierThrottle, ThrottledError, UpstreamError } from '../../common/upstream.js';

const silent = pino({ level: 'silent' });
let redis: TestRedis;
const connections: RedisConnection[] = [];

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  for (const c of connections) await c.close();
  await redis.dispose();
});
beforeEach(async () => {
  await redis.client().flushall();
});

async function replica(rate: number, extra: { replicas?: number } = {}): Promise<SupplierThrottle> {
  const conn = connectRedis(redis.url, { logger: silent, consequence: 'test' });
  connections.push(conn);
  expect(await conn.ready(5000)).toBe(true);
  return new SupplierThrottle({ rateOf: (s) => (s === 'sys' ? rate : undefined), redis: conn.redis, logger: silent, ...extra });
}

/** Acquires `n` tokens at once, spread over the throttles; each call's admission time after the start, in ms. */
async function burst(throttles: SupplierThrottle[], n: number, withinMs: number): Promise<(number | Error)[]> {
  const t0 = performance.now();
  return Promise.all(
    Array.from({ length: n }, (_, i) =>
      throttles[i % throttles.length]!.acquire('sys', withinMs).then(
        () => performance.now() - t0,
        (e: unknown) => e as Error,
      ),
    ),
  );
}

const admittedWithin = (times: (number | Error)[], ms: number) => times.filter((t) => typeof t === 'number' && t < ms).length;

describe('supplier throttle', () => {
  it('shares one budget between replicas through Redis, and a call over it waits for a token instead of failing', async () => {
    const replicas = [await replica(5), await replica(5)];
    const times = await burst(replicas, 12, 10_000);
    // Every call got a token: none failed, the late ones waited for later windows.
    expect(times.every((t) => typeof t === 'number')).toBe(true);
    // Five between both replicas in the first window (ten if each had its own), the rest a second or more later.
    expect(admittedWithin(times, 900)).toBe(5);
    expect(Math.max(...(times as number[]))).toBeGreaterThanOrEqual(1500);
    expect(await redis.client().keys('*')).toEqual(['throttle:v1:sys']);
  });

  it('fails as RATE_LIMITED, never sent, only when no token can come within the deadline', async () => {
    const t = await replica(2);
    await t.acquire('sys', 1000);
    await t.acquire('sys', 1000);
    const started = performance.now();
    const err = await t.acquire('sys', 300).then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(ThrottledError);
    expect(err).toBeInstanceOf(UpstreamError);
    expect(err).toMatchObject({ system: 'sys', reason: 'RATE_LIMITED', retryAfterMs: expect.any(Number) });
    expect(performance.now() - started).toBeLessThan(250);
    // The same call with a longer deadline waits for the next window and goes out.
    await expect(t.acquire('sys', 3000)).resolves.toBeUndefined();
  });

  it('never holds a system the registry does not rate', async () => {
    const t = await replica(1);
    const times = await burst([t], 1, 100);
    expect(times).toHaveLength(1);
    await Promise.all(Array.from({ length: 50 }, () => t.acquire('dos', 1)));
  });

  it('keeps a per-replica share while Redis is stopped, and the shared budget once it is back', async () => {
    const t = await replica(6, { replicas: 2 });
    await redis.stop();
    try {
      const started = performance.now();
      const times = await burst([t], 7, 10_000);
      expect(times.every((x) => typeof x === 'number')).toBe(true);
      // Three a second for this replica (6 / 2): a stopped Redis neither lifts the limit nor holds calls on it.
      expect(admittedWithin(times, 900)).toBe(3);
      expect(performance.now() - started).toBeLessThan(5000);
    } finally {
      await redis.start();
    }
    const conn = connections.at(-1)!;
    expect(await conn.ready(10_000)).toBe(true);
    // Shared again: the whole rate, counted in Redis.
    await new Promise((r) => setTimeout(r, 1100));
    const times = await burst([t], 8, 10_000);
    expect(admittedWithin(times, 900)).toBe(6);
    expect(await redis.client().exists('throttle:v1:sys')).toBe(1);
  });
});

describe('upstreamFetch through the throttle', () => {
  let server: Server;
  let url: string;
  const arrivals: number[] = [];
  beforeAll(async () => {
    server = createServer((_req, res) => {
      arrivals.push(performance.now());
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}/x`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('paces every call to the rate: they all succeed, waiting their turn, and a throttled refusal never opens the breaker', async () => {
    const uninstall = installSupplierThrottle(await replica(4));
    // The operator's view counts the calls held (waited, refused), beside the metric.
    const held = () => supplierStatus.view().systems.find((s) => s.system === 'sys')?.last5Minutes ?? { throttleWaits: 0, throttleRefusals: 0 };
    const before = held();
    try {
      arrivals.length = 0;
      const t0 = performance.now();
      const answers = await Promise.all(Array.from({ length: 10 }, () => upstreamFetch(url, { system: 'sys', deadlineMs: 5000 })));
      expect(answers.every((a) => a.status === 200)).toBe(true);
      expect(arrivals.filter((a) => a - t0 < 900)).toHaveLength(4);
      expect(arrivals).toHaveLength(10);

      // Deadlines too short to wait: RATE_LIMITED, nothing sent, and the breaker does not count them.
      await redis.client().del('throttle:v1:sys');
      const clock = { t: 0 };
      const breaker = new CircuitBreaker('sys', { ...DEFAULT_BREAKER, clock: () => clock.t });
      const sent = arrivals.length;
      const outcomes = await Promise.all(
        Array.from({ length: 12 }, () => breaker.run(() => upstreamFetch(url, { system: 'sys', deadlineMs: 150 })).then(() => 'ok', (e: unknown) => e)),
      );
      const refused = outcomes.filter((o) => o instanceof ThrottledError);
      expect(refused).toHaveLength(12 - 4);
      expect(arrivals.length - sent).toBe(4);
      expect(breaker.current).toBe('closed');
      expect(held().throttleWaits - before.throttleWaits).toBeGreaterThanOrEqual(6);
      expect(held().throttleRefusals - before.throttleRefusals).toBe(8);
    } finally {
      uninstall();
    }
    // Uninstalled: no longer held.
    arrivals.length = 0;
    await Promise.all(Array.from({ length: 10 }, () => upstreamFetch(url, { system: 'sys', deadlineMs: 500 })));
    expect(arrivals).toHaveLength(10);
  });
});

describe('from the environment', () => {
  const registry = parseRegistry({
    consumerSystem: { asid: '918999198738', endpoint: 'https://gw.example/fhir' },
    systems: [{ id: 'oak', kind: 'PAS_REST', name: 'Oak', baseUrl: 'http://127.0.0.1:1/api', credentials: { apiKeyEnv: 'OAK_KEY' }, rateLimitPerSecond: 3 }],
  });

  it('limits each registry system to its rateLimitPerSecond, per process without REDIS_URL, split between replicas', async () => {
    const whole = supplierThrottleFromEnv(registry, silent, {})!;
    const half = supplierThrottleFromEnv(registry, silent, { SUPPLIER_THROTTLE_REPLICAS: '2' })!;
    const t0 = performance.now();
    const times = (t: SupplierThrottle) => Promise.all(Array.from({ length: 5 }, () => t.acquire('oak', 5000).then(() => performance.now() - t0)));
    const [a, b] = await Promise.all([times(whole.throttle), times(half.throttle)]);
    expect(admittedWithin(a, 900)).toBe(3);
    expect(admittedWithin(b, 900)).toBe(1);
    // Not in the registry: never held.
    await Promise.all(Array.from({ length: 20 }, () => whole.throttle.acquire('dos', 1)));
    await whole.close();
    await half.close();
  });

  it('is off with SUPPLIER_THROTTLE=off, and refuses a nonsense replica count', () => {
    expect(supplierThrottleFromEnv(registry, silent, { SUPPLIER_THROTTLE: 'off' })).toBeUndefined();
    expect(() => supplierThrottleFromEnv(registry, silent, { SUPPLIER_THROTTLE_REPLICAS: '0' })).toThrow(/SUPPLIER_THROTTLE_REPLICAS/);
  });
});
