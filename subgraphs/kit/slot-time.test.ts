import { describe, expect, it } from 'vitest';
import { englishSlotTime } from './slot-time.js';

const at = (written: string) => ({ written, ms: Date.parse(written) });

describe('englishSlotTime', () => {
  it('keeps the supplier offset, and flags an offset London did not have, however often the same text is read', () => {
    for (let i = 0; i < 3; i++) {
      expect(englishSlotTime(at('2026-07-01T09:00:00+01:00'), at('2026-07-01T09:15:00+01:00'))).toMatchObject({
        start: '2026-07-01T09:00:00+01:00',
        end: '2026-07-01T09:15:00+01:00',
        kind: 'APPOINTMENT',
        qualityFlags: [],
      });
      // Summer time's offset in December: a defect, whichever reading of the text came first.
      expect(englishSlotTime(at('2026-12-01T09:00:00+01:00'), at('2026-12-01T09:15:00Z')).qualityFlags).toEqual(['OFFSET_MISMATCH']);
      expect(englishSlotTime(at('2026-12-01T09:15:00Z'), at('2026-12-01T09:30:00+00:00'))).toMatchObject({
        start: '2026-12-01T09:15:00.000Z',
        end: '2026-12-01T09:30:00.000Z',
        qualityFlags: [],
      });
    }
  });

  it('reads the instant it is given: a text read before with another instant is not reused for it', () => {
    const written = '2026-12-01T10:00:00+00:00';
    expect(englishSlotTime(at(written), at('2026-12-01T10:30:00Z')).start).toBe('2026-12-01T10:00:00.000Z');
    expect(englishSlotTime({ written, ms: Date.parse('2026-12-01T11:00:00Z') }, at('2026-12-01T11:30:00Z')).start).toBe('2026-12-01T11:00:00.000Z');
  });

  it('flags day and multi-day sessions by their length', () => {
    expect(englishSlotTime(at('2026-12-01T08:00:00Z'), at('2026-12-01T18:00:00Z'))).toMatchObject({ kind: 'SESSION', qualityFlags: ['DAY_SESSION'] });
    expect(englishSlotTime(at('2026-12-01T08:00:00Z'), at('2026-12-03T08:00:00Z')).qualityFlags).toEqual(['MULTI_DAY_SESSION']);
  });
});
