/**
 * Europe/London wall clock ↔ instants, for a supplier that speaks only local dates and times (Oakfield: sessions,
 * appointment times and bookings are `YYYY-MM-DD` + `HH:mm`, with `fold` marking the second pass through the hour the
 * clocks go back; sandbox/pas-rest/API.md section 3).
 *
 * Through Temporal (common/zoned-time.ts), independent of the simulator's helpers (sandbox/lib/london-time.ts), so a
 * mistake in one cannot hide behind the same mistake in the other. Nothing here assumes the UK's two offsets or its
 * change dates.
 */
import { LRUCache } from 'lru-cache';
import { LONDON, compatibleInstant, instantsReading, msSinceTransition, offsetMinutesAt as zoneOffsetMinutesAt, wallClockAt as zoneWallClockAt } from '../../common/zoned-time.js';

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;

export type Fold = 0 | 1;

/** Minutes east of UTC in force in London at an instant. */
export function offsetMinutesAt(ms: number): number {
  return zoneOffsetMinutesAt(LONDON, ms);
}

/** The London wall-clock reading of an instant: its local date, minutes after local midnight, and the offset. */
export function wallClockAt(ms: number): { date: string; minutes: number; offset: number } {
  return zoneWallClockAt(LONDON, ms);
}

/**
 * Every instant at which London clocks read `minutes` after midnight on `date`, earliest first: none in the spring
 * gap, two in the autumn overlap, one otherwise. `minutes` may be 1440 (24:00, the next midnight).
 */
export function readings(date: string, minutes: number): number[] {
  return instantsReading(LONDON, date, minutes);
}

/**
 * The instant an appointment time means: the first reading, or the second when `fold` is 1. Null when the clock
 * never shows that time that day, or shows it once and fold 1 was given: no such appointment time exists.
 */
export function appointmentInstant(date: string, minutes: number, fold: Fold): number | null {
  return readings(date, minutes)[fold] ?? null;
}

/**
 * Every session's start and end through Temporal, and every appointment time written back as London's RFC 3339,
 * were most of mapping Oakfield's sessions on a cold search; sessions share their boundaries and slots their times
 * (clinics open at the same hours, every week). London's rules do not change in a process.
 */
const boundaries = new LRUCache<string, number>({ max: 4096 });
const texts = new LRUCache<number, string>({ max: 4096 });
/** Kept for a date that names no day (compatibleInstant's null): lru-cache keeps no null. */
const NONE = Number.NaN;

/**
 * The instant a session boundary means (API.md section 3): the first reading; in the spring gap, the reading with the
 * offset in force before the change, which is the time the clock would have shown had it not jumped (01:30 → 02:30).
 */
export function boundaryInstant(date: string, minutes: number): number | null {
  const key = `${date} ${minutes}`;
  const kept = boundaries.get(key);
  if (kept !== undefined) return Number.isNaN(kept) ? null : kept;
  const ms = compatibleInstant(LONDON, date, minutes);
  // Only what a session can name (a date, a time of day) is kept: the key is bounded by what isDate and parseHhmm pass.
  if (key.length <= 16) boundaries.set(key, ms ?? NONE);
  return ms;
}

/** The fold of an instant's own reading: 1 when the clock already showed the same time earlier that night. */
export function foldOf(ms: number): Fold {
  // A reading repeats only in the hours after the clocks go back, and no zone moves them by a day: an instant a day
  // or more past the last transition reads once. Every appointment time of a session asks, and reading the clock
  // back through Temporal was most of mapping one.
  if (msSinceTransition(LONDON, ms) >= DAY_MS) return 0;
  const w = wallClockAt(ms);
  const first = readings(w.date, w.minutes)[0];
  return first !== undefined && first < ms ? 1 : 0;
}

/** `YYYY-MM-DDTHH:mm:ss±hh:mm` with the London offset in force at the instant: what the slot contract publishes. */
export function londonRfc3339(ms: number): string {
  const kept = texts.get(ms);
  if (kept !== undefined) return kept;
  const text = rfc3339(ms);
  texts.set(ms, text);
  return text;
}

function rfc3339(ms: number): string {
  const w = wallClockAt(ms);
  const sign = w.offset < 0 ? '-' : '+';
  const abs = Math.abs(w.offset);
  const seconds = String(Math.floor((((ms % MINUTE_MS) + MINUTE_MS) % MINUTE_MS) / 1000)).padStart(2, '0');
  return `${w.date}T${hhmm(w.minutes)}:${seconds}${sign}${hhmm(abs)}`;
}

/** The London calendar date of an instant, `YYYY-MM-DD`. */
export function londonDate(ms: number): string {
  return wallClockAt(ms).date;
}

/** `HH:mm` → minutes after midnight; `24:00` only when allowed (a session end). Null for anything else. */
export function parseHhmm(text: unknown, allowMidnightEnd = false): number | null {
  if (typeof text !== 'string') return null;
  if (allowMidnightEnd && text === '24:00') return 1440;
  const m = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(text);
  return m ? Number(m[1]) * 60 + Number(m[2]) : null;
}

export function hhmm(minutes: number): string {
  return `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
}

/** A real calendar date in `YYYY-MM-DD`. */
export function isDate(text: unknown): text is string {
  if (typeof text !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(text)) return false;
  const d = new Date(`${text}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === text;
}
