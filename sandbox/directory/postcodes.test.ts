import { describe, expect, it } from 'vitest';
import { haversineKm } from './geo.js';
import { geocodePostcode, normalisePostcode } from './postcodes.js';

describe('normalisePostcode', () => {
  it('ignores case and spacing', () => {
    for (const p of ['ls14ap', 'LS14AP', ' ls1 4ap ', 'LS1  4AP']) expect(normalisePostcode(p)).toBe('LS1 4AP');
    expect(normalisePostcode('ec1a1bb')).toBe('EC1A 1BB');
  });

  it('refuses text that cannot be a postcode', () => {
    for (const p of ['', 'LS1', '4AP', 'LS1 4A', 'hello world', '12345']) expect(normalisePostcode(p)).toBeNull();
  });
});

describe('geocodePostcode', () => {
  it('knows the seed centroids and every service postcode', () => {
    expect(geocodePostcode('ls14ap')).toEqual({ lat: 53.796, lon: -1.548, postcode: 'LS1 4AP', precision: 'POSTCODE' });
    expect(geocodePostcode('NR31 6LA')).toMatchObject({ lat: 52.559, lon: 1.72, precision: 'POSTCODE' });
  });

  it('falls back to the centroid of the known postcodes in the same district', () => {
    const g = geocodePostcode('LS1 9ZZ');
    expect(g).toMatchObject({ postcode: 'LS1 9ZZ', precision: 'OUTWARD_CODE' });
    // Inside the box of LS1's known postcodes (4AP, 3EX, 6HD).
    expect(g!.lat).toBeGreaterThan(53.79);
    expect(g!.lat).toBeLessThan(53.81);
  });

  it('does not know districts it has no postcode in', () => {
    expect(geocodePostcode('SW1A 1AA')).toBeNull();
    expect(geocodePostcode('not a postcode')).toBeNull();
  });
});

describe('haversineKm', () => {
  it('measures the great-circle distance', () => {
    expect(haversineKm({ lat: 51.5074, lon: -0.1278 }, { lat: 48.8566, lon: 2.3522 })).toBeCloseTo(343.6, 0);
    expect(haversineKm({ lat: 53.8, lon: -1.5 }, { lat: 53.8, lon: -1.5 })).toBe(0);
  });
});
