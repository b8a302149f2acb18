/** Idempotency records in this process: one gateway replica without Redis (start-up says so), and tests. */
import { RECORD_TTL_MS, decideClaim, type Claim, type IdempotencyRecord, type IdempotencyStore } from './idempotency.js';

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
