/**
 * The slot cache's buckets in Redis (layout and semantics: slot-buckets.ts).
 *
 *   slots:v1:d:<day digest>                  hash   g → generation; b:<audience digest> → bucket JSON;
 *                                                   n:<audience digest> → failure JSON. Expires with its contents.
 *   slots:v1:l:<day digest>:<audience digest> string single-flight lock token, PX a few seconds.
 *
 * Conditional writes and invalidation are Lua scripts, so "still the generation I read" and "write" are one step.
 * Every script touches one key, so the layout works unchanged on Redis Cluster. Reads for a whole request go in one
 * pipeline (one round trip however many services and days it covers).
 */
import type { Redis } from 'ioredis';
import type { BucketAddress, BucketStore, BucketWrite, StoredEntry } from './slot-buckets.js';

const PREFIX = 'slots:v1:';

// KEYS[1] day hash. ARGV: expected generation, field to set, value, field to clear ('' for none), lifetime (ms).
const WRITE = `
if (redis.call('HGET', KEYS[1], 'g') or '0') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], ARGV[2], ARGV[3])
if ARGV[4] ~= '' then redis.call('HDEL', KEYS[1], ARGV[4]) end
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[5]) then redis.call('PEXPIRE', KEYS[1], ARGV[5]) end
return 1`;

// KEYS[1] day hash. ARGV: lifetime (ms). Everything goes but the bumped generation.
const INVALIDATE = `
local g = tonumber(redis.call('HGET', KEYS[1], 'g') or '0') + 1
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'g', g)
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return g`;

// KEYS[1] lock. ARGV: token. Only the holder releases; an expired lock taken over by another is left alone.
const UNLOCK = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

/**
 * The scripts as commands (ioredis defineCommand: EVALSHA, falling back to EVAL once per connection). On a
 * pipeline they queue and return the pipeline; their results come from exec().
 */
interface Scripts {
  slotBucketWrite(key: string, generation: string, field: string, value: string, clear: string, lifetimeMs: string): unknown;
  slotDayInvalidate(key: string, lifetimeMs: string): unknown;
  slotLockRelease(key: string, token: string): Promise<number>;
}

export class RedisBucketStore implements BucketStore {
  constructor(private readonly redis: Redis) {
    redis.defineCommand('slotBucketWrite', { numberOfKeys: 1, lua: WRITE });
    redis.defineCommand('slotDayInvalidate', { numberOfKeys: 1, lua: INVALIDATE });
    redis.defineCommand('slotLockRelease', { numberOfKeys: 1, lua: UNLOCK });
  }

  async read(addresses: readonly BucketAddress[]): Promise<StoredEntry[]> {
    if (addresses.length === 0) return [];
    const p = this.redis.pipeline();
    for (const a of addresses) p.hmget(dayKey(a.day), 'g', `b:${a.audience}`, `n:${a.audience}`);
    const results = await execAll<(string | null)[]>(p.exec());
    return results.map(([g, bucket, failure]) => ({
      generation: g ? Number(g) : 0,
      ...(bucket ? { bucket } : {}),
      ...(failure ? { failure } : {}),
    }));
  }

  async write(writes: readonly BucketWrite[]): Promise<number> {
    if (writes.length === 0) return 0;
    const p = this.redis.pipeline() as unknown as Scripts & { exec: Redis['exec'] };
    for (const w of writes) {
      const aud = w.address.audience;
      const [field, value, clear] = w.bucket !== undefined ? [`b:${aud}`, w.bucket, `n:${aud}`] : [`n:${aud}`, w.failure!, ''];
      p.slotBucketWrite(dayKey(w.address.day), String(w.generation), field, value, clear, String(Math.ceil(w.lifetimeMs)));
    }
    const results = await execAll<number>(p.exec());
    return results.reduce((n, r) => n + r, 0);
  }

  async invalidate(days: readonly string[], lifetimeMs: number): Promise<void> {
    if (days.length === 0) return;
    const p = this.redis.pipeline() as unknown as Scripts & { exec: Redis['exec'] };
    for (const d of days) p.slotDayInvalidate(dayKey(d), String(Math.ceil(lifetimeMs)));
    await execAll(p.exec());
  }

  async lock(address: BucketAddress, token: string, ttlMs: number): Promise<boolean> {
    return (await this.redis.set(lockKey(address), token, 'PX', Math.ceil(ttlMs), 'NX')) === 'OK';
  }

  async unlock(address: BucketAddress, token: string): Promise<void> {
    await (this.redis as unknown as Scripts).slotLockRelease(lockKey(address), token);
  }
}

export function dayKey(day: string): string {
  return `${PREFIX}d:${day}`;
}

function lockKey(a: BucketAddress): string {
  return `${PREFIX}l:${a.day}:${a.audience}`;
}

/** A pipeline's results, or its first error thrown (a half-answered pipeline is treated as Redis being away). */
async function execAll<T>(exec: Promise<[Error | null, unknown][] | null>): Promise<T[]> {
  const results = await exec;
  if (!results) throw new Error('redis pipeline discarded');
  return results.map(([err, value]) => {
    if (err) throw err;
    return value as T;
  });
}
