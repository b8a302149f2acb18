/**
 * Supplier HTTP through `got`: every call a subgraph makes to a supplier system, a directory or a feed manifest (the
 * NDJSON files stream through feeds/http.ts). One deadline over every
 * attempt and wait, retries only for idempotent reads (GET) on network errors, 429 and 5xx, honouring Retry-After
 * when it fits the deadline, every attempt first taking a token from the process's supplier throttle, and failures
 * as the typed UpstreamError (TIMEOUT, UNAVAILABLE, RATE_LIMITED, and INVALID_RESPONSE for a body over MAX_BODY_BYTES
 * or one that does not decode) whose message never holds the URL. Other 2xx–4xx (but 429) answers are returned for
 * the adapter to interpret. A POST is never retried here: whether to send a write again is
 * the booking flow's decision (it replays with the same X-Request-Id, never blind).
 *
 * got's hooks feed the supplier metrics (each attempt's retry is counted; the call's duration and failure reason
 * are recorded once), and the thrown UpstreamError is what the circuit breaker and the slot cache count
 * (kit/circuit-breaker.ts countsAsFailure: our own throttle and local delays are not the supplier's fault).
 */
import type { ClientRequest, IncomingMessage } from 'node:http';
import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { brotliDecompress, brotliDecompressSync, gunzip, gunzipSync, inflate, inflateRaw, inflateRawSync, inflateSync, type ZlibOptions } from 'node:zlib';
import got, { RequestError, type Method } from 'got';
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
const RETRY_ERRORS = ['ETIMEDOUT', 'ECONNRESET', 'EADDRINUSE', 'ECONNREFUSED', 'EPIPE', 'ENOTFOUND', 'ENETUNREACH', 'EAI_AGAIN'];
/** Full-jitter backoff base between read attempts. */
const BASE_BACKOFF_MS = 50;
/**
 * The largest body a supplier answer may have, as sent and once decoded: far above any page a supplier serves (a
 * hundred Booking Standard slots with their includes are about 70 kB), and a bound on what one answer can make a
 * subgraph hold, so that a supplier sending without end, or a small gzip that inflates to gigabytes, fails one call
 * as INVALID_RESPONSE instead of taking the process, and every other supplier, down.
 */
export const MAX_BODY_BYTES = 16 * 1024 * 1024;
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
  let sentAt = performance.now();
  let loopAtSend = performance.eventLoopUtilization();
  let lastStatus: number | undefined;
  let tooLarge = false;
  /** The status of the attempt under way: an answer stopped for its size is judged by its own status. */
  let attemptStatus: number | undefined;
  try {
    const call = got(req.url, {
      method: method as Method,
      // What we can decode, whatever a caller's headers say.
      headers: { ...req.headers, ...traceHeaders(), 'accept-encoding': ACCEPT_ENCODING },
      ...(req.body !== undefined ? { body: req.body } : {}),
      // The body is read as bytes, bounded, and decoded whole here (decodeBody): got's streaming decoder has no bound,
      // and costs a zlib stream and thread-pool hops per answer where one synchronous call on a page is cheaper.
      decompress: false,
      responseType: 'buffer',
      throwHttpErrors: false,
      followRedirect: false,
      // The whole call's deadline; each attempt also stops at what is left of it (beforeRequest).
      signal: AbortSignal.timeout(req.deadlineMs),
      timeout: { request: req.deadlineMs },
      retry: {
        limit: retries,
        methods: ['GET'],
        statusCodes: RETRY_STATUS,
        errorCodes: RETRY_ERRORS,
        maxRetryAfter: req.deadlineMs,
        // Retry-After when the supplier gives one, jittered backoff otherwise; never a wait the deadline cannot hold.
        calculateDelay: ({ computedValue, retryAfter, attemptCount }) => {
          if (computedValue === 0) return 0;
          const wait = retryAfter ?? Math.round(Math.random() * BASE_BACKOFF_MS * 2 ** (attemptCount - 1));
          return Date.now() + wait + 50 < deadline ? Math.max(1, wait) : 0;
        },
      },
      hooks: {
        beforeRequest: [
          async (options) => {
            const throttle = currentSupplierThrottle();
            if (throttle) await throttle.acquire(req.system, deadline - Date.now());
            const remaining = deadline - Date.now();
            if (remaining <= 0) throw new LocalDelayError(req.system, 0, 0);
            options.timeout = { request: remaining };
            if (req.perAttempt) for (const [k, v] of Object.entries(req.perAttempt())) options.headers[k.toLowerCase()] = v;
            sentAt = performance.now();
            loopAtSend = performance.eventLoopUtilization();
            attemptStatus = undefined;
          },
        ],
        beforeRetry: [
          (error) => {
            lastStatus = error.response?.statusCode;
            supplierErrors.inc({ system: req.system, reason: lastStatus === 429 ? 'RATE_LIMITED_RETRIED' : 'RETRIED' });
          },
        ],
      },
    });
    // From the socket's own answer: got reports a declared length before its own 'response' event.
    call.on('request', (request: ClientRequest) => {
      request.once('response', (res: IncomingMessage) => {
        attemptStatus = res.statusCode;
      });
    });
    // Stops reading once the answer is over the bound, declared (content-length) or counted as it arrives.
    call.on('downloadProgress', (progress: { transferred: number; total?: number }) => {
      if (progress.transferred > MAX_BODY_BYTES || (progress.total ?? 0) > MAX_BODY_BYTES) {
        tooLarge = true;
        call.cancel();
      }
    });
    const res = await call;
    const headers = new Headers();
    for (const [k, v] of Object.entries(res.headers)) {
      if (Array.isArray(v)) for (const x of v) headers.append(k, x);
      else if (v !== undefined) headers.set(k, String(v));
    }
    const text = await bodyText(req.system, res.statusCode, res.body, headers.get('content-encoding'));
    if (!RETRY_STATUS.includes(res.statusCode)) return { status: res.statusCode, headers, text };
    throw new UpstreamError(
      req.system,
      res.statusCode === 429 ? 'RATE_LIMITED' : 'UNAVAILABLE',
      res.statusCode,
      text.slice(0, 500),
      parseRetryAfter(headers.get('retry-after')),
    );
  } catch (err) {
    if (tooLarge) {
      // An error status says what happened whatever its body; a success too large to read is not an answer.
      if (attemptStatus === 429) throw new UpstreamError(req.system, 'RATE_LIMITED', 429, 'body too large to read');
      if (attemptStatus !== undefined && attemptStatus >= 500) throw new UpstreamError(req.system, 'UNAVAILABLE', attemptStatus, 'body too large to read');
      throw new UpstreamError(req.system, 'INVALID_RESPONSE', attemptStatus, `body over ${MAX_BODY_BYTES} bytes`);
    }
    throw toUpstreamError(req, err, deadline, { sentAt, loopAtSend }, lastStatus);
  }
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
  attempt: { sentAt: number; loopAtSend: EventLoopUtilization },
  lastStatus: number | undefined,
): UpstreamError {
  if (err instanceof UpstreamError) return err;
  // A hook's own error (the throttle's ThrottledError, a LocalDelayError) arrives wrapped by got.
  const cause = err instanceof RequestError ? (err.cause ?? err) : err;
  if (cause instanceof UpstreamError) return cause;
  const code = err instanceof RequestError ? err.code : undefined;
  const timedOut = Date.now() >= deadline - 5 || code === 'ETIMEDOUT' || (err instanceof Error && (err.name === 'AbortError' || err.name === 'TimeoutError'));
  if (timedOut) {
    const inFlightMs = performance.now() - attempt.sentAt;
    const lagMs = Math.max(0, Date.now() - deadline);
    const loopBusy = performance.eventLoopUtilization(attempt.loopAtSend).utilization;
    const answerBegun = err instanceof RequestError && err.timings?.response !== undefined;
    const busyOurs = loopBusy >= (answerBegun ? LOOP_BUSY_OURS.answerBegun : LOOP_BUSY_OURS.noAnswer);
    // Mostly spent here (waiting for our throttle, the event loop late or busy): says nothing of the supplier.
    if (inFlightMs < req.deadlineMs / 2 || lagMs > Math.max(100, req.deadlineMs / 4) || busyOurs) {
      return new LocalDelayError(req.system, inFlightMs, lagMs, loopBusy);
    }
    return new UpstreamError(req.system, 'TIMEOUT', lastStatus, 'deadline passed');
  }
  const detail = err instanceof Error ? `${err.name}${code ? ` (${code})` : ''}` : String(err);
  return new UpstreamError(req.system, 'UNAVAILABLE', lastStatus, detail);
}
