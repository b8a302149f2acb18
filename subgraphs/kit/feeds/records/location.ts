/**
 * Location lines: name, address, enquiries telecom, identifiers, position, and the zone its slot times should be in.
 * Repairs what can be repaired safely (a ZIP code that lost its leading zero, a lone address line, placeholder
 * identifiers); a location with neither a name nor an address line is skipped, since no one could find it.
 */
import type { RecordAt } from '../issues.js';
import { TIMEZONE_EXTENSION, zoneFor } from '../timezone.js';
import type { FeedAddress } from '../types.js';
import { decimal, httpUrl, isPlaceholder, list, object, text, type Note } from '../values.js';
import { isParsed, open, type Parsed } from './common.js';

export interface LocationRecord {
  id: string;
  at: RecordAt;
  name: string;
  address: FeedAddress;
  position: { lat: number; lon: number } | null;
  phone: string | null;
  website: string | null;
  identifiers: { system: string | null; value: string }[];
  timeZone: string | null;
}

export function parseLocation(line: string, at: RecordAt): Parsed<LocationRecord> {
  const o = open(line, 'Location', at);
  if (isParsed(o)) return o;
  const { obj, id, note } = o;
  if (!id) return o.skip('missing-field', 'Location has no id, so no Schedule can point at it');

  const address = readAddress(obj.address, note);
  let name = text(obj.name, 'name', note);
  if (name && isPlaceholder(name)) {
    note('placeholder', 'normalised', `name "${name}" is a placeholder`);
    name = null;
  }
  if (!name) {
    const fallback = [address.lines[0], address.city].filter(Boolean).join(', ');
    if (!fallback) return o.skip('missing-field', 'Location has no name and no address');
    note('missing-field', 'normalised', `no name; called "${fallback}" after its address`);
    name = fallback;
  }

  const telecom = list(obj.telecom, 'telecom', note).map((t) => object(t)).filter((t) => t !== null);
  const phone = telecom
    .filter((t) => t.system === 'phone')
    .map((t) => text(t.value, 'telecom.value', note))
    .find((v): v is string => !!v && !isPlaceholder(v)) ?? null;
  const urls = telecom.filter((t) => t.system === 'url').map((t) => text(t.value, 'telecom.value', note));
  const website = urls.map(httpUrl).find((u) => u !== null) ?? null;
  if (!website && urls.some((u) => u)) note('invalid-value', 'normalised', 'telecom url is not an http(s) URL; ignored');

  const identifiers = list(obj.identifier, 'identifier', note).flatMap((x) => {
    const i = object(x);
    const value = text(i?.value, 'identifier.value', note);
    if (!value) return [];
    if (isPlaceholder(value)) {
      note('placeholder', 'normalised', `identifier value "${value}" is a placeholder; dropped`);
      return [];
    }
    return [{ system: text(i?.system, 'identifier.system', note), value }];
  });

  const zoneExt = list(obj.extension, 'extension', note)
    .map((e) => object(e))
    .find((e) => e?.url === TIMEZONE_EXTENSION);
  const extensionZone = text(zoneExt?.valueCode, 'timezone extension', note);

  return {
    record: {
      id,
      at,
      name,
      address,
      position: readPosition(obj.position, note),
      phone,
      website,
      identifiers,
      timeZone: zoneFor({ extensionZone, state: address.state, country: address.country }),
    },
    issues: o.issues,
  };
}

function readAddress(v: unknown, note: Note): FeedAddress {
  let a = object(v);
  if (!a && Array.isArray(v)) {
    note('coerced', 'normalised', 'address was an array; the first one used');
    a = object(v[0]);
  }
  const lines = list(a?.line, 'address.line', note)
    .map((l) => text(l, 'address.line', note))
    .filter((l): l is string => !!l && !isPlaceholder(l));
  const state = text(a?.state, 'address.state', note);
  const country = text(a?.country, 'address.country', note);
  return {
    lines,
    city: text(a?.city, 'address.city', note),
    district: text(a?.district, 'address.district', note),
    state,
    postalCode: postalCode(a?.postalCode, state, country, note),
    country,
  };
}

const US_STATES = new Set(
  ('AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM NY NC ND OH OK OR PA ' +
    'RI SC SD TN TX UT VT VA WA WV WI WY PR VI GU AS MP').split(' '),
);

/**
 * US ZIP codes start with 0 in New England, New Jersey and Puerto Rico; spreadsheets and numeric columns drop it
 * ("2114" for 02114). A US address's 3- or 4-digit ZIP is padded back; anything else is kept as published.
 */
export function postalCode(v: unknown, state: string | null, country: string | null, note: Note): string | null {
  const s = text(v, 'address.postalCode', note);
  if (!s) return null;
  if (isPlaceholder(s)) {
    note('placeholder', 'normalised', `postal code "${s}" is a placeholder`);
    return null;
  }
  const us = !!state && US_STATES.has(state.toUpperCase()) && (!country || /^(US|USA|United States)/i.test(country));
  const m = /^(\d{3,4})(-\d{4})?$/.exec(s);
  if (us && m) {
    const fixed = m[1]!.padStart(5, '0') + (m[2] ?? '');
    note('postal-code', 'normalised', `ZIP code "${s}" lost its leading zero; read as ${fixed}`);
    return fixed;
  }
  return s;
}

function readPosition(v: unknown, note: Note): { lat: number; lon: number } | null {
  const p = object(v);
  if (!p) return null;
  const lat = decimal(p.latitude, 'position.latitude', note);
  const lon = decimal(p.longitude, 'position.longitude', note);
  if (lat === null || lon === null) return null;
  if (lat === 0 && lon === 0) {
    note('placeholder', 'normalised', 'position 0,0 is a placeholder (the Gulf of Guinea); ignored');
    return null;
  }
  if (Math.abs(lat) > 90 || Math.abs(lon) > 180) {
    note('invalid-value', 'normalised', `position ${lat},${lon} is not on Earth; ignored`);
    return null;
  }
  return { lat, lon };
}
