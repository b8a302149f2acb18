/**
 * Shared rate limits at fewer round trips: a consumer whose rate earns several points within a lease period has them
 * taken from the shared store (Redis) at once, as one lease, and this replica admits from the lease without asking
 * the store again until its points are spent or the period is over. A consumer searching a hundred times a second
 * then costs the store a command every few dozen requests instead of one per request (and per cost charge).
 *
 * Never more than the shared limit: every leased point is charged to the shared store before it is used here. Points
 * a lease leaves unused when it expires are lost, so a consumer may get a little less than its limit (at most one
 * lease per replica and key per period), never more. Near the limit, where a whole lease would be refused, the take
 * asks the store for exactly its cost, so admission there is exact. A consumer whose rate earns no more than one
 * take's cost per period is never leased for: each take asks the store, as without this wrapper.
 *
 * Written here: rate-limiter-flexible has no leasing over a shared store, and the wrapper is a few lines over the
 * RateStore interface (store.ts).
 */
import type { RateDecision, RateRule, RateStore } from './store.js';

/** How long a lease lives: short, so points left unused are few, and so a replica never holds a stale view for long. */
export const LEASE_MS = 100;
/** Keys leased for at most; past it, expired leases go first, then the oldest. */
const MAX_LEASES = 10_000;
const ALLOWED: RateDecision = { allowed: true, retryAfterSeconds: 0 };

interface Lease {
  left: number;
  until: number;
}

/** Points the rule earns in one lease period, and never more than a tenth of its burst (a lease must be grantable). */
export function leaseSize(rule: RateRule, leaseMs = LEASE_MS): number {
  return Math.floor(Math.min((rule.rate * leaseMs) / rule.periodMs, rule.burst / 10));
}

export class LeasedRateStore implements RateStore {
  private readonly leases = new Map<string, Lease>();
  /** A lease being taken for a key: other takes of the key here wait for it rather than lease again. */
  private readonly pending = new Map<string, Promise<void>>();

  constructor(
    private readonly shared: RateStore,
    private readonly leaseMs = LEASE_MS,
  ) {}

  async take(key: string, cost: number, rule: RateRule, nowMs: number): Promise<RateDecision> {
    const size = leaseSize(rule, this.leaseMs);
    // A check (cost 0) is answered by the store itself; so is a take no lease would cover twice.
    if (cost <= 0 || size < 2 * cost) return this.shared.take(key, cost, rule, nowMs);
    for (let waits = 0; ; waits++) {
      const lease = this.leases.get(key);
      if (lease && lease.until > nowMs && lease.left >= cost) {
        lease.left -= cost;
        return ALLOWED;
      }
      const inFlight = this.pending.get(key);
      if (!inFlight || waits >= 2) break;
      await inFlight;
    }
    let settle: () => void = () => undefined;
    this.pending.set(key, new Promise<void>((resolve) => (settle = resolve)));
    try {
      if ((await this.shared.take(key, size, rule, nowMs)).allowed) {
        this.keep(key, { left: size - cost, until: nowMs + this.leaseMs });
        return ALLOWED;
      }
    } finally {
      this.pending.delete(key);
      settle();
    }
    // A whole lease is more than is left: take exactly this cost.
    return this.shared.take(key, cost, rule, nowMs);
  }

  private keep(key: string, lease: Lease): void {
    this.leases.delete(key); // re-inserted last: the Map's order is then oldest lease first
    this.leases.set(key, lease);
    if (this.leases.size <= MAX_LEASES) return;
    for (const [k, l] of this.leases) if (l.until <= lease.until - this.leaseMs) this.leases.delete(k);
    for (const k of this.leases.keys()) {
      if (this.leases.size <= MAX_LEASES) break;
      this.leases.delete(k);
    }
  }
}
