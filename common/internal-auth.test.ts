import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { startRedis } from '../test/redis.js';
import { connectRedis } from './redis.js';
import {
  MAX_SIGNATURE_SKEW_SECONDS,
  ReplayGuard,
  SANDBOX_INTERNAL_KEY,
  SIGNATURE_HEADER,
  gatewayHeaders,
  internalKeyFromEnv,
  precheckInternal,
  signInternal,
  signedHeaders,
  verifyInternal,
  type SignedRequest,
} from './internal-auth.js';

const key = 'a-test-internal-key-of-at-least-32-chars';
const t = 1_800_000_000;
const req: SignedRequest = { method: 'POST', path: '/graphql', body: '{"query":"{ __typename }"}', consumer: 'eyJvZHMiOiJSWDgifQ', traceId: 'trace-1' };

describe('internal request signatures', () => {
  it('verify what the gateway signed, within the skew either way', () => {
    const sig = signInternal(key, req, t);
    expect(verifyInternal(key, sig, req, t + MAX_SIGNATURE_SKEW_SECONDS)).toMatchObject({ ok: true, acceptedUntilMs: (t + MAX_SIGNATURE_SKEW_SECONDS + 1) * 1000 });
    expect(verifyInternal(key, sig, req, t - MAX_SIGNATURE_SKEW_SECONDS)).toMatchObject({ ok: true });
    // A full URL signs the same request target as the path the subgraph sees.
    expect(verifyInternal(key, signInternal(key, { ...req, path: 'http://10.0.0.1:4002/graphql' }, t), req, t)).toMatchObject({ ok: true });
  });

  it('refuse a missing, malformed, stale, future or forged signature', () => {
    const sig = signInternal(key, req, t);
    expect(verifyInternal(key, undefined, req, t)).toMatchObject({ ok: false, reason: 'no gateway signature' });
    expect(verifyInternal(key, 'nonsense', req, t)).toMatchObject({ ok: false, reason: 'malformed gateway signature' });
    expect(verifyInternal(key, sig, req, t + 60)).toMatchObject({ ok: false, reason: 'expired gateway signature' });
    expect(verifyInternal(key, sig, req, t + MAX_SIGNATURE_SKEW_SECONDS + 1)).toMatchObject({ ok: false, reason: 'expired gateway signature' });
    expect(verifyInternal(key, sig, req, t - MAX_SIGNATURE_SKEW_SECONDS - 1)).toMatchObject({ ok: false, reason: 'expired gateway signature' });
    expect(precheckInternal(sig, t + 60)).toMatchObject({ ok: false, reason: 'expired gateway signature' });
    expect(verifyInternal('another-key-of-at-least-thirty-two-chars', sig, req, t)).toMatchObject({ ok: false, reason: 'invalid gateway signature' });
    // The old form (consumer, trace and time only) is not accepted.
    expect(verifyInternal(key, `v1.${t}.${'A'.repeat(43)}`, req, t)).toMatchObject({ ok: false, reason: 'malformed gateway signature' });
  });

  it('cover the consumer, the trace id, the method, the path and query, and every byte of the body', () => {
    const sig = signInternal(key, req, t);
    const other: Partial<SignedRequest>[] = [
      { consumer: 'eyJvZHMiOiJSWDkifQ' },
      { consumer: '' },
      { traceId: 'trace-2' },
      { method: 'GET' },
      { path: '/graphql?x=1' },
      { path: '/other' },
      { body: '{"query":"{ __schema { types { name } } }"}' },
      { body: `${req.body as string} ` },
      { body: '' },
    ];
    for (const change of other) {
      expect(verifyInternal(key, sig, { ...req, ...change }, t), JSON.stringify(change)).toMatchObject({ ok: false, reason: 'invalid gateway signature' });
    }
    // Method case does not matter; bytes and strings of the same body do not either.
    expect(verifyInternal(key, sig, { ...req, method: 'post', body: Buffer.from(req.body as string) }, t)).toMatchObject({ ok: true });
  });

  it('differ for two identical requests in the same second (a nonce), so a legitimate repeat is not a replay', () => {
    expect(signInternal(key, req, t)).not.toBe(signInternal(key, req, t));
  });

  it('are added over exactly what the fetcher sends, and gatewayHeaders signs what it is told', () => {
    const url = 'http://127.0.0.1:4002/graphql';
    const headers = signedHeaders(key, url, { method: 'POST', headers: { 'x-consumer-organisation': req.consumer, 'x-trace-id': req.traceId }, body: req.body });
    expect(verifyInternal(key, headers.get(SIGNATURE_HEADER)!, req)).toMatchObject({ ok: true });
    const h = gatewayHeaders({ odsCode: 'RX8', name: 'NHS 111' }, { url, body: req.body as string }, 'trace-9', key);
    expect(verifyInternal(key, h[SIGNATURE_HEADER], { ...req, consumer: h['x-consumer-organisation']!, traceId: 'trace-9' })).toMatchObject({ ok: true });
    expect(verifyInternal(key, h[SIGNATURE_HEADER], { ...req, consumer: h['x-consumer-organisation']!, traceId: 'trace-9', body: '{}' })).toMatchObject({ ok: false });
  });

  it('needs a real key in production and a long one anywhere', () => {
    expect(internalKeyFromEnv({})).toBe(SANDBOX_INTERNAL_KEY);
    expect(() => internalKeyFromEnv({ NODE_ENV: 'production' })).toThrow(/must be set in production/);
    expect(() => internalKeyFromEnv({ INTERNAL_AUTH_KEY: 'short' })).toThrow(/at least 32/);
    expect(internalKeyFromEnv({ INTERNAL_AUTH_KEY: key, NODE_ENV: 'production' })).toBe(key);
  });
});

describe('replay guard (in process)', () => {
  it('accepts a signature once within its window, and forgets it after', async () => {
    let now = 1_000_000;
    const guard = new ReplayGuard({ clock: () => now });
    expect(await guard.firstUse('mac-1', now + 11_000)).toBe(true);
    expect(await guard.firstUse('mac-1', now + 11_000)).toBe(false);
    expect(await guard.firstUse('mac-2', now + 11_000)).toBe(true);
    now += 12_000;
    expect(await guard.firstUse('mac-1', now + 11_000)).toBe(true);
  });

  it('stays bounded, dropping the oldest first', async () => {
    const now = 1_000_000;
    const guard = new ReplayGuard({ clock: () => now, maxLocal: 100 });
    for (let i = 0; i < 1000; i++) expect(await guard.firstUse(`mac-${i}`, now + 11_000)).toBe(true);
    expect(await guard.firstUse('mac-999', now + 11_000)).toBe(false);
    expect((guard as unknown as { seen: Map<string, number> }).seen.size).toBeLessThanOrEqual(100);
  });
});

describe('replay guard (shared through Redis)', () => {
  it('refuses at one replica a signature another replica accepted, and falls back to the process while Redis is down', async () => {
    const server = await startRedis();
    const silent = pino({ enabled: false });
    const connA = connectRedis(server.url, { logger: silent, consequence: 'test' });
    const connB = connectRedis(server.url, { logger: silent, consequence: 'test' });
    const [a, b] = [connA.redis, connB.redis];
    try {
      expect(await connA.ready(5000)).toBe(true);
      expect(await connB.ready(5000)).toBe(true);
      const errors: unknown[] = [];
      const replicaA = new ReplayGuard({ redis: a, onRedisError: (e) => errors.push(e) });
      const replicaB = new ReplayGuard({ redis: b, onRedisError: (e) => errors.push(e) });
      const until = Date.now() + 11_000;
      expect(await replicaA.firstUse('mac-shared', until)).toBe(true);
      expect(await replicaB.firstUse('mac-shared', until)).toBe(false);
      const ttl = await server.client().pttl('internal-sig:mac-shared');
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(11_000);

      await server.stop();
      // Redis away: each replica still refuses what it saw itself, and accepts what is new.
      expect(await replicaA.firstUse('mac-shared', until)).toBe(false);
      expect(await replicaA.firstUse('mac-during-outage', until)).toBe(true);
      expect(await replicaA.firstUse('mac-during-outage', until)).toBe(false);
    } finally {
      await connA.close();
      await connB.close();
      await server.dispose();
    }
  });
});
