/**
 * What one consumer may use, so that no consumer's load starves another's:
 *   - requests per minute per consumer (organisation, or client address for anonymous reads);
 *   - cost per minute per consumer: each operation is charged its cost (service-days, plugins/limits.ts), so a few
 *     heavy searches use the budget a hundred light ones would;
 *   - failed authentications per minute per client address (token guessing);
 *   - operations in flight per consumer on this replica.
 * Rates are shared by every replica through Redis. While Redis is away each replica applies the same rules alone
 * (insurance, so up to N× across N replicas), instead of letting everything through.
 */
import type { Logger } from 'pino';
import { MemoryRateStore } from './memory-store.js';
import type { RateDecision, RateRule, RateStore } from './store.js';

export interface ConsumerLimitOptions {
  requestsPerMinute: number;
  costPerMinute: number;
  failedAuthPerMinute: number;
  concurrentPerConsumer: number;
}

const MINUTE_MS = 60_000;

/** `n` a minute, of which `share` may come at once (at least `atLeast`): any 60 s then admits at most n × (1 + share). */
function perMinute(n: number, share: number, atLeast: number): RateRule {
  return { rate: n, periodMs: MINUTE_MS, burst: Math.min(n, Math.max(atLeast, Math.ceil(n * share))) };
}

export class ConsumerLimits {
  private readonly local = new MemoryRateStore();
  private readonly inFlight = new Map<string, number>();
  private readonly rules: { request: RateRule; cost: RateRule; failedAuth: RateRule };
  private lastWarned = 0;

  constructor(
    private readonly opts: ConsumerLimitOptions,
    private readonly shared: RateStore | null,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {
    // The cost burst admits the largest single operation the cost limit allows.
    this.rules = {
      // Requests: half a minute's worth at once, for an organisation whose call handlers all search in the same
      // second (a 50-way booking race is one consumer); never more than 1.5 × the rate in any minute.
      request: perMinute(opts.requestsPerMinute, 0.5, 10),
      // Cost: a tenth at once, and at least the largest single operation the cost limit allows.
      cost: perMinute(opts.costPerMinute, 0.1, 1500),
      failedAuth: perMinute(opts.failedAuthPerMinute, 0.1, 5),
    };
  }

  request(consumer: string): Promise<RateDecision> {
    return this.take(`req:${consumer}`, 1, this.rules.request);
  }

  /** Charges an operation's cost; an operation with no supplier work always passes. */
  cost(consumer: string, cost: number): Promise<RateDecision> {
    if (cost <= 0) return Promise.resolve({ allowed: true, retryAfterSeconds: 0 });
    return this.take(`cost:${consumer}`, Math.min(cost, this.rules.cost.burst), this.rules.cost);
  }

  /** Whether this address may try to authenticate now (checks without charging: a cost of 0 only asks). */
  authAllowed(address: string): Promise<RateDecision> {
    return this.take(`auth:${address}`, 0, this.rules.failedAuth);
  }

  authFailed(address: string): Promise<RateDecision> {
    return this.take(`auth:${address}`, 1, this.rules.failedAuth);
  }

  /** Claims an in-flight place for the consumer on this replica; the release function must be called once. */
  enter(consumer: string): (() => void) | null {
    const n = this.inFlight.get(consumer) ?? 0;
    if (n >= this.opts.concurrentPerConsumer) return null;
    this.inFlight.set(consumer, n + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.inFlight.get(consumer) ?? 1) - 1;
      if (left > 0) this.inFlight.set(consumer, left);
      else this.inFlight.delete(consumer);
    };
  }

  private async take(key: string, cost: number, rule: RateRule): Promise<RateDecision> {
    const now = this.now();
    if (this.shared) {
      try {
        return await this.shared.take(key, cost, rule, now);
      } catch (err) {
        if (now - this.lastWarned > 10_000) {
          this.lastWarned = now;
          this.logger.warn({ err: (err as Error).message }, 'shared rate limits unavailable; this replica applies them alone');
        }
      }
    }
    return this.local.take(key, cost, rule, now);
  }
}
