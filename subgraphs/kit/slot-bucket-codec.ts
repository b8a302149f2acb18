/**
 * A day bucket's text as the slot cache stores it (Redis or in process), and back. Pure.
 *
 *   { "f": fetchedAt (epoch ms), "c": { fields every slot has alike }, "t": [ each slot's other fields ] }
 *
 * A supplier's slots for one service and day differ mostly in id and times: kind, time zone, status, channel, the
 * nulls of what the supplier does not say are the same on every one. They are written once per bucket (`c`), which
 * cuts the text a cold search writes to Redis and a reader parses by more than a third (the bench's cold search: 4.0
 * → 2.5 MB, 540 → 340 characters a slot). `source` is never stored (a decoded slot is CACHE); `fetchedAt` only where it is not the bucket's.
 *
 * The slots are under `t`, not the `s` of the earlier format (every field in each slot), so a replica of the earlier
 * release reads a bucket of this one as unreadable (a miss: it fetches and writes its own) rather than as slots with
 * fields missing; this release still reads the earlier format. Replicas of both can share Redis during a rolling
 * deploy.
 */
import type { CacheableSlot, DaySlots } from './slot-cache.js';

type Row = Record<string, unknown>;

const MAX_EPOCH_MS = 8.64e15;
const NONE: readonly never[] = Object.freeze([]);

interface StoredBucket {
  /** fetchedAt, epoch ms. */
  f: number;
  /** Fields every slot has with the same value: a string, number, boolean, null or empty list. */
  c: Row;
  /** The slots, earliest first, without the common fields, `source`, and `fetchedAt` when it is the bucket's. */
  t: Row[];
}

/** The earlier format: every slot whole. */
interface EarlierBucket {
  f: number;
  s: Row[];
}

export function encodeBucket(slots: readonly CacheableSlot[], fetchedAt: string): string {
  const common = commonFields(slots as unknown as readonly Row[]);
  const t = slots.map((slot) => {
    const row: Row = {};
    for (const k in slot) {
      if (k === 'source' || Object.hasOwn(common, k)) continue;
      const v = (slot as unknown as Row)[k];
      if (k === 'fetchedAt' && v === fetchedAt) continue;
      row[k] = v;
    }
    return row;
  });
  const stored: StoredBucket = { f: Date.parse(fetchedAt), c: common, t };
  return JSON.stringify(stored);
}

/** A stored bucket as served: every slot marked CACHE, with the fetchedAt the supplier's answer had; null if unreadable. */
export function decodeBucket<S extends CacheableSlot>(text: string): DaySlots<S> | null {
  let v: Partial<StoredBucket & EarlierBucket>;
  try {
    v = JSON.parse(text) as Partial<StoredBucket & EarlierBucket>;
  } catch {
    return null;
  }
  // An epoch ms a Date can hold (toISOString throws beyond it): anything else is no bucket of ours.
  if (typeof v !== 'object' || v === null || typeof v.f !== 'number' || !(Math.abs(v.f) <= MAX_EPOCH_MS)) return null;
  const fetchedAt = new Date(v.f).toISOString();
  if (Array.isArray(v.t) && typeof v.c === 'object' && v.c !== null && !Array.isArray(v.c)) {
    const c = Object.create(null) as Row;
    for (const [k, x] of Object.entries(v.c)) c[k] = Array.isArray(x) && x.length === 0 ? NONE : x;
    return { slots: v.t.map((s) => ({ fetchedAt, ...c, ...s, source: 'CACHE' }) as unknown as S), fetchedAt, source: 'CACHE' };
  }
  if (Array.isArray(v.s)) return { slots: v.s.map((s) => ({ fetchedAt, ...s, source: 'CACHE' }) as unknown as S), fetchedAt, source: 'CACHE' };
  return null;
}

/**
 * The fields of the first slot that every slot has with the same value, where that value is written the same
 * whatever shares it (a primitive, null, an empty list). `fetchedAt` and `source` are not among them (handled
 * apart). None for fewer than two slots: nothing would be saved.
 */
function commonFields(rows: readonly Row[]): Row {
  const common: Row = {};
  if (rows.length < 2) return common;
  const first = rows[0]!;
  for (const k in first) {
    if (k === 'fetchedAt' || k === 'source') continue;
    const v = first[k];
    const empty = Array.isArray(v) && v.length === 0;
    if (v === undefined || (!empty && v !== null && typeof v === 'object')) continue;
    let alike = true;
    for (let i = 1; i < rows.length && alike; i++) {
      const w = rows[i]![k];
      alike = empty ? Array.isArray(w) && w.length === 0 : w === v;
    }
    // One list shared by every decoded slot of the bucket: frozen, as decoded slots are never changed.
    if (alike) common[k] = empty ? NONE : v;
  }
  return common;
}
