/**
 * The circuit breaker opens on supplier failures, never on our own queueing (issue 9): a deadline spent waiting in
 * our own process (held by the throttle, or the event loop too busy to read the answer) is a LocalDelayError, still
 * TIMEOUT to the client, but not counted by the breaker; a supplier that really stalls through the deadline is.
 */
import { createServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSandboxServer, type SandboxServer } from '../../sandbox/lib/http.js';
import { CircuitBreaker, DEFAULT_BREAKER } from './circuit-breaker.js';
import { upstreamFetch } from './supplier-http.js';
import { LocalDelayError, UpstreamError, installSupplierThrottle } from '../../common/upstream.js';

let server: SandboxServer;

beforeAll(async () => {
  server = await startSandboxServer({ name: 'local-delay-test', port: 0, handler: () => ({ status: 200, body: { ok: true } }) });
});
afterAll(() => server.close());
beforeEach(async () => {
  await fetch(`${server.url}/_sandbox/faults`, { method: 'DELETE' });
  // The supplier never answers: every call ends at its deadline.
  await fetch(`${server.url}/_sandbox/faults`, { method: 'POST', body: JSON.stringify({ stall: true }) });
});

function breaker(): CircuitBreaker {
  return new CircuitBreaker('sys', { ...DEFAULT_BREAKER, consecutiveFailures: 2, clock: () => performance.now() });
}

async function failure(p: Promise<unknown>): Promise<UpstreamError> {
  const err = await p.then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(UpstreamError);
  return err as UpstreamError;
}

describe('timeouts: the supplier’s or ours', () => {
  it('a supplier stalling through the whole deadline is its TIMEOUT, and opens the circuit', async () => {
    const b = breaker();
    for (let i = 0; i < 2; i++) {
      const err = await failure(b.run(() => upstreamFetch(`${server.url}/x`, { system: 'sys', deadlineMs: 1000, retries: 0 })));
      expect(err.reason).toBe('TIMEOUT');
      expect(err).not.toBeInstanceOf(LocalDelayError);
    }
    expect(b.current).toBe('open');
  });

  it('a deadline mostly spent waiting for our throttle is TIMEOUT to the caller, and never opens the circuit', async () => {
    const undo = installSupplierThrottle({ acquire: (_system, withinMs) => new Promise((r) => setTimeout(r, withinMs * 0.7)) });
    try {
      const b = breaker();
      for (let i = 0; i < 3; i++) {
        const err = await failure(b.run(() => upstreamFetch(`${server.url}/x`, { system: 'sys', deadlineMs: 600, retries: 0 })));
        expect(err.reason).toBe('TIMEOUT');
        expect(err).toBeInstanceOf(LocalDelayError);
      }
      expect(b.current).toBe('closed');
    } finally {
      undo();
    }
  });

  it('an event loop too busy to read the answer in time is ours, not the supplier’s', async () => {
    const b = breaker();
    for (let i = 0; i < 3; i++) {
      const call = failure(b.run(() => upstreamFetch(`${server.url}/x`, { system: 'sys', deadlineMs: 200, retries: 0 })));
      // Let the request go out, then hold the event loop well past the deadline (our CPU, not the supplier).
      await new Promise((r) => setTimeout(r, 20));
      const until = performance.now() + 600;
      while (performance.now() < until) {
        /* busy */
      }
      const err = await call;
      expect(err.reason).toBe('TIMEOUT');
      expect(err).toBeInstanceOf(LocalDelayError);
      expect((err as LocalDelayError).lagMs).toBeGreaterThan(300);
    }
    expect(b.current).toBe('closed');
  });

  it('an event loop that never waited through the deadline, in short turns (other answers read meanwhile), is ours too', async () => {
    const b = breaker();
    for (let i = 0; i < 3; i++) {
      const call = failure(b.run(() => upstreamFetch(`${server.url}/x`, { system: 'sys', deadlineMs: 400, retries: 0 })));
      // Turns of 30 ms with the loop let go between them but never idle: the timer is not much late, yet the loop
      // was never waiting for anything (the late-timer rule alone would not call this ours).
      await busyUntilSettled(call, () => new Promise((r) => setImmediate(r)));
      const err = await call;
      expect(err.reason).toBe('TIMEOUT');
      expect(err).toBeInstanceOf(LocalDelayError);
      expect((err as LocalDelayError).loopBusy).toBeGreaterThanOrEqual(0.95);
      expect(err.detail).toMatch(/event loop \d+% busy/);
    }
    expect(b.current).toBe('closed');
  });

  it('a supplier that never answers while our loop is busy but still waiting now and then is the supplier\'s TIMEOUT', async () => {
    const b = breaker();
    for (let i = 0; i < 2; i++) {
      const call = failure(b.run(() => upstreamFetch(`${server.url}/x`, { system: 'sys', deadlineMs: 400, retries: 0 })));
      // About 85% busy: the loop waits a few ms between turns, and had the answer come it would have been read.
      await busyUntilSettled(call, () => new Promise((r) => setTimeout(r, 3)), 17);
      const err = await call;
      expect(err.reason).toBe('TIMEOUT');
      expect(err).not.toBeInstanceOf(LocalDelayError);
    }
    expect(b.current).toBe('open');
  });

  it('an answer begun (its headers read) whose body a mostly busy loop did not read in time is ours', async () => {
    // A real server that sends its head and part of the body, then nothing more.
    const sockets = new Set<Socket>();
    const partial = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"resourceType":"Bundle",');
    });
    partial.on('connection', (s) => sockets.add(s));
    await new Promise<void>((r) => partial.listen(0, '127.0.0.1', r));
    try {
      const { port } = partial.address() as AddressInfo;
      const b = breaker();
      for (let i = 0; i < 2; i++) {
        const call = failure(b.run(() => upstreamFetch(`http://127.0.0.1:${port}/x`, { system: 'sys', deadlineMs: 400, retries: 0 })));
        // About 90% busy: more than the 80% that makes a begun answer ours, less than the 95% that would alone.
        await busyUntilSettled(call, () => new Promise((r) => setTimeout(r, 2)), 30);
        const err = await call;
        expect(err.reason).toBe('TIMEOUT');
        expect(err).toBeInstanceOf(LocalDelayError);
      }
      expect(b.current).toBe('closed');
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((r) => partial.close(r));
    }
  });
});

/** Keeps the event loop busy in turns of `turnMs` until `call` settles, letting go between turns with `pause`. */
async function busyUntilSettled(call: Promise<unknown>, pause: () => Promise<unknown>, turnMs = 30): Promise<void> {
  let settled = false;
  void call.finally(() => (settled = true));
  while (!settled) {
    const until = performance.now() + turnMs;
    while (performance.now() < until) {
      /* busy */
    }
    await pause();
  }
}
