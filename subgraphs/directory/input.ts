/**
 * Validation of the `services` arguments into one normalised search, before anything is sent to the DoS.
 * Every refusal is a BAD_USER_INPUT error naming the argument at fault. Messages never echo the postcode:
 * it is often the patient's own.
 */
import { userInputError } from '../../common/errors.js';
import type { NearInput, ServiceFilter, ServiceType } from './generated/resolvers.js';
import { isFeedServiceId } from './feeds.js';
import { dosTypeIdsFor, isDosServiceId } from './map.js';

export const MAX_FIRST = 100;
export const MAX_RADIUS_KM = 160;
export const MAX_IDS = 100;
const DEFAULT_FIRST = 20;
const DEFAULT_RADIUS_KM = 25;

export interface ServicesArgs {
  filter?: ServiceFilter | null;
  near?: NearInput | null;
  radiusKm?: number | null;
  first?: number | null;
  after?: string | null;
}

/** Where to measure from: a canonical postcode, or coordinates. */
export type SearchPoint = { postcode: string } | { lat: number; lon: number };

/** What the DoS is asked, the same on every page of one search; its fingerprint keys the cursors. */
export interface DirectorySearch {
  point: SearchPoint | null;
  /** Only meaningful with a point. */
  radiusKm: number | null;
  serviceTypeIds: number[];
  /** The service types asked for (null: all), for matching feed-published services. */
  types: ServiceType[] | null;
  /** DoS service ids asked for (null: no id filter). */
  ids: string[] | null;
  /** Feed service ids asked for (null: no id filter). */
  feedIds: string[] | null;
  bookableOnly: boolean;
  /** True when the filters let no DoS service through (e.g. only feed ids or feed-only types): no DoS call. */
  matchesNothing: boolean;
}

export interface ValidServicesArgs {
  search: DirectorySearch;
  first: number;
  after: string | null;
}

// Outward code then inward code; validates shape, the DoS decides whether the postcode exists.
const POSTCODE_SHAPE = /^([A-Z]{1,2}[0-9][A-Z0-9]?)([0-9][A-Z]{2})$/;

/** `ls14ap`, ` LS1  4AP ` and `LS1 4AP` are one postcode; null when the text cannot be a UK postcode. */
export function normalisePostcode(text: string): string | null {
  const m = POSTCODE_SHAPE.exec(text.replace(/\s+/g, '').toUpperCase());
  return m ? `${m[1]} ${m[2]}` : null;
}

export function validateServicesArgs(args: ServicesArgs): ValidServicesArgs {
  const first = args.first ?? DEFAULT_FIRST;
  if (!Number.isInteger(first) || first < 1 || first > MAX_FIRST) {
    throw userInputError(`first must be a whole number from 1 to ${MAX_FIRST}`, 'first');
  }

  const radiusKm = args.radiusKm ?? DEFAULT_RADIUS_KM;
  if (!Number.isFinite(radiusKm) || radiusKm <= 0 || radiusKm > MAX_RADIUS_KM) {
    throw userInputError(`radiusKm must be more than 0 and at most ${MAX_RADIUS_KM}`, 'radiusKm');
  }

  const point = args.near ? validatePoint(args.near) : null;
  const filter = args.filter ?? {};

  let ids: string[] | null = null;
  let feedIds: string[] | null = null;
  if (filter.ids) {
    if (filter.ids.length > MAX_IDS) throw userInputError(`filter.ids takes at most ${MAX_IDS} ids`, 'filter.ids');
    const bad = filter.ids.find((id) => !isDosServiceId(id) && !isFeedServiceId(id));
    if (bad !== undefined) {
      throw userInputError(`filter.ids must be service ids from this API; got ${JSON.stringify(bad.slice(0, 20))}`, 'filter.ids');
    }
    const unique = [...new Set(filter.ids)].sort();
    ids = unique.filter(isDosServiceId);
    feedIds = unique.filter(isFeedServiceId);
  }
  const types = filter.types ? [...new Set(filter.types)].sort() : null;

  return {
    first,
    after: args.after ?? null,
    search: {
      point,
      radiusKm: point ? radiusKm : null,
      serviceTypeIds: dosTypeIdsFor(filter.types),
      types,
      ids,
      feedIds,
      bookableOnly: filter.bookableOnly ?? false,
      // Types with no DoS id (feed-only types) and feed ids match nothing in the DoS.
      matchesNothing: filter.types?.length === 0 || ids?.length === 0 || dosTypeIdsFor(filter.types).length === 0,
    },
  };
}

function validatePoint(near: NearInput): SearchPoint {
  const hasPostcode = near.postcode !== null && near.postcode !== undefined;
  const hasLat = near.lat !== null && near.lat !== undefined;
  const hasLon = near.lon !== null && near.lon !== undefined;
  if (hasPostcode && (hasLat || hasLon)) throw userInputError('near takes a postcode or lat and lon, not both', 'near');
  if (hasPostcode) {
    const postcode = normalisePostcode(near.postcode!);
    if (!postcode) throw userInputError('near.postcode is not a UK postcode', 'near.postcode');
    return { postcode };
  }
  if (!hasLat && !hasLon) throw userInputError('near needs a postcode, or lat and lon', 'near');
  if (!hasLat) throw userInputError('near.lat is required with near.lon', 'near.lat');
  if (!hasLon) throw userInputError('near.lon is required with near.lat', 'near.lon');
  const lat = near.lat!;
  const lon = near.lon!;
  if (lat < -90 || lat > 90) throw userInputError('near.lat must be from -90 to 90', 'near.lat');
  if (lon < -180 || lon > 180) throw userInputError('near.lon must be from -180 to 180', 'near.lon');
  return { lat, lon };
}

