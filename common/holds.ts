/**
 * Slot holds, shared by the gateway (which grants, ends and checks them) and the supplier subgraphs (which hide held
 * slots from other consumers where slots are served). Redis only: holds exist to be seen by every replica of every
 * process at once, so without Redis there are none (the gateway says so).
 *
 *   holds:v1:{<service>}:z           sorted set: one member per live hold of the (system, service), scored by its
 *                                    expiry (epoch ms). A read of a service's live holds is one ZRANGEBYSCORE from
 *                                    now: an expired member is ignored by its score the instant it expires, on every
 *                                    replica, and pruned lazily by the next grant.
 *   holds:v1:{<service>}:h:<hid>     the hold's record (JSON), PX until it expires.
 *   holds:v1:{<service>}:s:<slot>    the slot's exclusive lease (GATEWAY_SOFT holds): the holder's hid, SET NX PX.
 *   holds:v1:k:<hid>                 the idempotency record of the key that made the hold (24 hours): its request's
 *                                    fingerprint, and the hold once granted.
 *
 * <service> is the (system, service) digest the slot cache tags its keys with (common/slot-buckets.ts dayDigest), so
 * on a Redis Cluster a service's holds share one slot with each other (every script touches one tag) and a request's
 * reads batch per tag (redis-batch.ts). A hold records ids only (the slot id, the consumer's ODS code, the supplier's
 * hold id): there is no patient at hold time, and none is ever stored here.
 */
import { createHash } from 'node:crypto';
import { runBatch } from './redis-batch.js';
import type { RedisClient } from './redis.js';
import { SERVICE_DIGEST_CHARS, dayDigest } from './slot-buckets.js';

export type HoldKind = 'SUPPLIER' | 'GATEWAY_SOFT';

/** A granted hold as stored. */
export interface HoldRecord {
  /** Our own id for it (hex), unique per consumer and idempotency key. */
  hid: string;
  system: string;
  serviceId: string;
  /** The global slot id it holds (common/slot-id.ts), exactly as the slot is served. */
  slotId: string;
  /** The ODS code of the consumer organisation holding it. */
  consumer: string;
  kind: HoldKind;
  expiresAtMs: number;
  /** For SUPPLIER holds: the supplier's own hold id. */
  supplierRef?: string | null;
}

/** A live hold as the slot-serving side reads it: which slot, and whose. */
export interface LiveHold {
  hid: string;
  slotId: string;
  consumer: string;
}

export type KeyClaim =
  | { kind: 'new' }
  | { kind: 'mismatch' }
  | { kind: 'pending' }
  | { kind: 'done'; hold: HoldRecord };

export const KEY_TTL_MS = 24 * 60 * 60 * 1000;
const PREFIX = 'holds:v1:';

/** The (system, service) tag: the slot cache's, so a service's holds and buckets share a cluster slot. */
export function holdTag(system: string, serviceId: string): string {
  return dayDigest(system, serviceId, '').slice(0, SERVICE_DIGEST_CHARS);
}

export function holdsKey(system: string, serviceId: string): string {
  return `${PREFIX}{${holdTag(system, serviceId)}}:z`;
}

function recordKey(h: Pick<HoldRecord, 'system' | 'serviceId' | 'hid'>): string {
  return `${PREFIX}{${holdTag(h.system, h.serviceId)}}:h:${h.hid}`;
}

function slotKey(h: Pick<HoldRecord, 'system' | 'serviceId' | 'slotId'>): string {
  return `${PREFIX}{${holdTag(h.system, h.serviceId)}}:s:${createHash('sha256').update(h.slotId).digest('base64url').slice(0, 32)}`;
}

function idemKey(hid: string): string {
  return `${PREFIX}k:${hid}`;
}

/** The sorted-set member: what a reader needs, nothing more. */
function member(h: HoldRecord): string {
  return JSON.stringify([h.hid, h.slotId, h.consumer]);
}

// KEYS: set, record, slot lease. ARGV: now ms, expiry ms, member, record JSON, exclusive ('1'/'0'), hid.
// Returns {1, record} when granted (or already granted to this very hold), {0, holder hid} when the slot is leased.
const ACQUIRE = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
local existing = redis.call('GET', KEYS[2])
if existing then return {1, existing} end
local ttl = tonumber(ARGV[2]) - tonumber(ARGV[1])
if ttl <= 0 then return {0, ''} end
if ARGV[5] == '1' then
  if not redis.call('SET', KEYS[3], ARGV[6], 'NX', 'PX', ttl) then return {0, redis.call('GET', KEYS[3]) or ''} end
end
redis.call('SET', KEYS[2], ARGV[4], 'PX', ttl)
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[3])
if redis.call('PTTL', KEYS[1]) < ttl then redis.call('PEXPIRE', KEYS[1], ttl) end
return {1, ARGV[4]}`;

// KEYS: set, record, slot lease. ARGV: member, hid. Ends the hold everywhere at once; 1 if it was live.
const END = `
redis.call('ZREM', KEYS[1], ARGV[1])
local live = redis.call('DEL', KEYS[2])
if redis.call('GET', KEYS[3]) == ARGV[2] then redis.call('DEL', KEYS[3]) end
return live`;

interface Scripts {
  holdAcquire(set: string, record: string, slot: string, now: string, expiry: string, member: string, json: string, exclusive: string, hid: string): Promise<[number, string]>;
  holdEnd(set: string, record: string, slot: string, member: string, hid: string): Promise<number>;
}

export class HoldStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly clock: () => number = () => Date.now(),
  ) {
    redis.defineCommand('holdAcquire', { numberOfKeys: 3, lua: ACQUIRE });
    redis.defineCommand('holdEnd', { numberOfKeys: 3, lua: END });
  }

  private get scripts(): Scripts {
    return this.redis as unknown as Scripts;
  }

  /**
   * Grants the hold, or says who has the slot. `exclusive`: one hold per slot (GATEWAY_SOFT: we are the only
   * arbiter); otherwise (SUPPLIER) the supplier has granted it already and this records it. Granting the same hid
   * again answers the hold already granted (a retry).
   */
  async acquire(h: HoldRecord, exclusive: boolean): Promise<{ granted: true; hold: HoldRecord } | { granted: false }> {
    const [ok, value] = await this.scripts.holdAcquire(
      holdsKey(h.system, h.serviceId), recordKey(h), slotKey(h),
      String(this.clock()), String(h.expiresAtMs), member(h), JSON.stringify(h), exclusive ? '1' : '0', h.hid,
    );
    return ok === 1 ? { granted: true, hold: JSON.parse(value) as HoldRecord } : { granted: false };
  }

  /** The hold while it is live; null once it has expired, been released or been booked. */
  async get(ref: Pick<HoldRecord, 'system' | 'serviceId' | 'hid'>): Promise<HoldRecord | null> {
    const text = await this.redis.get(recordKey(ref));
    if (text === null) return null;
    const h = JSON.parse(text) as HoldRecord;
    return h.expiresAtMs > this.clock() ? h : null;
  }

  /** Ends a hold (released, or used by a booking); true when it was live. */
  async end(h: HoldRecord): Promise<boolean> {
    return (await this.scripts.holdEnd(holdsKey(h.system, h.serviceId), recordKey(h), slotKey(h), member(h), h.hid)) === 1;
  }

  /** Every live hold of each (system, service): one command per service, batched per tag in one round trip. */
  async live(pairs: readonly { system: string; serviceId: string }[]): Promise<Map<string, LiveHold[]>> {
    const unique = [...new Map(pairs.map((p) => [pairKey(p.system, p.serviceId), p])).values()];
    const now = this.clock();
    const results = await runBatch<string[]>(
      this.redis,
      unique.map((p) => ({ tag: holdTag(p.system, p.serviceId), queue: (q) => q.zrangebyscore(holdsKey(p.system, p.serviceId), `(${now}`, '+inf') })),
    );
    const out = new Map<string, LiveHold[]>();
    unique.forEach((p, i) => {
      const holds = results[i]!.map((m) => {
        const [hid, slotId, consumer] = JSON.parse(m) as [string, string, string];
        return { hid, slotId, consumer };
      });
      out.set(pairKey(p.system, p.serviceId), holds);
    });
    return out;
  }

  /**
   * Takes the idempotency key for a hold attempt (or finds its earlier one). A pending claim older than `leaseMs`
   * (a gateway that died mid-hold) is taken over.
   */
  async claimKey(hid: string, fingerprint: string, leaseMs: number): Promise<KeyClaim> {
    const pending = JSON.stringify({ fingerprint, leaseUntil: this.clock() + leaseMs });
    if ((await this.redis.set(idemKey(hid), pending, 'PX', KEY_TTL_MS, 'NX')) === 'OK') return { kind: 'new' };
    const text = await this.redis.get(idemKey(hid));
    if (text === null) return this.claimKey(hid, fingerprint, leaseMs);
    const rec = JSON.parse(text) as { fingerprint: string; leaseUntil?: number; hold?: HoldRecord };
    if (rec.fingerprint !== fingerprint) return { kind: 'mismatch' };
    if (rec.hold) return { kind: 'done', hold: rec.hold };
    if ((rec.leaseUntil ?? 0) < this.clock()) {
      await this.redis.set(idemKey(hid), pending, 'PX', KEY_TTL_MS);
      return { kind: 'new' };
    }
    return { kind: 'pending' };
  }

  /** Records the granted hold against its key: a repeat with the same key answers it. */
  async finishKey(hid: string, fingerprint: string, hold: HoldRecord): Promise<void> {
    await this.redis.set(idemKey(hid), JSON.stringify({ fingerprint, hold }), 'PX', KEY_TTL_MS);
  }

  /** Frees the key after an attempt that held nothing, so a retry tries again. */
  async releaseKey(hid: string): Promise<void> {
    await this.redis.del(idemKey(hid));
  }
}

export function pairKey(system: string, serviceId: string): string {
  return `${system}\n${serviceId}`;
}
