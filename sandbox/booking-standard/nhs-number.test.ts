import { describe, expect, it } from 'vitest';
import { isValidNhsNumber } from './nhs-number.js';

describe('NHS number modulus 11', () => {
  it('accepts the spec examples', () => {
    expect(isValidNhsNumber('1234554321')).toBe(true);
    expect(isValidNhsNumber('9476719931')).toBe(true);
  });
  it('refuses a wrong check digit, a check digit of 10, and the wrong length', () => {
    expect(isValidNhsNumber('9476719932')).toBe(false);
    expect(isValidNhsNumber('1234567890')).toBe(false);
    expect(isValidNhsNumber('11122233333')).toBe(false);
    expect(isValidNhsNumber('947 671 9931')).toBe(false);
  });
});
