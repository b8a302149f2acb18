/**
 * A circuit breaker per supplier system, around slot searches only.
 *
 *   closed     calls go through. It opens after `consecutiveFailures` failures in a row, or when at least
 *              `minCalls` calls in the last `windowMs` failed at `failureRate` or more (a supplier failing every
 *              other call never fails five in a row, yet is in no state to be asked more).
 *   open       every call fails at once with CircuitOpenError (reason CIRCUIT_OPEN), nothing sent, for `coolDownMs`.
 *   half-open  after the cool-down, exactly one trial call goes through; the others still fail fast. The trial's
 *              success closes the circuit, its failure opens it for another cool-down.
 *
 * What counts as a failure is what says the supplier is unwell: TIMEOUT, UNAVAILABLE (5xx, connection refused or
 * reset), RATE_LIMITED and INVALID_RESPONSE. A REJECTED answer (a 4xx about this request: say, no clinic for a
 * service) proves the supplier is up, so it counts as a success, as do our own bugs (not evidence either way).
 * A call our own throttle refused (ThrottledError, kit/supplier-throttle.ts: RATE_LIMITED but never sent) is not
 * counted at all, neither way: a throttled trial call leaves the circuit half-open for the next one. Nor is a
 * timeout whose deadline was spent in our own process (LocalDelayError, common/upstream.ts: queued behind the throttle
 * or between attempts, or the event loop too busy to read the answer): our queueing is not the supplier's failure.
 *
 * Per process: replicas learn of an outage separately, each after a handful of failed calls, which is cheap next to
 * the coordination a shared breaker would need (and a shared breaker would let one replica's network trouble stop
 * every replica). Bookings are never wrapped: a breaker that refused a POST would be harmless, but one that
 * counted a POST's timeout would have to treat an unknown outcome as a plain failure, and the booking flows own
 * that (reconcile, OUTCOME_UNKNOWN). Slot searches are idempotent reads: failing them fast is always safe.
 */
import type { Logger } from 'pino';
import { circuitState } from '../../common/metrics.js';
import { UpstreamError, isOwnFailure, type UpstreamReason } from '../../common/upstream.js';

export interface BreakerOptions {
  /** Failures in a row that open the circuit. */
  consecutiveFailures: number;
  /** The failure-rate rule: at least `minCalls` calls in the last `windowMs`, of which `failureRate` or more failed. */
  windowMs: number;
  minCalls: number;
  failureRate: number;
  /** How long an open circuit fails fast before it lets one trial call through. */
  coolDownMs: number;
  /** Milliseconds; injectable for tests. */
  clock: () => number;
}

/**
 * Five failures in a row: a supplier that is down produces them within a request or two (one search per service
 * asked), a healthy one practically never. Ten seconds open is short next to the slot cache's staleness allowance
 * (stale buckets keep answering meanwhile) and long enough to stop a stalled supplier holding every request for its
 * full deadline.
 */
export const DEFAULT_BREAKER: Omit<BreakerOptions, 'clock'> = {
  consecutiveFailures: 5,
  windowMs: 10_000,
  minCalls: 10,
  failureRate: 0.5,
  coolDownMs: 10_000,
};

/** Thrown instead of calling the supplier while its circuit is open: a typed supplier failure like any other. */
export class CircuitOpenError extends UpstreamError {
  constructor(system: string, retryAfterMs: number) {
    super(system, 'CIRCUIT_OPEN', undefined, 'circuit open: not called', retryAfterMs);
    this.name = 'CircuitOpenError';
  }
}

const UNWELL: ReadonlySet<UpstreamReason> = new Set(['TIMEOUT', 'UNAVAILABLE', 'RATE_LIMITED', 'INVALID_RESPONSE']);

/** Whether an outcome says the supplier is unwell (see the module comment). */
export function countsAsFailure(err: unknown): boolean {
  return err instanceof UpstreamError && !isOwnFailure(err) && UNWELL.has(err.reason);
}

export type CircuitStateName = 'closed' | 'open' | 'half-open';
const GAUGE: Record<CircuitStateName, number> = { closed: 0, 'half-open': 1, open: 2 };

/** Leave to make one call; settle it exactly once with the call's outcome. */
export interface Permit {
  settle(err?: unknown): void;
}

export class CircuitBreaker {
  private state: CircuitStateName = 'closed';
  private consecutive = 0;
  /** Outcomes in the failure-rate window, oldest first. */
  private recent: { at: number; failed: boolean }[] = [];
  private openedAt = 0;
  private trialInFlight = false;

  constructor(
    readonly system: string,
    private readonly opts: BreakerOptions,
    private readonly logger?: Logger,
  ) {
    circuitState.set({ system }, GAUGE.closed);
  }

  get current(): CircuitStateName {
    this.coolDownElapsed();
    return this.state;
  }

  /** A permit for one call, or CircuitOpenError (thrown) when the call must not be made. */
  admit(): Permit {
    this.coolDownElapsed();
    if (this.state === 'open' || (this.state === 'half-open' && this.trialInFlight)) {
      throw new CircuitOpenError(this.system, Math.max(0, this.openedAt + this.opts.coolDownMs - this.opts.clock()));
    }
    const trial = this.state === 'half-open';
    if (trial) this.trialInFlight = true;
    let settled = false;
    return {
      settle: (err?: unknown) => {
        if (settled) return;
        settled = true;
        if (trial) this.trialInFlight = false;
        // Never sent, or its deadline spent in our own process: says nothing of the supplier (such a trial leaves
        // the circuit half-open).
        if (isOwnFailure(err)) return;
        this.record(countsAsFailure(err), trial);
      },
    };
  }

  /** Runs one call under a permit. */
  async run<T>(call: () => Promise<T>): Promise<T> {
    const permit = this.admit();
    try {
      const value = await call();
      permit.settle();
      return value;
    } catch (err) {
      permit.settle(err);
      throw err;
    }
  }

  private record(failed: boolean, trial: boolean): void {
    const now = this.opts.clock();
    if (trial) {
      if (failed) this.open(now, 'the trial call failed');
      else this.close();
      return;
    }
    // An outcome of a call admitted before the circuit opened says nothing new about this episode.
    if (this.state !== 'closed') return;
    this.consecutive = failed ? this.consecutive + 1 : 0;
    this.recent.push({ at: now, failed });
    while (this.recent.length > 0 && (this.recent[0]!.at <= now - this.opts.windowMs || this.recent.length > 1000)) this.recent.shift();
    if (this.consecutive >= this.opts.consecutiveFailures) {
      this.open(now, `${this.consecutive} failures in a row`);
      return;
    }
    const failures = this.recent.filter((r) => r.failed).length;
    if (this.recent.length >= this.opts.minCalls && failures / this.recent.length >= this.opts.failureRate) {
      this.open(now, `${failures} of ${this.recent.length} calls failed in ${this.opts.windowMs / 1000} s`);
    }
  }

  private coolDownElapsed(): void {
    if (this.state === 'open' && this.opts.clock() - this.openedAt >= this.opts.coolDownMs) this.set('half-open');
  }

  private open(now: number, why: string): void {
    this.openedAt = now;
    this.consecutive = 0;
    this.recent = [];
    this.set('open');
    this.logger?.warn({ system: this.system, why, coolDownMs: this.opts.coolDownMs }, 'circuit opened: slot searches fail fast');
  }

  private close(): void {
    this.consecutive = 0;
    this.recent = [];
    this.set('closed');
    this.logger?.info({ system: this.system }, 'circuit closed: the trial call succeeded');
  }

  private set(state: CircuitStateName): void {
    this.state = state;
    circuitState.set({ system: this.system }, GAUGE[state]);
  }
}

/** One breaker per supplier system, made on first use. */
export class CircuitBreakers {
  private readonly bySystem = new Map<string, CircuitBreaker>();
  private readonly opts: BreakerOptions;

  constructor(opts: Partial<BreakerOptions> = {}, private readonly logger?: Logger) {
    this.opts = { ...DEFAULT_BREAKER, clock: () => performance.now(), ...opts };
  }

  /** The state of a system's breaker; undefined before its first call (so closed). Makes none. */
  stateOf(system: string): CircuitStateName | undefined {
    return this.bySystem.get(system)?.current;
  }

  for(system: string): CircuitBreaker {
    let b = this.bySystem.get(system);
    if (!b) {
      b = new CircuitBreaker(system, this.opts, this.logger);
      this.bySystem.set(system, b);
    }
    return b;
  }
}

/**
 * From the environment: the defaults, or none with CIRCUIT_BREAKER=off (an operator's switch; also for tests that
 * inject one fault after another and want each supplier failure reported as itself, not as CIRCUIT_OPEN).
 */
export function circuitBreakersFromEnv(logger: Logger, env: NodeJS.ProcessEnv = process.env): CircuitBreakers | undefined {
  if (env.CIRCUIT_BREAKER === 'off') {
    logger.info('CIRCUIT_BREAKER=off: slot searches are never failed fast');
    return undefined;
  }
  return new CircuitBreakers({}, logger);
}
