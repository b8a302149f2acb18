/** Rate limits in this process: for one replica without Redis, and each replica's insurance while Redis is away. */
import { gcra, type RateDecision, type RateRule, type RateStore } from './store.js';

/** Keys kept at most; past it, keys whose bucket is full again (tat in the past) are forgotten first. */
const MAX_KEYS = 50_000;

export class MemoryRateStore implements RateStore {
  private readonly tats = new Map<string, number>();

  async take(key: string, cost: number, rule: RateRule, nowMs: number): Promise<RateDecision> {
    const step = gcra(this.tats.get(key) ?? null, cost, rule, nowMs);
    if (step.tat !== null) {
      this.tats.delete(key); // re-inserted last: the Map's order is then oldest use first
      this.tats.set(key, step.tat);
      if (this.tats.size > MAX_KEYS) this.prune(nowMs);
    }
    return step.decision;
  }

  private prune(nowMs: number): void {
    for (const [k, tat] of this.tats) {
      if (this.tats.size <= MAX_KEYS * 0.9) break;
      if (tat <= nowMs || this.tats.size > MAX_KEYS) this.tats.delete(k);
    }
  }
}
