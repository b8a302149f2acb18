import { describe, expect, it } from 'vitest';
import { CircuitBreaker, CircuitBreakers, CircuitOpenError, DEFAULT_BREAKER } from './circuit-breaker.js';
import { registry } from '../../common/metrics.js';
import { slotFields, type SlotWindow } from './slot-windows.js';
import { supplierError } from '../../common/errors.js';
import { ThrottledError, UpstreamError } from '../../common/upstream.js';

function breaker(clock: { t: number }) {
  return new CircuitBreaker('sys', { ...DEFAULT_BREAKER, clock: () => clock.t });
}
const down = () => Promise.reject(new UpstreamError('sys', 'UNAVAILABLE', 503));
const up = () => Promise.resolve('ok');

async function gauge(system: string): Promise<number | undefined> {
  const metric = await registry.getSingleMetric('supplier_circuit_state')!.get();
  return metric.values.find((v) => v.labels.system === system)?.value;
}

describe('circuit breaker', () => {
  it('opens after five failures in a row, then fails fast without calling', async () => {
    const clock = { t: 0 };
    const b = breaker(clock);
    for (let i = 0; i < 4; i++) await expect(b.run(down)).rejects.toMatchObject({ reason: 'UNAVAILABLE' });
    expect(b.current).toBe('closed');
    await expect(b.run(down)).rejects.toMatchObject({ reason: 'UNAVAILABLE' });
    expect(b.current).toBe('open');
    expect(await gauge('sys')).toBe(2);

    let called = 0;
    const err = await b.run(async () => ++called).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CircuitOpenError);
    expect(err).toMatchObject({ system: 'sys', reason: 'CIRCUIT_OPEN', retryAfterMs: 10_000 });
    expect(called).toBe(0);
  });

  it('does not count refusals about the request (REJECTED) or a success in between', async () => {
    const b = breaker({ t: 0 });
    for (let i = 0; i < 4; i++) await b.run(down).catch(() => {});
    await b.run(() => Promise.reject(new UpstreamError('sys', 'REJECTED', 404))).catch(() => {});
    for (let i = 0; i < 4; i++) await b.run(down).catch(() => {});
    expect(b.current).toBe('closed');
  });

  it('opens on a high failure rate in a short window, though failures never run five in a row', async () => {
    const clock = { t: 0 };
    const b = breaker(clock);
    for (let i = 0; i < 5; i++) {
      await b.run(up);
      await b.run(down).catch(() => {});
      clock.t += 500;
    }
    expect(b.current).toBe('open');

    // The same pattern spread over more than the window stays closed.
    const slow = breaker(clock);
    for (let i = 0; i < 5; i++) {
      await slow.run(up);
      await slow.run(down).catch(() => {});
      clock.t += 3000;
    }
    expect(slow.current).toBe('closed');
  });

  it('half-opens after the cool-down with one trial call: success closes it', async () => {
    const clock = { t: 0 };
    const b = breaker(clock);
    for (let i = 0; i < 5; i++) await b.run(down).catch(() => {});
    clock.t += 9_999;
    await expect(b.run(up)).rejects.toBeInstanceOf(CircuitOpenError);
    clock.t += 1;
    expect(b.current).toBe('half-open');
    expect(await gauge('sys')).toBe(1);

    let release!: () => void;
    const trial = b.run(() => new Promise<string>((r) => (release = () => r('ok'))));
    // While the trial is out, everyone else still fails fast.
    await expect(b.run(up)).rejects.toBeInstanceOf(CircuitOpenError);
    release();
    await expect(trial).resolves.toBe('ok');
    expect(b.current).toBe('closed');
    expect(await gauge('sys')).toBe(0);
    await expect(b.run(up)).resolves.toBe('ok');
  });

  it('a failed trial opens it for another cool-down', async () => {
    const clock = { t: 0 };
    const b = breaker(clock);
    for (let i = 0; i < 5; i++) await b.run(down).catch(() => {});
    clock.t += 10_000;
    await expect(b.run(down)).rejects.toMatchObject({ reason: 'UNAVAILABLE' });
    expect(b.current).toBe('open');
    clock.t += 5_000;
    await expect(b.run(up)).rejects.toBeInstanceOf(CircuitOpenError);
    clock.t += 5_000;
    await expect(b.run(up)).resolves.toBe('ok');
    expect(b.current).toBe('closed');
  });

  it('never counts a call our own throttle held back (RATE_LIMITED, not sent): not a failure, not a success', async () => {
    const clock = { t: 0 };
    const b = breaker(clock);
    const throttled = () => Promise.reject(new ThrottledError('sys', 500));
    for (let i = 0; i < 20; i++) await expect(b.run(throttled)).rejects.toMatchObject({ reason: 'RATE_LIMITED' });
    expect(b.current).toBe('closed');
    // Nor does it break a run of real failures.
    for (let i = 0; i < 4; i++) await b.run(down).catch(() => {});
    await b.run(throttled).catch(() => {});
    await b.run(down).catch(() => {});
    expect(b.current).toBe('open');
    // A throttled trial leaves the circuit half-open for the next trial.
    clock.t += 10_000;
    await b.run(throttled).catch(() => {});
    expect(b.current).toBe('half-open');
    await expect(b.run(up)).resolves.toBe('ok');
    expect(b.current).toBe('closed');
    // The supplier's own 429 still counts.
    for (let i = 0; i < 5; i++) await b.run(() => Promise.reject(new UpstreamError('sys', 'RATE_LIMITED', 429))).catch(() => {});
    expect(b.current).toBe('open');
  });
});

describe('circuit breaker around slot searches', () => {
  it('fails the fields fast with CIRCUIT_OPEN, no search sent, then a trial search closes it', async () => {
    const clock = { t: 0 };
    const breakers = new CircuitBreakers({ clock: () => clock.t });
    const searched: SlotWindow[] = [];
    let failing = true;
    const fields = slotFields({
      name: 't',
      now: () => new Date('2026-11-23T09:00:00Z'),
      fetchSpans: (spans) =>
        spans.map(async (w) => {
          searched.push(w);
          if (failing) throw new UpstreamError(w.system, 'TIMEOUT');
          return { slots: [{ start: '2026-11-23T10:00:00Z' }], fetchedAt: '2026-11-23T09:00:00.000Z' };
        }),
      toError: (system, err) => (err instanceof UpstreamError ? supplierError(system, err.reason) : (err as Error)),
      breakers,
    });
    const ask = (id: string) =>
      fields.slots({ id, supplier: { id: 'breaker-sys' } }, { first: 10 }, { consumer: { odsCode: 'RX8', name: 'NHS 111' }, traceId: 't', loaders: new Map() });

    // One request for five services: five failed searches open the circuit.
    const first = await Promise.allSettled(['1', '2', '3', '4', '5'].map(ask));
    expect(first.map((r) => r.status)).toEqual(Array(5).fill('rejected'));
    expect(searched).toHaveLength(5);

    const fast = await ask('6').catch((e: unknown) => e);
    expect(fast).toMatchObject({ extensions: { code: 'SUPPLIER_UNAVAILABLE', supplierSystem: 'breaker-sys', reason: 'CIRCUIT_OPEN' } });
    expect(searched).toHaveLength(5);

    clock.t += 10_000;
    failing = false;
    await expect(ask('7')).resolves.toMatchObject({ totalCount: 1 });
    expect(searched).toHaveLength(6);
    expect(breakers.for('breaker-sys').current).toBe('closed');
  });
});
