/**
 * The vendor's rate limit: a token bucket per API key (API.md section 2). Each request takes a token; tokens refill
 * continuously at `perSecond` up to `burst`. It runs on the monotonic clock, not the simulator's `now`, which tests
 * pin to a date while requests still happen in real time.
 */
export interface RateLimitOptions {
  /** Refill rate, tokens per second. */
  perSecond: number;
  /** Bucket size (largest burst); defaults to `perSecond`. */
  burst?: number;
}

export type Admission =
  | { admitted: true; remaining: number }
  /** Whole seconds until a token is available (at least 1: Retry-After has one-second granularity). */
  | { admitted: false; retryAfterSeconds: number };

export class TokenBuckets {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private readonly burst: number;

  constructor(
    private readonly opts: RateLimitOptions,
    private readonly clock: () => number = () => performance.now(),
  ) {
    if (!(opts.perSecond > 0)) throw new RangeError('perSecond must be positive');
    this.burst = Math.max(1, opts.burst ?? opts.perSecond);
  }

  get limit(): number {
    return this.opts.perSecond;
  }

  take(key: string): Admission {
    const t = this.clock();
    const b = this.buckets.get(key) ?? { tokens: this.burst, at: t };
    b.tokens = Math.min(this.burst, b.tokens + ((t - b.at) / 1000) * this.opts.perSecond);
    b.at = t;
    this.buckets.set(key, b);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return { admitted: true, remaining: Math.floor(b.tokens) };
    }
    return { admitted: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - b.tokens) / this.opts.perSecond)) };
  }
}
