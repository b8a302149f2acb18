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

/** Waits between background attempts to store a finished booking's record: about half a minute in all. */
export const RECORD_RETRY_DELAYS_MS: readonly number[] = [500, 1000, 2000, 4000, 8000, 15_000];

/**
 * Keeps trying `write` in the background after the first attempt failed (Redis away, or a cluster electing a new
 * master), without holding the answer: a finished booking's record then lands once a replica has taken over, and the
 * 24-hour promise holds for bookings that finished while it moved. Only for finished ("done") records: a late
 * release or "unknown" could undo a later attempt's claim. Timers do not keep the process alive.
 */
export function retryInBackground(
  write: () => Promise<void>,
  onGiveUp: (err: unknown) => void,
  delaysMs: readonly number[] = RECORD_RETRY_DELAYS_MS,
): void {
  const attempt = (i: number) => {
    const timer = setTimeout(() => {
      write().catch((err: unknown) => (i + 1 < delaysMs.length ? attempt(i + 1) : onGiveUp(err)));
    }, delaysMs[i]);
    timer.unref();
  };
  if (delaysMs.length > 0) attempt(0);
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

/** What a claim does with the record it finds; the Redis store's script applies the same rules. */
export function decideClaim(current: IdempotencyRecord | null, fingerprint: string, now: number): Claim | 'take' | 'take-unknown' {
  if (!current) return 'take';
  if (current.fingerprint !== fingerprint) return { kind: 'mismatch' };
  if (current.state === 'done') return { kind: 'done', result: current.result };
  if (current.state === 'unknown') return 'take-unknown';
  return current.leaseUntil < now ? 'take-unknown' : { kind: 'in-progress' };
}
