/**
 * Services published only in SMART Scheduling Links feeds, listed beside the DoS's: one per location and service
 * type, as the DoS maps each service at a site separately. Pure: the feed records, the search and the origin are
 * arguments; the ingest that produces the records lives in subgraphs/kit/feeds.
 */
import type { Logger } from 'pino';
import type { FeedService, FeedSnapshot } from '../kit/feeds/index.js';
import type { ServiceType } from './generated/resolvers.js';
import type { DirectorySearch } from './input.js';
import { smartLinksAdapter } from '../smart-links/adapter.js';
import type { FeedServiceModel, SupplierRef } from './model.js';

/** What the directory needs of one feed-published service. */
export interface FeedServiceRecord {
  /** `smart:<system>:<location>:<service type code>`. */
  id: string;
  systemId: string;
  name: string;
  serviceType: ServiceType;
  serviceTypeName: string;
  /** The feed location: services of one location share it. */
  siteId: string;
  addressLines: string[];
  town: string | null;
  postcode: string | null;
  lat: number | null;
  lon: number | null;
  phone: string | null;
  website: string | null;
}

/** Every feed-published service now known; never throws (a feed that cannot be read contributes its last state). */
export interface FeedDirectory {
  list(): Promise<FeedServiceRecord[]>;
}

export const FEED_ID_PREFIX = 'smart:';

export function isFeedServiceId(id: string): boolean {
  return id.startsWith(FEED_ID_PREFIX) && id.length <= 200 && /^smart:[a-z0-9-]+:[A-Za-z0-9.-]{1,64}:[A-Za-z0-9._-]{1,64}$/.test(id);
}

export interface Located<T> {
  node: T;
  distanceKm: number | null;
}

export function toFeedModel(r: FeedServiceRecord, supplier: SupplierRef): FeedServiceModel {
  return {
    __typename: smartLinksAdapter.directory.typename,
    id: r.id,
    name: r.name,
    odsCode: null,
    serviceType: r.serviceType,
    serviceTypeName: r.serviceTypeName,
    location: { siteId: r.siteId, addressLines: r.addressLines, town: r.town, postcode: r.postcode, lat: r.lat, lon: r.lon },
    // Found and listed here, booked on the provider's own site or phone (each slot's link).
    bookable: false,
    bookingRequired: false,
    capacityStatus: null,
    supplier,
    phone: r.phone,
    website: r.website,
  };
}

/**
 * The feed services a search could match before distance is known: by type and id, and (when the search has a
 * point) only those with coordinates. Feed services are never bookable through this API, so bookableOnly excludes
 * them all.
 */
export function feedCandidates(records: readonly FeedServiceRecord[], search: DirectorySearch): FeedServiceRecord[] {
  if (search.bookableOnly) return [];
  const types = search.types ? new Set(search.types) : null;
  const ids = search.feedIds ? new Set(search.feedIds) : null;
  return records.filter(
    (r) =>
      (!types || types.has(r.serviceType)) &&
      (!ids || ids.has(r.id)) &&
      (!search.point || (r.lat !== null && r.lon !== null)),
  );
}

/** Candidates within the radius of the origin (when the search has a point), with their distance. */
export function withinRadius(
  candidates: readonly FeedServiceRecord[],
  search: DirectorySearch,
  origin: { lat: number; lon: number } | null,
): Located<FeedServiceRecord>[] {
  if (!search.point) return candidates.map((r) => ({ node: r, distanceKm: null }));
  if (!origin || search.radiusKm === null) return [];
  const out: Located<FeedServiceRecord>[] = [];
  for (const r of candidates) {
    const km = haversineKm(origin, { lat: r.lat!, lon: r.lon! });
    if (km <= search.radiusKm) out.push({ node: r, distanceKm: Math.round(km * 1000) / 1000 });
  }
  return out;
}

/**
 * One order for DoS and feed services together: by distance then id when the search has a point, else DoS
 * services first in their own (numeric id) order, then feed services by id. Stable, so cursors stay valid.
 */
export function mergeOrder<T extends { id: string }>(a: Located<T>, b: Located<T>): number {
  if (a.distanceKm !== null && b.distanceKm !== null && a.distanceKm !== b.distanceKm) return a.distanceKm - b.distanceKm;
  const aFeed = a.node.id.startsWith(FEED_ID_PREFIX);
  const bFeed = b.node.id.startsWith(FEED_ID_PREFIX);
  if (aFeed !== bFeed) return aFeed ? 1 : -1;
  if (!aFeed && a.node.id.length !== b.node.id.length) return a.node.id.length - b.node.id.length;
  return a.node.id < b.node.id ? -1 : a.node.id > b.node.id ? 1 : 0;
}

const EARTH_RADIUS_KM = 6371.0088;

export function haversineKm(a: { lat: number; lon: number }, b: { lat: number; lon: number }): number {
  const rad = (d: number) => (d * Math.PI) / 180;
  const dLat = rad(b.lat - a.lat);
  const dLon = rad(b.lon - a.lon);
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(rad(a.lat)) * Math.cos(rad(b.lat)) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(h)));
}

/** A feed service from the ingest (subgraphs/kit/feeds) as the directory lists it. */
export function fromFeedService(s: FeedService): FeedServiceRecord {
  return {
    id: s.id,
    systemId: s.systemId,
    name: s.name,
    serviceType: s.serviceType,
    serviceTypeName: s.serviceTypeName,
    siteId: `smart:${s.systemId}:${s.locationId}`,
    addressLines: s.address.lines,
    town: s.address.city,
    postcode: s.address.postalCode,
    lat: s.position?.lat ?? null,
    lon: s.position?.lon ?? null,
    phone: s.phone,
    website: s.website,
  };
}

/** What the directory needs of one feed: its system, and its snapshot (kit/feeds SharedFeed). */
export interface FeedSource {
  system: { id: string };
  /** The snapshot in memory, waiting (first start only, bounded) for the first; throws when there is none. */
  snapshot(): Promise<FeedSnapshot>;
}

/**
 * The feeds' services, from the snapshots every process shares (kit/feeds/shared.ts: a background poller keeps
 * them, this process only reads memory), so a search never waits for a feed to be polled, and a slow or failing
 * publisher delays nothing. A feed that has never loaded contributes nothing, and is logged; one that fails later
 * keeps its last state. Each snapshot's services are mapped once.
 */
export function feedDirectory(feeds: readonly FeedSource[], logger: Logger): FeedDirectory {
  const mapped = new WeakMap<FeedSnapshot, FeedServiceRecord[]>();
  const recordsOf = (s: FeedSnapshot) => {
    let records = mapped.get(s);
    if (!records) mapped.set(s, (records = s.services.map(fromFeedService)));
    return records;
  };
  return {
    async list() {
      const lists = await Promise.all(
        feeds.map(async (feed) => {
          try {
            return recordsOf(await feed.snapshot());
          } catch (err) {
            logger.warn({ system: feed.system.id, err: (err as Error).message }, 'feed not available to the directory');
            return [];
          }
        }),
      );
      return lists.flat();
    },
  };
}
