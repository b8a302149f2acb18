import { describe, expect, it } from 'vitest';
import { isRfc3339 } from './scalars.js';
import { rfc3339AtOffset, writtenOffsetMinutes } from './offset-time.js';

describe('offset-time', () => {
  it('reads the offset a date-time was written with', () => {
    expect(['2026-07-15T09:00:00-05:00', '2026-07-15T09:00+01:00', '2026-07-15T09:00:00.000Z', '2026-07-15T09:00:00+05:30', '2026-07-15T09:00:00'].map(writtenOffsetMinutes)).toEqual([-300, 60, 0, 330, null]);
  });

  it('writes an instant at an offset: same instant, the scalar accepts it, UTC exactly as toISOString', () => {
    const ms = Date.parse('2026-07-15T14:00:00Z');
    for (const [offset, text] of [[-300, '2026-07-15T09:00:00-05:00'], [60, '2026-07-15T15:00:00+01:00'], [330, '2026-07-15T19:30:00+05:30'], [0, '2026-07-15T14:00:00.000Z']] as const) {
      const got = rfc3339AtOffset(ms, offset);
      expect(got).toBe(text);
      expect(Date.parse(got)).toBe(ms);
      expect(isRfc3339(got)).toBe(true);
    }
    expect(rfc3339AtOffset(ms + 250, -300)).toBe('2026-07-15T09:00:00.250-05:00');
    // Across midnight and a year end, the local date is the offset's.
    expect(rfc3339AtOffset(Date.parse('2027-01-01T02:00:00Z'), -300)).toBe('2026-12-31T21:00:00-05:00');
  });

  it('keeps the written offset, adding the seconds a supplier left out', () => {
    const written = '2026-06-01T19:00+01:00';
    expect(rfc3339AtOffset(Date.parse(written), writtenOffsetMinutes(written)!)).toBe('2026-06-01T19:00:00+01:00');
  });
});
