/**
 * The feed store in this process's memory (no REDIS_URL): the lease and the snapshot are this process's own, so each
 * process polls for itself (the directory and smart-links then each make one manifest request per floor). Same
 * semantics as store-redis.ts, expiry included, so shared.ts cannot tell them apart.
 */
import type { FeedMeta, FeedState, FeedStore } from './store.js';

interface Expiring<T> {
  value: T;
  until: number;
}

export class MemoryFeedStore implements FeedStore {
  private readonly leases = new Map<string, Expiring<string>>();
  private readonly metas = new Map<string, Expiring<FeedMeta>>();
  private readonly bodies = new Map<string, Expiring<string>>();
  private readonly wants = new Map<string, Expiring<number>>();

  constructor(private readonly clock: () => number = () => Date.now()) {}

  async lease(feed: string, holder: string, ttlMs: number): Promise<boolean> {
    const held = this.live(this.leases, feed);
    if (held !== undefined && held !== holder) return false;
    this.leases.set(feed, { value: holder, until: this.clock() + ttlMs });
    return true;
  }

  async release(feed: string, holder: string): Promise<void> {
    if (this.live(this.leases, feed) === holder) this.leases.delete(feed);
  }

  async readState(feed: string): Promise<FeedState> {
    const meta = this.live(this.metas, feed);
    return { meta: meta ? { ...meta } : null, wantedAt: this.live(this.wants, feed) ?? null };
  }

  async readBody(feed: string): Promise<string | null> {
    return this.live(this.bodies, feed) ?? null;
  }

  async write(feed: string, holder: string, meta: FeedMeta, body: string | null, ttlMs: number): Promise<boolean> {
    if (this.live(this.leases, feed) !== holder) return false;
    const until = this.clock() + ttlMs;
    this.metas.set(feed, { value: { ...meta }, until });
    const current = body ?? this.live(this.bodies, feed);
    if (current !== undefined) this.bodies.set(feed, { value: current, until });
    return true;
  }

  async want(feed: string, at: number, ttlMs: number): Promise<void> {
    const prev = this.live(this.wants, feed);
    this.wants.set(feed, { value: Math.max(at, prev ?? 0), until: this.clock() + ttlMs });
  }

  async close(): Promise<void> {}

  private live<T>(map: Map<string, Expiring<T>>, key: string): T | undefined {
    const e = map.get(key);
    if (!e) return undefined;
    if (e.until <= this.clock()) {
      map.delete(key);
      return undefined;
    }
    return e.value;
  }
}
