/**
 * The window of an `availability` search as validateAvailability reads it: `from` left out is now to the second, so
 * identical searches within a second are one search; a later page keeps its first page's window through the cursor,
 * so "now" does not move between pages; cursors are bounded and checked.
 */
import { describe, expect, it } from 'vitest';
import { encodeCursor, validateAvailability } from './availability.js';

const NOW = new Date('2026-12-02T09:15:42.123Z');
const later = (ms: number) => new Date(NOW.getTime() + ms);
const search = { types: ['URGENT_TREATMENT_CENTRE' as const], first: 10 };

describe('availability windows', () => {
  it('takes now to the second when from is left out: searches within one second are the same search', () => {
    const a = validateAvailability(search, NOW);
    expect(a.from.toISOString()).toBe('2026-12-02T09:15:42.000Z');
    expect(a.to.toISOString()).toBe('2026-12-03T09:15:42.000Z');
    expect(validateAvailability(search, later(500)).fingerprint).toBe(a.fingerprint);
    expect(validateAvailability(search, later(1000)).fingerprint).not.toBe(a.fingerprint);
  });

  it('a later page of a search without from keeps the first page\'s window, minutes later', () => {
    const first = validateAvailability(search, NOW);
    const cursor = encodeCursor(9, first.fingerprint, first.from);
    const next = validateAvailability({ ...search, after: cursor }, later(5 * 60_000));
    expect(next.fingerprint).toBe(first.fingerprint);
    expect(next.offset).toBe(10);
    expect([next.from, next.to]).toEqual([first.from, first.to]);
  });

  it('an explicit from wins over the cursor\'s, and then the cursor is of another search', () => {
    const first = validateAvailability(search, NOW);
    const cursor = encodeCursor(9, first.fingerprint, first.from);
    expect(() => validateAvailability({ ...search, from: later(3_600_000).toISOString(), after: cursor }, NOW)).toThrow(
      expect.objectContaining({ extensions: expect.objectContaining({ code: 'BAD_USER_INPUT', field: 'search.after' }) }),
    );
  });

  it('refuses a cursor it did not issue, or one too long to be one, naming search.after', () => {
    for (const after of ['nope', Buffer.from(JSON.stringify(['a2', -1, 'x', 0])).toString('base64url'), 'A'.repeat(5000)]) {
      expect(() => validateAvailability({ ...search, after }, NOW)).toThrow(
        expect.objectContaining({ extensions: expect.objectContaining({ field: 'search.after' }) }),
      );
    }
  });
});
