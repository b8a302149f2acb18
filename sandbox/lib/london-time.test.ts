import { describe, expect, it } from 'vitest';
import { formatLondon, londonDateOf, londonOffsetMinutes, londonToInstant, toLondon } from './london-time.js';

/**
 * London's wall clock read straight from the platform's tz database, as the simulators did before the memo: written
 * out here, not imported, so the oracle shares no code with what it checks.
 */
const intl = new Intl.DateTimeFormat('en-GB', {
  timeZone: 'Europe/London',
  hourCycle: 'h23',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
});
function reference(ms: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const p of intl.formatToParts(new Date(ms))) if (p.type !== 'literal') out[p.type] = Number(p.value);
  return out;
}

/** Minutes east of UTC by the tz database at an instant. */
function referenceOffset(ms: number): number {
  const l = reference(ms);
  const t = Math.floor(ms / 1000) * 1000;
  return (Date.UTC(l['year']!, l['month']! - 1, l['day']!, l['hour']!, l['minute']!, l['second']!) - t) / 60_000;
}

describe('London time through the per-hour offset', () => {
  it('reads every quarter hour of two years, clock changes included, as the tz database does', () => {
    const from = Date.UTC(2026, 0, 1);
    const to = Date.UTC(2028, 0, 1);
    // An odd second and millisecond past each quarter hour, so seconds and truncation are checked too.
    for (let ms = from + 7_123; ms < to; ms += 15 * 60_000) expect(toLondon(ms), new Date(ms).toISOString()).toEqual(reference(ms));
  });

  it('changes offset at 01:00 UTC on the change days, not a millisecond before', () => {
    for (const [year, month, day, before, after] of [
      [2026, 2, 29, 0, 60],
      [2026, 9, 25, 60, 0],
      [2027, 2, 28, 0, 60],
      [2027, 9, 31, 60, 0],
    ] as const) {
      const change = Date.UTC(year, month, day, 1);
      expect(londonOffsetMinutes(change - 1)).toBe(before);
      expect(londonOffsetMinutes(change)).toBe(after);
      expect(toLondon(change - 1)).toEqual(reference(change - 1));
      expect(toLondon(change)).toEqual(reference(change));
    }
  });

  it('keeps the rules that build on it: the fall-back hour read twice, the spring gap skipped', () => {
    expect(formatLondon(Date.UTC(2026, 9, 25, 0, 30))).toBe('2026-10-25T01:30:00+01:00');
    expect(formatLondon(Date.UTC(2026, 9, 25, 1, 30))).toBe('2026-10-25T01:30:00+00:00');
    expect(londonToInstant({ year: 2026, month: 10, day: 25, hour: 1, minute: 30 })).toBe(Date.UTC(2026, 9, 25, 0, 30));
    expect(londonToInstant({ year: 2026, month: 3, day: 29, hour: 1, minute: 30 })).toBe(Date.UTC(2026, 2, 29, 1, 30));
    expect(londonDateOf(Date.UTC(2026, 5, 30, 23, 30))).toEqual({ year: 2026, month: 7, day: 1 });
  });

  it('finds every clock change from 1972 to 2099 on a whole UTC hour, where the per-hour offset relies on it', () => {
    let changes = 0;
    for (let day = Date.UTC(1972, 0, 1); day < Date.UTC(2100, 0, 1); day += 86_400_000) {
      if (londonOffsetMinutes(day) === londonOffsetMinutes(day + 86_400_000)) continue;
      // The day holds a change: read Intl hour by hour and check it happens on the hour, as the memo reads it.
      for (let hour = day; hour < day + 86_400_000; hour += 3_600_000) {
        if (referenceOffset(hour) !== referenceOffset(hour + 3_600_000 - 1)) throw new Error(`a clock change inside the UTC hour from ${new Date(hour).toISOString()}`);
        expect(toLondon(hour + 3_600_000 - 1)).toEqual(reference(hour + 3_600_000 - 1));
      }
      changes++;
    }
    expect(changes).toBe(256);
  });

  it('asks the tz database directly outside the years it remembers', () => {
    // 1840: London's local mean time, 1 min 15 s behind Greenwich, which no whole-minute offset per hour could read.
    for (const ms of [Date.UTC(1840, 0, 1, 12), Date.UTC(1968, 5, 1, 12), Date.UTC(1971, 11, 31, 23, 59), Date.UTC(2100, 6, 1, 12), -1]) {
      expect(toLondon(ms)).toEqual(reference(ms));
    }
    expect(() => toLondon(Number.NaN)).toThrow(RangeError);
  });
});
