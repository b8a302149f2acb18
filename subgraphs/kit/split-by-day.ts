/**
 * A run's slots into its London days (slot-cache.ts stores one bucket per day), each day's earliest first; a slot
 * outside the run's days (a lax supplier) or with no readable start is dropped. Pure.
 */
import { dayEnd, dayStart, type LondonDay } from '../../common/london-day.js';
import { startMs } from '../../common/top-slots.js';

export function splitByDay<S extends { start: string }>(slots: readonly S[], days: readonly LondonDay[]): Map<LondonDay, S[]> {
  const byDay = new Map<LondonDay, S[]>(days.map((d) => [d, []]));
  // Each day's bounds once, compared per slot: a cold search splits thousands of slots over a week's days, and
  // londonDay per slot (its offset, then its date as text) was a visible share of storing them.
  const bounds = days.map((d) => ({ from: dayStart(d), to: dayEnd(d), list: byDay.get(d)! }));
  let at = 0;
  for (const s of slots) {
    // startMs parses each start once and keeps it on the slot, for this and for ranking (common/top-slots.ts).
    const ms = startMs(s);
    // Slots mostly come in order of start, so the day of the slot before is tried first.
    if (!(at < bounds.length && ms >= bounds[at]!.from && ms <= bounds[at]!.to)) at = bounds.findIndex((b) => ms >= b.from && ms <= b.to);
    if (at >= 0) bounds[at]!.list.push(s);
    else at = 0;
  }
  for (const list of byDay.values()) list.sort((a, b) => startMs(a) - startMs(b));
  return byDay;
}
