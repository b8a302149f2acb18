/**
 * A per-consumer rate limit: a fixed one-minute window counted in Redis, so every gateway replica shares it
 * (in process without Redis). Over the limit: 429 with Retry-After, before the operation is even parsed.
 * If Redis is unreachable the limiter lets requests through and says so in the log: an outage of the counter
 * store must not become an outage of booking.
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';

export interface RateDecision {
  allowed: boolean;
  /** Seconds until the window resets (for Retry-After). */
  retryAfterSeconds: number;
  remaining: number;
}

export interface RateLimiter {
  take(consumerKey: string, now?: number): Promise<RateDecision>;
}

const WINDOW_MS = 60_000;

function decide(count: number, limit: number, now: number): RateDecision {
  const windowEnd = (Math.floor(now / WINDOW_MS) + 1) * WINDOW_MS;
  return {
    allowed: count <= limit,
    retryAfterSeconds: Math.max(1, Math.ceil((windowEnd - now) / 1000)),
    remaining: Math.max(0, limit - count),
  };
}

export class MemoryRateLimiter implements RateLimiter {
  private readonly counts = new Map<string, { window: number; count: number }>();

  constructor(private readonly perMinute: number) {}

  async take(consumerKey: string, now = Date.now()): Promise<RateDecision> {
    const window = Math.floor(now / WINDOW_MS);
    const entry = this.counts.get(consumerKey);
    const count = entry && entry.window === window ? entry.count + 1 : 1;
    this.counts.set(consumerKey, { window, count });
    if (this.counts.size > 10_000) {
      for (const [k, v] of this.counts) if (v.window < window) this.counts.delete(k);
    }
    return decide(count, this.perMinute, now);
  }
}

export class RedisRateLimiter implements RateLimiter {
  private lastWarned = 0;

  constructor(
    private readonly redis: Redis,
    private readonly perMinute: number,
    private readonly logger: Logger,
    private readonly prefix = 'rate:',
  ) {}

  async take(consumerKey: string, now = Date.now()): Promise<RateDecision> {
    const window = Math.floor(now / WINDOW_MS);
    const key = `${this.prefix}${consumerKey}:${window}`;
    try {
      const [[, count]] = (await this.redis.multi().incr(key).pexpire(key, WINDOW_MS * 2).exec()) as [[Error | null, number]];
      return decide(count, this.perMinute, now);
    } catch (err) {
      if (now - this.lastWarned > 10_000) {
        this.lastWarned = now;
        this.logger.warn({ err: (err as Error).message }, 'rate limiter unavailable; letting requests through');
      }
      return { allowed: true, retryAfterSeconds: 0, remaining: this.perMinute };
    }
  }
}
