/**
 * Idempotency records for bookings: the same key with the same input returns the first definitive outcome without
 * asking the supplier again (a transient SUPPLIER_UNAVAILABLE is not kept: the next attempt tries again); the same key
 * with different input is refused. Records live 24 hours in Redis (shared by every
 * gateway replica) or, without Redis, in process.
 *
 * No patient data in clear: the key and the input are stored only as keyed hashes (HMAC: an NHS number has too few
 * digits for a plain hash to hide it), and a stored outcome holds ids, times and codes, never the patient.
 */
import { createHmac } from 'node:crypto';
import type { Redis } from 'ioredis';

export const RECORD_TTL_MS = 24 * 60 * 60 * 1000;

/** What a finished booking attempt leaves behind: enough to answer a replay, nothing about the patient. */
export interface StoredOutcome {
  outcome: string;
  /** Ids and times only: what a replay needs if the appointment cannot be read back. */
  appointment: { id: string; serviceId: string; supplierSystem: string; start: string; end: string } | null;
  message: string | null;
  field: string | null;
  /** For a hand-off: the provider's booking link and phone (no patient data). */
  handoff?: { bookingLink: string | null; bookingPhone: string | null } | null;
}

export type IdempotencyRecord =
  | { state: 'pending'; fingerprint: string; leaseUntil: number }
  | { state: 'done'; fingerprint: string; result: StoredOutcome }
  /** The last attempt may or may not have booked: the next one must reconcile before booking. */
  | { state: 'unknown'; fingerprint: string };

export type Claim =
  | { kind: 'claimed'; mayHaveBooked: boolean }
  | { kind: 'done'; result: StoredOutcome }
  | { kind: 'in-progress' }
  | { kind: 'mismatch' };

export interface IdempotencyStore {
  /**
   * Atomically takes the key for this attempt, or says why not. A pending record whose lease ran out (a gateway
   * that died mid-booking) is taken over as "may have booked".
   */
  claim(key: string, fingerprint: string, leaseMs: number, now?: number): Promise<Claim>;
  finish(key: string, record: Exclude<IdempotencyRecord, { state: 'pending' }>): Promise<void>;
  /**
   * Gives the key back after an attempt that settled nothing (the supplier was unavailable and nothing was booked),
   * so the next attempt with it tries again. Only this attempt's own pending record is removed.
   */
  release(key: string, fingerprint: string): Promise<void>;
}

/**
 * Outcomes that are final for a key: the same request would get the same answer, so a retry is answered from the
 * record. SUPPLIER_UNAVAILABLE is transient (a 429, a 5xx before anything was accepted, an open circuit): storing it
 * would answer SUPPLIER_UNAVAILABLE for 24 hours after the supplier recovered.
 */
export const DEFINITIVE_OUTCOMES: ReadonlySet<string> = new Set([
  'BOOKED', 'SLOT_UNAVAILABLE', 'INVALID_PATIENT', 'INVALID_REQUEST', 'FORBIDDEN', 'BOOK_WITH_PROVIDER',
]);

/**
 * What an attempt leaves for its key: the outcome when definitive; "unknown" when it may have booked (OUTCOME_UNKNOWN,
 * or a transient failure after an earlier attempt that may have booked, so the next one still reconciles first);
 * otherwise nothing (the key is released).
 */
export function recordAfter(
  fingerprint: string,
  result: StoredOutcome,
  mayHaveBooked: boolean,
): Exclude<IdempotencyRecord, { state: 'pending' }> | 'release' {
  if (DEFINITIVE_OUTCOMES.has(result.outcome)) return { state: 'done', fingerprint, result };
  if (result.outcome === 'OUTCOME_UNKNOWN' || mayHaveBooked) return { state: 'unknown', fingerprint };
  return 'release';
}

/** Keyed hashing for record keys, fingerprints and derived request ids. */
export class Hasher {
  constructor(private readonly secret: string) {
    if (secret.length < 16) throw new Error('the idempotency secret must be at least 16 characters');
  }

  hex(...parts: string[]): string {
    return createHmac('sha256', this.secret).update(parts.join('\u0000')).digest('hex');
  }

  /** A UUID (version 5 layout) derived from the parts: the same key always gives the same X-Request-ID. */
  uuid(...parts: string[]): string {
    const h = this.hex('request-id', ...parts);
    const variant = ((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16);
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
  }
}

/** Stable JSON: object keys sorted, so the same input always fingerprints the same. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

function decideClaim(current: IdempotencyRecord | null, fingerprint: string, now: number): Claim | 'take' | 'take-unknown' {
  if (!current) return 'take';
  if (current.fingerprint !== fingerprint) return { kind: 'mismatch' };
  if (current.state === 'done') return { kind: 'done', result: current.result };
  if (current.state === 'unknown') return 'take-unknown';
  return current.leaseUntil < now ? 'take-unknown' : { kind: 'in-progress' };
}

export class MemoryIdempotencyStore implements IdempotencyStore {
  private readonly records = new Map<string, { record: IdempotencyRecord; expires: number }>();

  async claim(key: string, fingerprint: string, leaseMs: number, now = Date.now()): Promise<Claim> {
    const entry = this.records.get(key);
    const current = entry && entry.expires > now ? entry.record : null;
    const decision = decideClaim(current, fingerprint, now);
    if (typeof decision !== 'string') return decision;
    this.records.set(key, { record: { state: 'pending', fingerprint, leaseUntil: now + leaseMs }, expires: now + RECORD_TTL_MS });
    return { kind: 'claimed', mayHaveBooked: decision === 'take-unknown' };
  }

  async finish(key: string, record: Exclude<IdempotencyRecord, { state: 'pending' }>): Promise<void> {
    this.records.set(key, { record, expires: Date.now() + RECORD_TTL_MS });
  }

  async release(key: string, fingerprint: string): Promise<void> {
    const current = this.records.get(key)?.record;
    if (current?.state === 'pending' && current.fingerprint === fingerprint) this.records.delete(key);
  }
}

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
    private readonly redis: Redis,
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
