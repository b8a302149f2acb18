import { describe, expect, it } from 'vitest';
import { compareCodeUnits } from './code-units.js';

describe('compareCodeUnits', () => {
  it('orders by UTF-16 code units: digits, then upper case, then lower case; equal is 0', () => {
    expect(['b', 'a', 'B', '9', 'é', 'A'].sort(compareCodeUnits)).toEqual(['9', 'A', 'B', 'a', 'b', 'é']);
    expect(compareCodeUnits('same', 'same')).toBe(0);
    expect(compareCodeUnits('ab', 'abc')).toBeLessThan(0);
    expect(compareCodeUnits('abc', 'ab')).toBeGreaterThan(0);
  });
});
