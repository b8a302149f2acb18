/**
 * What this process has seen of each supplier system over the last hour, for the operator's view (`supplierStatus`,
 * the gateway's /status page): per system, one bucket per minute for the last 60 minutes (calls, failures by typed
 * reason, a fixed-boundary latency histogram, throttle waits), the last successful call and the last failure.
 *
 * Bounded whatever the traffic: a bucket is a few counters and one histogram of LATENCY_BOUNDS_MS.length + 1 counts,
 * 60 buckets per system, at most MAX_SYSTEMS systems (calls to others are not tracked). p95 comes from the
 * histogram (the upper bound of the bucket holding the 95th percentile), so no sample is ever kept.
 *
 * Per process: fed where every supplier call is measured (kit/supplier-http.ts, and kit/feeds/http.ts for the
 * streamed feed files, beside supplierRequestDuration), by the throttle, and by slot searches for answers that could
 * not be read (INVALID_RESPONSE, kit/slot-windows.ts). With replicas, each holds its own view.
 * Circuit state and quality-flag counts are read when the view is taken, from sources the process registers
 * (registerStatusSource: kit/slot-runtime.ts for the breakers, the feeds client for snapshot issues).
 */
import { hostname } from 'node:os';
import { compareCodeUnits } from '../../common/code-units.js';

/** Upper bounds (ms) of the latency histogram's buckets; one more bucket holds everything slower. */
export const LATENCY_BOUNDS_MS = [10, 25, 50, 100, 200, 300, 500, 750, 1000, 1500, 2000, 3000, 5000, 10_000] as const;
export const MINUTES = 60;
/** Where every subgraph serves its view to the gateway (GET, signed by the gateway like its GraphQL requests). */
export const SUPPLIER_STATUS_PATH = '/internal/supplier-status';
export const MAX_SYSTEMS = 200;
const MINUTE_MS = 60_000;

/**
 * Why a call failed: the UpstreamError reasons (common/upstream.ts), and LOCAL_DELAY for a deadline spent in our own
 * process (LocalDelayError: says nothing of the supplier, but an operator wants to see it).
 */
export const FAILURE_REASONS = ['TIMEOUT', 'UNAVAILABLE', 'RATE_LIMITED', 'INVALID_RESPONSE', 'REJECTED', 'CIRCUIT_OPEN', 'LOCAL_DELAY'] as const;
export type FailureReason = (typeof FAILURE_REASONS)[number];

export type CallOutcome = { ok: true; status: number } | { ok: false; reason: FailureReason };

interface Bucket {
  /** Epoch minute this bucket counts (Math.floor(ms / 60 000)); a bucket from an older minute is reset on reuse. */
  minute: number;
  calls: number;
  failures: number;
  byReason: Map<FailureReason, number>;
  latency: number[];
  throttleWaits: number;
  throttleRefusals: number;
}

interface SystemTrack {
  buckets: (Bucket | undefined)[];
  lastSuccessAt?: number;
  lastFailureAt?: number;
  lastFailureReason?: FailureReason;
}

export interface WindowStats {
  calls: number;
  failures: number;
  /** failures / calls; null when there were no calls. */
  errorRate: number | null;
  /** From the histogram: the upper bound of the bucket holding the 95th percentile; null without calls. */
  p95LatencyMs: number | null;
  failuresByReason: { reason: FailureReason; count: number }[];
  throttleWaits: number;
  throttleRefusals: number;
}

export interface MinutePoint {
  /** Start of the minute (epoch ms). */
  at: number;
  calls: number;
  failures: number;
  p95LatencyMs: number | null;
}

export type CircuitStateView = 'CLOSED' | 'OPEN' | 'HALF_OPEN' | 'NONE';

export interface SystemStatusView {
  system: string;
  lastSuccessAt: number | null;
  lastFailureAt: number | null;
  lastFailureReason: FailureReason | null;
  last5Minutes: WindowStats;
  last60Minutes: WindowStats;
  /** Oldest first, one per minute of the last hour (this minute last). */
  minutes: MinutePoint[];
  /** NONE: this process runs no circuit breaker for the system (feeds, or CIRCUIT_BREAKER=off). */
  circuit: CircuitStateView;
  qualityFlags: { flag: string; count: number }[];
}

/** What a supplier subgraph process answers the gateway (GET /internal/supplier-status). */
export interface ProcessStatusView {
  /** The replica that answered: behind a load balancer this is one replica's view only. */
  replica: { host: string; pid: number };
  generatedAt: number;
  systems: SystemStatusView[];
}

/** What the process can say about a system when the view is taken. */
export interface StatusSource {
  circuit?(system: string): CircuitStateView | undefined;
  /** Counts of quality flags (or feed issues) by kind, for the systems it knows. */
  qualityFlags?(system: string): Record<string, number> | undefined;
  /** Systems it serves, listed even before their first call. */
  systems?(): readonly string[];
}

function latencyIndex(ms: number): number {
  for (let i = 0; i < LATENCY_BOUNDS_MS.length; i++) if (ms <= LATENCY_BOUNDS_MS[i]!) return i;
  return LATENCY_BOUNDS_MS.length;
}

/** The 95th percentile's bucket bound from histogram counts; the slowest bound (+) for the overflow bucket. */
export function p95FromHistogram(counts: readonly number[]): number | null {
  const total = counts.reduce((a, b) => a + b, 0);
  if (total === 0) return null;
  const rank = Math.ceil(total * 0.95);
  let seen = 0;
  for (let i = 0; i < counts.length; i++) {
    seen += counts[i]!;
    if (seen >= rank) return LATENCY_BOUNDS_MS[Math.min(i, LATENCY_BOUNDS_MS.length - 1)]!;
  }
  return LATENCY_BOUNDS_MS.at(-1)!;
}

export class SupplierStatusTracker {
  private readonly systems = new Map<string, SystemTrack>();
  private readonly sources: StatusSource[] = [];
  /** Failures recordCall has counted, so that recordLateFailure never counts one twice (weak: nothing is kept). */
  private readonly counted = new WeakSet<object>();

  constructor(private readonly clock: () => number = Date.now) {}

  /** One supplier call, measured from first attempt to answer or failure. */
  recordCall(system: string, durationMs: number, outcome: CallOutcome, error?: unknown): void {
    if (typeof error === 'object' && error !== null) this.counted.add(error);
    const now = this.clock();
    const track = this.track(system);
    if (!track) return;
    const b = this.bucket(track, now);
    b.calls++;
    b.latency[latencyIndex(durationMs)]!++;
    if (outcome.ok) {
      // 2xx and 3xx (a 304 confirms the data we hold) are fresh data; a 4xx is an answer about the request.
      if (outcome.status < 400) track.lastSuccessAt = now;
      return;
    }
    b.failures++;
    b.byReason.set(outcome.reason, (b.byReason.get(outcome.reason) ?? 0) + 1);
    track.lastFailureAt = now;
    track.lastFailureReason = outcome.reason;
  }

  /**
   * A failure found after the call was recorded as answered: its body could not be read (INVALID_RESPONSE, from a
   * slot search's span). Counted as a failure of a call already counted, so the call count does not change. An
   * error recordCall was given (the HTTP layer's own INVALID_RESPONSE: a body too large or not decodable) is counted
   * already, and not again.
   */
  recordLateFailure(system: string, reason: FailureReason, error?: unknown): void {
    if (typeof error === 'object' && error !== null && this.counted.has(error)) return;
    const now = this.clock();
    const track = this.track(system);
    if (!track) return;
    const b = this.bucket(track, now);
    // Never more failures than calls in a minute (a span's calls may have been counted in the minute before).
    if (b.failures >= b.calls) return;
    b.failures++;
    b.byReason.set(reason, (b.byReason.get(reason) ?? 0) + 1);
    track.lastFailureAt = now;
    track.lastFailureReason = reason;
  }

  /** A call our own throttle held: `waited` went out late, `refused` never went out (RATE_LIMITED). */
  recordThrottle(system: string, outcome: 'waited' | 'refused'): void {
    const track = this.track(system);
    if (!track) return;
    const b = this.bucket(track, this.clock());
    if (outcome === 'waited') b.throttleWaits++;
    else b.throttleRefusals++;
  }

  /** Adds what a part of the process knows (breakers, feeds); returns the undo. */
  registerSource(source: StatusSource): () => void {
    this.sources.push(source);
    return () => {
      const i = this.sources.indexOf(source);
      if (i >= 0) this.sources.splice(i, 1);
    };
  }

  /** The view of every system this process has seen or serves. */
  view(): ProcessStatusView {
    const now = this.clock();
    const names = new Set(this.systems.keys());
    for (const s of this.sources) for (const id of s.systems?.() ?? []) if (names.size < MAX_SYSTEMS) names.add(id);
    return {
      replica: { host: hostname(), pid: process.pid },
      generatedAt: now,
      systems: [...names].sort().map((id) => this.systemView(id, now)),
    };
  }

  /** How many buckets are held, all systems together (for tests of the bound). */
  bucketCount(): number {
    let n = 0;
    for (const t of this.systems.values()) n += t.buckets.filter(Boolean).length;
    return n;
  }

  private systemView(id: string, now: number): SystemStatusView {
    const track = this.systems.get(id);
    const minute = Math.floor(now / MINUTE_MS);
    const live = (offset: number) => {
      const b = track?.buckets[(minute - offset) % MINUTES];
      return b && b.minute === minute - offset ? b : undefined;
    };
    const window = (n: number) => {
      const latency = new Array<number>(LATENCY_BOUNDS_MS.length + 1).fill(0);
      const byReason = new Map<FailureReason, number>();
      let calls = 0;
      let failures = 0;
      let throttleWaits = 0;
      let throttleRefusals = 0;
      for (let i = 0; i < n; i++) {
        const b = live(i);
        if (!b) continue;
        calls += b.calls;
        failures += b.failures;
        throttleWaits += b.throttleWaits;
        throttleRefusals += b.throttleRefusals;
        b.latency.forEach((c, j) => (latency[j]! += c));
        for (const [r, c] of b.byReason) byReason.set(r, (byReason.get(r) ?? 0) + c);
      }
      return {
        calls,
        failures,
        errorRate: calls ? failures / calls : null,
        p95LatencyMs: p95FromHistogram(latency),
        failuresByReason: FAILURE_REASONS.filter((r) => byReason.has(r)).map((reason) => ({ reason, count: byReason.get(reason)! })),
        throttleWaits,
        throttleRefusals,
      };
    };
    const minutes: MinutePoint[] = [];
    for (let i = MINUTES - 1; i >= 0; i--) {
      const b = live(i);
      minutes.push({ at: (minute - i) * MINUTE_MS, calls: b?.calls ?? 0, failures: b?.failures ?? 0, p95LatencyMs: b ? p95FromHistogram(b.latency) : null });
    }
    let circuit: CircuitStateView | undefined;
    const quality = new Map<string, number>();
    for (const s of this.sources) {
      circuit ??= s.circuit?.(id);
      for (const [flag, count] of Object.entries(s.qualityFlags?.(id) ?? {})) quality.set(flag, (quality.get(flag) ?? 0) + count);
    }
    return {
      system: id,
      lastSuccessAt: track?.lastSuccessAt ?? null,
      lastFailureAt: track?.lastFailureAt ?? null,
      lastFailureReason: track?.lastFailureReason ?? null,
      last5Minutes: window(5),
      last60Minutes: window(MINUTES),
      minutes,
      circuit: circuit ?? 'NONE',
      qualityFlags: [...quality].sort(([a], [b]) => compareCodeUnits(a, b)).map(([flag, count]) => ({ flag, count })),
    };
  }

  private track(system: string): SystemTrack | undefined {
    let t = this.systems.get(system);
    if (!t) {
      // Registry ids are few; anything past the cap is a bug or an attack on the bound, not a supplier to watch.
      if (this.systems.size >= MAX_SYSTEMS) return undefined;
      t = { buckets: new Array<Bucket | undefined>(MINUTES).fill(undefined) };
      this.systems.set(system, t);
    }
    return t;
  }

  private bucket(track: SystemTrack, now: number): Bucket {
    const minute = Math.floor(now / MINUTE_MS);
    const slot = minute % MINUTES;
    let b = track.buckets[slot];
    if (!b || b.minute !== minute) {
      // The slot last counted a minute an hour (or more) ago: start it afresh.
      b = { minute, calls: 0, failures: 0, byReason: new Map(), latency: new Array<number>(LATENCY_BOUNDS_MS.length + 1).fill(0), throttleWaits: 0, throttleRefusals: 0 };
      track.buckets[slot] = b;
    }
    return b;
  }
}

/** This process's tracker, fed by every supplier call it makes. */
export const supplierStatus = new SupplierStatusTracker();

/** Maps a thrown supplier error to its outcome (by name, so this module imports nothing of upstream.ts). */
export function failureOutcome(err: unknown): CallOutcome {
  const e = err as { name?: string; reason?: string } | null;
  if (e?.name === 'LocalDelayError') return { ok: false, reason: 'LOCAL_DELAY' };
  const reason = (FAILURE_REASONS as readonly string[]).includes(e?.reason ?? '') ? (e!.reason as FailureReason) : 'UNAVAILABLE';
  return { ok: false, reason };
}
