/**
 * Supplier HTTP through undici: every call a subgraph makes to a supplier system, a directory or a feed manifest (the
 * NDJSON files stream through feeds/http.ts). One deadline over every attempt and wait, retries only for idempotent
 * reads (GET) on network errors, 429 and 5xx, honouring Retry-After when it fits the deadline, every attempt first
 * taking a token from the process's supplier throttle, and failures as the typed UpstreamError (TIMEOUT, UNAVAILABLE,
 * RATE_LIMITED, and INVALID_RESPONSE for a body over MAX_BODY_BYTES or one that does not decode) whose message never
 * holds the URL. Other 2xx–4xx (but 429) answers are returned for the adapter to interpret. A POST is never retried
 * here: whether to send a write again is the booking flow's decision (it replays with the same X-Request-Id, never
 * blind).
 *
 * The attempts are a plain loop (send): each retry is counted in the supplier metrics, the call's duration and
 * failure reason are recorded once, and the thrown UpstreamError is what the circuit breaker and the slot cache count
 * (kit/circuit-breaker.ts countsAsFailure: our own throttle and local delays are not the supplier's fault). Bodies are
 * read as bytes, bounded, and decoded whole (decodeBody): one synchronous call on a page is cheaper than a zlib
 * stream and its thread-pool hops.
 */
import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import type { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { brotliDecompress, brotliDecompressSync, gunzip, gunzipSync, inflate, inflateRaw, inflateRawSync, inflateSync, type ZlibOptions } from 'node:zlib';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, request, type Dispatcher } from 'undici';
import { supplierErrors, supplierRequestDuration } from '../../common/metrics.js';
import { failureOutcome, supplierStatus } from './supplier-status.js';
import { SpanKind, inSpan, traceHeaders } from '../../common/tracing.js';
import { LocalDelayError, ThrottledError, UpstreamError, currentSupplierThrottle, parseRetryAfter, type UpstreamResponse } from '../../common/upstream.js';

export interface SupplierHttpRequest {
  /** Registry id of the system called, for errors, metrics and the throttle. */
  system: string;
  url: string;
  method?: 'GET' | 'POST' | 'PUT' | 'DELETE';
  headers?: Record<string, string>;
  /** Headers that must change per attempt (a fresh request id or JWT on a retry), merged over `headers`. */
  perAttempt?: () => Record<string, string>;
  body?: string;
  /** Total time allowed for this call, all attempts and waits included. */
  deadlineMs: number;
  /** Extra attempts for a GET (default 1). Never for other methods. */
  retries?: number;
}

const RETRY_STATUS = [429, 500, 502, 503, 504];
// undici reports a socket closed under a request as UND_ERR_SOCKET, its own connect timeout as UND_ERR_CONNECT_TIMEOUT.
const RETRY_ERRORS = ['ETIMEDOUT', 'ECONNRESET', 'EADDRINUSE', 'ECONNREFUSED', 'EPIPE', 'ENOTFOUND', 'ENETUNREACH', 'EAI_AGAIN', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT'];
/** Far beyond any call's deadline, which is what bounds connecting (undici's own default is 10 s). */
const CONNECT_TIMEOUT_MS = 60_000;
/** Full-jitter backoff base between read attempts. */
const BASE_BACKOFF_MS = 50;
/**
 * The largest body a supplier answer may have, as sent and once decoded: far above any page a supplier serves (a
 * hundred Booking Standard slots with their includes are about 70 kB), and a bound on what one answer can make a
 * subgraph hold, so that a supplier sending without end, or a small gzip that inflates to gigabytes, fails one call
 * as INVALID_RESPONSE instead of taking the process, and every other supplier, down.
 */
export const MAX_BODY_BYTES = 16 * 1024 * 1024;
/** Who is calling, in suppliers' logs (got sent its own name before; a caller may name itself more closely). */
const USER_AGENT = 'nhs-booking-gateway';
/** What we accept: the encodings decodeBody reads. */
const ACCEPT_ENCODING = 'gzip, deflate, br';

/** The same call with the URL first: what the adapters' clients read best (`upstreamFetch(url, { system, ... })`). */
export function upstreamFetch(url: string, req: Omit<SupplierHttpRequest, 'url'>): Promise<UpstreamResponse> {
  return supplierHttp({ ...req, url });
}

export async function supplierHttp(req: SupplierHttpRequest): Promise<UpstreamResponse> {
  const method = req.method ?? 'GET';
  return inSpan('supplier call', SpanKind.CLIENT, { 'supplier.system': req.system, 'http.request.method': method }, async (span) => {
    const end = supplierRequestDuration.startTimer({ system: req.system, method });
    try {
      const res = await send(req, method);
      span.setAttribute('http.response.status_code', res.status);
      supplierStatus.recordCall(req.system, end({ outcome: `${Math.floor(res.status / 100)}xx` }) * 1000, { ok: true, status: res.status });
      return res;
    } catch (err) {
      if (err instanceof ThrottledError) {
        end({ outcome: 'THROTTLED' });
        throw err;
      }
      const reason = err instanceof UpstreamError ? err.reason : 'UNAVAILABLE';
      supplierStatus.recordCall(req.system, end({ outcome: reason }) * 1000, failureOutcome(err), err);
      supplierErrors.inc({ system: req.system, reason });
      throw err;
    }
  });
}

async function send(req: SupplierHttpRequest, method: string): Promise<UpstreamResponse> {
  const deadline = Date.now() + req.deadlineMs;
  const retries = method === 'GET' ? (req.retries ?? 1) : 0;
  // What we can decode, whatever a caller's headers say; names lower-cased so that no header goes twice.
  const headers = { 'user-agent': USER_AGENT, ...lowerCased(req.headers), ...traceHeaders(), 'accept-encoding': ACCEPT_ENCODING };
  let lastStatus: number | undefined;
  for (let attempt = 0; ; attempt++) {
    const throttle = currentSupplierThrottle();
    if (throttle) await throttle.acquire(req.system, deadline - Date.now());
    const remaining = deadline - Date.now();
    if (remaining <= 0) throw new LocalDelayError(req.system, 0, 0);
    const timing = { sentAt: performance.now(), loopAtSend: performance.eventLoopUtilization(), answerBegun: false };
    let answer: { status: number; headers: Headers; body: Buffer };
    try {
      answer = await oneAttempt(req, method, req.perAttempt ? { ...headers, ...lowerCased(req.perAttempt()) } : headers, remaining, timing);
    } catch (err) {
      if (err instanceof UpstreamError) throw err;
      const wait = attempt < retries && isPassingFault(err) ? retryWait(undefined, attempt, deadline) : null;
      if (wait === null) throw toUpstreamError(req, err, deadline, timing, lastStatus);
      lastStatus = undefined;
      supplierErrors.inc({ system: req.system, reason: 'RETRIED' });
      await sleep(wait);
      continue;
    }
    const { status } = answer;
    const retryAfterMs = parseRetryAfter(answer.headers.get('retry-after'));
    if (RETRY_STATUS.includes(status)) {
      const wait = attempt < retries ? retryWait(retryAfterMs, attempt, deadline) : null;
      if (wait !== null) {
        lastStatus = status;
        supplierErrors.inc({ system: req.system, reason: status === 429 ? 'RATE_LIMITED_RETRIED' : 'RETRIED' });
        await sleep(wait);
        continue;
      }
    }
    const text = await bodyText(req.system, status, answer.body, answer.headers.get('content-encoding'));
    if (!RETRY_STATUS.includes(status)) return { status, headers: answer.headers, text };
    throw new UpstreamError(req.system, status === 429 ? 'RATE_LIMITED' : 'UNAVAILABLE', status, text.slice(0, 500), retryAfterMs);
  }
}

/**
 * Every supplier call's connections, kept alive between calls (undici closes one idle for 4 s, before a Node server's
 * default 5). Through undici rather than got, which the design first named: 3,000 GETs of a small answer from a local
 * server, 16 at a time, with the options this module sets, took about 250 µs of this process's CPU each through got
 * and 70 through undici, and a cold search makes some 150 supplier calls in one process. Redirects are never followed
 * (undici's request does not).
 */
const dispatcher = new Agent({ connect: { timeout: CONNECT_TIMEOUT_MS } });

/**
 * One attempt: the answer's status, headers and raw body, read whole up to MAX_BODY_BYTES (declared or counted as it
 * arrives; past it the connection is dropped and the answer judged by its own status). Transport failures throw as
 * they come; the deadline aborts it.
 */
async function oneAttempt(
  req: SupplierHttpRequest,
  method: string,
  headers: Record<string, string>,
  remainingMs: number,
  timing: { answerBegun: boolean },
): Promise<{ status: number; headers: Headers; body: Buffer }> {
  const res = await request(req.url, {
    dispatcher,
    method: method as Dispatcher.HttpMethod,
    headers,
    ...(req.body !== undefined ? { body: req.body } : {}),
    signal: AbortSignal.timeout(remainingMs),
  });
  timing.answerBegun = true;
  const declared = Number(res.headers['content-length']);
  const body = declared > MAX_BODY_BYTES ? null : await readBounded(res.body);
  if (body === null) {
    // Dropping the body aborts the request, which the body reports as an error: nobody waits for it any more.
    res.body.on('error', () => {});
    res.body.destroy();
    // An error status says what happened whatever its body; a success too large to read is not an answer.
    if (res.statusCode === 429) throw new UpstreamError(req.system, 'RATE_LIMITED', 429, 'body too large to read');
    if (res.statusCode >= 500) throw new UpstreamError(req.system, 'UNAVAILABLE', res.statusCode, 'body too large to read');
    throw new UpstreamError(req.system, 'INVALID_RESPONSE', res.statusCode, `body over ${MAX_BODY_BYTES} bytes`);
  }
  const out = new Headers();
  for (const [k, v] of Object.entries(res.headers)) {
    if (Array.isArray(v)) for (const x of v) out.append(k, asHeaderValue(x));
    else if (v !== undefined) out.set(k, asHeaderValue(v));
  }
  return { status: res.statusCode, headers: out, body };
}

/**
 * A header value one character per byte, as Node's own HTTP parser gives it. undici reads values as UTF-8, and a
 * byte that is not UTF-8 (a Latin-1 é, read as U+FFFD) or a character beyond Latin-1 (an en dash) made Headers throw
 * after the answer had arrived: a booking made would have read as no answer. Header values are bytes (RFC 9110 5.5);
 * nothing here reads one beyond ASCII.
 */
function asHeaderValue(v: string): string {
  return /^[\x00-\x7f]*$/.test(v) ? v : Buffer.from(v, 'utf8').toString('latin1');
}

/** The body's bytes, or null once they pass MAX_BODY_BYTES (what has arrived is dropped then, not kept). */
function readBounded(body: Readable): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let bytes = 0;
    body.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes > MAX_BODY_BYTES) {
        body.removeAllListeners('data');
        body.pause();
        resolve(null);
      } else chunks.push(chunk);
    });
    body.once('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, bytes)));
    body.once('error', reject);
  });
}

/**
 * How long to wait before the next attempt, or null for none: the supplier's Retry-After when it gives one, jittered
 * backoff otherwise, never a wait the deadline cannot hold.
 */
function retryWait(retryAfterMs: number | undefined, attempt: number, deadline: number): number | null {
  const wait = retryAfterMs ?? Math.round(Math.random() * BASE_BACKOFF_MS * 2 ** attempt);
  return Date.now() + wait + 50 < deadline ? Math.max(1, wait) : null;
}

/** A transport failure another attempt may not meet (a reset or refused connection, a name not resolved yet). */
function isPassingFault(err: unknown): boolean {
  const code = errorCode(err);
  return code !== undefined && RETRY_ERRORS.includes(code);
}

/** The error's code, or its cause's (undici wraps some socket errors). */
function errorCode(err: unknown): string | undefined {
  const e = err as { code?: unknown; cause?: { code?: unknown } } | null;
  const code = e?.code ?? e?.cause?.code;
  return typeof code === 'string' ? code : undefined;
}

function lowerCased(headers: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers ?? {})) out[k.toLowerCase()] = v;
  return out;
}

/**
 * The answer's text, decoded by its Content-Encoding (RFC 9110 8.4) and bounded by MAX_BODY_BYTES once decoded. A
 * body that does not decode is INVALID_RESPONSE on a success; on an error status it reads as empty, so the status
 * still decides what the call comes to.
 */
async function bodyText(system: string, status: number, body: Buffer, contentEncoding: string | null): Promise<string> {
  try {
    return (await decodeBody(body, contentEncoding)).toString('utf8');
  } catch (err) {
    if (status < 200 || status >= 300) return '';
    const detail = (err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE' ? `body over ${MAX_BODY_BYTES} bytes once decoded` : `body does not decode as ${contentEncoding}`;
    throw new UpstreamError(system, 'INVALID_RESPONSE', status, detail);
  }
}

/** Bodies up to this size are decoded in one synchronous call (cheaper than a thread-pool hop); larger ones off the event loop. */
const DECODE_INLINE_BYTES = 64 * 1024;
const DECODERS = {
  gzip: { inline: gunzipSync, pooled: promisify(gunzip) },
  zlib: { inline: inflateSync, pooled: promisify(inflate) },
  raw: { inline: inflateRawSync, pooled: promisify(inflateRaw) },
  br: { inline: brotliDecompressSync, pooled: promisify(brotliDecompress) },
} satisfies Record<string, { inline: (b: Buffer, o: ZlibOptions) => Buffer; pooled: (b: Buffer, o: ZlibOptions) => Promise<Buffer> }>;

async function decodeBody(body: Buffer, contentEncoding: string | null): Promise<Buffer> {
  const encoding = (contentEncoding ?? '').trim().toLowerCase();
  if (encoding === '' || encoding === 'identity' || body.length === 0) return body;
  const decoder = DECODERS[decoderFor(encoding, body)];
  const bound = { maxOutputLength: MAX_BODY_BYTES };
  return body.length <= DECODE_INLINE_BYTES ? decoder.inline(body, bound) : decoder.pooled(body, bound);
}

function decoderFor(encoding: string, body: Buffer): keyof typeof DECODERS {
  if (encoding === 'gzip' || encoding === 'x-gzip') return 'gzip';
  if (encoding === 'br') return 'br';
  // "deflate" is the zlib format (RFC 9110 8.4.1.2), but some servers send raw deflate: a zlib header tells them apart.
  if (encoding === 'deflate') return body.length >= 2 && (body[0]! & 0x0f) === 8 && ((body[0]! << 8) | body[1]!) % 31 === 0 ? 'zlib' : 'raw';
  throw new Error(`unknown content-encoding ${encoding}`);
}

/**
 * How busy our event loop must have been through a timed-out attempt for the deadline to count as spent here. The
 * loop is idle only while nothing is ready to read, so idle time means the answer had not arrived then. Once the
 * supplier's answer has begun (its headers read), a loop busy for most of the attempt is why the rest was not read
 * in time. Before that, only a loop that almost never waited can have left an arrived answer unread: below this, a
 * supplier that never answered under our steady load is still the supplier's TIMEOUT, and still opens its circuit.
 */
const LOOP_BUSY_OURS = { answerBegun: 0.8, noAnswer: 0.95 };

function toUpstreamError(
  req: SupplierHttpRequest,
  err: unknown,
  deadline: number,
  attempt: { sentAt: number; loopAtSend: EventLoopUtilization; answerBegun: boolean },
  lastStatus: number | undefined,
): UpstreamError {
  if (err instanceof UpstreamError) return err;
  const code = errorCode(err);
  const timedOut = Date.now() >= deadline - 5 || code === 'ETIMEDOUT' || (err instanceof Error && (err.name === 'AbortError' || err.name === 'TimeoutError'));
  if (timedOut) {
    const inFlightMs = performance.now() - attempt.sentAt;
    const lagMs = Math.max(0, Date.now() - deadline);
    const loopBusy = performance.eventLoopUtilization(attempt.loopAtSend).utilization;
    const busyOurs = loopBusy >= (attempt.answerBegun ? LOOP_BUSY_OURS.answerBegun : LOOP_BUSY_OURS.noAnswer);
    // Mostly spent here (waiting for our throttle, the event loop late or busy): says nothing of the supplier.
    if (inFlightMs < req.deadlineMs / 2 || lagMs > Math.max(100, req.deadlineMs / 4) || busyOurs) {
      return new LocalDelayError(req.system, inFlightMs, lagMs, loopBusy);
    }
    return new UpstreamError(req.system, 'TIMEOUT', lastStatus, 'deadline passed');
  }
  const detail = err instanceof Error ? `${err.name}${code ? ` (${code})` : ''}` : String(err);
  return new UpstreamError(req.system, 'UNAVAILABLE', lastStatus, detail);
}
