import { describe, expect, it } from 'vitest';
import { LATENCY_BOUNDS_MS, MAX_SYSTEMS, MINUTES, SupplierStatusTracker, failureOutcome, p95FromHistogram } from './supplier-status.js';
import { LocalDelayError, UpstreamError } from '../../common/upstream.js';

const MINUTE = 60_000;

function tracker(start = Date.UTC(2026, 0, 5, 9, 0, 0)) {
  let now = start;
  const t = new SupplierStatusTracker(() => now);
  return { t, advance: (ms: number) => (now += ms), now: () => now };
}

describe('supplier status tracker', () => {
  it('computes p95 from the histogram: the bound of the bucket holding the 95th percentile', () => {
    const { t } = tracker();
    // 94 fast calls (≤ 50 ms) and 6 slow ones (≤ 1500 ms): the 95th of 100 is slow.
    for (let i = 0; i < 94; i++) t.recordCall('a', 30, { ok: true, status: 200 });
    for (let i = 0; i < 6; i++) t.recordCall('a', 1200, { ok: true, status: 200 });
    expect(t.view().systems[0]!.last5Minutes.p95LatencyMs).toBe(1500);
    // 96 fast, 4 slow: the 95th is fast.
    const { t: t2 } = tracker();
    for (let i = 0; i < 96; i++) t2.recordCall('a', 30, { ok: true, status: 200 });
    for (let i = 0; i < 4; i++) t2.recordCall('a', 1200, { ok: true, status: 200 });
    expect(t2.view().systems[0]!.last5Minutes.p95LatencyMs).toBe(50);
    expect(p95FromHistogram([0, 0])).toBeNull();
    // Slower than every bound: reported as the slowest bound.
    const overflow = new Array(LATENCY_BOUNDS_MS.length + 1).fill(0);
    overflow[LATENCY_BOUNDS_MS.length] = 3;
    expect(p95FromHistogram(overflow)).toBe(LATENCY_BOUNDS_MS.at(-1));
  });

  it('gives the error rate and failures by reason, per window, and the last success and failure', () => {
    const { t, advance, now } = tracker();
    for (let i = 0; i < 8; i++) t.recordCall('a', 20, { ok: true, status: 200 });
    const okAt = now();
    advance(10 * MINUTE);
    t.recordCall('a', 2000, failureOutcome(new UpstreamError('a', 'TIMEOUT')));
    t.recordCall('a', 5, failureOutcome(new UpstreamError('a', 'UNAVAILABLE', 503)));
    t.recordCall('a', 5, failureOutcome(new LocalDelayError('a', 10, 500)));
    t.recordCall('a', 5, { ok: true, status: 404 }); // an answer, not fresh data
    const s = t.view().systems[0]!;
    expect(s.last5Minutes).toMatchObject({ calls: 4, failures: 3, errorRate: 0.75 });
    expect(s.last5Minutes.failuresByReason).toEqual([
      { reason: 'TIMEOUT', count: 1 },
      { reason: 'UNAVAILABLE', count: 1 },
      { reason: 'LOCAL_DELAY', count: 1 },
    ]);
    expect(s.last60Minutes).toMatchObject({ calls: 12, failures: 3, errorRate: 0.25 });
    expect(s.lastSuccessAt).toBe(okAt);
    expect(s.lastFailureReason).toBe('LOCAL_DELAY');
    expect(s.minutes).toHaveLength(MINUTES);
    expect(s.minutes.at(-1)).toMatchObject({ calls: 4, failures: 3 });
    expect(s.minutes.at(-11)).toMatchObject({ calls: 8, failures: 0, p95LatencyMs: 25 });
  });

  it('counts an unreadable answer as a failure of a call already counted, never more failures than calls', () => {
    const { t } = tracker();
    t.recordLateFailure('a', 'INVALID_RESPONSE'); // no call this minute: nothing to fail
    t.recordCall('a', 20, { ok: true, status: 200 });
    t.recordLateFailure('a', 'INVALID_RESPONSE');
    t.recordLateFailure('a', 'INVALID_RESPONSE');
    const s = t.view().systems[0]!;
    expect(s.last5Minutes).toMatchObject({ calls: 1, failures: 1, errorRate: 1, failuresByReason: [{ reason: 'INVALID_RESPONSE', count: 1 }] });
    expect(s.lastFailureReason).toBe('INVALID_RESPONSE');
  });

  it('never counts twice a failure the call itself was recorded with (a body the HTTP layer refused)', () => {
    const { t } = tracker();
    const refused = new UpstreamError('a', 'INVALID_RESPONSE', 200, 'body over the bound');
    t.recordCall('a', 20, { ok: true, status: 200 });
    t.recordCall('a', 20, failureOutcome(refused), refused);
    t.recordLateFailure('a', 'INVALID_RESPONSE', refused);
    expect(t.view().systems[0]!.last5Minutes).toMatchObject({ calls: 2, failures: 1 });
    // One the adapter found unreadable after a call recorded as answered still counts.
    t.recordLateFailure('a', 'INVALID_RESPONSE', new UpstreamError('a', 'INVALID_RESPONSE'));
    expect(t.view().systems[0]!.last5Minutes).toMatchObject({ calls: 2, failures: 2 });
  });

  it('forgets what is older than 60 minutes, and an idle system has no rate', () => {
    const { t, advance } = tracker();
    t.recordCall('a', 20, failureOutcome(new UpstreamError('a', 'TIMEOUT')));
    advance(59 * MINUTE);
    expect(t.view().systems[0]!.last60Minutes.calls).toBe(1);
    expect(t.view().systems[0]!.last5Minutes).toMatchObject({ calls: 0, errorRate: null, p95LatencyMs: null });
    advance(MINUTE);
    const s = t.view().systems[0]!;
    expect(s.last60Minutes).toMatchObject({ calls: 0, failures: 0, errorRate: null });
    expect(s.minutes.every((m) => m.calls === 0)).toBe(true);
    // An hour on, the same ring slot is reused for the new minute, not added to.
    t.recordCall('a', 20, { ok: true, status: 200 });
    expect(t.view().systems[0]!.last60Minutes).toMatchObject({ calls: 1, failures: 0 });
  });

  it('stays bounded however many calls and systems', () => {
    const { t, advance } = tracker();
    for (let m = 0; m < 3 * MINUTES; m++) {
      for (let i = 0; i < 200; i++) t.recordCall(`s${i % 5}`, i, { ok: true, status: 200 });
      advance(MINUTE);
    }
    expect(t.bucketCount()).toBeLessThanOrEqual(5 * MINUTES);
    for (let i = 0; i < MAX_SYSTEMS * 3; i++) t.recordCall(`other-${i}`, 1, { ok: true, status: 200 });
    expect(t.view().systems.length).toBe(MAX_SYSTEMS);
    expect(t.bucketCount()).toBeLessThanOrEqual(MAX_SYSTEMS * MINUTES);
  });

  it('counts throttle waits and refusals, and reads circuit and quality flags from its sources', () => {
    const { t } = tracker();
    t.recordThrottle('a', 'waited');
    t.recordThrottle('a', 'waited');
    t.recordThrottle('a', 'refused');
    const undo = t.registerSource({ circuit: (s) => (s === 'a' ? 'OPEN' : undefined), qualityFlags: () => ({ tz: 2 }), systems: () => ['b'] });
    const [a, b] = t.view().systems;
    expect(a).toMatchObject({ system: 'a', circuit: 'OPEN', qualityFlags: [{ flag: 'tz', count: 2 }] });
    expect(a!.last5Minutes).toMatchObject({ throttleWaits: 2, throttleRefusals: 1, calls: 0 });
    expect(b).toMatchObject({ system: 'b', circuit: 'NONE', lastSuccessAt: null });
    undo();
    expect(t.view().systems.map((s) => s.system)).toEqual(['a']);
    expect(t.view().replica.pid).toBe(process.pid);
  });
});
