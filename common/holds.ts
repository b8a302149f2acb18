/**
 * Slot holds, shared by the gateway (which grants, ends and checks them) and the supplier subgraphs (which hide held
 * slots from other consumers where slots are served). Redis only: holds exist to be seen by every replica of every
 * process at once, so without Redis there are none (the gateway says so).
 *
 *   holds:v1:{<system>}:z            sorted set: one member per live hold at the supplier system, scored by its
 *                                    expiry (epoch ms). A read of a system's live holds is one ZRANGEBYSCORE from
 *                                    now: an expired member is ignored by its score the instant it expires, on every
 *                                    replica, and pruned lazily by the next grant.
 *   holds:v1:{<system>}:h:<hid>      the hold's record (JSON), PX until it expires.
 *   holds:v1:{<system>}:s:<slot>     the physical slot's exclusive lease (GATEWAY_SOFT holds): the holder's hid,
 *                                    SET NX PX. <slot> digests the adapter's slot reference, not the global slot id:
 *                                    one physical slot listed under several services (a shared diary, `alsoListedAs`)
 *                                    has one reference and so one lease, whichever of its ids was held.
 *   holds:v1:{<system>}:c:<consumer> sorted set: the consumer organisation's live holds at the system (hid, scored by
 *                                    expiry), so a grant can refuse a consumer already holding its most
 *                                    (HOLDS_PER_CONSUMER) in the same script.
 *   holds:v1:k:<hid>                 the idempotency record of the key that made the hold (24 hours): its request's
 *                                    fingerprint, and the hold once granted.
 *
 * Keyed per supplier system (a hash tag of its id), not per service, for the same reason: a hold taken through one
 * service's listing must hide and guard every other listing of that slot, so readers take the system's holds and
 * match them by reference. On a Redis Cluster a system's holds share one slot (every script touches one tag); live
 * holds are few (minutes-long leases), so one key per system is no hot spot. A hold records ids only (the slot id and
 * reference, the consumer's ODS code, the supplier's
 * hold id): there is no patient at hold time, and none is ever stored here.
 */
import { createHash } from 'node:crypto';
import { runBatch } from './redis-batch.js';
import type { RedisClient } from './redis.js';
import { decodeSlotId } from './slot-id.js';

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
  /** The service whose listing was held, and the adapter's slot reference (both from slotId): the reference is the
   * same for every listing of one physical slot. */
  serviceId: string;
  ref: string;
  consumer: string;
}

export type KeyClaim =
  | { kind: 'new' }
  | { kind: 'mismatch' }
  | { kind: 'pending' }
  | { kind: 'done'; hold: HoldRecord };

export const KEY_TTL_MS = 24 * 60 * 60 * 1000;
const PREFIX = 'holds:v1:';

/** The supplier system's tag: every key of its holds shares one cluster slot. */
export function holdTag(system: string): string {
  return createHash('sha256').update(system).digest('base64url').slice(0, 16);
}

export function holdsKey(system: string): string {
  return `${PREFIX}{${holdTag(system)}}:z`;
}

function recordKey(h: Pick<HoldRecord, 'system' | 'hid'>): string {
  return `${PREFIX}{${holdTag(h.system)}}:h:${h.hid}`;
}

/** The physical slot's lease: by the adapter's reference, so every listing of the slot shares it. */
function slotKey(h: Pick<HoldRecord, 'system' | 'slotId'>): string {
  return `${PREFIX}{${holdTag(h.system)}}:s:${createHash('sha256').update(refOf(h.slotId)).digest('base64url').slice(0, 32)}`;
}

/** The reference inside a slot id; the id itself when it is not one of ours (never the case for a granted hold). */
export function refOf(slotId: string): string {
  return decodeSlotId(slotId)?.ref ?? slotId;
}

/** The service and reference inside a slot id (see refOf). */
function listingOf(slotId: string): { serviceId: string; ref: string } {
  const d = decodeSlotId(slotId);
  return { serviceId: d?.serviceId ?? '', ref: d?.ref ?? slotId };
}

function idemKey(hid: string): string {
  return `${PREFIX}k:${hid}`;
}

/** The sorted-set member: what a reader needs, nothing more. */
function member(h: HoldRecord): string {
  return JSON.stringify([h.hid, h.slotId, h.consumer]);
}

function liveHold(m: string): LiveHold {
  const [hid, slotId, consumer] = JSON.parse(m) as [string, string, string];
  return { hid, slotId, ...listingOf(slotId), consumer };
}

/**
 * A system's live holds as the gateway read them (the sorted set's members, exactly) may be handed to a supplier
 * subgraph with the request that needs them, which then need not read that system's holds itself
 * (subgraphs/kit/slot-windows.ts). At most this many members per system are handed over (more, and the subgraph reads
 * them itself), each at most MAX_PASSED_HOLD_CHARS: an id, a slot id and an ODS code. The gateway hands over only
 * what passes these checks (choosing which, never refused for it); the subgraph refuses anything else.
 */
export const MAX_PASSED_HOLDS = 256;
export const MAX_PASSED_HOLD_CHARS = 512;
/** Systems whose holds one request may carry, and their members' characters in all (well inside a subgraph's body). */
export const MAX_PASSED_HOLD_SYSTEMS = 16;
export const MAX_PASSED_HOLDS_CHARS = 128 * 1024;

/** Whether `m` may be handed over as above: a member's shape (three strings) within MAX_PASSED_HOLD_CHARS. */
export function passableHold(m: unknown): m is string {
  if (typeof m !== 'string' || m.length > MAX_PASSED_HOLD_CHARS) return false;
  let parsed: unknown;
  try {
    parsed = JSON.parse(m);
  } catch {
    return false;
  }
  return Array.isArray(parsed) && parsed.length === 3 && parsed.every((x) => typeof x === 'string' && x.length > 0);
}

/** A member handed over as above, or null when it is not one (the caller refuses the request). */
export function passedHold(m: string): LiveHold | null {
  return passableHold(m) ? liveHold(m) : null;
}

// KEYS: set, record, slot lease, the consumer's holds at the system. ARGV: now ms, expiry ms, member, record JSON,
// exclusive ('1'/'0'), hid, the most live holds one consumer may have at the system.
// Returns {1, record} when granted (or already granted to this very hold), {0, holder hid} when the slot is leased,
// {2, ''} when the consumer already has its most.
const ACQUIRE = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
local existing = redis.call('GET', KEYS[2])
if existing then return {1, existing} end
local ttl = tonumber(ARGV[2]) - tonumber(ARGV[1])
if ttl <= 0 then return {0, ''} end
redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[4]) >= tonumber(ARGV[7]) then return {2, ''} end
if ARGV[5] == '1' then
  if not redis.call('SET', KEYS[3], ARGV[6], 'NX', 'PX', ttl) then return {0, redis.call('GET', KEYS[3]) or ''} end
end
redis.call('SET', KEYS[2], ARGV[4], 'PX', ttl)
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[3])
if redis.call('PTTL', KEYS[1]) < ttl then redis.call('PEXPIRE', KEYS[1], ttl) end
redis.call('ZADD', KEYS[4], ARGV[2], ARGV[6])
if redis.call('PTTL', KEYS[4]) < ttl then redis.call('PEXPIRE', KEYS[4], ttl) end
return {1, ARGV[4]}`;

// KEYS: set, record, slot lease, the consumer's holds. ARGV: member, hid. Ends the hold everywhere at once; 1 if it
// was live.
const END = `
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[4], ARGV[2])
local live = redis.call('DEL', KEYS[2])
if redis.call('GET', KEYS[3]) == ARGV[2] then redis.call('DEL', KEYS[3]) end
return live`;

interface Scripts {
  holdAcquire(set: string, record: string, slot: string, consumer: string, now: string, expiry: string, member: string, json: string, exclusive: string, hid: string, max: string): Promise<[number, string]>;
  holdEnd(set: string, record: string, slot: string, consumer: string, member: string, hid: string): Promise<number>;
}

/**
 * The most live holds one consumer organisation may have at one supplier system (HOLDS_PER_CONSUMER). Without a bound
 * one consumer could hold every slot of a system, five minutes at a time, and every read of that system's holds
 * would grow with it.
 */
export const DEFAULT_HOLDS_PER_CONSUMER = 50;

function consumerKey(h: Pick<HoldRecord, 'system' | 'consumer'>): string {
  return `${PREFIX}{${holdTag(h.system)}}:c:${createHash('sha256').update(h.consumer).digest('base64url').slice(0, 22)}`;
}

export class HoldStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly clock: () => number = () => Date.now(),
    private readonly perConsumer: number = DEFAULT_HOLDS_PER_CONSUMER,
  ) {
    redis.defineCommand('holdAcquire', { numberOfKeys: 4, lua: ACQUIRE });
    redis.defineCommand('holdEnd', { numberOfKeys: 4, lua: END });
  }

  private get scripts(): Scripts {
    return this.redis as unknown as Scripts;
  }

  /**
   * Grants the hold, or says who has the slot. `exclusive`: one hold per slot (GATEWAY_SOFT: we are the only
   * arbiter); otherwise (SUPPLIER) the supplier has granted it already and this records it. Granting the same hid
   * again answers the hold already granted (a retry).
   */
  async acquire(h: HoldRecord, exclusive: boolean): Promise<{ granted: true; hold: HoldRecord } | { granted: false; reason: 'HELD' | 'LIMIT' }> {
    const [ok, value] = await this.scripts.holdAcquire(
      holdsKey(h.system), recordKey(h), slotKey(h), consumerKey(h),
      String(this.clock()), String(h.expiresAtMs), member(h), JSON.stringify(h), exclusive ? '1' : '0', h.hid, String(this.perConsumer),
    );
    if (ok === 1) return { granted: true, hold: JSON.parse(value) as HoldRecord };
    return { granted: false, reason: ok === 2 ? 'LIMIT' : 'HELD' };
  }

  /** Whether `consumer` has room for another hold at `system` (checked again, atomically, when one is granted). */
  async hasRoom(system: string, consumer: string): Promise<boolean> {
    return (await this.redis.zcount(consumerKey({ system, consumer }), `(${this.clock()}`, '+inf')) < this.perConsumer;
  }

  /** The hold while it is live; null once it has expired, been released or been booked. */
  async get(ref: Pick<HoldRecord, 'system' | 'hid'>): Promise<HoldRecord | null> {
    const text = await this.redis.get(recordKey(ref));
    if (text === null) return null;
    const h = JSON.parse(text) as HoldRecord;
    return h.expiresAtMs > this.clock() ? h : null;
  }

  /** Ends a hold (released, or used by a booking); true when it was live. */
  async end(h: HoldRecord): Promise<boolean> {
    return (await this.scripts.holdEnd(holdsKey(h.system), recordKey(h), slotKey(h), consumerKey(h), member(h), h.hid)) === 1;
  }

  /**
   * Every live hold at the supplier system of each (system, service), whichever service it was taken through (match
   * them by `ref`): one command per system, batched per tag in one round trip.
   */
  async live(pairs: readonly { system: string; serviceId: string }[]): Promise<Map<string, LiveHold[]>> {
    const systems = [...new Set(pairs.map((p) => p.system))];
    const now = this.clock();
    const results = await runBatch<string[]>(
      this.redis,
      systems.map((system) => ({ tag: holdTag(system), queue: (q) => q.zrangebyscore(holdsKey(system), `(${now}`, '+inf') })),
    );
    const bySystem = new Map(systems.map((system, i) => [system, results[i]!.map(liveHold)]));
    return new Map(pairs.map((p) => [pairKey(p.system, p.serviceId), bySystem.get(p.system)!]));
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

  /** The hold as it was granted under its key, live or not (kept with the key for 24 hours); null when none was. */
  async granted(hid: string): Promise<HoldRecord | null> {
    const text = await this.redis.get(idemKey(hid));
    if (text === null) return null;
    return (JSON.parse(text) as { hold?: HoldRecord }).hold ?? null;
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
