/**
 * A conditional GET whose body is read as a stream, under one deadline that covers the headers *and* the body: the
 * streaming counterpart of common/upstream.ts (which reads whole bodies, and which the manifest uses). Failures are
 * UpstreamErrors whose message never carries the URL.
 *
 * No retry here, unlike upstreamFetch's default: the spec allows one request per file per poll interval, and a
 * failed poll costs nothing but freshness (the reader keeps the previous snapshot until the next poll).
 */
import { supplierErrors, supplierRequestDuration } from '../../../common/metrics.js';
import { failureOutcome, supplierStatus } from '../supplier-status.js';
import { UpstreamError, parseRetryAfter } from '../../../common/upstream.js';

export interface Validators {
  etag: string | null;
  lastModified: string | null;
}

export interface StreamRequest {
  system: string;
  deadlineMs: number;
  accept: string;
  validators?: Validators | null;
}

export interface StreamResponse {
  status: number;
  headers: Headers;
  /** The body, under the call's deadline: a stall or a reset surfaces as UpstreamError TIMEOUT/UNAVAILABLE. */
  body: AsyncIterable<Uint8Array>;
  /** Releases the connection when the body is not read (a 304, an error status). */
  discard(): Promise<void>;
}

/** The request headers of a conditional GET. */
export function conditionalHeaders(accept: string, v: Validators | null | undefined): Record<string, string> {
  const h: Record<string, string> = { accept };
  // Both when we have both: a server that ignores one may honour the other (RFC 9110 13.2.2 has it prefer
  // If-None-Match when it understands both).
  if (v?.etag) h['if-none-match'] = v.etag;
  if (v?.lastModified) h['if-modified-since'] = v.lastModified;
  return h;
}

/**
 * 2xx–4xx are returned for the caller to interpret (a 404 file is an issue, not an outage); 429 and 5xx throw. The
 * call is timed (kit/metrics) until its body has been read or discarded, since that is what the deadline covers.
 */
export async function streamGet(url: string, req: StreamRequest): Promise<StreamResponse> {
  const deadline = Date.now() + req.deadlineMs;
  const signal = AbortSignal.timeout(req.deadlineMs);
  const timer = supplierRequestDuration.startTimer({ system: req.system, method: 'GET' });
  let ended = false;
  const end = (outcome: string, error?: UpstreamError, status?: number) => {
    if (ended) return;
    ended = true;
    supplierStatus.recordCall(req.system, timer({ outcome }) * 1000, error ? failureOutcome(error) : { ok: true, status: status ?? 200 });
    if (error) supplierErrors.inc({ system: req.system, reason: error.reason });
  };
  const fail = (err: unknown): UpstreamError => {
    const e = failure(req.system, err, deadline);
    end(e.reason, e);
    return e;
  };

  let res: Response;
  try {
    res = await fetch(url, { headers: conditionalHeaders(req.accept, req.validators), signal });
  } catch (err) {
    throw fail(err);
  }
  const stream = res.body;
  const outcome = `${Math.floor(res.status / 100)}xx`;
  const discard = async () => {
    await stream?.cancel().catch(() => {});
    end(outcome, undefined, res.status);
  };
  if (res.status === 429 || res.status >= 500) {
    await stream?.cancel().catch(() => {});
    throw fail(new UpstreamError(req.system, res.status === 429 ? 'RATE_LIMITED' : 'UNAVAILABLE', res.status, undefined, parseRetryAfter(res.headers.get('retry-after'))));
  }

  async function* body(): AsyncGenerator<Uint8Array> {
    if (!stream) return end(outcome, undefined, res.status);
    try {
      for await (const chunk of stream) yield chunk;
    } catch (err) {
      throw fail(err);
    }
    end(outcome, undefined, res.status);
  }
  return { status: res.status, headers: res.headers, body: body(), discard };
}

function failure(system: string, err: unknown, deadline: number): UpstreamError {
  if (err instanceof UpstreamError) return err;
  const e = err instanceof Error ? err : new Error(String(err));
  const timedOut = e.name === 'TimeoutError' || e.name === 'AbortError' || Date.now() >= deadline - 5;
  const code = (e as Error & { cause?: { code?: string } }).cause?.code;
  return new UpstreamError(system, timedOut ? 'TIMEOUT' : 'UNAVAILABLE', undefined, code ? `${e.message} (${code})` : e.message);
}
