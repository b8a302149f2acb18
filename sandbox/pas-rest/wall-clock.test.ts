/**
 * The vendor's time rules (API.md section 3) on the two clock-change nights and an ordinary one, checked against
 * instants written out by hand, not against the code under test.
 */
import { describe, expect, it } from 'vitest';
import { appointmentTimes, boundaryInstant, parseDate, parseTime, wallClockOf } from './wall-clock.js';

const day = (s: string) => parseDate(s)!;
const iso = (ms: number) => new Date(ms).toISOString().slice(0, 16) + 'Z';
const OOH = [parseTime('00:00')!, parseTime('04:00')!, 20] as const;

describe('appointment times of an 00:00-04:00 session of 20-minute appointments', () => {
  it('an ordinary Sunday: twelve times, four hours of elapsed time', () => {
    const times = appointmentTimes(day('2026-11-01'), ...OOH);
    expect(times).toHaveLength(12);
    expect(times.map((t) => t.time)).toEqual(['00:00', '00:20', '00:40', '01:00', '01:20', '01:40', '02:00', '02:20', '02:40', '03:00', '03:20', '03:40']);
    expect(iso(times[0]!.startMs)).toBe('2026-11-01T00:00Z');
  });

  it('clocks go forward (29 March 2026): nine times, the missing hour skipped, none lost in elapsed time', () => {
    const times = appointmentTimes(day('2026-03-29'), ...OOH);
    expect(times.map((t) => [t.time, t.fold, iso(t.startMs)])).toEqual([
      ['00:00', 0, '2026-03-29T00:00Z'],
      ['00:20', 0, '2026-03-29T00:20Z'],
      ['00:40', 0, '2026-03-29T00:40Z'],
      ['02:00', 0, '2026-03-29T01:00Z'],
      ['02:20', 0, '2026-03-29T01:20Z'],
      ['02:40', 0, '2026-03-29T01:40Z'],
      ['03:00', 0, '2026-03-29T02:00Z'],
      ['03:20', 0, '2026-03-29T02:20Z'],
      ['03:40', 0, '2026-03-29T02:40Z'],
    ]);
    // Back to back: every appointment starts where the one before ended.
    for (let i = 1; i < times.length; i++) expect(times[i]!.startMs).toBe(times[i - 1]!.endMs);
  });

  it('clocks go back (25 October 2026): fifteen times, the repeated hour twice, the second pass with fold 1', () => {
    const times = appointmentTimes(day('2026-10-25'), ...OOH);
    expect(times.map((t) => [t.time, t.fold, iso(t.startMs)])).toEqual([
      ['00:00', 0, '2026-10-24T23:00Z'],
      ['00:20', 0, '2026-10-24T23:20Z'],
      ['00:40', 0, '2026-10-24T23:40Z'],
      ['01:00', 0, '2026-10-25T00:00Z'],
      ['01:20', 0, '2026-10-25T00:20Z'],
      ['01:40', 0, '2026-10-25T00:40Z'],
      ['01:00', 1, '2026-10-25T01:00Z'],
      ['01:20', 1, '2026-10-25T01:20Z'],
      ['01:40', 1, '2026-10-25T01:40Z'],
      ['02:00', 0, '2026-10-25T02:00Z'],
      ['02:20', 0, '2026-10-25T02:20Z'],
      ['02:40', 0, '2026-10-25T02:40Z'],
      ['03:00', 0, '2026-10-25T03:00Z'],
      ['03:20', 0, '2026-10-25T03:20Z'],
      ['03:40', 0, '2026-10-25T03:40Z'],
    ]);
    for (let i = 1; i < times.length; i++) expect(times[i]!.startMs).toBe(times[i - 1]!.endMs);
  });

  it('an evening session ending at 24:00 ends at the next midnight', () => {
    const times = appointmentTimes(day('2026-10-24'), parseTime('19:00')!, parseTime('24:00', true)!, 20);
    expect(times).toHaveLength(15);
    expect(iso(times.at(-1)!.endMs)).toBe('2026-10-24T23:00Z'); // midnight BST
  });
});

describe('session boundaries on the wall clock', () => {
  it('a boundary in the spring gap moves forward by the gap (01:30 is 02:30 BST)', () => {
    expect(iso(boundaryInstant(day('2026-03-29'), parseTime('01:30')!))).toBe('2026-03-29T01:30Z');
    expect(wallClockOf(boundaryInstant(day('2026-03-29'), parseTime('01:30')!))).toEqual({ date: '2026-03-29', time: '02:30', fold: 0 });
  });

  it('a boundary in the autumn overlap is its first occurrence (BST)', () => {
    expect(iso(boundaryInstant(day('2026-10-25'), parseTime('01:30')!))).toBe('2026-10-25T00:30Z');
  });

  it('reads fold 1 only in the second pass through the repeated hour', () => {
    expect(wallClockOf(Date.parse('2026-10-25T00:59:00Z')).fold).toBe(0);
    expect(wallClockOf(Date.parse('2026-10-25T01:00:00Z'))).toEqual({ date: '2026-10-25', time: '01:00', fold: 1 });
    expect(wallClockOf(Date.parse('2026-10-25T01:59:00Z')).fold).toBe(1);
    expect(wallClockOf(Date.parse('2026-10-25T02:00:00Z'))).toEqual({ date: '2026-10-25', time: '02:00', fold: 0 });
  });
});

describe('parsing', () => {
  it('accepts real dates and 24-hour times only; 24:00 only where allowed', () => {
    expect(parseDate('2028-02-29')).toEqual({ year: 2028, month: 2, day: 29 });
    expect(parseDate('2026-02-29')).toBeNull();
    expect(parseTime('23:59')).toBe(1439);
    expect(parseTime('24:00')).toBeNull();
    expect(parseTime('24:00', true)).toBe(1440);
    expect(parseTime('9:00')).toBeNull();
  });
});
