/**
 * The slot cache, circuit breakers and supplier throttle a supplier subgraph runs with, and who owns them. Absent
 * from the options: made from the environment (REDIS_URL, SLOT_CACHE, CIRCUIT_BREAKER, SUPPLIER_THROTTLE) and closed
 * with the subgraph. Given: the caller's (a test or an embedding process), and the caller closes them. Null: none.
 *
 * The throttle is installed for every upstream call this process makes (common/upstream.ts) while the runtime is open:
 * bookings and reads alike wait their turn.
 */
import type { Logger } from 'pino';
import { circuitBreakersFromEnv, type CircuitBreakers } from './circuit-breaker.js';
import type { Registry } from './registry.js';
import { slotCacheFromEnv, type SlotCache } from './slot-cache.js';
import { supplierThrottleFromEnv, type SupplierThrottle } from './supplier-throttle.js';
import { installSupplierThrottle } from '../../common/upstream.js';
import { supplierStatus } from './supplier-status.js';
import { HoldStore } from '../../common/holds.js';
import { connectRedis, redisTargetFromEnv, type RedisConnection } from '../../common/redis.js';

export interface SlotRuntimeOptions {
  /** The slot cache (the caller closes it); null for none; absent: from the environment, closed with the subgraph. */
  slotCache?: SlotCache | null;
  /** Circuit breakers per supplier system; null for none; absent: from the environment (CIRCUIT_BREAKER). */
  breakers?: CircuitBreakers | null;
  /**
   * The per-supplier rate limit every upstream call of this process takes a token from; null for none; absent: from
   * the environment (REDIS_URL, SUPPLIER_THROTTLE, SUPPLIER_THROTTLE_REPLICAS), closed with the subgraph.
   */
  throttle?: SupplierThrottle | null;
  /** Slot holds to hide from other consumers; null for none; absent: from the environment (REDIS_URL), as the cache. */
  holds?: HoldStore | null;
}

export interface SlotRuntime {
  /** Spread into the adapter's resolver dependencies. */
  deps: { slotCache?: SlotCache; breakers?: CircuitBreakers; holds?: HoldStore; onHoldsError?: (err: unknown) => void };
  /** Closes what this runtime made itself and uninstalls the throttle; safe to call more than once. */
  close(): Promise<void>;
}

export function slotRuntime(registry: Registry, logger: Logger, opts: SlotRuntimeOptions = {}): SlotRuntime {
  const ownCache = opts.slotCache === undefined;
  const slotCache = ownCache ? slotCacheFromEnv(registry, logger) : (opts.slotCache ?? undefined);
  const breakers = opts.breakers === undefined ? circuitBreakersFromEnv(logger) : (opts.breakers ?? undefined);
  const ownThrottle = opts.throttle === undefined ? supplierThrottleFromEnv(registry, logger) : undefined;
  const throttle = ownThrottle?.throttle ?? opts.throttle ?? undefined;
  const uninstall = throttle ? installSupplierThrottle(throttle) : undefined;
  // The operator's view reads each system's circuit from here (NONE where this process runs no breaker).
  const unregister = breakers
    ? supplierStatus.registerSource({ circuit: (system) => ({ closed: 'CLOSED', open: 'OPEN', 'half-open': 'HALF_OPEN' } as const)[breakers.stateOf(system) ?? 'closed'] })
    : undefined;
  // Holds live in the Redis every process shares (common/holds.ts); without it there are none to hide.
  const holdsTarget = opts.holds === undefined ? redisTargetFromEnv() : undefined;
  const holdsRedis: RedisConnection | undefined = holdsTarget
    ? connectRedis(holdsTarget, { logger, consequence: 'slots held through the gateway are not hidden from other consumers' })
    : undefined;
  const holds = holdsRedis ? new HoldStore(holdsRedis.redis) : (opts.holds ?? undefined);
  let closed = false;
  return {
    deps: {
      ...(slotCache ? { slotCache } : {}),
      ...(breakers ? { breakers } : {}),
      ...(holds ? { holds, onHoldsError: (err: unknown) => holdsRedis?.outage.report(err) } : {}),
    },
    async close() {
      if (closed) return;
      closed = true;
      uninstall?.();
      unregister?.();
      await ownThrottle?.close();
      if (ownCache) await slotCache?.close();
      await holdsRedis?.close();
    },
  };
}
