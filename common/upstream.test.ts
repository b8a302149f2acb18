import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSandboxServer, type SandboxServer } from '../sandbox/lib/http.js';
import { upstreamFetch } from '../subgraphs/kit/supplier-http.js';
import { UpstreamError, parseJson, parseRetryAfter } from './upstream.js';

let server: SandboxServer;

async function faults(f: unknown): Promise<void> {
  await fetch(`${server.url}/_sandbox/faults`, { method: 'POST', body: JSON.stringify(f) });
}
async function requestCount(): Promise<number> {
  return ((await (await fetch(`${server.url}/_sandbox/requests`)).json()) as unknown[]).length;
}

beforeAll(async () => {
  server = await startSandboxServer({ name: 'upstream-test', port: 0, handler: () => ({ status: 200, body: { ok: true } }) });
});
afterAll(() => server.close());
beforeEach(async () => {
  await fetch(`${server.url}/_sandbox/faults`, { method: 'DELETE' });
  await fetch(`${server.url}/_sandbox/requests`, { method: 'DELETE' });
});

async function failure(p: Promise<unknown>): Promise<UpstreamError> {
  const err = await p.then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(UpstreamError);
  return err as UpstreamError;
}

describe('upstreamFetch', () => {
  it('returns 2xx and 4xx answers for the caller to interpret', async () => {
    const ok = await upstreamFetch(`${server.url}/x`, { system: 'sys', deadlineMs: 1000 });
    expect(ok.status).toBe(200);
    expect(parseJson<{ ok: boolean }>('sys', ok).ok).toBe(true);
    await faults({ status: 422, body: { resourceType: 'OperationOutcome' } });
    const rejected = await upstreamFetch(`${server.url}/x`, { system: 'sys', deadlineMs: 1000 });
    expect(rejected.status).toBe(422);
    expect(await requestCount()).toBe(2);
  });

  it('retries a GET once after a 500 and succeeds', async () => {
    await faults({ status: 500, times: 1 });
    const res = await upstreamFetch(`${server.url}/x`, { system: 'sys', deadlineMs: 2000, retries: 1 });
    expect(res.status).toBe(200);
    expect(await requestCount()).toBe(2);
  });

  it('never retries a POST: a 500 after the upstream may have acted is reported, not repeated', async () => {
    await faults({ status: 500 });
    const err = await failure(upstreamFetch(`${server.url}/x`, { system: 'sys', method: 'POST', body: '{}', deadlineMs: 2000, retries: 3 }));
    expect(err.reason).toBe('UNAVAILABLE');
    expect(err.status).toBe(500);
    expect(await requestCount()).toBe(1);
  });

  it('honours Retry-After on 429 when it fits the deadline', async () => {
    await faults({ status: 429, headers: { 'retry-after': '1' }, times: 1 });
    const started = Date.now();
    const res = await upstreamFetch(`${server.url}/x`, { system: 'sys', deadlineMs: 3000, retries: 1 });
    expect(res.status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
  });

  it('gives up at once with RATE_LIMITED when Retry-After is beyond the deadline', async () => {
    await faults({ status: 429, headers: { 'retry-after': '30' } });
    const started = Date.now();
    const err = await failure(upstreamFetch(`${server.url}/x`, { system: 'sys', deadlineMs: 2000, retries: 2 }));
    expect(err.reason).toBe('RATE_LIMITED');
    expect(err.retryAfterMs).toBe(30_000);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(await requestCount()).toBe(1);
  });

  it('stops a stalled upstream at the deadline with TIMEOUT, retries included', async () => {
    await faults({ stall: true });
    const started = Date.now();
    const err = await failure(upstreamFetch(`${server.url}/x`, { system: 'sys', deadlineMs: 300, retries: 3 }));
    expect(err.reason).toBe('TIMEOUT');
    expect(Date.now() - started).toBeLessThan(800);
  });

  it('reports a refused connection as UNAVAILABLE without the URL in the message', async () => {
    const err = await failure(upstreamFetch('http://127.0.0.1:1/x', { system: 'sys', deadlineMs: 1000, retries: 0 }));
    expect(err.reason).toBe('UNAVAILABLE');
    expect(err.message).not.toContain('127.0.0.1');
  });

  it('turns a malformed body into INVALID_RESPONSE', async () => {
    await faults({ malformed: true });
    const res = await upstreamFetch(`${server.url}/x`, { system: 'sys', deadlineMs: 1000 });
    expect(() => parseJson('sys', res)).toThrowError(expect.objectContaining({ reason: 'INVALID_RESPONSE' }) as Error);
  });

  it('sends fresh per-attempt headers on a retry', async () => {
    await faults({ status: 503, times: 1 });
    let n = 0;
    await upstreamFetch(`${server.url}/x`, { system: 'sys', deadlineMs: 2000, perAttempt: () => ({ 'x-request-id': `attempt-${++n}` }) });
    const log = (await (await fetch(`${server.url}/_sandbox/requests`)).json()) as { headers: Record<string, string> }[];
    expect(log.map((r) => r.headers['x-request-id'])).toEqual(['attempt-1', 'attempt-2']);
  });
});

describe('parseRetryAfter', () => {
  it('reads seconds and HTTP dates', () => {
    expect(parseRetryAfter('5')).toBe(5000);
    expect(parseRetryAfter(null)).toBeUndefined();
    expect(parseRetryAfter('soon')).toBeUndefined();
    const inTwo = new Date(Date.now() + 2000).toUTCString();
    expect(parseRetryAfter(inTwo)).toBeGreaterThan(500);
    expect(parseRetryAfter(inTwo)).toBeLessThanOrEqual(2000);
  });
});
