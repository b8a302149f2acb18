/**
 * Our own rate limit per supplier system: never call a system faster than its registry `rateLimitPerSecond`, across
 * every process and replica, so a supplier's limit is never what stops us (Oakfield answers 429 past its documented
 * rate, and a breaker that counts 429s then opens on every replica).
 *
 *   shared     a fixed one-second window per system in Redis (rate-limiter-flexible's RateLimiterRedis): every
 *              replica of every subgraph draws on the one budget.
 *   per replica while Redis is away (the insurance limiter, RateLimiterMemory): each replica keeps its share,
 *              `rateLimitPerSecond / SUPPLIER_THROTTLE_REPLICAS` (default 1 replica: the whole rate), so an outage of
 *              Redis does not lift the limit. Back on Redis as soon as it answers.
 *
 * A call over the limit waits for the next window, as often as its deadline allows while leaving it time to be made
 * (`reserveMs`); only then does it fail, as RATE_LIMITED (ThrottledError), never sent. Waiting is not a supplier
 * failure: the circuit breaker ignores ThrottledError and the slot cache does not remember it.
 *
 * A one-second window lets at most `rate` calls start in any window, so at most 2 × rate in any sliding second (at
 * a boundary). Registry rates sit well under the suppliers' documented limits (Oakfield: 10 against 20 with a burst
 * of 20), which absorbs that. Redis keys: `throttle:v1:<system id>`, a counter living one second; nothing else.
 *
 * Wired once: kit/slot-runtime.ts makes it and installs it for upstreamFetch (common/upstream.ts), the path every
 * supplier HTTP call takes. Systems the registry does not list (the DoS) are never held.
 */
import type { Logger } from 'pino';
import { setTimeout as sleep } from 'node:timers/promises';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { supplierThrottle } from '../../common/metrics.js';
import { supplierStatus } from './supplier-status.js';
import { connectRedis, redisTargetFromEnv } from '../../common/redis.js';
import type { Registry } from './registry.js';
import { ThrottledError, type SupplierThrottleGate } from '../../common/upstream.js';
import type { RedisClient } from '../../common/redis.js';

export interface SupplierThrottleOptions {
  /** Calls per second allowed to a system, all replicas together; undefined: the system is not throttled. */
  rateOf: (system: string) => number | undefined;
  /** Where the shared budget lives; absent: this process only (the per-replica share, always). */
  redis?: RedisClient;
  /** How many replicas share a system's budget while Redis is away (default 1). */
  replicas?: number;
  /** Time a call must still have after waiting for a token for it to be worth making (default 200 ms). */
  reserveMs?: number;
  logger?: Logger;
  /** Redis key prefix (tests). */
  keyPrefix?: string;
}

interface Limiter {
  consume(key: string): Promise<unknown>;
}

const WINDOW_SECONDS = 1;
const DEFAULT_RESERVE_MS = 200;
/** Spreads the waiters of one window over a few milliseconds, so they do not all ask Redis in the same instant. */
const JITTER_MS = 20;

export class SupplierThrottle implements SupplierThrottleGate {
  private readonly limiters = new Map<string, Limiter | null>();
  private readonly replicas: number;
  private readonly reserveMs: number;

  constructor(private readonly opts: SupplierThrottleOptions) {
    this.replicas = Math.max(1, Math.floor(opts.replicas ?? 1));
    this.reserveMs = opts.reserveMs ?? DEFAULT_RESERVE_MS;
  }

  async acquire(system: string, withinMs: number): Promise<void> {
    const limiter = this.limiter(system);
    if (!limiter) return;
    const until = performance.now() + withinMs;
    let waited = false;
    for (;;) {
      let res: unknown;
      try {
        await limiter.consume(system);
        if (waited) {
          supplierThrottle.inc({ system, outcome: 'waited', store: this.store() });
          supplierStatus.recordThrottle(system, 'waited');
        }
        return;
      } catch (err) {
        res = err;
      }
      if (!(res instanceof RateLimiterRes)) {
        // Neither a token nor a refusal: our own fault (the insurance limiter covers Redis errors). Never hold a call
        // on it; the supplier's own limit and the breaker still stand behind.
        this.opts.logger?.warn({ system, err: res instanceof Error ? res.message : String(res) }, 'supplier throttle failed: call let through');
        return;
      }
      const wait = Math.max(1, res.msBeforeNext) + Math.random() * JITTER_MS;
      // Half the time left at most as the reserve, so a short deadline can still wait a little.
      const reserve = Math.min(this.reserveMs, withinMs / 2);
      if (performance.now() + wait + reserve > until) {
        supplierThrottle.inc({ system, outcome: 'refused', store: this.store() });
        supplierStatus.recordThrottle(system, 'refused');
        throw new ThrottledError(system, Math.ceil(res.msBeforeNext));
      }
      waited = true;
      await sleep(wait);
    }
  }

  private limiter(system: string): Limiter | null {
    let l = this.limiters.get(system);
    if (l !== undefined) return l;
    const rate = this.opts.rateOf(system);
    if (!rate || !(rate > 0)) {
      l = null;
    } else {
      const perReplica = new RateLimiterMemory({ points: Math.max(1, Math.floor(rate / this.replicas)), duration: WINDOW_SECONDS });
      l = this.opts.redis
        ? new RateLimiterRedis({
            storeClient: this.opts.redis,
            keyPrefix: this.opts.keyPrefix ?? 'throttle:v1',
            points: Math.floor(rate),
            duration: WINDOW_SECONDS,
            // Redis not connected: straight to the per-replica limit, no command attempted.
            rejectIfRedisNotReady: true,
            insuranceLimiter: perReplica,
          })
        : perReplica;
    }
    this.limiters.set(system, l);
    return l;
  }

  private store(): 'shared' | 'replica' {
    return this.opts.redis?.status === 'ready' ? 'shared' : 'replica';
  }
}

// ---- construction from the environment ------------------------------------------------------------------------

export interface OwnedThrottle {
  throttle: SupplierThrottle;
  close(): Promise<void>;
}

/**
 * As a subgraph process runs it: every registry system limited to its `rateLimitPerSecond`, shared through Redis
 * when REDIS_URL or REDIS_CLUSTER_NODES is set (its own connection), else per process. SUPPLIER_THROTTLE_REPLICAS: how many replicas split
 * a system's rate while Redis is away (default 1). SUPPLIER_THROTTLE=off: none (an operator's switch).
 */
export function supplierThrottleFromEnv(registry: Registry, logger: Logger, env: NodeJS.ProcessEnv = process.env): OwnedThrottle | undefined {
  if (env.SUPPLIER_THROTTLE === 'off') {
    logger.info('SUPPLIER_THROTTLE=off: supplier calls are not rate limited by us');
    return undefined;
  }
  const replicas = env.SUPPLIER_THROTTLE_REPLICAS ? Number(env.SUPPLIER_THROTTLE_REPLICAS) : 1;
  if (!Number.isInteger(replicas) || replicas < 1) {
    throw new Error(`SUPPLIER_THROTTLE_REPLICAS must be a whole number of replicas, 1 or more, got "${env.SUPPLIER_THROTTLE_REPLICAS}"`);
  }
  const rateOf = (id: string) => registry.system(id)?.rateLimitPerSecond;
  const target = redisTargetFromEnv(env);
  if (!target) {
    return { throttle: new SupplierThrottle({ rateOf, replicas, logger }), close: async () => {} };
  }
  const conn = connectRedis(target, { logger, consequence: 'supplier rate limits are kept per replica' });
  return { throttle: new SupplierThrottle({ rateOf, replicas, logger, redis: conn.redis }), close: () => conn.close() };
}
