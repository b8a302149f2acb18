/**
 * The adapter's Europe/London arithmetic, against instants written out by hand. Independent of the simulator's, so
 * the two agreeing in the flow tests means something.
 */
import { describe, expect, it } from 'vitest';
import { appointmentInstant, boundaryInstant, foldOf, isDate, londonDate, londonRfc3339, offsetMinutesAt, parseHhmm, readings } from './wall-clock.js';

const iso = (ms: number | null | undefined) => (ms === null || ms === undefined ? ms : new Date(ms).toISOString());

describe('Europe/London', () => {
  it('knows the offset either side of both changes', () => {
    expect(offsetMinutesAt(Date.parse('2026-03-29T00:59:59Z'))).toBe(0);
    expect(offsetMinutesAt(Date.parse('2026-03-29T01:00:00Z'))).toBe(60);
    expect(offsetMinutesAt(Date.parse('2026-10-25T00:59:59Z'))).toBe(60);
    expect(offsetMinutesAt(Date.parse('2026-10-25T01:00:00Z'))).toBe(0);
  });

  it('finds no reading in the spring gap, two in the autumn overlap, one otherwise', () => {
    expect(readings('2026-03-29', 90)).toEqual([]);
    expect(readings('2026-10-25', 90).map(iso)).toEqual(['2026-10-25T00:30:00.000Z', '2026-10-25T01:30:00.000Z']);
    expect(readings('2026-06-01', 90).map(iso)).toEqual(['2026-06-01T00:30:00.000Z']);
    expect(readings('2026-03-29', 1440).map(iso)).toEqual(['2026-03-29T23:00:00.000Z']);
  });

  it('names appointment times by fold, and refuses ones that do not exist', () => {
    expect(iso(appointmentInstant('2026-10-25', 80, 0))).toBe('2026-10-25T00:20:00.000Z');
    expect(iso(appointmentInstant('2026-10-25', 80, 1))).toBe('2026-10-25T01:20:00.000Z');
    expect(appointmentInstant('2026-10-26', 80, 1)).toBeNull();
    expect(appointmentInstant('2026-03-29', 80, 0)).toBeNull();
  });

  it('moves a session boundary in the spring gap forward by the gap; takes the first in the overlap', () => {
    expect(iso(boundaryInstant('2026-03-29', 90))).toBe('2026-03-29T01:30:00.000Z');
    expect(iso(boundaryInstant('2026-10-25', 90))).toBe('2026-10-25T00:30:00.000Z');
  });

  it('tells the second pass through the repeated hour by fold', () => {
    expect(foldOf(Date.parse('2026-10-25T00:59:00Z'))).toBe(0);
    expect(foldOf(Date.parse('2026-10-25T01:00:00Z'))).toBe(1);
    expect(foldOf(Date.parse('2026-10-25T02:00:00Z'))).toBe(0);
    expect(foldOf(Date.parse('2026-03-29T01:00:00Z'))).toBe(0);
  });

  it('finds the fold by reading the clock back wherever it is asked: every quarter hour of two years, both changes included', () => {
    // foldOf answers 0 without Temporal a day past a transition; the reading it skips must agree everywhere.
    const from = Date.parse('2026-01-01T00:00:00Z');
    let ones = 0;
    for (let ms = from; ms < from + 2 * 365 * 86_400_000; ms += 15 * 60_000) {
      const w = londonRfc3339(ms);
      const first = readings(w.slice(0, 10), Number(w.slice(11, 13)) * 60 + Number(w.slice(14, 16)))[0]!;
      const expected = first < ms ? 1 : 0;
      ones += expected;
      if (foldOf(ms) !== expected) expect.fail(`fold at ${new Date(ms).toISOString()}: ${foldOf(ms)}, the clock says ${expected}`);
    }
    // The repeated hour of each October, four quarter hours each.
    expect(ones).toBe(8);
  });

  it('answers the same when asked again (what it remembers): a boundary in the gap, a date that is no day, times either side of a change', () => {
    for (let i = 0; i < 3; i++) {
      expect(iso(boundaryInstant('2026-03-29', 90))).toBe('2026-03-29T01:30:00.000Z');
      expect(boundaryInstant('2026-02-30', 600)).toBeNull();
      expect(iso(boundaryInstant('2026-10-25', 90))).toBe('2026-10-25T00:30:00.000Z');
      expect(londonRfc3339(Date.parse('2026-10-25T00:20:00Z'))).toBe('2026-10-25T01:20:00+01:00');
      expect(londonRfc3339(Date.parse('2026-10-25T01:20:00Z'))).toBe('2026-10-25T01:20:00+00:00');
    }
  });

  it('writes RFC 3339 with the offset in force, and the London date', () => {
    expect(londonRfc3339(Date.parse('2026-10-25T00:20:00Z'))).toBe('2026-10-25T01:20:00+01:00');
    expect(londonRfc3339(Date.parse('2026-10-25T01:20:00Z'))).toBe('2026-10-25T01:20:00+00:00');
    expect(londonRfc3339(Date.parse('2026-07-01T12:34:56Z'))).toBe('2026-07-01T13:34:56+01:00');
    expect(londonDate(Date.parse('2026-06-30T23:30:00Z'))).toBe('2026-07-01');
    expect(londonDate(Date.parse('2026-12-31T23:30:00Z'))).toBe('2026-12-31');
  });

  it('parses HH:mm (24:00 only as an end) and real dates only', () => {
    expect([parseHhmm('00:00'), parseHhmm('23:59'), parseHhmm('24:00'), parseHhmm('24:00', true), parseHhmm('7:00')]).toEqual([0, 1439, null, 1440, null]);
    expect([isDate('2028-02-29'), isDate('2026-02-29'), isDate('2026-1-01')]).toEqual([true, false, false]);
  });
});
