import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type TestRedis } from '../../test/redis.js';
import { Hasher, recordAfter, retryInBackground, type IdempotencyStore } from './idempotency.js';
import { MemoryIdempotencyStore } from './idempotency-memory-store.js';
import { RedisIdempotencyStore } from './idempotency-redis-store.js';

let redis: TestRedis;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis.dispose();
});

const done = { outcome: 'BOOKED', appointment: { id: 'a1', serviceId: '1', supplierSystem: 's', start: '2026-11-21T10:00:00Z', end: '2026-11-21T10:30:00Z' }, message: null, field: null };

describe.each([
  ['memory', () => new MemoryIdempotencyStore()],
  ['redis', () => new RedisIdempotencyStore(redis.client(), `t${Math.random()}:`)],
] as const)('%s idempotency store', (_name, make: () => IdempotencyStore) => {
  it('claims a new key once, then answers the first outcome', async () => {
    const store = make();
    expect(await store.claim('k1', 'fp', 60_000)).toEqual({ kind: 'claimed', mayHaveBooked: false });
    expect(await store.claim('k1', 'fp', 60_000)).toEqual({ kind: 'in-progress' });
    await store.finish('k1', { state: 'done', fingerprint: 'fp', result: done });
    expect(await store.claim('k1', 'fp', 60_000)).toEqual({ kind: 'done', result: done });
  });

  it('refuses the same key with different input, whatever state it is in', async () => {
    const store = make();
    await store.claim('k2', 'fp-a', 60_000);
    expect(await store.claim('k2', 'fp-b', 60_000)).toEqual({ kind: 'mismatch' });
    await store.finish('k2', { state: 'done', fingerprint: 'fp-a', result: done });
    expect(await store.claim('k2', 'fp-b', 60_000)).toEqual({ kind: 'mismatch' });
  });

  it('hands an unknown outcome to the next attempt as "may have booked"', async () => {
    const store = make();
    await store.claim('k3', 'fp', 60_000);
    await store.finish('k3', { state: 'unknown', fingerprint: 'fp' });
    expect(await store.claim('k3', 'fp', 60_000)).toEqual({ kind: 'claimed', mayHaveBooked: true });
  });

  it('takes over a pending record whose lease ran out (a gateway died mid-booking) as "may have booked"', async () => {
    const store = make();
    const t0 = Date.now();
    await store.claim('k4', 'fp', 1000, t0);
    expect(await store.claim('k4', 'fp', 1000, t0 + 500)).toEqual({ kind: 'in-progress' });
    expect(await store.claim('k4', 'fp', 1000, t0 + 1500)).toEqual({ kind: 'claimed', mayHaveBooked: true });
  });

  it('a released key is claimed afresh by the next attempt, as a first attempt', async () => {
    const store = make();
    await store.claim('k6', 'fp', 60_000);
    await store.release('k6', 'fp');
    expect(await store.claim('k6', 'fp', 60_000)).toEqual({ kind: 'claimed', mayHaveBooked: false });
  });

  it('release never removes a finished record or another input\'s pending one', async () => {
    const store = make();
    await store.claim('k7', 'fp', 60_000);
    await store.finish('k7', { state: 'done', fingerprint: 'fp', result: done });
    await store.release('k7', 'fp');
    expect(await store.claim('k7', 'fp', 60_000)).toEqual({ kind: 'done', result: done });
    await store.claim('k8', 'fp-a', 60_000);
    await store.release('k8', 'fp-b');
    expect(await store.claim('k8', 'fp-a', 60_000)).toEqual({ kind: 'in-progress' });
  });

  it('lets exactly one of many concurrent claims take a key', async () => {
    const store = make();
    const claims = await Promise.all(Array.from({ length: 30 }, () => store.claim('k5', 'fp', 60_000)));
    expect(claims.filter((c) => c.kind === 'claimed')).toHaveLength(1);
    expect(claims.filter((c) => c.kind === 'in-progress')).toHaveLength(29);
  });
});

describe('recordAfter: only definitive outcomes are kept', () => {
  const o = (outcome: string) => ({ outcome, appointment: null, message: null, field: null });
  it.each(['BOOKED', 'SLOT_UNAVAILABLE', 'INVALID_PATIENT', 'INVALID_REQUEST', 'FORBIDDEN', 'BOOK_WITH_PROVIDER'])('%s is kept as done', (outcome) => {
    expect(recordAfter('fp', o(outcome), false)).toEqual({ state: 'done', fingerprint: 'fp', result: o(outcome) });
  });
  it('SUPPLIER_UNAVAILABLE releases the key', () => {
    expect(recordAfter('fp', o('SUPPLIER_UNAVAILABLE'), false)).toBe('release');
  });
  it('OUTCOME_UNKNOWN, or a transient failure after an attempt that may have booked, stays unknown (reconcile next)', () => {
    expect(recordAfter('fp', o('OUTCOME_UNKNOWN'), false)).toEqual({ state: 'unknown', fingerprint: 'fp' });
    expect(recordAfter('fp', o('SUPPLIER_UNAVAILABLE'), true)).toEqual({ state: 'unknown', fingerprint: 'fp' });
  });
});

describe('records in Redis', () => {
  it('expire after 24 hours and hold only what they were given', async () => {
    const store = new RedisIdempotencyStore(redis.client(), 'ttl:');
    await store.claim('k', 'fp', 60_000);
    const ttl = await redis.client().pttl('ttl:k');
    expect(ttl).toBeGreaterThan(23 * 3600_000);
    expect(ttl).toBeLessThanOrEqual(24 * 3600_000);
  });
});

describe('a finished record that could not be stored', () => {
  it('is written in the background once the store answers again, and given up on after the last attempt', async () => {
    let failures = 2;
    let written = 0;
    const stored = new Promise<void>((resolve, reject) => {
      retryInBackground(
        async () => {
          if (failures-- > 0) throw new Error('CLUSTERDOWN');
          written++;
          resolve();
        },
        reject,
        [5, 5, 5, 5],
      );
    });
    await stored;
    expect(written).toBe(1);
    const gaveUp = await new Promise<unknown>((resolve) => retryInBackground(() => Promise.reject(new Error('still down')), resolve, [5, 5]));
    expect((gaveUp as Error).message).toBe('still down');
  });
});

describe('Hasher', () => {
  const h = new Hasher('a-test-secret-of-enough-length');

  it('derives the same UUID for the same parts and a different one otherwise', () => {
    const a = h.uuid('RX8', 'key-1');
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(h.uuid('RX8', 'key-1')).toBe(a);
    expect(h.uuid('RX8', 'key-2')).not.toBe(a);
    expect(h.uuid('X26', 'key-1')).not.toBe(a);
  });

  it('keys hashes by the secret, so an NHS number cannot be recovered by trying all ten-digit numbers', () => {
    expect(new Hasher('another-secret-of-enough-length').hex('9476719931')).not.toBe(h.hex('9476719931'));
    expect(() => new Hasher('short')).toThrow(/at least 16/);
  });
});
