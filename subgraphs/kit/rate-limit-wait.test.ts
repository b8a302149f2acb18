import { describe, expect, it } from 'vitest';
import { UpstreamError } from '../../common/upstream.js';
import { rateLimitBudget, waitOutRateLimit } from './rate-limit-wait.js';

const limited = (retryAfterMs?: number) => new UpstreamError('oakfield-pas', 'RATE_LIMITED', 429, undefined, retryAfterMs);

function sender(answers: (Error | string)[]) {
  const calls = { n: 0 };
  const send = async () => {
    const a = answers[calls.n++];
    if (a instanceof Error) throw a;
    return a!;
  };
  return { send, calls };
}

describe('waitOutRateLimit', () => {
  it('waits Retry-After (plus jitter) and sends again until answered', async () => {
    const waits: number[] = [];
    const { send, calls } = sender([limited(1000), limited(1000), 'booked']);
    const out = await waitOutRateLimit(send, { until: Date.now() + 60_000, sleep: async (ms) => void waits.push(ms), random: () => 0.5, jitterMs: 200 });
    expect(out).toBe('booked');
    expect(calls.n).toBe(3);
    expect(waits).toEqual([1100, 1100]);
  });

  it('without Retry-After backs off briefly', async () => {
    const waits: number[] = [];
    const { send } = sender([limited(), 'ok']);
    await waitOutRateLimit(send, { until: Date.now() + 60_000, sleep: async (ms) => void waits.push(ms), random: () => 0 });
    expect(waits).toHaveLength(1);
    expect(waits[0]).toBeGreaterThan(0);
    expect(waits[0]).toBeLessThan(1000);
  });

  it('does not begin a wait that would end after the budget: the 429 is thrown', async () => {
    const { send, calls } = sender([limited(5000), 'never']);
    await expect(waitOutRateLimit(send, { until: Date.now() + 2000, sleep: async () => {} })).rejects.toMatchObject({ reason: 'RATE_LIMITED' });
    expect(calls.n).toBe(1);
  });

  it('stops after maxSends', async () => {
    const { send, calls } = sender([limited(1), limited(1), limited(1), 'never']);
    await expect(waitOutRateLimit(send, { until: Date.now() + 60_000, maxSends: 3, sleep: async () => {} })).rejects.toMatchObject({ reason: 'RATE_LIMITED' });
    expect(calls.n).toBe(3);
  });

  it('never resends after anything but a 429 (a lost POST may have booked)', async () => {
    for (const err of [new UpstreamError('s', 'TIMEOUT'), new UpstreamError('s', 'UNAVAILABLE', 503), new Error('bug')]) {
      const { send, calls } = sender([err, 'never']);
      await expect(waitOutRateLimit(send, { until: Date.now() + 60_000, sleep: async () => {} })).rejects.toBe(err);
      expect(calls.n).toBe(1);
    }
  });

  it('budgets five deadlines', () => {
    expect(rateLimitBudget(2000, 1_000)).toBe(11_000);
  });
});
