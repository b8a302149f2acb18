/**
 * What the gateway reuses on the read path (issue 9), neither holding patient data:
 *
 *   DirectoryCache   the services matching a search (types, point, radius, ids), for a short while (default 30 s;
 *                    DIRECTORY_CACHE_SECONDS, 0 turns it off): the DoS changes slowly, and a warm search then makes
 *                    no directory call. Shared through Redis when the gateway has REDIS_URL (one key per search,
 *                    hashed), with a bounded in-process copy in front of it (and instead of it without Redis, or
 *                    while Redis is away).
 *
 *   AnswerCache      the merged answer of an identical search for the same consumer audience, for a few seconds
 *                    (default 3 s; ANSWER_CACHE_SECONDS, 0 off), then as long again while it is refreshed, in
 *                    process and bounded, reused only while every (system, service) behind it is at the generation
 *                    it had before the answer was fetched. See `SlotGenerations` for why that check is exact and
 *                    cheap.
 */
import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { ChainableCommander } from 'ioredis';
import { groupedCommands, runBatch } from '../../common/redis-batch.js';
import type { RedisClient } from '../../common/redis.js';
import { serviceDigest, serviceGenerationKey } from '../../common/slot-buckets.js';
import { holdTag, holdsKey } from '../../common/holds.js';

/**
 * A bounded map whose entries expire, each after the ttl it is set with (lru-cache): the least recently used goes
 * first when full. `clock` is for tests; staleness is checked on every read (no cached time).
 */
export function expiringMap<V extends {}>(max: number, clock: () => number = () => performance.now()): LRUCache<string, V> {
  return new LRUCache<string, V>({ max, perf: { now: clock }, ttlResolution: 0 });
}

export function hashKey(parts: unknown): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('base64url').slice(0, 32);
}

export interface DirectoryCacheOptions {
  ttlMs: number;
  /** Entries kept in process. */
  maxEntries?: number;
  redis?: RedisClient;
  onStoreError?: (err: unknown) => void;
}

/** The directory's answer to a search, reused for `ttlMs` (see the module comment). */
export class DirectoryCache<V extends {}> {
  private readonly local: LRUCache<string, V>;

  constructor(private readonly opts: DirectoryCacheOptions) {
    this.local = expiringMap<V>(opts.maxEntries ?? 1000);
  }

  get enabled(): boolean {
    return this.opts.ttlMs > 0;
  }

  async get(search: unknown): Promise<V | undefined> {
    if (!this.enabled) return undefined;
    const key = hashKey(search);
    const here = this.local.get(key);
    if (here !== undefined || !this.opts.redis) return here;
    try {
      const text = await this.opts.redis.get(`dir:v1:${key}`);
      if (text === null) return undefined;
      const value = JSON.parse(text) as V;
      // Kept here for the rest of a short while only: Redis says how long it has left; a second is enough.
      this.local.set(key, value, { ttl: Math.min(1000, this.opts.ttlMs) });
      return value;
    } catch (err) {
      this.opts.onStoreError?.(err);
      return undefined;
    }
  }

  async set(search: unknown, value: V): Promise<void> {
    if (!this.enabled) return;
    const key = hashKey(search);
    this.local.set(key, value, { ttl: this.opts.ttlMs });
    if (!this.opts.redis) return;
    try {
      await this.opts.redis.set(`dir:v1:${key}`, JSON.stringify(value), 'PX', this.opts.ttlMs);
    } catch (err) {
      this.opts.onStoreError?.(err);
    }
  }
}

/**
 * The slot cache's generations (common/slot-buckets*.ts), read by the gateway. Every booking and cancellation,
 * whatever replica of whatever supplier subgraph handles it, bumps the generation of the day it touches and, in the
 * same Lua script, its service's generation (common/slot-buckets.ts serviceGenerationKey) before its
 * answer leaves the subgraph, and keeps that marker alive for ttl + stale + lock, and at least a minute: longer than
 * an answer is kept here (AnswerCache.lifeMs, at most 20 s) plus the fetch before it. So: read every
 * (system, service) generation behind an answer *before* fetching it, keep the numbers with the answer, and reuse the
 * answer only while a fresh read gives the same numbers. A booking during or after the fetch changes at least one
 * number (an absent service reads 0; a bump makes it at least Redis's clock in µs and more than before, so a marker
 * that expired and was made again never repeats a number), so a booked slot is never served from a reused answer.
 * One key per service, not per service-day: a booking on another day of a service also stops reuse (rarely, and
 * only ever towards a fresh answer). The read is one round trip, one MGET for every service (on a Redis Cluster
 * one per service, in parallel), far cheaper than the top-K calls it replaces. Without Redis the subgraphs' caches
 * are per process and their generations invisible here: then nothing is reused.
 *
 * Holds (common/holds.ts) change what a consumer is shown without touching a bucket, so the same read also takes
 * each system's live holds (scored by expiry, read from now): a hold taken, released, booked or expired changes
 * the string, and an answer is never reused to show a slot held since, nor to hide one released since. Answers are
 * already kept per consumer (availability.ts), as the holder sees what others do not.
 */
export class SlotGenerations {
  /**
   * Each pairs list's keys, made once: a kept answer's list is the same object at every reuse, and making its keys
   * again (a digest look-up and two strings a service) was a tenth of what an identical search allocated.
   */
  private readonly layouts = new WeakMap<readonly { system: string; serviceId: string }[], ReadLayout>();

  constructor(private readonly redis: RedisClient) {}

  private layoutOf(pairs: readonly { system: string; serviceId: string }[]): ReadLayout {
    let layout = this.layouts.get(pairs);
    if (!layout) {
      layout = {
        generations: pairs.map(({ system, serviceId }) => {
          const tag = serviceDigest(system, serviceId);
          return { tag, key: serviceGenerationKey(tag) };
        }),
        // Holds are kept per supplier system (common/holds.ts): one read per system behind the answer.
        systems: [...new Set(pairs.map((p) => p.system))].map((system) => ({ system, tag: holdTag(system), key: holdsKey(system) })),
      };
      this.layouts.set(pairs, layout);
    }
    return layout;
  }

  /** One number per (system, service), in a stable order; the window does not change which (see above). */
  async read(pairs: readonly { system: string; serviceId: string }[], _from: Date, _to: Date, nowMs: number = Date.now()): Promise<string> {
    return (await this.readWithHolds(pairs, nowMs)).generations;
  }

  /**
   * The same read, with each system's live holds as read (the sorted set's members): handed to the supplier
   * subgraphs with the request this read comes before, so that they need not read them again (common/holds.ts
   * passedHold).
   */
  async readWithHolds(pairs: readonly { system: string; serviceId: string }[], nowMs: number = Date.now()): Promise<GenerationsRead> {
    const layout = this.layoutOf(pairs);
    const gets = groupedCommands<GenerationKey, string | null>(this.redis, layout.generations, (g) => g.tag, (p, group) => void p.mget(group.map((g) => g.key)));
    const results = await runBatch<(string | null)[] | string[]>(this.redis, [
      ...gets.commands,
      ...layout.systems.map(({ tag, key }) => ({ tag, queue: (p: ChainableCommander) => void p.zrangebyscore(key, `(${nowMs}`, '+inf') })),
    ]);
    const generations = gets.unpack(results.slice(0, gets.commands.length)).map((v) => v ?? '0').join(',');
    const members = results.slice(gets.commands.length) as string[][];
    const holds = new Map(layout.systems.map(({ system }, i) => [system, members[i]!] as const));
    const held = members.map((v) => v.join(';'));
    return {
      generations: held.every((h) => h === '') ? generations : `${generations}|${createHash('sha256').update(held.join('|')).digest('base64url').slice(0, 22)}`,
      holds,
    };
  }
}

interface GenerationKey {
  /** The service's hash tag (serviceDigest). */
  tag: string;
  /** Its generation's key (serviceGenerationKey). */
  key: string;
}

/** What a read of one pairs list asks Redis for (SlotGenerations.layoutOf). */
interface ReadLayout {
  generations: readonly GenerationKey[];
  systems: readonly { system: string; tag: string; key: string }[];
}

export interface GenerationsRead {
  /** What an answer is stored and compared with (SlotGenerations). */
  generations: string;
  /** Each system's live holds as read: the members of its sorted set (common/holds.ts). */
  holds: ReadonlyMap<string, readonly string[]>;
}

export interface CachedAnswer<A> {
  answer: A;
  generations: string;
  /** The (system, service) pairs behind the answer, whose generations are read again before each reuse. */
  pairs: readonly { system: string; serviceId: string }[];
}

export interface AnswerCacheOptions {
  /** How long an answer is fresh. */
  ttlMs: number;
  /** How long after that it is still reused, while one refresh runs in the background (default: ttlMs). */
  staleMs?: number;
  maxEntries?: number;
  /** Background refreshes running at once, at most (default 8). */
  maxRefreshes?: number;
  generations: SlotGenerations;
  clock?: () => number;
}

/** A kept answer, and whether it has outlived its ttl (reusable still, while it is refreshed). */
export interface AnswerHit<A> {
  entry: CachedAnswer<A>;
  stale: boolean;
}

/**
 * Merged answers of identical searches, reused while their slot generations hold (see SlotGenerations). Past its
 * ttl an answer is reused for up to `staleMs` more while it is refreshed in the background (stale-while-revalidate):
 * a burst of identical searches then never waits for the refetch, and the generation check still runs on every
 * reuse, so a booking is seen at once either way. What ages meanwhile is only what changed at a supplier outside
 * this gateway, which a reused answer already says (its slots are labelled CACHE, with their true fetchedAt); a
 * search with maxAge is never answered from here. A refresh that does not replace the answer (a supplier failed, so
 * nothing was kept; or it threw) ends the stale answer's reuse, so the next search fetches and reports the failure in
 * its coverage rather than hiding it behind an older, complete answer.
 */
export class AnswerCache<A> {
  private readonly local: LRUCache<string, { entry: CachedAnswer<A>; freshUntil: number; storedAt: number }>;
  private readonly clock: () => number;
  private readonly refreshing = new Set<string>();

  constructor(private readonly opts: AnswerCacheOptions) {
    this.clock = opts.clock ?? (() => performance.now());
    this.local = expiringMap(opts.maxEntries ?? 500, this.clock);
  }

  /** The generations now, to store with an answer about to be fetched, or compare with a stored one. */
  generationsNow(pairs: readonly { system: string; serviceId: string }[], from: Date, to: Date): Promise<string> {
    return this.opts.generations.read(pairs, from, to);
  }

  /** The same, with the live holds read (SlotGenerations.readWithHolds), before an answer is fetched. */
  generationsAndHoldsNow(pairs: readonly { system: string; serviceId: string }[]): Promise<GenerationsRead> {
    return this.opts.generations.readWithHolds(pairs);
  }

  /** How long an answer is kept in all, fresh then stale. */
  get lifeMs(): number {
    return this.opts.ttlMs + (this.opts.staleMs ?? this.opts.ttlMs);
  }

  /** This cache's clock, to pass back to `set` as the time a fetch started. */
  now(): number {
    return this.clock();
  }

  peek(key: string): AnswerHit<A> | undefined {
    const held = this.local.get(key);
    return held && { entry: held.entry, stale: held.freshUntil <= this.clock() };
  }

  /** Keeps `entry`, unless an answer fetched after `fetchStartedAt` is already kept (a slow refresh loses). */
  set(key: string, entry: CachedAnswer<A>, fetchStartedAt: number = this.clock()): void {
    const held = this.local.get(key);
    if (held && held.storedAt > fetchStartedAt) return;
    const now = this.clock();
    this.local.set(key, { entry, freshUntil: now + this.opts.ttlMs, storedAt: now }, { ttl: this.lifeMs });
  }

  /**
   * Runs `work` in the background unless `key` is already being refreshed or `maxRefreshes` are running (the stale
   * answer is served either way): at most one refresh per key, and a bounded number in all, whatever clients send.
   * Never awaited; failures go to `onError`.
   */
  refresh(key: string, work: () => Promise<unknown>, onError: (err: unknown) => void): void {
    if (this.refreshing.has(key) || this.refreshing.size >= (this.opts.maxRefreshes ?? 8)) return;
    const stale = this.local.get(key);
    this.refreshing.add(key);
    const ended = (err?: unknown) => {
      // Not replaced: this answer is not reused again (see the class comment).
      if (stale && this.local.get(key) === stale) this.local.delete(key);
      if (err !== undefined) {
        try {
          onError(err);
        } catch {
          // A failing report must not become an unhandled rejection.
        }
      }
    };
    Promise.resolve()
      .then(work)
      .then(() => ended(), (err: unknown) => ended(err ?? new Error('refresh failed')))
      .finally(() => this.refreshing.delete(key));
  }
}
