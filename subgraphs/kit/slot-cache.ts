/**
 * The slot cache every supplier subgraph shares through Redis (or keeps in process without REDIS_URL).
 *
 * Unit: a day bucket, the free slots of one service at one supplier system starting on one Europe/London day, as
 * one audience sees them (london-day.ts says why London days). A request for any window is assembled from the
 * buckets of the days it touches, so two clients asking for 09:00–17:00 and 09:05–17:05 share every bucket. Missing
 * days are fetched in runs: one upstream search per run of contiguous missing days of a service (up to two weeks,
 * maxRunDays), its answer split into the day buckets afterwards.
 *
 * Audience: Booking Standard providers filter slots by the consumer organisation in the JWT (the sandbox ring-fences
 * some ED slots for NHS 111), so their buckets are per consumer organisation; an adapter whose supplier answers
 * everyone alike (Oakfield: "clinics and sessions are the same for everyone") shares one audience. The adapter says
 * which (slot-windows `audience`).
 *
 * Per bucket, with the supplier's policy (policyFor):
 *   fresh      age ≤ ttl (a share of it between 0.8 and 1, fixed per service: fresh-spread.ts): served as CACHE
 *              with the fetchedAt the supplier's answer had.
 *   stale      past that, age ≤ ttl + stale: still served, and refreshed once in the background (the refresh takes the
 *              bucket's lock, so one process refreshes while every other keeps serving the stale copy).
 *   miss       older, absent, or older than the request's maxAge: fetched. Single-flight: the first process to
 *              take the bucket's lock fetches; the others poll for its value, bounded by the supplier's deadline,
 *              then fetch themselves rather than fail. Within a process, concurrent misses join one promise.
 *   failed     the last fetch failed less than a few seconds ago: its typed failure is raised again without
 *              calling the supplier (negative caching), unless a servable bucket exists.
 * `maxAge` (seconds, from `slots(maxAge:)`) makes older buckets misses, but never below the supplier's floor, so a
 * client cannot turn every request into a supplier call.
 *
 * Writes are conditional on the day's generation (slot-buckets.ts): `invalidate`/`slotsChanged`, called after every
 * booking and cancellation, drop the day for every audience and stop any fetch already in flight from writing the
 * pre-booking view back.
 *
 * Single-flight in process first: a bucket this process is already fetching is joined, whatever the store says or
 * whether it answers, so concurrent misses here make one upstream call before any cross-process lock is asked for.
 *
 * Redis away: every store call fails fast (redis.ts); the cache then answers from its short in-process copy
 * (slot-buckets-local.ts: a bounded LRU of the buckets this process fetched or read in the last few seconds, judged
 * by the same policy) and fetches only what that lacks, once per bucket (the in-process single-flight above), writing
 * nothing to the store. Redis is used again as soon as it answers; the local copy is read only while it is away,
 * since it cannot see other replicas' invalidations. An outage therefore costs each replica about one upstream call
 * per bucket read every few seconds, not one per request. The cache never makes a request fail.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { adapterFor } from '../adapters.js';
import { addDays, contiguousRuns, dayEnd, dayStart, londonDay, type LondonDay } from '../../common/london-day.js';
import { slotCacheLookups, slotCacheRefreshesDropped } from '../../common/metrics.js';
import { connectRedis, redisTargetFromEnv, type RedisTarget } from '../../common/redis.js';
import type { Registry, SupplierSystem } from './registry.js';
import { DEFAULT_LOCAL_BUCKETS, LocalBuckets, type LocalBucketsOptions, type LocalEntry } from './slot-buckets-local.js';
import { RedisBucketStore } from './slot-buckets-redis.js';
import { MemoryBucketStore, bucketAddress, dayDigest, type BucketAddress, type BucketStore, type BucketWrite, type KnownBucket, type StoredEntry } from '../../common/slot-buckets.js';
import { splitByDay } from './split-by-day.js';
import { UpstreamError, isOwnFailure, type UpstreamReason } from '../../common/upstream.js';
import { decodeBucket, encodeBucket } from './slot-bucket-codec.js';
import { freshMs } from './fresh-spread.js';

export type SlotSource = 'LIVE' | 'CACHE';

/** What the cache needs of a slot: when it starts (its day) and the freshness fields it rewrites. */
export interface CacheableSlot {
  start: string;
  fetchedAt: string;
  source: SlotSource;
}

/** One bucket asked for. */
export interface BucketQuery {
  system: string;
  serviceId: string;
  day: LondonDay;
  /** Who the answer is for (see the module comment); a constant for suppliers that answer everyone alike. */
  audience: string;
  /** The client's maxAge in seconds; absent or null: the supplier's normal freshness. */
  maxAgeSeconds?: number | null;
}

/** Contiguous days of one service and audience, fetched in one upstream call: every slot starting in [from, to]. */
export interface DayRun {
  system: string;
  serviceId: string;
  audience: string;
  days: LondonDay[];
  from: Date;
  to: Date;
}

export interface RunAnswer<S> {
  slots: S[];
  /** When the supplier answered (RFC 3339). */
  fetchedAt: string;
}

/** Starts one upstream call per run, all at once (an adapter may batch work across them), one promise each. */
export type FetchRuns<S> = (runs: readonly DayRun[]) => Promise<RunAnswer<S>>[];

/** One bucket's answer: its slots (earliest first), when the supplier gave them, and whether this request asked. */
export interface DaySlots<S> {
  slots: S[];
  fetchedAt: string;
  source: SlotSource;
  /** Past its fresh share of the TTL and served because the supplier is failing: the last good data, not current (kit WindowSlots.stale). */
  stale?: boolean;
}

export interface CachePolicy {
  /**
   * Served without a second thought for up to this long after the supplier answered: for a share of it between 0.8
   * and 1, fixed per system and service (fresh-spread.ts).
   */
  ttlMs: number;
  /** Then served stale (and refreshed in the background) until ttl + stale after the supplier answered, never older. */
  staleMs: number;
  /** A client's maxAge below this is raised to it. */
  maxAgeFloorMs: number;
  /** How long an upstream failure is remembered; a Retry-After may lengthen it up to maxNegativeMs. */
  negativeMs: number;
  maxNegativeMs: number;
  /** How long a bucket's single-flight lock lives if its holder never releases it (it died mid-fetch). */
  lockTtlMs: number;
  /** How long a process waits for another's fetch before fetching itself. */
  lockWaitMs: number;
  /**
   * The most days one upstream search covers. Every adapter fetches a run as one search: a PAS answers a date range
   * in one page, and a Booking Standard client cuts a run that will page into parts it sends at once (by day for a
   * service it has not searched before; booking-standard/client.ts), each day fetched once.
   */
  maxRunDays: number;
}

/** Clients may ask for fresher data, but no fresher than this: five seconds bounds a client to ~0.2 calls/s per bucket. */
export const MAX_AGE_FLOOR_MS = 5_000;
/** Long enough to absorb a burst of retries against a failing supplier; short enough that recovery shows at once. */
export const NEGATIVE_MS = 3_000;
const MAX_NEGATIVE_MS = 15_000;
/** The GP Connect cap (slot-windows MAX_WINDOW_DAYS): no upstream search spans more than two weeks. */
const MAX_RUN_MS = 14 * 86_400_000;
/**
 * Days a slot can be offered for, counted from today: providers release up to two weeks ahead, plus today and
 * yesterday (an overnight session). Invalidated wholesale when a write's day is unknown.
 */
const HORIZON_PAST_DAYS = 1;
const HORIZON_FUTURE_DAYS = 15;

/**
 * The numbers, from the registry entry:
 * - ttl: the system's `cacheTtlSeconds` (30 s in the sandbox registry);
 * - stale: as long again, so nothing served is older than 2 × ttl (60 s): a slot list a minute old is still useful,
 *   and the supplier checks the slot at booking anyway (SLOT_UNAVAILABLE, and the day is then invalidated);
 * - maxAge floor: 5 s (MAX_AGE_FLOOR_MS);
 * - negative: 3 s, or the supplier's Retry-After up to 15 s (never longer than ttl);
 * - lock: the holder's fetch is bounded by the system's deadline times its adapter's `slotCache.deadlinesPerFetch`
 *   (2 for an adapter that looks something up first, as Oakfield's clinic lookup; 2 for a kind no adapter serves),
 *   so the lock outlives it by a second; waiters wait one deadline (plus a moment for the holder's write) because
 *   that is as long as the holder can take to succeed or fail.
 */
export function policyFor(system: Pick<SupplierSystem, 'cacheTtlSeconds' | 'deadlineMs'> & { kind: string }): CachePolicy {
  const ttlMs = system.cacheTtlSeconds * 1000;
  const deadlinesPerFetch = adapterFor(system.kind)?.slotCache.deadlinesPerFetch ?? 2;
  return {
    ttlMs,
    staleMs: ttlMs,
    maxAgeFloorMs: MAX_AGE_FLOOR_MS,
    negativeMs: Math.min(NEGATIVE_MS, ttlMs),
    maxNegativeMs: Math.min(MAX_NEGATIVE_MS, ttlMs),
    lockTtlMs: deadlinesPerFetch * system.deadlineMs + 1000,
    lockWaitMs: system.deadlineMs + 250,
    maxRunDays: 14,
  };
}

export interface SlotCacheOptions {
  store: BucketStore;
  /** The policy of a registry system (policyFor). */
  policy: (system: string) => CachePolicy;
  logger: Logger;
  /** Epoch milliseconds, compared with fetchedAt; injectable for tests. */
  clock?: () => number;
  /** Told of every failed store call (Redis away), to log; the cache itself carries on without the store. */
  onStoreError?: (err: unknown) => void;
  /** Called by close() (closing the Redis connection). */
  onClose?: () => Promise<void>;
  /** Whether the store is connected, waiting up to the given time (whenReady). Absent: always. */
  ready?: (timeoutMs: number) => Promise<boolean>;
  /** The in-process copy served while the store is away (slot-buckets-local.ts); defaults DEFAULT_LOCAL_BUCKETS. */
  local?: Partial<Omit<LocalBucketsOptions, 'clock'>>;
}

type Result<S> = DaySlots<S> | Error;

/** A bucket as one load() handles it. */
interface Bucket {
  /** Identity in this process: the digests, so it matches what the store keys on. */
  id: string;
  query: BucketQuery;
  address: BucketAddress;
  policy: CachePolicy;
  /** How long after its supplier answered the bucket counts as fresh: the policy's TTL, spread per service (fresh-spread.ts). */
  freshMs: number;
  /** The day's generation as last read; writes are conditional on it. */
  generation: number;
  /** The local copy's invalidation counter when this load began (LocalBuckets.mark). */
  localMark: number;
}

type Verdict<S> =
  | { kind: 'hit' | 'stale'; answer: DaySlots<S>; refresh: boolean }
  | { kind: 'negative'; error: UpstreamError }
  | { kind: 'miss' };

interface StoredFailure {
  r: UpstreamReason;
  st?: number;
  /** Remembered until (epoch ms). */
  u: number;
}

/**
 * Decoded buckets kept, most recently read last: at most this many (service-days × audiences), and at most this many
 * characters of stored text between them (the decoded slots take about as much again), so a deployment with many
 * services and consumer organisations holds a bounded working set rather than thrashing or growing.
 */
const MAX_DECODED = 5000;
/** How long a day's bumped generation is kept at least (see invalidate). */
const MIN_MARKER_MS = 60_000;
const MAX_DECODED_CHARS = 16 * 1024 * 1024;
/** Background refresh jobs of one system waiting or running in one process, at most (see SlotCache.refresh). */
export const MAX_QUEUED_REFRESHES = 32;
/** After store commands timed out twice, a timed-out one is not asked again for this long (the store is most likely away). */
const STORE_RETRY_QUIET_MS = 10_000;

export class SlotCache {
  private readonly store: BucketStore;
  private readonly clock: () => number;
  /** Misses this process is resolving: later loads of the same bucket join them instead of racing for the lock. */
  private readonly inFlight = new Map<string, Promise<Result<CacheableSlot>>>();
  /** Stale buckets this process is refreshing, so each is refreshed once however often it is read meanwhile. */
  private readonly refreshing = new Set<string>();
  private readonly background = new Set<Promise<void>>();
  /** Per supplier system, its background refreshes, run one at a time (see refresh): the last one, and how many wait or run. */
  private readonly refreshLanes = new Map<string, { tail: Promise<void>; queued: number }>();
  private closing = false;
  /** What is served while the store is away. */
  private readonly local: LocalBuckets;
  /**
   * Each bucket's last decoded value, with the stored text (and its version) it came from: a warm read asks the store
   * for the text only when its version moved, and decodes only what changed.
   */
  private readonly decoded = new Map<string, { text: string; version?: string; value: DaySlots<CacheableSlot> | null }>();
  private decodedChars = 0;
  /** When store commands last timed out even when asked again (epoch ms): not asked twice for a while after. */
  private lastStoreTimeouts = -Infinity;

  constructor(private readonly opts: SlotCacheOptions) {
    this.store = opts.store;
    this.clock = opts.clock ?? Date.now;
    this.local = new LocalBuckets({ ...DEFAULT_LOCAL_BUCKETS, ...opts.local, clock: this.clock });
  }

  /** The answer for each query, in order: its day's slots, or the typed failure of the supplier call behind it. */
  async load<S extends CacheableSlot>(queries: readonly BucketQuery[], fetch: FetchRuns<S>): Promise<Result<S>[]> {
    const byId = new Map<string, Bucket>();
    const localMark = this.local.mark();
    const buckets = queries.map((q) => {
      const address = bucketAddress(q.system, q.serviceId, q.day, q.audience);
      const id = `${address.day}:${address.audience}`;
      const known = byId.get(id);
      if (known) {
        known.query = { ...known.query, maxAgeSeconds: strictest(known.query.maxAgeSeconds, q.maxAgeSeconds) };
        return known;
      }
      const policy = this.opts.policy(q.system);
      const b: Bucket = { id, query: q, address, policy, freshMs: freshMs(policy.ttlMs, q.system, q.serviceId), generation: 0, localMark };
      byId.set(id, b);
      return b;
    });
    const answers = await this.resolve([...byId.values()], fetch);
    return buckets.map((b) => answers.get(b)!);
  }

  /** Drops these days of a service for every audience (after a booking or cancellation there). */
  async invalidate(system: string, serviceId: string, days: readonly LondonDay[]): Promise<void> {
    const p = this.opts.policy(system);
    const digests = days.map((d) => dayDigest(system, serviceId, d));
    // Locally first, whether or not the store answers: neither the local copy nor a fetch already in flight here
    // (begun before the change) may serve these days again.
    this.local.dropDays(digests);
    const dropped = new Set(digests);
    for (const id of this.inFlight.keys()) if (dropped.has(id.slice(0, id.indexOf(':')))) this.inFlight.delete(id);
    try {
      // The generation marker must outlive any fetch that read the old one: a bucket's lifetime covers that.
      // The markers outlive anything that read the generations before them: the buckets, a lock's fetch, and a
      // reused merged answer (twice ANSWER_CACHE_SECONDS, fresh then stale: at most 20 s) however short the supplier's TTL.
      await this.store.invalidate(digests, Math.max(p.ttlMs + p.staleMs + p.lockTtlMs, MIN_MARKER_MS));
    } catch (err) {
      this.storeFailed(err);
    }
  }

  /**
   * A booking or cancellation at a service may have changed the slots starting at `start`: drop that day. When the
   * day is unknown (a cancellation whose outcome is unknown names no time), drop every day a slot can be offered for.
   */
  async slotsChanged(system: string, serviceId: string, start: Date | string | null | undefined): Promise<void> {
    const ms = start == null ? NaN : typeof start === 'string' ? Date.parse(start) : start.getTime();
    if (!Number.isNaN(ms)) return this.invalidate(system, serviceId, [londonDay(ms)]);
    const today = londonDay(this.clock());
    const days: LondonDay[] = [];
    for (let i = -HORIZON_PAST_DAYS; i <= HORIZON_FUTURE_DAYS; i++) days.push(addDays(today, i));
    return this.invalidate(system, serviceId, days);
  }

  /**
   * Whether the store answers, waiting up to `timeoutMs` for its connection. Nothing needs to wait for it (the cache
   * steps aside until then); processes that want their first requests cached, tests above all, may.
   */
  async whenReady(timeoutMs = 2000): Promise<boolean> {
    return this.opts.ready ? this.opts.ready(timeoutMs) : true;
  }

  /** Resolves when every background refresh started so far has finished (tests; shutdown). */
  async idle(): Promise<void> {
    while (this.background.size > 0) await Promise.allSettled([...this.background]);
  }

  async close(): Promise<void> {
    // Refreshes still waiting in a lane are not started: shutting down need not wait for a queue of supplier calls.
    this.closing = true;
    await this.idle();
    await this.opts.onClose?.();
  }

  // ---- one load --------------------------------------------------------------------------------------------------

  private async resolve<S extends CacheableSlot>(buckets: Bucket[], fetch: FetchRuns<S>): Promise<Map<Bucket, Result<S>>> {
    let entries: StoredEntry[] | null;
    try {
      entries = await this.askTwice(() =>
        this.store.read(
          buckets.map((b) => b.address),
          buckets.map((b) => this.known(b.id)),
        ),
      );
    } catch (err) {
      this.storeFailed(err);
      entries = null;
    }

    const now = this.clock();
    const answers = new Map<Bucket, Promise<Result<S>>>();
    const misses: Bucket[] = [];
    const toRefresh: Bucket[] = [];
    buckets.forEach((b, i) => {
      let entry: StoredEntry;
      if (entries) {
        entry = entries[i]!;
        this.adopt(b, entry);
      } else {
        // The store is away: this process's copy of the last few seconds stands in for it.
        entry = { generation: 0, ...this.local.get(b.id) };
      }
      const v = this.judge<S>(b, entry, now);
      slotCacheLookups.inc({ system: b.query.system, result: v.kind });
      if (v.kind === 'hit' || v.kind === 'stale') {
        answers.set(b, Promise.resolve(v.answer));
        if (v.refresh && !this.refreshing.has(b.id)) toRefresh.push(b);
      } else if (v.kind === 'negative') {
        answers.set(b, Promise.resolve(v.error));
      } else {
        const joined = this.inFlight.get(b.id) as Promise<Result<S>> | undefined;
        if (joined) answers.set(b, joined);
        else misses.push(b);
      }
    });

    if (misses.length > 0) {
      // Registered before the first await, so a concurrent load in this process that reads the same miss joins
      // (with the store away too: then it is the only single-flight there is).
      const filled = entries ? this.fill(misses, fetch) : this.fetchAndStore(misses, fetch, { persist: false });
      for (const b of misses) {
        const p = filled.then((m) => m.get(b)!);
        answers.set(b, p);
        this.inFlight.set(b.id, p);
        void p.finally(() => {
          if (this.inFlight.get(b.id) === p) this.inFlight.delete(b.id);
        });
      }
    }
    if (toRefresh.length > 0) this.refresh(toRefresh, fetch);

    const out = new Map<Bucket, Result<S>>();
    for (const [b, p] of answers) out.set(b, await p);
    return out;
  }

  /** A bucket as the store holds it now: its generation (what writes are conditional on), kept locally too. */
  private adopt(b: Bucket, entry: StoredEntry): void {
    b.generation = entry.generation;
    this.remember(b, entry);
  }

  /** The store's view of a bucket, kept locally for when the store goes away. */
  private remember(b: Bucket, entry: StoredEntry): void {
    const value: LocalEntry = {
      ...(entry.bucket !== undefined ? { bucket: entry.bucket } : {}),
      ...(entry.failure !== undefined ? { failure: entry.failure } : {}),
    };
    this.local.put(b.id, b.address.day, value, b.localMark, true);
  }

  private judge<S extends CacheableSlot>(b: Bucket, entry: StoredEntry, now: number): Verdict<S> {
    const { policy } = b;
    const maxAge = b.query.maxAgeSeconds;
    const limit = Math.min(policy.ttlMs + policy.staleMs, maxAge == null ? Infinity : Math.max(maxAge * 1000, policy.maxAgeFloorMs));
    const failure = entry.failure ? decodeFailure(entry.failure) : null;
    const failing = failure && failure.u > now ? failure : null;
    const cached = entry.bucket ? this.decode<S>(b.id, entry.bucket, entry.version) : null;
    const age = cached ? now - Date.parse(cached.fetchedAt) : Infinity;
    if (cached && age <= limit) {
      const fresh = age <= b.freshMs;
      // While the supplier is known to be failing, a refresh would only fail again: keep serving the stale copy, and
      // say so (the gateway reports the service STALE in coverage beside these slots).
      return { kind: fresh ? 'hit' : 'stale', answer: !fresh && failing ? { ...cached, stale: true } : cached, refresh: !fresh && !failing };
    }
    if (failing) {
      return {
        kind: 'negative',
        error: new UpstreamError(b.query.system, failing.r, failing.st, 'failed moments ago (remembered by the slot cache)', failing.u - now),
      };
    }
    return { kind: 'miss' };
  }

  /** The text (and version) of a bucket this process holds decoded, for the store to send again only if it moved. */
  private known(id: string): KnownBucket | undefined {
    const held = this.decoded.get(id);
    // The decoded entry itself (it holds both), not a copy per bucket and read.
    return held?.version ? (held as KnownBucket) : undefined;
  }

  /** decodeBucket, reusing the value decoded from identical text (slots are never changed after decoding). */
  private decode<S extends CacheableSlot>(id: string, text: string, version: string | undefined): DaySlots<S> | null {
    const known = this.decoded.get(id);
    if (known) {
      this.decoded.delete(id);
      this.decodedChars -= known.text.length;
    }
    let entry: { text: string; version?: string; value: DaySlots<CacheableSlot> | null };
    if (known?.text === text) {
      entry = known;
      if (version) entry.version = version;
    } else entry = { text, ...(version ? { version } : {}), value: decodeBucket<S>(text) as DaySlots<CacheableSlot> | null };
    if (text.length <= MAX_DECODED_CHARS / 4) {
      this.decoded.set(id, entry);
      this.decodedChars += text.length;
      while (this.decoded.size > MAX_DECODED || this.decodedChars > MAX_DECODED_CHARS) {
        const [oldest, gone] = this.decoded.entries().next().value!;
        this.decoded.delete(oldest);
        this.decodedChars -= gone.text.length;
      }
    }
    return entry.value as DaySlots<S> | null;
  }

  /** Misses: take each bucket's lock; fetch those taken (or all, with the store away); wait for the others. */
  private async fill<S extends CacheableSlot>(misses: Bucket[], fetch: FetchRuns<S>): Promise<Map<Bucket, Result<S>>> {
    const token = randomUUID();
    const claims = await this.claim(misses, token);
    const held = misses.filter((_, i) => claims[i] === 'held');
    const storeAway = misses.filter((_, i) => claims[i] === 'store-away');
    const busy = misses.filter((_, i) => claims[i] === 'busy');
    const [fetched, unstored, waited] = await Promise.all([
      this.fetchAndStore(held, fetch, { persist: true, token }),
      this.fetchAndStore(storeAway, fetch, { persist: false }),
      this.waitForOthers(busy, fetch),
    ]);
    return new Map([...fetched, ...unstored, ...waited]);
  }

  /**
   * Another process (or an earlier load here) holds these buckets' locks: poll for the value it will write. A
   * failure it wrote is raised; a lock that disappears without a value (its holder's write was dropped by an
   * invalidation, or it died) is taken over. After lockWaitMs, fetch without the lock rather than fail.
   */
  private async waitForOthers<S extends CacheableSlot>(buckets: Bucket[], fetch: FetchRuns<S>): Promise<Map<Bucket, Result<S>>> {
    const out = new Map<Bucket, Result<S>>();
    let pending = buckets;
    const until = performance.now() + Math.max(0, ...buckets.map((b) => b.policy.lockWaitMs));
    for (let delay = 10; pending.length > 0 && performance.now() < until; delay = Math.min(delay * 2, 80)) {
      await sleep(Math.min(delay, Math.max(1, until - performance.now())));
      let entries: StoredEntry[];
      try {
        entries = await this.askTwice(() =>
          this.store.read(
            pending.map((b) => b.address),
            pending.map((b) => this.known(b.id)),
          ),
        );
      } catch (err) {
        this.storeFailed(err);
        break;
      }
      const now = this.clock();
      const still: Bucket[] = [];
      pending.forEach((b, i) => {
        this.adopt(b, entries[i]!);
        const v = this.judge<S>(b, entries[i]!, now);
        if (v.kind === 'hit' || v.kind === 'stale') out.set(b, v.answer);
        else if (v.kind === 'negative') out.set(b, v.error);
        else still.push(b);
      });
      const token = randomUUID();
      const claims = await this.claim(still, token);
      const takeOver = still.filter((_, i) => claims[i] !== 'busy');
      for (const [b, r] of await this.fetchAndStore(takeOver, fetch, { persist: true, token })) out.set(b, r);
      pending = still.filter((_, i) => claims[i] === 'busy');
    }
    for (const [b, r] of await this.fetchAndStore(pending, fetch, { persist: true })) out.set(b, r);
    return out;
  }

  /**
   * Stale buckets: refreshed in the background by whichever process takes the lock; the request does not wait.
   * A system's refreshes run one job after another in this process (its lane: a job is the stale buckets of that
   * system one read found, fetched as its runs), at most MAX_QUEUED_REFRESHES jobs waiting or running: buckets filled
   * together reach their ttl within seconds of each other (fresh-spread.ts spreads them over a fifth of it), and
   * refreshed all at once they were a burst of upstream calls, mapping and store writes that the warm searches of that
   * moment queued behind (the bench's warm mix at c=10: the p99 and p999 of the seconds holding a refresh wave were
   * the run's worst). One job at a time, each system sees a trickle instead, and a slow system delays only its own
   * refreshes. A job reads its buckets again when its turn comes and refreshes only those still stale: another
   * replica, or a request that found one expired, may have fetched it meanwhile. Every bucket waiting is still
   * served, stale, until ttl + stale; one not queued (its lane full: counted in slot_cache_refreshes_dropped_total)
   * is asked for again by a later read.
   */
  private refresh<S extends CacheableSlot>(buckets: Bucket[], fetch: FetchRuns<S>): void {
    const bySystem = new Map<string, Bucket[]>();
    for (const b of buckets) {
      const list = bySystem.get(b.query.system);
      if (list) list.push(b);
      else bySystem.set(b.query.system, [b]);
    }
    for (const [system, list] of bySystem) {
      const lane = this.refreshLanes.get(system) ?? { tail: Promise.resolve(), queued: 0 };
      if (lane.queued >= MAX_QUEUED_REFRESHES) {
        slotCacheRefreshesDropped.inc({ system }, list.length);
        continue;
      }
      lane.queued++;
      this.refreshLanes.set(system, lane);
      for (const b of list) this.refreshing.add(b.id);
      const run = async (): Promise<void> => {
        if (this.closing) return;
        const due = await this.stillStale(list);
        if (due.length === 0) return;
        const token = randomUUID();
        const claims = await this.claim(due, token);
        // With the store away (a stale copy served from the local one), refresh into the local copy only: once per
        // bucket in this process (`refreshing`).
        await Promise.all([
          this.fetchAndStore(due.filter((_, i) => claims[i] === 'held'), fetch, { persist: true, token }),
          this.fetchAndStore(due.filter((_, i) => claims[i] === 'store-away'), fetch, { persist: false }),
        ]);
      };
      // Runs after the job before it however that one ended.
      const job: Promise<void> = lane.tail
        .then(run, run)
        .catch((err: unknown) => this.opts.logger.warn({ err: (err as Error).message }, 'slot cache refresh failed unexpectedly'))
        .finally(() => {
          for (const b of list) this.refreshing.delete(b.id);
          this.background.delete(job);
          if (--lane.queued === 0 && this.refreshLanes.get(system) === lane) this.refreshLanes.delete(system);
        });
      lane.tail = job;
      this.background.add(job);
    }
  }

  /**
   * Of buckets queued for a refresh, those still stale now (read again, with their generation as stored now, which
   * the refresh's writes are conditional on). All of them when the store cannot be read: the claim that follows
   * finds it away and refreshes the local copy, as a refresh started then would.
   */
  private async stillStale(buckets: Bucket[]): Promise<Bucket[]> {
    let entries: StoredEntry[];
    try {
      entries = await this.store.read(
        buckets.map((b) => b.address),
        buckets.map((b) => this.known(b.id)),
      );
    } catch (err) {
      this.storeFailed(err);
      return buckets;
    }
    const now = this.clock();
    return buckets.filter((b, i) => {
      const entry = entries[i]!;
      this.adopt(b, entry);
      const v = this.judge(b, entry, now);
      return v.kind === 'stale' && v.refresh;
    });
  }

  /**
   * Fetches the buckets as runs of contiguous days (one upstream call each), stores each day's bucket (or the
   * failure) unless told not to, releases the locks held with `token`, and answers every bucket.
   */
  private async fetchAndStore<S extends CacheableSlot>(
    buckets: Bucket[],
    fetch: FetchRuns<S>,
    how: { persist: boolean; token?: string },
  ): Promise<Map<Bucket, Result<S>>> {
    const out = new Map<Bucket, Result<S>>();
    if (buckets.length === 0) return out;
    const runs = toRuns(buckets);
    let promises: Promise<RunAnswer<S>>[];
    try {
      promises = fetch(runs.map((r) => r.run));
    } catch (err) {
      promises = runs.map(() => Promise.reject(err));
    }
    await Promise.all(
      runs.map(async ({ run, members }, i) => {
        const writes: BucketWrite[] = [];
        try {
          const answer = await promises[i]!;
          const byDay = splitByDay(answer.slots, run.days);
          for (const b of members) {
            const slots = byDay.get(b.query.day)!;
            out.set(b, { slots, fetchedAt: answer.fetchedAt, source: 'LIVE' });
            const bucket = encodeBucket(slots, answer.fetchedAt);
            writes.push({ address: b.address, generation: b.generation, bucket, lifetimeMs: b.policy.ttlMs + b.policy.staleMs });
            this.local.put(b.id, b.address.day, { bucket }, b.localMark);
          }
        } catch (err) {
          const error = err instanceof Error ? err : new Error(String(err));
          for (const b of members) out.set(b, error);
          const failure = this.failureRecord(error, members[0]!.policy);
          if (failure) {
            for (const b of members) {
              writes.push({ address: b.address, generation: b.generation, failure, lifetimeMs: b.policy.maxNegativeMs });
              this.local.put(b.id, b.address.day, { failure }, b.localMark);
            }
          }
        }
        if (how.persist) await this.safely(() => this.store.write(writes));
        if (how.token) await this.safely(() => this.store.unlock(members.map((b) => b.address), how.token!));
      }),
    );
    return out;
  }

  /**
   * A failure worth remembering: a supplier's typed failure. Not CIRCUIT_OPEN or a call our own throttle held back
   * (this process's own state, never the supplier's answer), nor bugs.
   */
  private failureRecord(err: Error, policy: CachePolicy): string | undefined {
    if (!(err instanceof UpstreamError) || err.reason === 'CIRCUIT_OPEN' || isOwnFailure(err)) return undefined;
    const ms = Math.min(policy.maxNegativeMs, Math.max(policy.negativeMs, err.retryAfterMs ?? 0));
    const record: StoredFailure = { r: err.reason, ...(err.status ? { st: err.status } : {}), u: this.clock() + ms };
    return JSON.stringify(record);
  }

  /**
   * A store command that times out is asked once more unless commands timed out twice moments ago: a command timeout
   * is as often our own event loop stalled past it as the store being away, and counting it as away would fetch
   * without the lock beside another process's fetch. Any other failure, or a second timeout, is the store away.
   */
  private async askTwice<T>(op: () => Promise<T>): Promise<T> {
    try {
      return await op();
    } catch (err) {
      if (!isTimeout(err) || !this.asksTimeoutsAgain()) throw this.noted(err);
    }
    try {
      return await op();
    } catch (err) {
      throw this.noted(err);
    }
  }

  /** Whether a timed-out command is asked again now: not within a while of timeouts that were not answered. */
  private asksTimeoutsAgain(): boolean {
    return this.clock() - this.lastStoreTimeouts >= STORE_RETRY_QUIET_MS;
  }

  /** A failure that stands (not asked again): a timeout among them starts the quiet period again. */
  private noted(err: unknown): unknown {
    if (isTimeout(err)) this.lastStoreTimeouts = this.clock();
    return err;
  }

  /**
   * Takes the buckets' locks. Claims that time out are asked once more, together, as askTwice does (the lock
   * answers true again for the token holding it: a claim taken but unheard of is not locked out by itself).
   */
  private async claim(buckets: readonly Bucket[], token: string): Promise<Claim[]> {
    // One store call per lock lifetime (a system's), for all its buckets; a failed call fails each of them.
    const ask = async (which: readonly number[]): Promise<(Claim | unknown)[]> => {
      const out = new Array<Claim | unknown>(which.length);
      const byTtl = new Map<number, number[]>();
      which.forEach((i, j) => {
        const ttl = buckets[i]!.policy.lockTtlMs;
        const places = byTtl.get(ttl);
        if (places) places.push(j);
        else byTtl.set(ttl, [j]);
      });
      await Promise.all(
        [...byTtl].map(([ttl, places]) =>
          this.store.lock(places.map((j) => buckets[which[j]!]!.address), token, ttl).then(
            (held) => places.forEach((j, k) => (out[j] = held[k] ? 'held' : 'busy')),
            (err: unknown) => places.forEach((j) => (out[j] = err)),
          ),
        ),
      );
      return out;
    };
    const first = await ask(buckets.map((_, i) => i));
    const timedOut = buckets.flatMap((_, i) => (isTimeout(first[i]) ? [i] : []));
    const claims = [...first];
    if (timedOut.length > 0 && this.asksTimeoutsAgain()) (await ask(timedOut)).forEach((c, j) => (claims[timedOut[j]!] = c));
    const out = claims.map((c): Claim => {
      if (c === 'held' || c === 'busy') return c;
      this.storeFailed(this.noted(c));
      return 'store-away';
    });
    // A failed command may have taken some of its locks (one server of a cluster answered, another did not): they are
    // released, not left to expire while other processes wait on them. Best effort, not awaited, and its failure not
    // reported again: the store is away, as the claim already said.
    const away = buckets.filter((_, i) => out[i] === 'store-away').map((b) => b.address);
    if (away.length > 0) this.store.unlock(away, token).catch(() => undefined);
    return out;
  }

  private async safely(op: () => Promise<unknown>): Promise<void> {
    try {
      await op();
    } catch (err) {
      this.storeFailed(err);
    }
  }

  private storeFailed(err: unknown): void {
    this.opts.onStoreError?.(err);
  }
}

/**
 * Outcomes of a booking or cancellation after which the slots at its time may differ from the cache: it booked or
 * cancelled; it may have (OUTCOME_UNKNOWN); or the slot was already taken (SLOT_UNAVAILABLE: the consumer most
 * likely chose it from a cached list, which is therefore wrong for everyone).
 */
const SLOTS_CHANGED_BY = new Set(['BOOKED', 'CANCELLED', 'OUTCOME_UNKNOWN', 'SLOT_UNAVAILABLE']);

/**
 * What the adapters call after every booking and cancellation, whatever its outcome: drops the day of `start` (or
 * every day, when unknown) if the outcome may have changed slots. Never throws: a cache that cannot be told loses
 * nothing but freshness, which its TTL bounds.
 */
export async function invalidateAfterWrite(
  cache: SlotCache | undefined,
  write: { system: string; serviceId: string; outcome: string; start: Date | string | null | undefined },
): Promise<void> {
  if (!cache || !SLOTS_CHANGED_BY.has(write.outcome)) return;
  await cache.slotsChanged(write.system, write.serviceId, write.start);
}

function strictest(a: number | null | undefined, b: number | null | undefined): number | null | undefined {
  if (a == null) return b;
  if (b == null) return a;
  return Math.min(a, b);
}

/** Groups buckets into runs: per service and audience, contiguous days, each run within the two-week cap. */
function toRuns(buckets: Bucket[]): { run: DayRun; members: Bucket[] }[] {
  const groups = new Map<string, Map<LondonDay, Bucket>>();
  for (const b of buckets) {
    const k = `${b.query.system}\n${b.query.serviceId}\n${b.query.audience}`;
    const group = groups.get(k) ?? new Map<LondonDay, Bucket>();
    group.set(b.query.day, b);
    groups.set(k, group);
  }
  return [...groups.values()].flatMap((group) =>
    contiguousRuns(group.keys(), Math.min(MAX_RUN_MS, [...group.values()][0]!.policy.maxRunDays * 86_400_000)).map((days) => {
      const members = days.map((d) => group.get(d)!);
      const { system, serviceId, audience } = members[0]!.query;
      return { run: { system, serviceId, audience, days, from: new Date(dayStart(days[0]!)), to: new Date(dayEnd(days.at(-1)!)) }, members };
    }),
  );
}

function decodeFailure(text: string): StoredFailure | null {
  try {
    const v = JSON.parse(text) as Partial<StoredFailure>;
    return typeof v.r === 'string' && typeof v.u === 'number' ? (v as StoredFailure) : null;
  } catch {
    return null;
  }
}

type Claim = 'held' | 'busy' | 'store-away';

/** ioredis's own command timeout (its message is all it has). */
function isTimeout(err: unknown): boolean {
  return err instanceof Error && err.message === 'Command timed out';
}

// ---- construction from the environment ------------------------------------------------------------------------

export interface SlotCacheSetupOptions {
  registry: Registry;
  logger: Logger;
  /** Redis (a URL or a cluster's nodes) to share buckets through; absent: this process's memory. */
  redis?: RedisTarget;
}

/** The cache as a subgraph process runs it: Redis when given, else in process (and a log line saying so). */
export function createSlotCache(opts: SlotCacheSetupOptions): SlotCache {
  const policy = (id: string) => policyFor(opts.registry.system(id) ?? { cacheTtlSeconds: 30, deadlineMs: 2000, kind: '' });
  if (!opts.redis) {
    opts.logger.info('REDIS_URL and REDIS_CLUSTER_NODES are not set: the slot cache is kept in this process (replicas do not share it)');
    return new SlotCache({ store: new MemoryBucketStore(), policy, logger: opts.logger });
  }
  // The URL may carry a password: never logged.
  opts.logger.info('slot cache in Redis, shared by every replica');
  const conn = connectRedis(opts.redis, { logger: opts.logger, consequence: 'slot reads go straight to the suppliers, uncached' });
  return new SlotCache({
    store: new RedisBucketStore(conn.redis),
    policy,
    logger: opts.logger,
    onStoreError: (err) => conn.outage.report(err),
    onClose: () => conn.close(),
    ready: (timeoutMs) => conn.ready(timeoutMs),
  });
}

/**
 * From the environment: REDIS_URL or REDIS_CLUSTER_NODES (shared cache) or none (in process); SLOT_CACHE=off turns caching off entirely,
 * every slot read then going to the supplier (an operator's switch, and what tests of the adapters themselves use).
 */
export function slotCacheFromEnv(registry: Registry, logger: Logger, env: NodeJS.ProcessEnv = process.env): SlotCache | undefined {
  if (env.SLOT_CACHE === 'off') {
    logger.info('SLOT_CACHE=off: every slot read goes to the supplier');
    return undefined;
  }
  const redis = redisTargetFromEnv(env);
  return createSlotCache({ registry, logger, ...(redis ? { redis } : {}) });
}
