import { describe, expect, it } from 'vitest';
import { FRESH_SPREAD, freshMs } from './fresh-spread.js';

describe('fresh-spread', () => {
  const ttl = 30_000;
  const services = Array.from({ length: 500 }, (_, i) => `${1000 + i}`);
  /** FNV-1a (32-bit) over "harbour-bs", a newline and "1042" is 0x04f06e7d: 30 000 × (1 − 0.2 × h / 2³²), floored. */
  const PINNED = 29_884;

  it('is a share of the TTL between 1 − FRESH_SPREAD and 1, never more', () => {
    for (const id of services) {
      const ms = freshMs(ttl, 'harbour-bs', id);
      expect(ms).toBeGreaterThanOrEqual(ttl * (1 - FRESH_SPREAD));
      expect(ms).toBeLessThanOrEqual(ttl);
    }
  });

  it('is the same for a service wherever it is asked, and differs between services and systems', () => {
    // Pinned: every replica, release and process computes the same share, so none refreshes on its own schedule.
    expect(freshMs(ttl, 'harbour-bs', '1042')).toBe(PINNED);
    expect(freshMs(ttl, 'harbour-bs', '1042')).toBe(freshMs(ttl, 'harbour-bs', '1042'));
    // The separator counts: ("ab", "c") and ("a", "bc") are different services.
    const pairs = [freshMs(ttl, 'ab', 'c'), freshMs(ttl, 'a', 'bc')];
    expect(pairs[0]).not.toBe(pairs[1]);
    expect(freshMs(ttl, 'harbour-bs', '1042')).not.toBe(freshMs(ttl, 'meridian-bs', '1042'));
  });

  it('spreads services filled together over the whole range, a fifth of them in each fifth of it', () => {
    const shares = services.map((id) => 1 - freshMs(ttl, 'harbour-bs', id) / ttl);
    const fifths = [0, 0, 0, 0, 0];
    for (const s of shares) fifths[Math.min(4, Math.floor((s / FRESH_SPREAD) * 5))]! += 1;
    // 100 expected in each; a hash that clumps (or a constant) puts far more in one.
    for (const n of fifths) expect(n).toBeGreaterThan(60);
    expect(Math.min(...shares)).toBeLessThan(0.01);
    expect(Math.max(...shares)).toBeGreaterThan(FRESH_SPREAD - 0.01);
  });
});
