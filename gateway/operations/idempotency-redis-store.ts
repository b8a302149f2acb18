/** Idempotency records in Redis, shared by every gateway replica; each claim decided and written atomically. */
import { Cluster } from 'ioredis';
import type { RedisClient } from '../../common/redis.js';
import { RECORD_TTL_MS, type Claim, type IdempotencyRecord, type IdempotencyStore, type StoredOutcome } from './idempotency.js';

// Decision and write in one step, so two replicas racing on one key cannot both take it.
const CLAIM_SCRIPT = `
local current = redis.call('GET', KEYS[1])
local fingerprint = ARGV[1]
local now = tonumber(ARGV[2])
local pending = ARGV[3]
local ttl = ARGV[4]
if not current then
  redis.call('SET', KEYS[1], pending, 'PX', ttl)
  return {'claimed', '0'}
end
local rec = cjson.decode(current)
if rec.fingerprint ~= fingerprint then return {'mismatch', ''} end
if rec.state == 'done' then return {'done', current} end
if rec.state == 'unknown' or (rec.state == 'pending' and tonumber(rec.leaseUntil) < now) then
  redis.call('SET', KEYS[1], pending, 'PX', ttl)
  return {'claimed', '1'}
end
return {'in-progress', ''}
`;

// Only a pending record with this fingerprint is removed: never a finished one, never another request's.
const RELEASE_SCRIPT = `
local current = redis.call('GET', KEYS[1])
if not current then return 0 end
local rec = cjson.decode(current)
if rec.state == 'pending' and rec.fingerprint == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

/** Longest a finished record waits for a replica's acknowledgement (it holds that node's connection meanwhile). */
const REPLICA_WAIT_MS = 100;

export class RedisIdempotencyStore implements IdempotencyStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly prefix = 'idem:',
  ) {}

  async claim(key: string, fingerprint: string, leaseMs: number, now = Date.now()): Promise<Claim> {
    const pending: IdempotencyRecord = { state: 'pending', fingerprint, leaseUntil: now + leaseMs };
    const [kind, payload] = (await this.redis.eval(
      CLAIM_SCRIPT,
      1,
      this.prefix + key,
      fingerprint,
      String(now),
      JSON.stringify(pending),
      String(RECORD_TTL_MS),
    )) as [string, string];
    if (kind === 'claimed') return { kind: 'claimed', mayHaveBooked: payload === '1' };
    if (kind === 'done') return { kind: 'done', result: (JSON.parse(payload) as { result: StoredOutcome }).result };
    if (kind === 'mismatch') return { kind: 'mismatch' };
    return { kind: 'in-progress' };
  }

  async finish(key: string, record: Exclude<IdempotencyRecord, { state: 'pending' }>): Promise<void> {
    const k = this.prefix + key;
    const value = JSON.stringify(record);
    if (!(this.redis instanceof Cluster)) {
      await this.redis.set(k, value, 'PX', RECORD_TTL_MS);
      return;
    }
    // Replication is asynchronous: a replica promoted after its master dies has only what had reached it. Waiting
    // (briefly) for one replica to hold the outcome means a finished booking's record survives a failover. WAIT runs
    // on the key's own node (same pipeline); if no replica answers in time the record stands on the master alone.
    const results = await this.redis.pipeline().set(k, value, 'PX', RECORD_TTL_MS).wait(1, REPLICA_WAIT_MS).exec();
    for (const [err] of results ?? []) if (err) throw err;
  }

  async release(key: string, fingerprint: string): Promise<void> {
    await this.redis.eval(RELEASE_SCRIPT, 1, this.prefix + key, fingerprint);
  }
}
