/** Supplier HTTP through got, against a real local HTTP server whose answers each test scripts. */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { supplierHttp } from './supplier-http.js';
import { UpstreamError } from '../../common/upstream.js';

type Reply = (req: IncomingMessage, res: ServerResponse) => void;
let server: Server;
let base: string;
let replies: Reply[] = [];
let seen: { method: string; at: number }[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    seen.push({ method: req.method ?? '', at: Date.now() });
    const reply = replies.shift() ?? ((_q, r) => r.end('{}'));
    req.resume();
    req.on('end', () => reply(req, res));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));
beforeEach(() => {
  replies = [];
  seen = [];
});

const status = (code: number, headers: Record<string, string> = {}): Reply => (_q, r) => {
  r.writeHead(code, headers);
  r.end('{"resourceType":"OperationOutcome"}');
};

describe('supplierHttp', () => {
  it('returns 2xx–4xx answers for the caller to read', async () => {
    replies = [status(409)];
    const res = await supplierHttp({ system: 's', url: `${base}/x`, method: 'POST', body: '{}', deadlineMs: 2000 });
    expect(res.status).toBe(409);
    expect(res.text).toContain('OperationOutcome');
  });

  it('retries a GET after a 503, waiting as Retry-After says', async () => {
    replies = [status(503, { 'retry-after': '1' }), status(200)];
    const res = await supplierHttp({ system: 's', url: `${base}/x`, deadlineMs: 3000 });
    expect(res.status).toBe(200);
    expect(seen).toHaveLength(2);
    expect(seen[1]!.at - seen[0]!.at).toBeGreaterThanOrEqual(900);
  });

  it('never retries a POST: a 503 is UNAVAILABLE after one attempt', async () => {
    replies = [status(503), status(200)];
    const err = await supplierHttp({ system: 's', url: `${base}/x`, method: 'POST', body: '{}', deadlineMs: 2000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UpstreamError);
    expect(err).toMatchObject({ reason: 'UNAVAILABLE', status: 503 });
    expect(seen).toHaveLength(1);
  });

  it('does not wait a Retry-After the deadline cannot hold: 429 is RATE_LIMITED at once, with the wait it asked', async () => {
    replies = [status(429, { 'retry-after': '30' }), status(200)];
    const err = await supplierHttp({ system: 's', url: `${base}/x`, deadlineMs: 1500 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ reason: 'RATE_LIMITED', status: 429, retryAfterMs: 30_000 });
    expect(seen).toHaveLength(1);
  });

  it('keeps one deadline over every attempt: a stalled supplier is TIMEOUT, and the URL is not in the message', async () => {
    replies = [() => undefined, () => undefined];
    const err = await supplierHttp({ system: 's', url: `${base}/secret-path`, deadlineMs: 600 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UpstreamError);
    expect((err as UpstreamError).reason).toBe('TIMEOUT');
    expect((err as Error).message).not.toContain('secret-path');
    // Never a second attempt after the deadline went on the first.
    expect(seen).toHaveLength(1);
  });

  it('a refused connection is UNAVAILABLE', async () => {
    const err = await supplierHttp({ system: 's', url: 'http://127.0.0.1:1/x', method: 'POST', deadlineMs: 1000 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ reason: 'UNAVAILABLE' });
  });
});
