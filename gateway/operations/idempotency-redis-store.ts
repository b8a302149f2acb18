/** Idempotency records in Redis, shared by every gateway replica; each claim decided and written atomically. */
import { RECORD_TTL_MS, type Claim, type IdempotencyRecord, type IdempotencyStore, type StoredOutcome } from './idempotency.js';
import type { RedisClient } from '../../subgraphs/kit/redis.js';

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
    await this.redis.set(this.prefix + key, JSON.stringify(record), 'PX', RECORD_TTL_MS);
  }

  async release(key: string, fingerprint: string): Promise<void> {
    await this.redis.eval(RELEASE_SCRIPT, 1, this.prefix + key, fingerprint);
  }
}
