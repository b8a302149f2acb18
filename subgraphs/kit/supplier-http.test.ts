/** Supplier HTTP (undici), against a real local HTTP server whose answers each test scripts. */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { brotliCompressSync, deflateRawSync, deflateSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MAX_BODY_BYTES, supplierHttp } from './supplier-http.js';
import { UpstreamError, installSupplierThrottle } from '../../common/upstream.js';
import { supplierErrors } from '../../common/metrics.js';

type Reply = (req: IncomingMessage, res: ServerResponse) => void;
let server: Server;
let base: string;
let replies: Reply[] = [];
let seen: { method: string; at: number; acceptEncoding?: string; requestId?: string; userAgent?: string }[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    seen.push({ method: req.method ?? '', at: Date.now(), acceptEncoding: req.headers['accept-encoding'], requestId: req.headers['x-request-id'] as string | undefined, userAgent: req.headers['user-agent'] });
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

  it('retries a GET whose connection was dropped, with fresh per-attempt headers; never a POST', async () => {
    const dropped: Reply = (q) => q.socket.destroy();
    let n = 0;
    replies = [dropped, status(200)];
    const res = await supplierHttp({ system: 's', url: `${base}/x`, deadlineMs: 3000, perAttempt: () => ({ 'X-Request-ID': `attempt-${++n}` }) });
    expect(res.status).toBe(200);
    expect(seen.map((r) => r.requestId)).toEqual(['attempt-1', 'attempt-2']);
    replies = [dropped, status(200)];
    seen = [];
    const err = await supplierHttp({ system: 's', url: `${base}/x`, method: 'POST', body: '{}', deadlineMs: 3000 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ reason: 'UNAVAILABLE' });
    expect(seen).toHaveLength(1);
  });

  it('reads an answer whose headers are not ASCII (Latin-1 bytes, UTF-8 beyond Latin-1) as the answer it is', async () => {
    replies = [(_q, r) => {
      // Node writes a header value one byte per character: é as the single byte 0xE9; the en dash as its UTF-8 bytes.
      r.writeHead(201, { 'x-note': 'caf\u00e9', 'x-dash': Buffer.from('a\u2013b', 'utf8').toString('latin1'), etag: 'W/"1"' });
      r.end('{}');
    }];
    const res = await supplierHttp({ system: 's', url: `${base}/x`, method: 'POST', body: '{}', deadlineMs: 2000 });
    expect(res.status).toBe(201);
    expect(res.headers.get('etag')).toBe('W/"1"');
    // As Node's own parser reads it, one character per byte.
    expect(res.headers.get('x-dash')).toBe(Buffer.from('a\u2013b', 'utf8').toString('latin1'));
    expect(seen[0]!.userAgent).toBe('nhs-booking-gateway');
  });

  it('takes a throttle token before every attempt, within what is left of the deadline, and counts the retry', async () => {
    const asked: number[] = [];
    const undo = installSupplierThrottle({ acquire: async (_system, withinMs) => void asked.push(withinMs) });
    const retried = async () => (await supplierErrors.get()).values.find((v) => v.labels.system === 'throttled-test' && v.labels.reason === 'RETRIED')?.value ?? 0;
    try {
      const before = await retried();
      replies = [status(503, { 'retry-after': '1' }), status(200)];
      expect((await supplierHttp({ system: 'throttled-test', url: `${base}/x`, deadlineMs: 3000 })).status).toBe(200);
      expect(asked).toHaveLength(2);
      expect(asked[0]).toBeLessThanOrEqual(3000);
      // The second attempt waited the supplier's second first: what it may wait for a token is what is left.
      expect(asked[1]).toBeLessThanOrEqual(asked[0]! - 900);
      expect(await retried()).toBe(before + 1);
    } finally {
      undo();
    }
  });

  it('a refused connection is UNAVAILABLE', async () => {
    const err = await supplierHttp({ system: 's', url: 'http://127.0.0.1:1/x', method: 'POST', deadlineMs: 1000 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ reason: 'UNAVAILABLE' });
  });
});

describe('supplierHttp bodies: decoded by their Content-Encoding, and bounded', () => {
  const page = JSON.stringify({ resourceType: 'Bundle', entry: Array.from({ length: 200 }, (_, i) => ({ resource: { resourceType: 'Slot', id: `slot-${i}` } })) });
  const encoded = (encoding: string, body: Buffer): Reply => (_q, r) => {
    r.writeHead(200, { 'content-type': 'application/fhir+json', 'content-encoding': encoding, 'content-length': String(body.length) });
    r.end(body);
  };

  it.each([
    ['gzip', gzipSync(page)],
    ['deflate', deflateSync(page)],
    ['deflate', deflateRawSync(page)],
    ['br', brotliCompressSync(page)],
    ['identity', Buffer.from(page)],
  ])('reads a %s body as the text it encodes', async (encoding, body) => {
    replies = [encoded(encoding, body)];
    const res = await supplierHttp({ system: 's', url: `${base}/x`, deadlineMs: 2000 });
    expect(res.status).toBe(200);
    expect(res.text).toBe(page);
    expect(seen[0]!.acceptEncoding).toBe('gzip, deflate, br');
  });

  it('a body that does not decode is INVALID_RESPONSE on a success, and an error status still decides a failure', async () => {
    replies = [encoded('gzip', Buffer.from('not gzip at all'))];
    const bad = await supplierHttp({ system: 's', url: `${base}/x`, deadlineMs: 2000 }).catch((e: unknown) => e);
    expect(bad).toMatchObject({ reason: 'INVALID_RESPONSE', status: 200 });
    replies = [(_q, r) => {
      r.writeHead(409, { 'content-encoding': 'gzip' });
      r.end('garbage');
    }];
    const conflict = await supplierHttp({ system: 's', url: `${base}/x`, method: 'POST', body: '{}', deadlineMs: 2000 });
    expect(conflict).toMatchObject({ status: 409, text: '' });
  });

  it.each([
    ['decoded on the event loop', MAX_BODY_BYTES + 1024],
    ['decoded off it (a larger compressed body)', 80 * 1024 * 1024],
  ])('refuses a gzip that inflates past the bound (a decompression bomb) as INVALID_RESPONSE, %s', async (_how, size) => {
    const bomb = gzipSync(Buffer.alloc(size));
    expect(bomb.length).toBeLessThan(200_000);
    replies = [encoded('gzip', bomb)];
    const outcome = await supplierHttp({ system: 's', url: `${base}/x`, deadlineMs: 5000 }).then((res) => `an answer of ${res.text.length} characters`, (e: unknown) => e);
    expect(outcome).toBeInstanceOf(UpstreamError);
    expect(outcome).toMatchObject({ reason: 'INVALID_RESPONSE', detail: expect.stringContaining('once decoded') });
  });

  it('decodes a large body off the event loop to the same text', async () => {
    const big = JSON.stringify(Array.from({ length: 20_000 }, (_, i) => ({ id: `slot-${i}-${(i * 2654435761) % 4294967296}` })));
    const body = gzipSync(big);
    expect(body.length).toBeGreaterThan(64 * 1024);
    replies = [encoded('gzip', body)];
    expect((await supplierHttp({ system: 's', url: `${base}/x`, deadlineMs: 5000 })).text).toBe(big);
  });

  it('stops reading a body sent without end once it passes the bound, and the answer is INVALID_RESPONSE', async () => {
    let written = 0;
    let closed: Promise<void> = Promise.resolve();
    replies = [(_q, r) => {
      // No content-length: chunked, so only counting what arrives can stop it.
      r.writeHead(200, { 'content-type': 'application/json' });
      closed = new Promise((done) => r.on('close', () => done()));
      const chunk = Buffer.alloc(256 * 1024, 0x20);
      const pump = () => {
        while (!r.destroyed && written < 4 * MAX_BODY_BYTES) {
          written += chunk.length;
          if (!r.write(chunk)) return void r.once('drain', pump);
        }
        r.end();
      };
      pump();
    }];
    const outcome = await supplierHttp({ system: 's', url: `${base}/x`, method: 'POST', body: '{}', deadlineMs: 10_000 }).then(
      // Summarised: a failing run must not hand the matcher a body of many megabytes to print.
      (res) => `an answer of ${res.text.length} characters`,
      (e: unknown) => e,
    );
    expect(outcome).toMatchObject({ reason: 'INVALID_RESPONSE', detail: `body over ${MAX_BODY_BYTES} bytes` });
    await closed;
    // The connection was dropped soon after the bound, not read to its end.
    expect(written).toBeLessThan(2 * MAX_BODY_BYTES);
  });

  it('refuses at once a body whose declared length is over the bound, judged by its own attempt\'s status', async () => {
    let closed: Promise<void> = Promise.resolve();
    const endless = (code: number): Reply => (_q, r) => {
      r.writeHead(code, { 'content-length': String(MAX_BODY_BYTES + 1) });
      closed = new Promise((done) => r.on('close', () => done()));
      // A trickle that would run far past the deadline unless the client hangs up.
      const timer = setInterval(() => r.write(Buffer.alloc(1024)), 20);
      r.on('close', () => clearInterval(timer));
    };
    // A 503 first (retried), then the oversized success: INVALID_RESPONSE, with the status that answer had.
    replies = [status(503), endless(200)];
    const started = Date.now();
    const err = await supplierHttp({ system: 's', url: `${base}/x`, deadlineMs: 10_000 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ reason: 'INVALID_RESPONSE', status: 200 });
    await closed;
    expect(Date.now() - started).toBeLessThan(5000);
    // Never retried: a body too large is not a passing fault.
    expect(seen).toHaveLength(2);
    // An error status stays what it says, whatever its body.
    replies = [endless(503)];
    seen = [];
    const unavailable = await supplierHttp({ system: 's', url: `${base}/x`, method: 'POST', body: '{}', deadlineMs: 10_000 }).catch((e: unknown) => e);
    expect(unavailable).toMatchObject({ reason: 'UNAVAILABLE', status: 503 });
  });

  it('keeps what it can decode in accept-encoding whatever a caller asks, and reads an empty encoded answer as empty', async () => {
    replies = [(_q, r) => {
      r.writeHead(204, { 'content-encoding': 'gzip' });
      r.end();
    }];
    const res = await supplierHttp({ system: 's', url: `${base}/x`, headers: { 'Accept-Encoding': 'zstd' }, deadlineMs: 2000 });
    expect(res).toMatchObject({ status: 204, text: '' });
    expect(seen[0]!.acceptEncoding).toBe('gzip, deflate, br');
  });
});
