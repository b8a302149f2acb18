import { describe, expect, it } from 'vitest';
import { addDays, contiguousRuns, dayStart, daysCovering, londonDay } from './london-day.js';

describe('London days', () => {
  it('put an instant on the London date, not the UTC one, in summer time', () => {
    // 23:30 UTC on 1 July is 00:30 BST on 2 July.
    expect(londonDay(Date.parse('2026-07-01T23:30:00Z'))).toBe('2026-07-02');
    expect(londonDay(Date.parse('2026-07-01T22:59:59Z'))).toBe('2026-07-01');
    expect(londonDay(Date.parse('2026-12-01T23:30:00Z'))).toBe('2026-12-01');
  });

  it('start at local midnight, and the clock-change days are 23 and 25 hours long', () => {
    expect(new Date(dayStart('2026-07-02')).toISOString()).toBe('2026-07-01T23:00:00.000Z');
    expect(new Date(dayStart('2026-12-01')).toISOString()).toBe('2026-12-01T00:00:00.000Z');
    const hours = (d: string) => (dayStart(addDays(d, 1)) - dayStart(d)) / 3_600_000;
    expect(hours('2026-03-29')).toBe(23);
    expect(hours('2026-10-25')).toBe(25);
    expect(hours('2026-10-26')).toBe(24);
  });

  it('cover a window with every day it touches, both ends inclusive', () => {
    expect(daysCovering(new Date('2026-07-01T22:00:00Z'), new Date('2026-07-01T23:00:00Z'))).toEqual(['2026-07-01', '2026-07-02']);
    expect(daysCovering(new Date('2026-12-01T09:00:00Z'), new Date('2026-12-01T17:00:00Z'))).toEqual(['2026-12-01']);
    expect(daysCovering(new Date('2026-12-30T12:00:00Z'), new Date('2027-01-02T00:00:00Z'))).toEqual(['2026-12-30', '2026-12-31', '2027-01-01', '2027-01-02']);
  });

  it('count the days of a window numerically past year 9999, and refuse a window too long to iterate', () => {
    // As strings, "+010000-01-01" sorts before "9999-12-31": a string-compared loop never ended here.
    expect(daysCovering(new Date('9999-12-30T12:00:00Z'), new Date('9999-12-31T12:00:00Z'))).toEqual(['9999-12-30', '9999-12-31']);
    expect(() => daysCovering(new Date('9999-12-31T12:00:00Z'), new Date(Date.parse('9999-12-31T12:00:00Z') + 86_400_000))).toThrow(RangeError);
    expect(() => daysCovering(new Date('2026-01-01T00:00:00Z'), new Date('2027-01-01T00:00:00Z'))).toThrow(RangeError);
    expect(() => daysCovering(new Date('2026-01-02T00:00:00Z'), new Date('2026-01-01T00:00:00Z'))).toThrow(RangeError);
  });

  it('group days into runs of consecutive days within a span, a 25-hour day counted as such', () => {
    const TWO_WEEKS = 14 * 86_400_000;
    expect(contiguousRuns(['2026-11-26', '2026-11-24', '2026-11-25', '2026-11-28'], TWO_WEEKS)).toEqual([
      ['2026-11-24', '2026-11-25', '2026-11-26'],
      ['2026-11-28'],
    ]);
    const fifteen = Array.from({ length: 15 }, (_, i) => addDays('2026-11-01', i));
    expect(contiguousRuns(fifteen, TWO_WEEKS).map((r) => r.length)).toEqual([14, 1]);
    // 25 October 2026 is 25 hours long: fourteen days from the 20th would pass two weeks.
    const autumn = Array.from({ length: 14 }, (_, i) => addDays('2026-10-20', i));
    expect(contiguousRuns(autumn, TWO_WEEKS).map((r) => r.length)).toEqual([13, 1]);
  });
});
