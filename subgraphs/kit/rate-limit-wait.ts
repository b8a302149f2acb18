/**
 * Waiting out a supplier's 429 on a booking request. The kit never retries a POST by itself (upstream.ts): a POST
 * that got no answer may have booked. A 429 is different: the supplier says it did not process the request (Oakfield
 * API.md section 2, "A 429 was not processed, whatever the method"; the Booking Standard's rate limiting is the
 * spine's or the provider's throttle, before the application), so sending the same request again, with the same
 * X-Request-Id / Idempotency-Key, is safe. Without this, a booking that lost a race to the supplier's rate limit
 * answered SUPPLIER_UNAVAILABLE instead of its true outcome.
 *
 * The wait is what Retry-After asks (or a short jittered backoff without one), plus a little jitter so the callers
 * a 429 turned away do not all come back in the same instant, and only while it fits the booking's wait budget.
 */
import { UpstreamError } from '../../common/upstream.js';

/**
 * How long a booking may spend waiting out 429s, as a multiple of the system's deadlineMs: long enough for a burst of
 * bookings at one supplier (50 at once against Oakfield's 10 a second through our throttle) to be served in turn. A
 * booking flow's own worst case is three deadlines once the 429s stop (two POSTs and a read); with this on top it
 * stays inside the gateway's booking timeout (20 s by default, GATEWAY_BOOKING_TIMEOUT_MS) for the sandbox's 2 s
 * deadlines. A registry with longer deadlines needs a longer gateway booking timeout.
 */
export const RATE_LIMIT_WAIT_DEADLINES = 5;
/** At most this many sends of one request (the first and the retries). */
export const MAX_RATE_LIMITED_SENDS = 8;

export interface RateLimitWaitOptions {
  /** Epoch ms after which no retry is started: a wait that would end after it is not begun. */
  until: number;
  maxSends?: number;
  /** Extra random wait on top of Retry-After, up to this many ms (spreads the turned-away callers). */
  jitterMs?: number;
  /** Told before each wait (for logs). */
  onWait?: (waitMs: number, send: number) => void;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

/** The end of a booking's 429 wait budget, from now. */
export function rateLimitBudget(deadlineMs: number, now = Date.now()): number {
  return now + RATE_LIMIT_WAIT_DEADLINES * deadlineMs;
}

/**
 * Calls `send`; while it throws a RATE_LIMITED UpstreamError and the wait fits, waits and sends again. Any other
 * result or error is returned or thrown as is; the last 429 is thrown when the budget or the sends run out.
 */
export async function waitOutRateLimit<T>(send: () => Promise<T>, opts: RateLimitWaitOptions): Promise<T> {
  const maxSends = opts.maxSends ?? MAX_RATE_LIMITED_SENDS;
  const jitterMs = opts.jitterMs ?? 250;
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const random = opts.random ?? Math.random;
  for (let sent = 1; ; sent++) {
    try {
      return await send();
    } catch (err) {
      if (!(err instanceof UpstreamError) || err.reason !== 'RATE_LIMITED' || sent >= maxSends) throw err;
      const base = err.retryAfterMs ?? Math.min(2000, 100 * 2 ** sent);
      const wait = Math.round(base + random() * jitterMs);
      if (Date.now() + wait >= opts.until) throw err;
      opts.onWait?.(wait, sent);
      await sleep(wait);
    }
  }
}
