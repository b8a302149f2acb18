import { describe, expect, it } from 'vitest';
import { lineStart, shiftDate, shiftLine, weeksToShift } from './shift.js';

const d = (s: string) => new Date(s);

describe('the week shift', () => {
  // general-appointments: one week, Monday 5 October to Sunday 11 October 2026.
  const first = d('2026-10-05T08:00:00Z');
  const last = d('2026-10-11T16:30:00Z');

  it('puts the first slot day on the latest same weekday on or before today', () => {
    // Wednesday 18 November 2026: the data week becomes Monday 16 to Sunday 22 November.
    expect(weeksToShift(first, last, d('2026-11-18T12:00:00Z'))).toBe(6);
    // Monday itself: today is the first day.
    expect(weeksToShift(first, last, d('2026-11-16T00:30:00Z'))).toBe(6);
  });

  it('moves one week further when less than a day of the data would lie ahead', () => {
    expect(weeksToShift(first, last, d('2026-11-22T10:00:00Z'))).toBe(7);
    expect(weeksToShift(first, last, d('2026-11-21T16:29:00Z'))).toBe(6);
  });

  it('moves data recorded in the future back towards now', () => {
    expect(weeksToShift(d('2030-01-07T09:00:00Z'), d('2030-01-08T09:00:00Z'), d('2026-11-18T12:00:00Z'))).toBeLessThan(0);
  });
});

describe('the line transform', () => {
  it('moves the date of start and end only, keeping the written time, fraction and offset', () => {
    const line =
      '{"resourceType":"Slot","id":"1","start":"2021-03-01T09:00:00.000-05:00","end":"2021-03-01T09:15:00Z","extension":[{"url":"x","valueUrl":"https://p/b?d=2021-03-01"}]}';
    expect(shiftLine(line, 2)).toBe(
      '{"resourceType":"Slot","id":"1","start":"2021-03-15T09:00:00.000-05:00","end":"2021-03-15T09:15:00Z","extension":[{"url":"x","valueUrl":"https://p/b?d=2021-03-01"}]}',
    );
  });

  it('leaves a line that is not JSON as it is, apart from the dates it can see', () => {
    expect(shiftLine('{"start":"2021-03-01T09:00', 1)).toBe('{"start":"2021-03-08T09:00');
    expect(shiftLine('not json', 1)).toBe('not json');
  });

  it('crosses month and year ends', () => {
    expect(shiftDate(2026, 12, 28, 1)).toBe('2027-01-04');
    expect(shiftDate(2024, 2, 26, 1)).toBe('2024-03-04');
  });

  it('finds a line start', () => {
    expect(lineStart('{"start":"2026-10-05T14:00:00.000Z"}')?.toISOString()).toBe('2026-10-05T14:00:00.000Z');
    expect(lineStart('{"id":"x"}')).toBeNull();
  });
});
