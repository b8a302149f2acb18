/**
 * The slot cache and circuit breakers a supplier subgraph runs with, and who owns them. Absent from the options:
 * made from the environment (REDIS_URL, SLOT_CACHE, CIRCUIT_BREAKER) and closed with the subgraph. Given: the
 * caller's (a test or an embedding process), and the caller closes them. Null: none.
 */
import type { Logger } from 'pino';
import { circuitBreakersFromEnv, type CircuitBreakers } from './circuit-breaker.js';
import type { Registry } from './registry.js';
import { slotCacheFromEnv, type SlotCache } from './slot-cache.js';

export interface SlotRuntimeOptions {
  /** The slot cache (the caller closes it); null for none; absent: from the environment, closed with the subgraph. */
  slotCache?: SlotCache | null;
  /** Circuit breakers per supplier system; null for none; absent: from the environment (CIRCUIT_BREAKER). */
  breakers?: CircuitBreakers | null;
}

export interface SlotRuntime {
  /** Spread into the adapter's resolver dependencies. */
  deps: { slotCache?: SlotCache; breakers?: CircuitBreakers };
  /** Closes what this runtime made itself; safe to call more than once. */
  close(): Promise<void>;
}

export function slotRuntime(registry: Registry, logger: Logger, opts: SlotRuntimeOptions = {}): SlotRuntime {
  const ownCache = opts.slotCache === undefined;
  const slotCache = ownCache ? slotCacheFromEnv(registry, logger) : (opts.slotCache ?? undefined);
  const breakers = opts.breakers === undefined ? circuitBreakersFromEnv(logger) : (opts.breakers ?? undefined);
  let closed = false;
  return {
    deps: { ...(slotCache ? { slotCache } : {}), ...(breakers ? { breakers } : {}) },
    async close() {
      if (closed || !ownCache) return;
      closed = true;
      await slotCache?.close();
    },
  };
}
