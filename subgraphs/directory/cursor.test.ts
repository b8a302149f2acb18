import { describe, expect, it } from 'vitest';
import { decodeCursor, encodeCursor, searchFingerprint } from './cursor.js';

describe('cursors', () => {
  const fp = searchFingerprint({ point: { postcode: 'LS1 4AP' }, radiusKm: 25, serviceTypeIds: [40] });

  it('round-trip a position within the same search', () => {
    expect(decodeCursor(encodeCursor(41, fp), fp)).toEqual({ position: 41 });
  });

  it('fingerprint searches independently of key order', () => {
    expect(searchFingerprint({ a: 1, b: [2, 3] })).toBe(searchFingerprint({ b: [2, 3], a: 1 }));
    expect(searchFingerprint({ a: 1 })).not.toBe(searchFingerprint({ a: 2 }));
  });

  it('refuse a cursor from another search', () => {
    const other = searchFingerprint({ point: { postcode: 'BS1 5TR' }, radiusKm: 25, serviceTypeIds: [40] });
    expect(decodeCursor(encodeCursor(3, other), fp)).toEqual({ problem: 'OTHER_SEARCH' });
  });

  it('refuse an edited position', () => {
    const raw = Buffer.from(encodeCursor(3, fp), 'base64url').toString('utf8');
    const edited = Buffer.from(raw.replace(/^c1:3:/, 'c1:30:'), 'utf8').toString('base64url');
    expect(decodeCursor(edited, fp)).toEqual({ problem: 'MALFORMED' });
  });

  it('refuse garbage', () => {
    for (const c of ['', 'abc', '!!!', 'x'.repeat(500), Buffer.from('c1:1:2').toString('base64url')]) {
      expect(decodeCursor(c, fp)).toEqual({ problem: 'MALFORMED' });
    }
  });
});
