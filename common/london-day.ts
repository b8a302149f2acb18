/**
 * Europe/London calendar days, the unit of the slot cache (slot-cache.ts).
 *
 * Why London days and not UTC days: the services and their suppliers live by the UK clock. Oakfield's API speaks
 * only local dates (a session never crosses local midnight), Booking Standard diaries are built per local day, and a
 * booking or cancellation names a local day. During summer time a UTC day runs from 01:00 to 01:00 local, so "this
 * evening" would straddle two buckets, a bucket would no longer be one `from=…&to=…` date query, and invalidating
 * "the day of this booking" would need two buckets. A London day is 23, 24 or 25 hours long; nothing here assumes 24.
 */

import { LONDON, compatibleInstant, offsetMinutesAt } from './zoned-time.js';

export type LondonDay = string; // YYYY-MM-DD

const MINUTE_MS = 60_000;
/** Midnights remembered: windows reach at most a year ahead, so this covers every day a process is asked about. */
const MIDNIGHTS_KEPT = 800;
const midnights = new Map<LondonDay, number>();

/** YYYY-MM-DD of a UTC instant; days outside years 0000–9999 have no such form and are refused. */
function isoDay(ms: number): LondonDay {
  const iso = new Date(ms).toISOString();
  if (iso.length !== 24) throw new RangeError(`no four-digit-year day at ${iso}`);
  return iso.slice(0, 10);
}

/** The London calendar day an instant falls on. */
export function londonDay(ms: number): LondonDay {
  return isoDay(ms + offsetMinutesAt(LONDON, ms) * MINUTE_MS);
}

/**
 * The instant London's clocks read 00:00 on `day`. UK clocks change at 01:00 UTC, never at local midnight, so
 * midnight happens exactly once (Temporal's 'compatible' reading would still pick one if a rule ever changed that).
 */
export function dayStart(day: LondonDay): number {
  const kept = midnights.get(day);
  if (kept !== undefined) return kept;
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) throw new RangeError(`not a date: ${day}`);
  const ms = compatibleInstant(LONDON, day, 0);
  if (ms === null) throw new RangeError(`not a date: ${day}`);
  if (midnights.size >= MIDNIGHTS_KEPT) midnights.clear();
  midnights.set(day, ms);
  return ms;
}

/** Calendar arithmetic on the date alone (no instants, so no DST). */
export function addDays(day: LondonDay, n: number): LondonDay {
  return isoDay(Date.parse(`${day}T00:00:00Z`) + n * 86_400_000);
}

/** No window reaching this module spans more (window-input.ts caps them at two weeks); a guard, not a rule. */
export const MAX_DAYS_COVERED = 31;

/**
 * Every London day an instant in [from, to] (both inclusive, as slot windows are) can fall on, in order. Counted
 * numerically: comparing day strings breaks past year 9999 ("+010000-01-01" sorts before "9999-12-31").
 */
export function daysCovering(from: Date, to: Date): LondonDay[] {
  const first = londonDay(from.getTime());
  const count = Math.round((Date.parse(`${londonDay(to.getTime())}T00:00:00Z`) - Date.parse(`${first}T00:00:00Z`)) / 86_400_000) + 1;
  if (!(count >= 1 && count <= MAX_DAYS_COVERED)) throw new RangeError(`a window of ${count} days is out of range`);
  return Array.from({ length: count }, (_, i) => addDays(first, i));
}

/** The last instant of a London day (slot windows are inclusive at both ends). */
export function dayEnd(day: LondonDay): number {
  return dayStart(addDays(day, 1)) - 1;
}

/**
 * Days grouped into runs of consecutive days, each spanning at most `maxSpanMs` from its first midnight to its
 * last instant (so two weeks of days is 14 runs' worth of 24 hours, or 13 when one of them is 25 hours long).
 */
export function contiguousRuns(days: Iterable<LondonDay>, maxSpanMs: number): LondonDay[][] {
  const runs: LondonDay[][] = [];
  let current: LondonDay[] = [];
  for (const day of [...new Set(days)].sort()) {
    const last = current.at(-1);
    const joins = last !== undefined && addDays(last, 1) === day && dayEnd(day) - dayStart(current[0]!) <= maxSpanMs;
    if (!joins && current.length > 0) {
      runs.push(current);
      current = [];
    }
    current.push(day);
  }
  if (current.length > 0) runs.push(current);
  return runs;
}
