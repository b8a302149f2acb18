/**
 * Rate limits as a generic cell rate algorithm (GCRA, a token bucket kept as one timestamp per key): `rate` points
 * per `periodMs`, with bursts of up to `burst` points. In any period at most rate + burst points pass, and a quiet
 * client earns its burst back steadily, so there is no window boundary at which twice the limit gets through.
 *
 * Written here rather than taken from rate-limiter-flexible: its limiters count fixed windows (the 2× boundary this
 * replaces). The algorithm is a few lines; the stores (memory, Redis) are separate files behind this interface.
 */
export interface RateRule {
  /** Points admitted per period, steadily. */
  rate: number;
  periodMs: number;
  /** Points that may pass at once after a quiet spell (at least the largest single cost). */
  burst: number;
}

export interface RateDecision {
  allowed: boolean;
  /** Seconds until this cost would pass (for Retry-After); 0 when allowed. */
  retryAfterSeconds: number;
}

export interface RateStore {
  take(key: string, cost: number, rule: RateRule, nowMs: number): Promise<RateDecision>;
}

/**
 * One step of GCRA over a stored "theoretical arrival time" (tat). Pure; both stores apply exactly this. A cost of
 * 0 asks whether one point would pass now, and changes nothing (`tat: null`: nothing to store).
 */
export function gcra(tat: number | null, cost: number, rule: RateRule, now: number): { decision: RateDecision; tat: number | null } {
  const interval = rule.periodMs / rule.rate;
  const tolerance = interval * rule.burst;
  const base = Math.max(tat ?? now, now);
  const next = base + interval * Math.max(cost, 1);
  const allowAt = next - tolerance;
  if (allowAt > now) return { decision: { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((allowAt - now) / 1000)) }, tat: null };
  return { decision: { allowed: true, retryAfterSeconds: 0 }, tat: cost > 0 ? next : null };
}
