/**
 * The feed store in Redis (layout and semantics: store.ts), shared by every process and replica.
 *
 *   feeds:v1:{<feed>}:lease   string  holder token, SET NX PX; renewed by its holder (PEXPIRE while it is still its)
 *   feeds:v1:{<feed>}:meta    string  meta JSON
 *   feeds:v1:{<feed>}:body    string  snapshot body (snapshot-codec.ts), bounded in size
 *   feeds:v1:{<feed>}:want    string  epoch ms of the latest demand for fresher data
 *
 * The feed's digest is a hash tag, so the fenced write (a Lua script over the lease, meta and body) and the state read
 * (MGET of meta and want) stay on one slot of a Redis Cluster; feeds spread over the cluster.
 */
import { decodeMeta, encodeMeta, type FeedMeta, type FeedState, type FeedStore } from './store.js';
import type { RedisClient } from '../../../common/redis.js';

export const feedKey = (feed: string, part: 'lease' | 'meta' | 'body' | 'want') => `feeds:v1:{${feed}}:${part}`;
const key = feedKey;

// KEYS[1] lease. ARGV: holder, ttl (ms). Renews only the holder's own lease.
const RENEW = `
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
return 0`;

// KEYS[1] lease. ARGV: holder.
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

// KEYS: lease, meta, body. ARGV: holder, meta JSON, body ('' to keep the stored one), ttl (ms).
const WRITE = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[4])
if ARGV[3] ~= '' then redis.call('SET', KEYS[3], ARGV[3], 'PX', ARGV[4]) else redis.call('PEXPIRE', KEYS[3], ARGV[4]) end
return 1`;

// KEYS[1] want. ARGV: at (ms), ttl (ms). Keeps the latest demand.
const WANT = `
local prev = tonumber(redis.call('GET', KEYS[1]) or '0')
local at = tonumber(ARGV[1])
if at < prev then at = prev end
redis.call('SET', KEYS[1], tostring(at), 'PX', ARGV[2])
return 1`;

interface Scripts {
  feedLeaseRenew(lease: string, holder: string, ttlMs: string): Promise<number>;
  feedLeaseRelease(lease: string, holder: string): Promise<number>;
  feedWrite(lease: string, meta: string, body: string, holder: string, metaJson: string, bodyText: string, ttlMs: string): Promise<number>;
  feedWant(want: string, at: string, ttlMs: string): Promise<number>;
}

export class RedisFeedStore implements FeedStore {
  private readonly scripts: Scripts;

  constructor(
    private readonly redis: RedisClient,
    private readonly onClose: () => Promise<void> = async () => {},
  ) {
    redis.defineCommand('feedLeaseRenew', { numberOfKeys: 1, lua: RENEW });
    redis.defineCommand('feedLeaseRelease', { numberOfKeys: 1, lua: RELEASE });
    redis.defineCommand('feedWrite', { numberOfKeys: 3, lua: WRITE });
    redis.defineCommand('feedWant', { numberOfKeys: 1, lua: WANT });
    this.scripts = redis as unknown as Scripts;
  }

  async lease(feed: string, holder: string, ttlMs: number): Promise<boolean> {
    const taken = await this.redis.set(key(feed, 'lease'), holder, 'PX', ttlMs, 'NX');
    if (taken === 'OK') return true;
    return (await this.scripts.feedLeaseRenew(key(feed, 'lease'), holder, String(ttlMs))) === 1;
  }

  async release(feed: string, holder: string): Promise<void> {
    await this.scripts.feedLeaseRelease(key(feed, 'lease'), holder);
  }

  async readState(feed: string): Promise<FeedState> {
    const [meta, want] = await this.redis.mget(key(feed, 'meta'), key(feed, 'want'));
    const wantedAt = want ? Number(want) : NaN;
    return { meta: decodeMeta(meta ?? null), wantedAt: Number.isFinite(wantedAt) ? wantedAt : null };
  }

  async readBody(feed: string): Promise<string | null> {
    return this.redis.get(key(feed, 'body'));
  }

  async write(feed: string, holder: string, meta: FeedMeta, body: string | null, ttlMs: number): Promise<boolean> {
    const done = await this.scripts.feedWrite(key(feed, 'lease'), key(feed, 'meta'), key(feed, 'body'), holder, encodeMeta(meta), body ?? '', String(ttlMs));
    return done === 1;
  }

  async want(feed: string, at: number, ttlMs: number): Promise<void> {
    await this.scripts.feedWant(key(feed, 'want'), String(Math.round(at)), String(ttlMs));
  }

  close(): Promise<void> {
    return this.onClose();
  }
}
