import { supplierErrors, supplierRequestDuration } from './metrics.js';
import { SpanKind, inSpan, traceHeaders } from './tracing.js';

/**
 * The one way subgraphs call upstream systems. Every call has a deadline that covers all its attempts; only
 * idempotent methods are retried (jittered exponential backoff, honouring Retry-After when it fits the deadline);
 * failures become a typed UpstreamError whose message never contains the URL.
 *
 * Every attempt first takes a token from the process's supplier throttle (kit/supplier-throttle.ts, installed by
 * kit/slot-runtime.ts), so no supplier system is called faster than its registry `rateLimitPerSecond`, whichever
 * adapter, flow or replica calls it. A call over the limit waits for a token within its deadline; when none comes
 * in time it fails as RATE_LIMITED with a ThrottledError, never having been sent.
 */

/** CIRCUIT_OPEN: not called at all, because this system's circuit breaker is open (kit/circuit-breaker.ts). */
export type UpstreamReason = 'TIMEOUT' | 'UNAVAILABLE' | 'RATE_LIMITED' | 'INVALID_RESPONSE' | 'REJECTED' | 'CIRCUIT_OPEN';

export class UpstreamError extends Error {
  constructor(
    readonly system: string,
    readonly reason: UpstreamReason,
    readonly status?: number,
    /** For logs only: may echo request data, so never shown to clients. */
    readonly detail?: string,
    readonly retryAfterMs?: number,
  ) {
    super(`${system}: ${reason}${status ? ` (HTTP ${status})` : ''}`);
    this.name = 'UpstreamError';
  }
}

/**
 * RATE_LIMITED by our own throttle: the call was never sent, so it says nothing about the supplier's health (the
 * circuit breaker does not count it, the slot cache does not remember it).
 */
export class ThrottledError extends UpstreamError {
  constructor(system: string, retryAfterMs?: number) {
    super(system, 'RATE_LIMITED', undefined, 'throttled: over our own rate limit for this system, not sent', retryAfterMs);
    this.name = 'ThrottledError';
  }
}

/**
 * TIMEOUT, but the deadline was spent in our own process, not at the supplier: waiting for our throttle or between
 * attempts (so the last attempt had less than half the deadline), or with the event loop too busy to read an answer
 * that may well have arrived (the timeout fired late). Reported as TIMEOUT like any other, but it says nothing about
 * the supplier's health: the circuit breaker does not count it and the slot cache does not remember it.
 */
export class LocalDelayError extends UpstreamError {
  constructor(
    system: string,
    /** How long the last attempt was in flight, and how late our own timer fired (event-loop lag), in ms. */
    readonly inFlightMs: number,
    readonly lagMs: number,
  ) {
    super(system, 'TIMEOUT', undefined, `deadline spent in our process (in flight ${Math.round(inFlightMs)} ms, timer ${Math.round(lagMs)} ms late)`);
    this.name = 'LocalDelayError';
  }
}

/** Not the supplier's doing (never sent, or the deadline spent here): the breaker and the slot cache ignore it. */
export function isOwnFailure(err: unknown): boolean {
  return err instanceof ThrottledError || err instanceof LocalDelayError;
}

/** What upstreamFetch needs of a throttle (kit/supplier-throttle.ts implements it). */
export interface SupplierThrottleGate {
  /**
   * Resolves once a call to `system` may go out, waiting for a token if need be; rejects with ThrottledError when
   * none can be had within `withinMs`. Systems it does not know are never held.
   */
  acquire(system: string, withinMs: number): Promise<void>;
}

const throttles: SupplierThrottleGate[] = [];

/**
 * Makes `throttle` the one every upstream call of this process goes through (a process is a replica: the throttle
 * shares its budget with the others through Redis). Returns the undo; the most recently installed one applies.
 */
export function installSupplierThrottle(throttle: SupplierThrottleGate): () => void {
  throttles.push(throttle);
  return () => {
    const i = throttles.lastIndexOf(throttle);
    if (i >= 0) throttles.splice(i, 1);
  };
}

/** The throttle installed for this process (installSupplierThrottle), for HTTP clients other than upstreamFetch. */
export function currentSupplierThrottle(): SupplierThrottleGate | undefined {
  return throttles.at(-1);
}

export interface UpstreamRequest {
  /** Registry id of the system called, for errors and logs. */
  system: string;
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  /** Total time allowed for this call, all attempts and waits included. */
  deadlineMs: number;
  /** Extra attempts for idempotent methods on network errors, 5xx and 429 (default 1). Ignored for POST/PATCH. */
  retries?: number;
  /** Headers whose values must change per attempt (e.g. a fresh trace id or JWT). */
  perAttempt?: () => Record<string, string>;
}

export interface UpstreamResponse {
  status: number;
  headers: Headers;
  text: string;
}

const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']);
const RETRYABLE_STATUS = new Set([429, 500, 502, 503, 504]);
const BASE_BACKOFF_MS = 50;

/**
 * Performs the call. 2xx–4xx (except 429) are returned for the caller to interpret, since supplier APIs give
 * 4xx meaning (slot taken, bad query); 429, 5xx, network errors and the deadline throw UpstreamError.
 */
export async function upstreamFetch(url: string, req: UpstreamRequest): Promise<UpstreamResponse> {
  const method = (req.method ?? 'GET').toUpperCase();
  // One CLIENT span per call (all attempts), carrying the trace to the supplier as W3C traceparent.
  return inSpan('supplier call', SpanKind.CLIENT, { 'supplier.system': req.system, 'http.request.method': method }, async (span) => {
    const res = await measuredFetch(url, { ...req, headers: { ...req.headers, ...traceHeaders() } }, method);
    span.setAttribute('http.response.status_code', res.status);
    return res;
  });
}

async function measuredFetch(url: string, req: UpstreamRequest, method: string): Promise<UpstreamResponse> {
  const end = supplierRequestDuration.startTimer({ system: req.system, method });
  try {
    const res = await attempts(url, req, method);
    end({ outcome: `${Math.floor(res.status / 100)}xx` });
    return res;
  } catch (err) {
    if (err instanceof ThrottledError) {
      // Never sent: not a supplier error (kit/metrics supplier_throttle_total counts these).
      end({ outcome: 'THROTTLED' });
      throw err;
    }
    const reason = err instanceof UpstreamError ? err.reason : 'UNAVAILABLE';
    end({ outcome: reason });
    supplierErrors.inc({ system: req.system, reason });
    throw err;
  }
}

async function attempts(url: string, req: UpstreamRequest, method: string): Promise<UpstreamResponse> {
  // PUT/DELETE are idempotent in HTTP terms but a supplier may still act twice; only reads retry automatically.
  const maxAttempts = method === 'GET' || method === 'HEAD' ? 1 + (req.retries ?? 1) : 1;
  const deadline = Date.now() + req.deadlineMs;
  let lastError: UpstreamError | undefined;

  for (let attempt = 0; attempt < maxAttempts; attempt++) {
    const throttle = throttles.at(-1);
    if (throttle) {
      try {
        await throttle.acquire(req.system, deadline - Date.now());
      } catch (err) {
        // A retry that cannot have a token in time: the failure it was retrying is the truer answer.
        throw lastError ?? err;
      }
    }
    const remaining = deadline - Date.now();
    // Nothing left for the supplier: the deadline went on our waits.
    if (remaining <= 0) throw lastError ?? new LocalDelayError(req.system, 0, 0);
    const sentAt = performance.now();
    try {
      const res = await fetch(url, {
        method,
        headers: { ...req.headers, ...req.perAttempt?.() },
        body: req.body,
        signal: AbortSignal.timeout(remaining),
      });
      const text = await res.text();
      if (!RETRYABLE_STATUS.has(res.status)) return { status: res.status, headers: res.headers, text };
      const retryAfterMs = parseRetryAfter(res.headers.get('retry-after'));
      lastError = new UpstreamError(
        req.system,
        res.status === 429 ? 'RATE_LIMITED' : 'UNAVAILABLE',
        res.status,
        text.slice(0, 500),
        retryAfterMs,
      );
      if (!IDEMPOTENT.has(method)) throw lastError;
      const wait = retryAfterMs ?? backoff(attempt);
      if (attempt + 1 >= maxAttempts || Date.now() + wait >= deadline) throw lastError;
      await sleep(wait);
    } catch (err) {
      if (err instanceof UpstreamError) throw err;
      const timedOut = Date.now() >= deadline - 5 || isAbort(err);
      if (timedOut) {
        const inFlightMs = performance.now() - sentAt;
        const lagMs = Math.max(0, inFlightMs - remaining);
        // The supplier's fault only when it had most of the deadline and our timer fired about on time.
        // (After an earlier attempt's supplier failure, that failure is the truer answer.)
        if (remaining < req.deadlineMs / 2 || lagMs > Math.max(100, remaining / 4)) throw lastError ?? new LocalDelayError(req.system, inFlightMs, lagMs);
      }
      lastError = new UpstreamError(req.system, timedOut ? 'TIMEOUT' : 'UNAVAILABLE', undefined, describe(err));
      if (timedOut || attempt + 1 >= maxAttempts) throw lastError;
      const wait = backoff(attempt);
      if (Date.now() + wait >= deadline) throw lastError;
      await sleep(wait);
    }
  }
  throw lastError ?? new UpstreamError(req.system, 'TIMEOUT');
}

/** Parses a JSON body, turning garbage into a typed INVALID_RESPONSE. */
export function parseJson<T>(system: string, res: UpstreamResponse): T {
  try {
    return JSON.parse(res.text) as T;
  } catch {
    throw new UpstreamError(system, 'INVALID_RESPONSE', res.status, 'body is not JSON');
  }
}

/** Retry-After as seconds or an HTTP date, in milliseconds; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - Date.now());
}

function backoff(attempt: number): number {
  // Full jitter: spreads retries from many replicas so they do not arrive at the supplier together.
  return Math.round(Math.random() * BASE_BACKOFF_MS * 2 ** attempt);
}

function isAbort(err: unknown): boolean {
  return err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
}

function describe(err: unknown): string {
  if (err instanceof Error) {
    const cause = (err as Error & { cause?: { code?: string } }).cause;
    return cause?.code ? `${err.message} (${cause.code})` : err.message;
  }
  return String(err);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
