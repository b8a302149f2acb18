/**
 * A conditional GET whose body is read as a stream, under one deadline that covers the headers *and* the body: the
 * streaming counterpart of kit/upstream.ts (which reads whole bodies, and which the manifest uses). Same rules:
 * a GET is retried once on a network error, 429 or 5xx (before any of the body is read), jittered or after
 * Retry-After when that fits the deadline; failures are UpstreamErrors that never carry the URL in their message.
 */
import { UpstreamError, parseRetryAfter } from '../upstream.js';

export interface Validators {
  etag: string | null;
  lastModified: string | null;
}

export interface StreamRequest {
  system: string;
  deadlineMs: number;
  accept: string;
  validators?: Validators | null;
  retries?: number;
}

export interface StreamResponse {
  status: number;
  headers: Headers;
  /** The body, under the call's deadline: a stall or abort surfaces as UpstreamError TIMEOUT/UNAVAILABLE. */
  body: AsyncIterable<Uint8Array>;
  /** Releases the connection when the body is not read (a 304, an error status). */
  discard(): Promise<void>;
}

const RETRYABLE = new Set([429, 500, 502, 503, 504]);

/** The request headers of a conditional GET. */
export function conditionalHeaders(accept: string, v: Validators | null | undefined): Record<string, string> {
  const h: Record<string, string> = { accept };
  // Send both when we have both: a server that ignores one may honour the other (RFC 9110 13.1.3 has the
  // server prefer If-None-Match).
  if (v?.etag) h['if-none-match'] = v.etag;
  if (v?.lastModified) h['if-modified-since'] = v.lastModified;
  return h;
}

export async function streamGet(url: string, req: StreamRequest): Promise<StreamResponse> {
  const deadline = Date.now() + req.deadlineMs;
  const signal = AbortSignal.timeout(req.deadlineMs);
  const attempts = 1 + (req.retries ?? 1);
  let last: UpstreamError | undefined;

  for (let attempt = 0; attempt < attempts; attempt++) {
    let res: Response;
    try {
      res = await fetch(url, { headers: conditionalHeaders(req.accept, req.validators), signal });
    } catch (err) {
      last = failure(req.system, err, deadline);
      if (last.reason === 'TIMEOUT' || !(await pause(backoff(attempt), deadline))) throw last;
      continue;
    }
    if (RETRYABLE.has(res.status)) {
      await res.body?.cancel().catch(() => {});
      const retryAfterMs = parseRetryAfter(res.headers.get('retry-after'));
      last = new UpstreamError(req.system, res.status === 429 ? 'RATE_LIMITED' : 'UNAVAILABLE', res.status, undefined, retryAfterMs);
      if (attempt + 1 >= attempts || !(await pause(retryAfterMs ?? backoff(attempt), deadline))) throw last;
      continue;
    }
    const stream = res.body;
    return {
      status: res.status,
      headers: res.headers,
      body: guarded(req.system, stream, deadline),
      discard: async () => {
        await stream?.cancel().catch(() => {});
      },
    };
  }
  throw last ?? new UpstreamError(req.system, 'TIMEOUT');
}

async function* guarded(system: string, stream: ReadableStream<Uint8Array> | null, deadline: number): AsyncGenerator<Uint8Array> {
  if (!stream) return;
  try {
    for await (const chunk of stream) yield chunk;
  } catch (err) {
    throw failure(system, err, deadline);
  }
}

function failure(system: string, err: unknown, deadline: number): UpstreamError {
  if (err instanceof UpstreamError) return err;
  const e = err instanceof Error ? err : new Error(String(err));
  const timedOut = e.name === 'TimeoutError' || e.name === 'AbortError' || Date.now() >= deadline - 5;
  const code = (e as Error & { cause?: { code?: string } }).cause?.code;
  return new UpstreamError(system, timedOut ? 'TIMEOUT' : 'UNAVAILABLE', undefined, code ? `${e.message} (${code})` : e.message);
}

function backoff(attempt: number): number {
  return Math.round(Math.random() * 50 * 2 ** attempt);
}

/** Waits, unless that would pass the deadline; false when it would. */
async function pause(ms: number, deadline: number): Promise<boolean> {
  if (Date.now() + ms >= deadline) return false;
  await new Promise((r) => setTimeout(r, ms));
  return true;
}
