import { describe, expect, it } from 'vitest';
import { referralLink } from './handoff.js';

const REF = '3f2b7c1e-9d4a-4c5e-8f6a-1b2c3d4e5f60';

describe('merging our referral into a deep link (spec §1.3)', () => {
  it('adds source and booking-referral to a link with no query', () => {
    expect(referralLink('https://portal.example/book', 'nhs-booking-gateway', REF)).toBe(
      `https://portal.example/book?source=nhs-booking-gateway&booking-referral=${REF}`,
    );
  });

  it('keeps an existing query string and fragment', () => {
    expect(referralLink('https://ehr-portal.example.org/bookings?slot=1000000#confirm', 'nhs-booking-gateway', REF)).toBe(
      `https://ehr-portal.example.org/bookings?slot=1000000&source=nhs-booking-gateway&booking-referral=${REF}#confirm`,
    );
  });

  it('replaces an existing source (and booking-referral) rather than sending two', () => {
    const got = new URL(referralLink('https://portal.example/book?source=vaccinefinder&slot=7&booking-referral=old', 'nhs-booking-gateway', REF)!);
    expect(got.searchParams.getAll('source')).toEqual(['nhs-booking-gateway']);
    expect(got.searchParams.getAll('booking-referral')).toEqual([REF]);
    expect(got.searchParams.get('slot')).toBe('7');
  });

  it('encodes once: an encoded value in the link stays as it was, ours is encoded', () => {
    const got = referralLink('https://portal.example/book?next=%2Fdone%3Fa%3D1', 'our product & co', REF)!;
    expect(new URL(got).searchParams.get('next')).toBe('/done?a=1');
    expect(new URL(got).searchParams.get('source')).toBe('our product & co');
  });

  it('gives no link for one that is not an absolute http(s) URL', () => {
    expect(referralLink('/book?slot=1', 's', REF)).toBeNull();
    expect(referralLink('javascript:alert(1)', 's', REF)).toBeNull();
    expect(referralLink(null, 's', REF)).toBeNull();
  });
});
