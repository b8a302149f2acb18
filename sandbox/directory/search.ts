/**
 * The sandbox DoS search: validation of the query string and the search itself, both pure. Answers are ordered
 * by straight-line distance when a point is given (ties by service id, so services sharing a building keep a
 * stable order between pages), else by service id, and paginated by page number and page size.
 */
import { haversineKm, type Point } from './geo.js';
import { geocodePostcode, type GeocodePrecision } from './postcodes.js';
import type { DosServiceRecord } from './records.js';

export const MAX_DISTANCE_KM = 160;
/** The DoS's own default search distance is 37.5 miles. */
export const DEFAULT_DISTANCE_KM = 60;
export const MAX_PAGE_SIZE = 100;
export const DEFAULT_PAGE_SIZE = 20;
export const MAX_IDS = 100;

/** The documented DoS message for a postcode it cannot place. */
export const INVALID_POSTCODE_MESSAGE = 'Bad Request: Invalid post code';

const KNOWN_PARAMS = new Set(['postcode', 'lat', 'lon', 'distanceKm', 'serviceTypeIds', 'ids', 'page', 'pageSize']);

export interface SearchOrigin extends Point {
  /** The canonical postcode searched from, when the search named one. */
  postcode: string | null;
  precision: GeocodePrecision | 'COORDINATES';
}

export interface SearchQuery {
  origin: SearchOrigin | null;
  distanceKm: number;
  serviceTypeIds: number[] | null;
  ids: number[] | null;
  page: number;
  pageSize: number;
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; message: string };

const bad = (message: string): { ok: false; message: string } => ({ ok: false, message: `Bad Request: ${message}` });

export function parseSearchQuery(q: URLSearchParams): Parsed<SearchQuery> {
  for (const key of q.keys()) if (!KNOWN_PARAMS.has(key)) return bad(`Unknown search parameter "${key}"`);

  const postcode = q.get('postcode');
  const lat = q.get('lat');
  const lon = q.get('lon');
  if (postcode !== null && (lat !== null || lon !== null)) return bad('Give a postcode or lat and lon, not both');
  if ((lat === null) !== (lon === null)) return bad('lat and lon must be given together');

  let origin: SearchOrigin | null = null;
  if (postcode !== null) {
    if (postcode.trim() === '') return bad('Postcode must be provided');
    const g = geocodePostcode(postcode);
    if (!g) return { ok: false, message: INVALID_POSTCODE_MESSAGE };
    origin = { lat: g.lat, lon: g.lon, postcode: g.postcode, precision: g.precision };
  } else if (lat !== null && lon !== null) {
    const la = Number(lat);
    const lo = Number(lon);
    if (lat.trim() === '' || !Number.isFinite(la) || la < -90 || la > 90) return bad('lat must be a number from -90 to 90');
    if (lon.trim() === '' || !Number.isFinite(lo) || lo < -180 || lo > 180) return bad('lon must be a number from -180 to 180');
    origin = { lat: la, lon: lo, postcode: null, precision: 'COORDINATES' };
  }

  let distanceKm = DEFAULT_DISTANCE_KM;
  const d = q.get('distanceKm');
  if (d !== null) {
    if (!origin) return bad('distanceKm needs a postcode or lat and lon to measure from');
    distanceKm = Number(d);
    if (d.trim() === '' || !Number.isFinite(distanceKm)) return bad('Search distance must be numeric');
    if (distanceKm <= 0 || distanceKm > MAX_DISTANCE_KM) {
      return bad(`Search distance must be more than 0 and no more than ${MAX_DISTANCE_KM} km`);
    }
  }

  const types = intList(q.get('serviceTypeIds'), 'serviceTypeIds');
  if (!types.ok) return types;
  const ids = intList(q.get('ids'), 'ids');
  if (!ids.ok) return ids;
  if (ids.value && ids.value.length > MAX_IDS) return bad(`At most ${MAX_IDS} ids per search`);

  const page = positiveInt(q.get('page'), 'page', 1, Number.MAX_SAFE_INTEGER);
  if (!page.ok) return page;
  const pageSize = positiveInt(q.get('pageSize'), 'pageSize', DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE);
  if (!pageSize.ok) return pageSize;

  return {
    ok: true,
    value: { origin, distanceKm, serviceTypeIds: types.value, ids: ids.value, page: page.value, pageSize: pageSize.value },
  };
}

/** A comma-separated list of positive integers; null when the parameter is absent. */
function intList(raw: string | null, name: string): Parsed<number[] | null> {
  if (raw === null) return { ok: true, value: null };
  const parts = raw.split(',').map((p) => p.trim());
  if (parts.some((p) => !/^\d{1,15}$/.test(p))) return bad(`${name} must be a comma-separated list of numeric ids`);
  return { ok: true, value: [...new Set(parts.map(Number))] };
}

function positiveInt(raw: string | null, name: string, fallback: number, max: number): Parsed<number> {
  if (raw === null) return { ok: true, value: fallback };
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < 1 || n > max) return bad(`${name} must be a whole number from 1 to ${max}`);
  return { ok: true, value: n };
}

export interface SearchResultRecord extends DosServiceRecord {
  /** Straight-line distance from the search point, when the search gave one. */
  distanceKm?: number;
}

export interface SearchPage {
  totalCount: number;
  services: SearchResultRecord[];
}

export function runSearch(all: readonly DosServiceRecord[], q: SearchQuery): SearchPage {
  const types = q.serviceTypeIds ? new Set(q.serviceTypeIds) : null;
  const ids = q.ids ? new Set(q.ids) : null;
  const matching = all.filter((r) => (!types || types.has(r.serviceType.id)) && (!ids || ids.has(r.id)));

  let ordered: { record: DosServiceRecord; km: number | null }[];
  if (q.origin) {
    const origin = q.origin;
    ordered = matching
      .map((record) => ({ record, km: haversineKm(origin, { lat: record.location.latitude, lon: record.location.longitude }) }))
      .filter((x) => x.km <= q.distanceKm)
      .sort((a, b) => a.km - b.km || a.record.id - b.record.id);
  } else {
    ordered = matching.map((record) => ({ record, km: null })).sort((a, b) => a.record.id - b.record.id);
  }

  const start = (q.page - 1) * q.pageSize;
  const services = ordered
    .slice(start, start + q.pageSize)
    .map(({ record, km }) => (km === null ? record : { ...record, distanceKm: Math.round(km * 1000) / 1000 }));
  return { totalCount: ordered.length, services };
}
