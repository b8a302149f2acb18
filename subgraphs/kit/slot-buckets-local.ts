/**
 * The slot cache's short in-process copy of day buckets (slot-cache.ts), what it answers from while its store
 * (Redis) is away: without it an outage sends every read to the suppliers, each replica separately.
 *
 * A bounded LRU: at most `maxEntries` entries and about `maxBytes` of values (the least recently used go first), each
 * kept `lifetimeMs` (a few seconds) from when it was last written. Written with what this process fetched and what
 * it read from the store, so an outage starts warm. Values are the store's own encoding (slot-buckets.ts): a bucket
 * and/or a recent failure per (day, audience), judged for freshness exactly as the store's are.
 *
 * Per process, it cannot see another replica's invalidation, which is why the cache reads it only while the store
 * is away and keeps it for seconds. This process's invalidations drop the day here at once, and a fetch that started
 * before one cannot write the old view back (the same guard as the store's generations, with a local counter).
 */

export interface LocalBucketsOptions {
  /** Most entries held (one per service, day and audience). */
  maxEntries: number;
  /** Most bytes of values held, roughly (UTF-16 string sizes plus a fixed overhead per entry). */
  maxBytes: number;
  /** How long an entry is kept after it was last written. */
  lifetimeMs: number;
  /** Milliseconds; the slot cache passes its own clock. */
  clock: () => number;
}

/** Five seconds: long enough to carry a Redis restart's worth of reads per bucket with one fetch, short enough that a
 * booking made through another replica meanwhile shows within seconds. */
export const DEFAULT_LOCAL_BUCKETS: Omit<LocalBucketsOptions, 'clock'> = {
  maxEntries: 5_000,
  maxBytes: 16 * 1024 * 1024,
  lifetimeMs: 5_000,
};

export interface LocalEntry {
  bucket?: string;
  failure?: string;
}

interface Held extends LocalEntry {
  day: string;
  until: number;
  bytes: number;
}

const OVERHEAD_BYTES = 128;
/** Invalidations remembered for the write-back guard: far more than can happen during one fetch. */
const MAX_DROPPED = 10_000;

export class LocalBuckets {
  private readonly entries = new Map<string, Held>();
  private bytes = 0;
  /** Bumped by every invalidation; a write carries the value it saw when its data was read or its fetch began. */
  private counter = 0;
  /** Day digest → the counter value of its last invalidation. */
  private readonly dropped = new Map<string, number>();

  constructor(private readonly opts: LocalBucketsOptions) {}

  get size(): number {
    return this.entries.size;
  }

  get sizeBytes(): number {
    return this.bytes;
  }

  /** Taken before reading or fetching: pass to put() so an invalidation in between discards the write. */
  mark(): number {
    return this.counter;
  }

  get(id: string): LocalEntry | undefined {
    const e = this.entries.get(id);
    if (!e) return undefined;
    if (e.until <= this.opts.clock()) {
      this.delete(id);
      return undefined;
    }
    // Most recently used last.
    this.entries.delete(id);
    this.entries.set(id, e);
    return { ...(e.bucket !== undefined ? { bucket: e.bucket } : {}), ...(e.failure !== undefined ? { failure: e.failure } : {}) };
  }

  /**
   * Stores what is known of one bucket (`day` is its day digest). `replace`: the store's whole view (nothing known
   * removes the entry); otherwise the store's write semantics: a bucket replaces the failure, a failure keeps the
   * bucket.
   */
  put(id: string, day: string, value: LocalEntry, mark: number, replace = false): void {
    if ((this.dropped.get(day) ?? -1) > mark) return;
    const held = replace ? undefined : this.entries.get(id);
    const current = held && held.until > this.opts.clock() ? held : undefined;
    const next: LocalEntry =
      value.bucket !== undefined || replace ? value : { ...(current?.bucket !== undefined ? { bucket: current.bucket } : {}), ...value };
    this.delete(id);
    if (next.bucket === undefined && next.failure === undefined) return;
    const bytes = 2 * (id.length + (next.bucket?.length ?? 0) + (next.failure?.length ?? 0)) + OVERHEAD_BYTES;
    // One entry larger than an eighth of the budget would flush most of the others: not worth holding.
    if (bytes > this.opts.maxBytes / 8) return;
    this.entries.set(id, { ...next, day, until: this.opts.clock() + this.opts.lifetimeMs, bytes });
    this.bytes += bytes;
    while (this.entries.size > this.opts.maxEntries || this.bytes > this.opts.maxBytes) {
      this.delete(this.entries.keys().next().value!);
    }
  }

  /** Drops these days (digests) for every audience, and stops fetches begun before now from writing them back. */
  dropDays(days: Iterable<string>): void {
    const set = new Set(days);
    if (set.size === 0) return;
    this.counter++;
    for (const d of set) {
      this.dropped.delete(d);
      this.dropped.set(d, this.counter);
    }
    while (this.dropped.size > MAX_DROPPED) this.dropped.delete(this.dropped.keys().next().value!);
    for (const [id, e] of this.entries) if (set.has(e.day)) this.delete(id);
  }

  private delete(id: string): void {
    const e = this.entries.get(id);
    if (!e) return;
    this.entries.delete(id);
    this.bytes -= e.bytes;
  }
}
