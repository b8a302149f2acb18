/**
 * The slot cache's buckets in Redis (layout and semantics: slot-buckets.ts).
 *
 *   slots:v2:{<service>}d:<day>                  hash   g → generation; s:<audience digest> → bucket JSON and
 *                                                      v:<audience digest> → its version (a digest of the JSON),
 *                                                      written together; n:<audience digest> → failure JSON.
 *                                                      Expires with its contents. (`b:` fields, unversioned buckets
 *                                                      of earlier releases, are neither read nor written: replicas of
 *                                                      both releases can share a day during a rolling deploy.)
 *   slots:v2:{<service>}l:<day>:<audience digest> string single-flight lock token, PX a few seconds.
 *   slots:v2:{<service>}g                        string the service's generation: bumped with every day's, kept as
 *                                                      long as the longest day marker; the gateway reads this one key
 *                                                      per service, not one per service-day (read-cache.ts). At least
 *                                                      Redis's clock in µs, so one expired and made again never
 *                                                      repeats a number an answer may still hold.
 *
 * <service> and <day> are the two parts of the day digest (slot-buckets.ts dayDigest). The service part is a hash
 * tag: on a Redis Cluster every day and lock of one (system, service) share a slot, and services spread over the
 * cluster. Conditional writes and invalidation are Lua scripts, so "still the generation I read" and "write" are one
 * step; a write touches one key, an invalidation two of one tag. Reads for a whole request are one script on one
 * server (one round trip however many services and days it covers; a script per 256 buckets), one per service in
 * parallel on a cluster (redis-batch.ts). A reader that already holds a bucket's text at some version asks for the
 * version only, and for the text again only when the version moved (a second round trip for those alone): a warm
 * search moves a few bytes per bucket rather than every slot of it, which was most of a supplier subgraph's
 * allocation (and so its garbage collection) on a warm read.
 */
import { createHash } from 'node:crypto';
import type { ChainableCommander } from 'ioredis';
import { groupedCommands, runBatch } from '../../common/redis-batch.js';
import type { RedisClient } from '../../common/redis.js';
import { REDIS_SLOT_PREFIX, SERVICE_DIGEST_CHARS, serviceGenerationKey, type BucketAddress, type BucketStore, type BucketWrite, type KnownBucket, type StoredEntry } from '../../common/slot-buckets.js';

const PREFIX = REDIS_SLOT_PREFIX;

// KEYS[1] day hash. ARGV: expected generation, field to set, value, field to clear ('' for none), lifetime (ms),
// version field and version ('' for none: a failure leaves its audience's bucket and version as they are).
const WRITE = `
if (redis.call('HGET', KEYS[1], 'g') or '0') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], ARGV[2], ARGV[3])
if ARGV[6] ~= '' then redis.call('HSET', KEYS[1], ARGV[6], ARGV[7]) end
if ARGV[4] ~= '' then redis.call('HDEL', KEYS[1], ARGV[4]) end
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[5]) then redis.call('PEXPIRE', KEYS[1], ARGV[5]) end
return 1`;

// KEYS[1] day hash, KEYS[2] the service's generation (same hash tag). ARGV: lifetime (ms). Everything goes but the
// bumped generations.
const INVALIDATE = `
local g = tonumber(redis.call('HGET', KEYS[1], 'g') or '0') + 1
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'g', g)
redis.call('PEXPIRE', KEYS[1], ARGV[1])
local t = redis.call('TIME')
local s = tonumber(redis.call('GET', KEYS[2]) or '0') + 1
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
if s < now then s = now end
local keep = redis.call('PTTL', KEYS[2])
if keep < tonumber(ARGV[1]) then keep = tonumber(ARGV[1]) end
redis.call('SET', KEYS[2], string.format('%d', s), 'PX', keep)
return g`;

// KEYS: day hashes. ARGV, two per key: the audience digest, and '1' to read its bucket text too or '0' for the
// version only (the reader holds a text). Each key's generation, version, [text,] failure: one command for a whole
// request's buckets (one per service on a cluster) instead of one HMGET each, which cost the subgraph more CPU in
// ioredis than the rest of a warm read (see redis-batch.ts groupedCommands).
const READ = `
local out = {}
for i, key in ipairs(KEYS) do
  local a = ARGV[2 * i - 1]
  if ARGV[2 * i] == '1' then out[i] = redis.call('HMGET', key, 'g', 'v:' .. a, 's:' .. a, 'n:' .. a)
  else out[i] = redis.call('HMGET', key, 'g', 'v:' .. a, 'n:' .. a) end
end
return out`;

// KEYS: locks. ARGV: token, lifetime ms. Per lock, 1 or 0: taken when free; true again for the token already holding
// it (a claim asked again after its first answer was lost to a timeout), false for any other.
const LOCK = `
local out = {}
for i, key in ipairs(KEYS) do
  local held = redis.call('GET', key)
  if held == ARGV[1] then out[i] = 1
  elseif held then out[i] = 0
  else
    redis.call('SET', key, ARGV[1], 'PX', ARGV[2])
    out[i] = 1
  end
end
return out`;

// KEYS: locks. ARGV: token. Only the holder releases; an expired lock taken over by another is left alone.
const UNLOCK = `
local out = {}
for i, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[1] then out[i] = redis.call('DEL', key) else out[i] = 0 end
end
return out`;

/**
 * The scripts as commands (ioredis defineCommand: EVALSHA, falling back to EVAL once per connection). On a
 * pipeline they queue and return the pipeline; their results come from exec().
 */
interface Scripts {
  slotBucketRead(numberOfKeys: number, ...keysThenArgs: string[]): unknown;
  slotBucketWrite(key: string, generation: string, field: string, value: string, clear: string, lifetimeMs: string, versionField: string, version: string): unknown;
  slotDayInvalidate(key: string, serviceKey: string, lifetimeMs: string): unknown;
  slotLocksTake(numberOfKeys: number, ...keysThenArgs: string[]): unknown;
  slotLocksRelease(numberOfKeys: number, ...keysThenArgs: string[]): unknown;
}

export class RedisBucketStore implements BucketStore {
  constructor(private readonly redis: RedisClient) {
    redis.defineCommand('slotBucketRead', { lua: READ });
    redis.defineCommand('slotBucketWrite', { numberOfKeys: 1, lua: WRITE });
    redis.defineCommand('slotDayInvalidate', { numberOfKeys: 2, lua: INVALIDATE });
    // New names for the many-key scripts: a replica of the release before (one key each) shares the locks' keys.
    redis.defineCommand('slotLocksTake', { lua: LOCK });
    redis.defineCommand('slotLocksRelease', { lua: UNLOCK });
  }

  async read(addresses: readonly BucketAddress[], known: readonly (KnownBucket | undefined)[] = []): Promise<StoredEntry[]> {
    const entries: (StoredEntry | null)[] = (await this.readFields(addresses.map((a, i) => ({ a, full: !known[i] })))).map((r, i) => {
      const held = known[i];
      if (!held) return entryOf(r);
      const [g, version, failure] = r;
      // The version is a digest of the text, so equal means the same text; none means no text (both are written
      // together and dropped together); another one, read in full below.
      if (version === held.version) return entryOf([g, version, held.text, failure]);
      return version ? null : entryOf([g, null, null, failure]);
    });
    const again = addresses.flatMap((a, i) => (entries[i] === null ? [{ a, i }] : []));
    if (again.length > 0) {
      const full = await this.readFields(again.map(({ a }) => ({ a, full: true })));
      again.forEach(({ i }, j) => (entries[i] = entryOf(full[j]!)));
    }
    return entries as StoredEntry[];
  }

  /** Per address: [generation, version, text, failure] when `full`, else [generation, version, failure]. */
  private async readFields(reads: readonly { a: BucketAddress; full: boolean }[]): Promise<(string | null)[][]> {
    const grouped = groupedCommands<{ a: BucketAddress; full: boolean }, (string | null)[]>(
      this.redis,
      reads,
      (r) => serviceTag(r.a.day),
      (p, group) => void scripts(p).slotBucketRead(group.length, ...group.map((r) => dayKey(r.a.day)), ...group.flatMap((r) => [r.a.audience, r.full ? '1' : '0'])),
    );
    return grouped.unpack(await runBatch<(string | null)[][]>(this.redis, grouped.commands));
  }

  async write(writes: readonly BucketWrite[]): Promise<number> {
    const results = await runBatch<number>(
      this.redis,
      writes.map((w) => {
        const aud = w.address.audience;
        const [field, value, clear, versionField, version] =
          w.bucket !== undefined ? [`s:${aud}`, w.bucket, `n:${aud}`, `v:${aud}`, bucketVersion(w.bucket)] : [`n:${aud}`, w.failure!, '', '', ''];
        return {
          tag: serviceTag(w.address.day),
          queue: (p) =>
            scripts(p).slotBucketWrite(dayKey(w.address.day), String(w.generation), field, value, clear, String(Math.ceil(w.lifetimeMs)), versionField, version),
        };
      }),
    );
    return results.reduce((n, r) => n + r, 0);
  }

  async invalidate(days: readonly string[], lifetimeMs: number): Promise<void> {
    await runBatch(
      this.redis,
      days.map((d) => ({ tag: serviceTag(d), queue: (p) => scripts(p).slotDayInvalidate(dayKey(d), serviceGenerationKey(serviceTag(d)), String(Math.ceil(lifetimeMs))) })),
    );
  }

  async lock(addresses: readonly BucketAddress[], token: string, ttlMs: number): Promise<boolean[]> {
    const ttl = String(Math.ceil(ttlMs));
    return (await this.perLock<number>(addresses, (p, group) => void scripts(p).slotLocksTake(group.length, ...group.map(lockKey), token, ttl))).map((r) => r === 1);
  }

  async unlock(addresses: readonly BucketAddress[], token: string): Promise<void> {
    await this.perLock<number>(addresses, (p, group) => void scripts(p).slotLocksRelease(group.length, ...group.map(lockKey), token));
  }

  /** One script for many locks: per hash tag on a cluster (a service's locks share its tag), all at once otherwise. */
  private async perLock<T>(addresses: readonly BucketAddress[], queue: (p: ChainableCommander, group: readonly BucketAddress[]) => void): Promise<T[]> {
    if (addresses.length === 0) return [];
    const grouped = groupedCommands<BucketAddress, T>(this.redis, addresses, (a) => serviceTag(a.day), queue);
    return grouped.unpack(await runBatch<T[]>(this.redis, grouped.commands));
  }
}

function entryOf([g, version, bucket, failure]: (string | null | undefined)[]): StoredEntry {
  return {
    generation: g ? Number(g) : 0,
    ...(bucket ? { bucket, ...(version ? { version } : {}) } : {}),
    ...(failure ? { failure } : {}),
  };
}

/** A bucket's version: a digest of its text (so a rewrite with the same text keeps readers' decoded copies). */
export function bucketVersion(text: string): string {
  return createHash('sha256').update(text).digest('base64url').slice(0, 16);
}

/** The hash tag of a day digest's keys: its (system, service) part. */
export function serviceTag(day: string): string {
  return day.slice(0, SERVICE_DIGEST_CHARS);
}

export function dayKey(day: string): string {
  return `${PREFIX}{${serviceTag(day)}}d:${day.slice(SERVICE_DIGEST_CHARS)}`;
}

export function lockKey(a: BucketAddress): string {
  return `${PREFIX}{${serviceTag(a.day)}}l:${a.day.slice(SERVICE_DIGEST_CHARS)}:${a.audience}`;
}

function scripts(p: ChainableCommander): Scripts {
  return p as unknown as Scripts;
}
