import { describe, expect, it } from 'vitest';
import { internalKeyFromEnv, signInternal, verifyInternal, SANDBOX_INTERNAL_KEY } from './internal-auth.js';

const key = 'a-test-internal-key-of-at-least-32-chars';
const t = 1_800_000_000;

describe('internal request signatures', () => {
  it('verify what the gateway signed', () => {
    expect(verifyInternal(key, signInternal(key, 'eyJvZHMiOiJSWDgifQ', 'trace-1', t), 'eyJvZHMiOiJSWDgifQ', 'trace-1', t + 5)).toEqual({ ok: true });
  });

  it('refuse a missing, malformed, expired, forged or replayed-for-another-consumer signature', () => {
    const sig = signInternal(key, 'consumer-a', 'trace-1', t);
    expect(verifyInternal(key, undefined, 'consumer-a', 'trace-1', t)).toMatchObject({ ok: false, reason: 'no gateway signature' });
    expect(verifyInternal(key, 'nonsense', 'consumer-a', 'trace-1', t)).toMatchObject({ ok: false, reason: 'malformed gateway signature' });
    expect(verifyInternal(key, sig, 'consumer-a', 'trace-1', t + 121)).toMatchObject({ ok: false, reason: 'expired gateway signature' });
    expect(verifyInternal('another-key-of-at-least-thirty-two-chars', sig, 'consumer-a', 'trace-1', t)).toMatchObject({ ok: false, reason: 'invalid gateway signature' });
    expect(verifyInternal(key, sig, 'consumer-b', 'trace-1', t)).toMatchObject({ ok: false, reason: 'invalid gateway signature' });
    expect(verifyInternal(key, sig, 'consumer-a', 'trace-2', t)).toMatchObject({ ok: false, reason: 'invalid gateway signature' });
  });

  it('needs a real key in production and a long one anywhere', () => {
    expect(internalKeyFromEnv({})).toBe(SANDBOX_INTERNAL_KEY);
    expect(() => internalKeyFromEnv({ NODE_ENV: 'production' })).toThrow(/must be set in production/);
    expect(() => internalKeyFromEnv({ INTERNAL_AUTH_KEY: 'short' })).toThrow(/at least 32/);
    expect(internalKeyFromEnv({ INTERNAL_AUTH_KEY: key, NODE_ENV: 'production' })).toBe(key);
  });
});
