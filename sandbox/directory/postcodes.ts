/**
 * The sandbox's postcode lookup. A real DoS resolves any live UK postcode; the sandbox knows the seed's postcode
 * centroids plus every service's own postcode, and falls back to the centroid of the known postcodes sharing the
 * outward code (district), so `LS1 9ZZ` still finds central Leeds. Anything else is an invalid postcode, as the
 * DoS says it.
 */
import { SEED_POSTCODES, SEED_SERVICES } from '../seed/services.js';
import type { Point } from './geo.js';

/** Where a geocoded point came from: the full postcode, or only its district. */
export type GeocodePrecision = 'POSTCODE' | 'OUTWARD_CODE';

export interface Geocoded extends Point {
  /** The postcode in its canonical form (`LS1 4AP`). */
  postcode: string;
  precision: GeocodePrecision;
}

// Outward code (2–4 chars) then inward code (digit + two letters). Validates shape only, not existence.
const POSTCODE_SHAPE = /^([A-Z]{1,2}[0-9][A-Z0-9]?)([0-9][A-Z]{2})$/;

/**
 * Canonical form of a UK postcode, or null when the text cannot be one: case and spacing do not matter
 * (`ls14ap`, ` LS1  4AP ` and `LS1 4AP` are the same postcode).
 */
export function normalisePostcode(text: string): string | null {
  const compact = text.replace(/\s+/g, '').toUpperCase();
  const m = POSTCODE_SHAPE.exec(compact);
  return m ? `${m[1]} ${m[2]}` : null;
}

function outwardCode(canonical: string): string {
  return canonical.split(' ')[0]!;
}

/** Builds the lookup once: explicit centroids first, then service postcodes not already listed. */
function buildIndex(): { full: Map<string, Point>; outward: Map<string, Point> } {
  const full = new Map<string, Point>();
  for (const [pc, p] of Object.entries(SEED_POSTCODES)) full.set(normalisePostcode(pc) ?? pc, p);
  for (const s of SEED_SERVICES) {
    const pc = normalisePostcode(s.address.postcode);
    if (pc && !full.has(pc)) full.set(pc, { lat: s.lat, lon: s.lon });
  }
  const groups = new Map<string, Point[]>();
  for (const [pc, p] of full) {
    const out = outwardCode(pc);
    groups.set(out, [...(groups.get(out) ?? []), p]);
  }
  const outward = new Map<string, Point>();
  for (const [out, ps] of groups) {
    outward.set(out, {
      lat: ps.reduce((sum, p) => sum + p.lat, 0) / ps.length,
      lon: ps.reduce((sum, p) => sum + p.lon, 0) / ps.length,
    });
  }
  return { full, outward };
}

const INDEX = buildIndex();

/** Geocodes a postcode as the sandbox DoS would; null for text that is not a postcode or a district it knows. */
export function geocodePostcode(text: string): Geocoded | null {
  const postcode = normalisePostcode(text);
  if (!postcode) return null;
  const exact = INDEX.full.get(postcode);
  if (exact) return { ...exact, postcode, precision: 'POSTCODE' };
  const district = INDEX.outward.get(outwardCode(postcode));
  return district ? { ...district, postcode, precision: 'OUTWARD_CODE' } : null;
}
