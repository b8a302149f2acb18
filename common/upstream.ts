/**
 * What a supplier call can come to: the typed UpstreamError taxonomy every adapter, the circuit breaker and the slot
 * cache share, the answer a call returns, and the process's supplier throttle. The calls themselves go through undici
 * (kit/supplier-http.ts): one deadline over every attempt, only reads retried, failures typed here, never a URL in a
 * message.
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
 * that may well have arrived (the timeout fired late, or the loop was busy through the attempt: other answers read
 * in short turns delay this one as surely as one long stall; kit/supplier-http.ts says how busy). Reported as
 * TIMEOUT like any other, but it says nothing about the supplier's health: the circuit breaker does not count it and
 * the slot cache does not remember it.
 */
export class LocalDelayError extends UpstreamError {
  constructor(
    system: string,
    /** How long the last attempt was in flight, and how late our own timer fired (event-loop lag), in ms. */
    readonly inFlightMs: number,
    readonly lagMs: number,
    /** The share of the attempt's time our event loop was busy (0 to 1), when measured. */
    readonly loopBusy?: number,
  ) {
    super(
      system,
      'TIMEOUT',
      undefined,
      `deadline spent in our process (in flight ${Math.round(inFlightMs)} ms, timer ${Math.round(lagMs)} ms late` +
        `${loopBusy === undefined ? '' : `, event loop ${Math.round(loopBusy * 100)}% busy`})`,
    );
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

export interface UpstreamResponse {
  status: number;
  headers: Headers;
  text: string;
}

/** Parses a JSON body, turning garbage into a typed INVALID_RESPONSE. */
export function parseJson<T>(system: string, res: UpstreamResponse): T {
  try {
    return JSON.parse(res.text) as T;
  } catch {
    throw new UpstreamError(system, 'INVALID_RESPONSE', res.status, 'body is not JSON');
  }
}

/** A body read as JSON when it is JSON (an error answer may be an HTML page or nothing); undefined otherwise. */
export function jsonOrUndefined(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
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
