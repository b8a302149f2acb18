/**
 * Where the slot cache keeps its day buckets: Redis (slot-buckets-redis.ts), shared by every replica of every
 * supplier subgraph, or this process's memory when there is no REDIS_URL. Both implement BucketStore with the same
 * semantics; the policy (freshness, staleness, single-flight, negative caching) lives above them in slot-cache.ts
 * and is the same for both.
 *
 * Layout. One entry per (system, service, London day) holds:
 *   - a generation number, bumped by every invalidation;
 *   - per audience, the day's bucket (slots, compact JSON) and/or a recent failure (negative entry).
 * Grouping the audiences under the day is what lets a booking invalidate the day for every audience in one step
 * without knowing which audiences exist. A write carries the generation it read before fetching and is dropped if
 * the day was invalidated meanwhile, so a search that raced a booking cannot put the pre-booking view back.
 *
 * Keys are SHA-256 digests: the inputs (registry ids, DoS service ids, ODS codes, dates) are not secret, so no
 * keyed hash is needed, but digests keep keys short and uniform and keep identifiers out of `KEYS`/`MONITOR`.
 * Values hold slot data and failure reasons only; the store never sees consumers, patients or tokens.
 */
import { createHash } from 'node:crypto';

export interface BucketAddress {
  /** Digest of (system, service, day): every audience's entry of that day lives under it. */
  day: string;
  /** Digest of the audience. */
  audience: string;
}

export interface StoredEntry {
  /** The day's generation when read: pass it back to write(). */
  generation: number;
  bucket?: string;
  /** The bucket's version, where the store keeps one: pass it back to read() with the text, as `KnownBucket`. */
  version?: string;
  failure?: string;
}

/**
 * A bucket's text the reader already holds, with the version it was read at: a store that keeps versions then sends
 * the text again only when it changed (most warm reads move a few bytes per bucket instead of its every slot).
 */
export interface KnownBucket {
  version: string;
  text: string;
}

/** Exactly one of bucket and failure. A bucket replaces the audience's failure; a failure leaves its bucket. */
export interface BucketWrite {
  address: BucketAddress;
  generation: number;
  bucket?: string;
  failure?: string;
  /** How long the day's entry must live at least (garbage collection only: freshness is decided from values). */
  lifetimeMs: number;
}

export interface BucketStore {
  /** Each address's entry; where `known[i]` is still the bucket's version, its `bucket` is `known[i].text` itself. */
  read(addresses: readonly BucketAddress[], known?: readonly (KnownBucket | undefined)[]): Promise<StoredEntry[]>;
  /** Stores each write whose day is still at its generation; returns how many were stored. */
  write(writes: readonly BucketWrite[]): Promise<number>;
  /** Drops every audience's bucket and failure of these days and bumps their generation. */
  invalidate(days: readonly string[], lifetimeMs: number): Promise<void>;
  /**
   * A short exclusive lock on each bucket (single-flight), in the order given: false where another holder has it.
   * True again for the token that holds it, so a claim whose answer was lost (a timeout) can be asked again without
   * locking itself out. All of a request's buckets in one call: a round trip, not one per bucket.
   */
  lock(addresses: readonly BucketAddress[], token: string, ttlMs: number): Promise<boolean[]>;
  /** Releases each lock `token` still holds. */
  unlock(addresses: readonly BucketAddress[], token: string): Promise<void>;
}

export function bucketAddress(system: string, serviceId: string, day: string, audience: string): BucketAddress {
  return { day: dayDigest(system, serviceId, day), audience: digest(audience, 16) };
}

/**
 * The (system, service)'s digest, then the day's: 128 bits for the day, so collisions across every service-day there
 * will ever be are not a concern. The first SERVICE_DIGEST_CHARS characters name the (system, service), so a store
 * that shards (Redis Cluster) can keep a service's days together and a request's reads in few round trips.
 */
export function dayDigest(system: string, serviceId: string, day: string): string {
  return serviceDigest(system, serviceId) + digest(`${system}\n${serviceId}\n${day}`, 32);
}

export const SERVICE_DIGEST_CHARS = 12;

/** The (system, service) part of every dayDigest of that service: its keys' hash tag. */
export function serviceDigest(system: string, serviceId: string): string {
  return digest(`${system}\n${serviceId}`, SERVICE_DIGEST_CHARS);
}

/** Where the Redis store keeps the buckets (subgraphs/kit/slot-buckets-redis.ts has the whole layout). */
export const REDIS_SLOT_PREFIX = 'slots:v2:';

/**
 * The Redis key of a service's generation, by its tag (serviceDigest): the one key layout both sides read, the
 * supplier subgraphs that bump it and the gateway that checks a reused answer against it (read-cache.ts).
 */
export function serviceGenerationKey(tag: string): string {
  return `${REDIS_SLOT_PREFIX}{${tag}}g`;
}

/** Digests computed before: every warm read names the same few thousand service-days again (bounded; oldest out). */
const digests = new Map<string, string>();
const MAX_DIGESTS = 20_000;

function digest(text: string, hexChars: number): string {
  const key = `${hexChars}\n${text}`;
  let d = digests.get(key);
  if (d === undefined) {
    d = createHash('sha256').update(text).digest('hex').slice(0, hexChars);
    digests.set(key, d);
    if (digests.size > MAX_DIGESTS) digests.delete(digests.keys().next().value!);
  }
  return d;
}

interface MemoryDay {
  generation: number;
  expiresAt: number;
  buckets: Map<string, { bucket?: string; failure?: string }>;
}

/**
 * The in-process store: what `npm start` uses without REDIS_URL. Single process, so single-flight is exact; bounded
 * (the least recently written days go first when full), and entries expire like Redis keys do.
 */
export class MemoryBucketStore implements BucketStore {
  private readonly days = new Map<string, MemoryDay>();
  private readonly locks = new Map<string, { token: string; until: number }>();

  constructor(
    private readonly maxDays = 20_000,
    private readonly clock: () => number = () => performance.now(),
  ) {}

  async read(addresses: readonly BucketAddress[]): Promise<StoredEntry[]> {
    return addresses.map((a) => {
      const day = this.live(a.day);
      const entry = day?.buckets.get(a.audience);
      return { generation: day?.generation ?? 0, ...entry };
    });
  }

  async write(writes: readonly BucketWrite[]): Promise<number> {
    let stored = 0;
    for (const w of writes) {
      const day = this.live(w.address.day) ?? { generation: 0, expiresAt: 0, buckets: new Map() };
      if (day.generation !== w.generation) continue;
      const current = day.buckets.get(w.address.audience) ?? {};
      day.buckets.set(w.address.audience, w.bucket !== undefined ? { bucket: w.bucket } : { ...current, failure: w.failure! });
      day.expiresAt = Math.max(day.expiresAt, this.clock() + w.lifetimeMs);
      this.put(w.address.day, day);
      stored++;
    }
    return stored;
  }

  async invalidate(days: readonly string[], lifetimeMs: number): Promise<void> {
    for (const d of days) {
      const generation = (this.live(d)?.generation ?? 0) + 1;
      this.put(d, { generation, expiresAt: this.clock() + lifetimeMs, buckets: new Map() });
    }
  }

  async lock(addresses: readonly BucketAddress[], token: string, ttlMs: number): Promise<boolean[]> {
    return addresses.map((address) => {
      const key = `${address.day}:${address.audience}`;
      const held = this.locks.get(key);
      if (held && held.until > this.clock()) return held.token === token;
      this.locks.set(key, { token, until: this.clock() + ttlMs });
      return true;
    });
  }

  async unlock(addresses: readonly BucketAddress[], token: string): Promise<void> {
    for (const address of addresses) {
      const key = `${address.day}:${address.audience}`;
      if (this.locks.get(key)?.token === token) this.locks.delete(key);
    }
  }

  private live(day: string): MemoryDay | undefined {
    const d = this.days.get(day);
    if (d && d.expiresAt <= this.clock()) {
      this.days.delete(day);
      return undefined;
    }
    return d;
  }

  /** (Re)inserts at the end, so Map order is write order and the front is the oldest to evict. */
  private put(key: string, day: MemoryDay): void {
    this.days.delete(key);
    this.days.set(key, day);
    while (this.days.size > this.maxDays) this.days.delete(this.days.keys().next().value!);
  }
}
