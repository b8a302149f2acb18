/**
 * Shared rate limits at fewer round trips: a consumer busy enough on this replica to use several takes' worth of its
 * limit within a lease period has that many points taken from the shared store (Redis) at once, as one lease, and this
 * replica admits from the lease without asking the store again until its points are spent or the period is over. A
 * consumer searching a hundred times a second then costs the store a command every few dozen requests instead of one
 * per request (and per cost charge).
 *
 * A lease is as large as what this replica's own traffic for the key asked in the period before (and never more than
 * the rule earns in a period, nor a tenth of its burst), so a sparse consumer is never leased for: each of its takes
 * asks the store for exactly its cost, as without this wrapper. Every leased point is charged to the shared store
 * before it is used, so no more is admitted than the store admits, give or take that leased points are used up to one
 * period after they were charged. Points a lease leaves unused when it expires are lost: at most one period of this
 * replica's own traffic for the key, at the end of a busy spell. Near the limit, where a lease is refused, a take asks
 * for exactly its cost, so admission there is exact.
 *
 * Written here: rate-limiter-flexible has no leasing over a shared store, and the wrapper is a few lines over the
 * RateStore interface (store.ts).
 */
import type { RateDecision, RateRule, RateStore } from './store.js';

/** How long a lease lives: short, so points left unused are few, and so a replica never holds a stale view for long. */
export const LEASE_MS = 100;
/** Keys tracked at most; past it, the least recently used go first. */
const MAX_KEYS = 10_000;
const ALLOWED: RateDecision = { allowed: true, retryAfterSeconds: 0 };

interface KeyState {
  /** The lease: points left, usable until `until`. */
  left: number;
  until: number;
  /** Points this replica's takes asked for in the current period (from `since`), and in the one before it. */
  asked: number;
  askedBefore: number;
  since: number;
  /** A lease being taken: other takes of the key wait for it once rather than lease again. */
  pending?: Promise<'leased' | 'refused'>;
}

/** At most what the rule earns in one lease period, and a tenth of its burst (a lease must be grantable). */
export function leaseSize(rule: RateRule, leaseMs = LEASE_MS): number {
  return Math.floor(Math.min((rule.rate * leaseMs) / rule.periodMs, rule.burst / 10));
}

export class LeasedRateStore implements RateStore {
  private readonly keys = new Map<string, KeyState>();

  constructor(
    private readonly shared: RateStore,
    private readonly leaseMs = LEASE_MS,
  ) {}

  async take(key: string, cost: number, rule: RateRule, nowMs: number): Promise<RateDecision> {
    const cap = leaseSize(rule, this.leaseMs);
    // A check (cost 0) is answered by the store itself; so is a take no lease could cover twice.
    if (cost <= 0 || cap < 2 * cost) return this.shared.take(key, cost, rule, nowMs);
    const s = this.state(key, nowMs);
    s.asked += cost;
    if (this.spend(s, cost, nowMs)) return ALLOWED;
    if (s.pending) {
      // Another take here is leasing: use what it brings, else ask for exactly this cost (never a second lease).
      if ((await s.pending) === 'leased' && this.spend(s, cost, nowMs)) return ALLOWED;
      return this.shared.take(key, cost, rule, nowMs);
    }
    // Lease what this replica asked for in the period before, when that is worth it; otherwise exactly this cost.
    const size = Math.min(cap, s.askedBefore);
    if (size < 2 * cost) return this.shared.take(key, cost, rule, nowMs);
    const leasing = this.shared.take(key, size, rule, nowMs).then((d): 'leased' | 'refused' => (d.allowed ? 'leased' : 'refused'));
    s.pending = leasing;
    try {
      if ((await leasing) === 'leased') {
        // Added to anything left of a lease still live: every point was charged, none is dropped here.
        s.left = (s.until > nowMs ? s.left : 0) + size;
        s.until = nowMs + this.leaseMs;
        if (this.spend(s, cost, nowMs)) return ALLOWED;
      }
    } finally {
      if (s.pending === leasing) delete s.pending;
    }
    // A whole lease is more than is left: take exactly this cost.
    return this.shared.take(key, cost, rule, nowMs);
  }

  private spend(s: KeyState, cost: number, nowMs: number): boolean {
    if (s.until <= nowMs || s.left < cost) return false;
    s.left -= cost;
    return true;
  }

  /** The key's state, its periods rolled on to `nowMs`; kept most recently used last, and bounded. */
  private state(key: string, nowMs: number): KeyState {
    let s = this.keys.get(key);
    if (s) this.keys.delete(key);
    else s = { left: 0, until: 0, asked: 0, askedBefore: 0, since: nowMs };
    this.keys.set(key, s);
    if (nowMs - s.since >= this.leaseMs) {
      // The period before is the one just ended, or nothing when a whole period or more went by without a take.
      s.askedBefore = nowMs - s.since < 2 * this.leaseMs ? s.asked : 0;
      s.asked = 0;
      s.since = nowMs;
    }
    if (this.keys.size > MAX_KEYS) this.keys.delete(this.keys.keys().next().value!);
    return s;
  }
}
