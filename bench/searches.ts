/**
 * The searches of `availability-warm-varied` and `availability-slow-feed`: pure, deterministic for a given first
 * day and service listing, so a run and its unit test build the same set.
 *
 * - 20 postcode searches: every postcode the sandbox directory can geocode (sandbox/seed SEED_POSTCODES), twice
 *   each, with different type sets, radii, windows, page sizes and sort orders. SMART feed locations are outside
 *   England (Massachusetts, the reference data sets), so a postcode search never includes a feed service.
 * - Up to 4 searches by service id over the listed services (every kind; the feeds' services; a slice), each
 *   with a window no other search uses.
 *
 * Every postcode search reaches at least one Booking Standard service (Harbour or Meridian, slots every day) inside
 * its radius, so a complete answer always has slots (checked by bench/bench.test.ts against the seed).
 */
import { SEED_POSTCODES } from '../sandbox/seed/services.js';
import { addDays, londonMidnight } from './days.js';

export type ServiceTypeName =
  | 'EMERGENCY_DEPARTMENT'
  | 'URGENT_TREATMENT_CENTRE'
  | 'MINOR_INJURY_UNIT'
  | 'GP_OUT_OF_HOURS'
  | 'URGENT_DENTAL'
  | 'PHARMACY'
  | 'VACCINATION';

/** The `AvailabilitySearch` input, as far as the bench uses it. */
export interface SearchInput {
  types?: ServiceTypeName[];
  serviceIds?: string[];
  near?: { postcode: string };
  radiusKm?: number;
  from: string;
  to: string;
  sort?: 'START' | 'DISTANCE';
  first: number;
}

export interface BenchSearch {
  name: string;
  input: SearchInput;
  /** SMART_LINKS systems whose services the search may include (none for postcode searches: see above). */
  feedSystems: string[];
}

/** A service as `services(first: 100) { nodes { __typename id supplier { id kind } } }` lists it. */
export interface ListedService {
  __typename: string;
  id: string;
  supplier: { id: string; kind: string } | null;
}

/** Type sets the postcode searches rotate through (undefined: every type). */
export const TYPE_SETS: readonly (ServiceTypeName[] | undefined)[] = [
  undefined,
  ['EMERGENCY_DEPARTMENT', 'URGENT_TREATMENT_CENTRE'],
  ['URGENT_TREATMENT_CENTRE', 'MINOR_INJURY_UNIT', 'GP_OUT_OF_HOURS'],
  ['GP_OUT_OF_HOURS', 'URGENT_DENTAL'],
];

/** Windows as [first London day after the bench's first day, number of London days]. */
export const WINDOWS: readonly (readonly [number, number])[] = [
  [0, 1],
  [0, 3],
  [1, 7],
  [0, 14],
  [2, 5],
];

const RADII = [30, 40, 50] as const;
const PAGES = [20, 50, 100] as const;

/** `from` at the London midnight starting day `firstDay + offset`, `to` one second before the window's end. */
export function windowOf(firstDay: string, offset: number, days: number): { from: string; to: string } {
  const start = addDays(firstDay, offset);
  return {
    from: new Date(londonMidnight(start)).toISOString(),
    to: new Date(londonMidnight(addDays(start, days)) - 1000).toISOString(),
  };
}

export function postcodeSearches(firstDay: string, postcodes: readonly string[] = Object.keys(SEED_POSTCODES)): BenchSearch[] {
  const out: BenchSearch[] = [];
  postcodes.forEach((postcode, i) => {
    for (const variant of [0, 1]) {
      const k = i + variant * 2;
      const types = TYPE_SETS[k % TYPE_SETS.length];
      const [offset, days] = WINDOWS[(i + variant * 3) % WINDOWS.length]!;
      const radiusKm = RADII[(i + variant + 1) % RADII.length]!;
      const input: SearchInput = {
        ...(types ? { types: [...types] } : {}),
        near: { postcode },
        radiusKm,
        ...windowOf(firstDay, offset, days),
        sort: (i + variant) % 2 === 1 ? 'DISTANCE' : 'START',
        first: PAGES[(i + 2 * variant) % PAGES.length]!,
      };
      out.push({ name: `${postcode} ${types ? types.join('+') : 'all types'} ${radiusKm} km, ${days} d from +${offset}`, input, feedSystems: [] });
    }
  });
  return out;
}

const isFeed = (s: ListedService) => s.supplier?.kind === 'SMART_LINKS';
const feedSystemsOf = (services: readonly ListedService[]) => [...new Set(services.filter(isFeed).map((s) => s.supplier!.id))].sort();

/** Searches by service id over the listing (at most 100 ids each); an empty group gives no search. */
export function serviceIdSearches(firstDay: string, listed: readonly ListedService[], benchSet: readonly string[]): BenchSearch[] {
  const askable = listed.filter((s) => s.supplier && s.__typename !== 'ReferralOnlyService');
  const byId = new Map(askable.map((s) => [s.id, s]));
  const feedSystems = feedSystemsOf(askable);
  const groups: { name: string; services: ListedService[]; window: readonly [number, number]; first: number }[] = [
    { name: 'the 50-service set', services: benchSet.flatMap((id) => byId.get(id) ?? []), window: [1, 3], first: 100 },
    { name: 'every Booking Standard and Oakfield service', services: askable.filter((s) => !isFeed(s)), window: [3, 4], first: 50 },
    ...feedSystems.slice(0, 1).map((system) => ({
      name: `every ${system} service`,
      services: askable.filter((s) => s.supplier!.id === system),
      window: [0, 6] as const,
      first: 50,
    })),
    { name: 'every third listed service', services: askable.filter((_, i) => i % 3 === 0), window: [1, 2], first: 100 },
  ];
  return groups
    .map((g) => ({ ...g, services: g.services.slice(0, 100) }))
    .filter((g) => g.services.length > 0)
    .map((g) => ({
      name: `${g.name} (${g.services.length}), ${g.window[1]} d from +${g.window[0]}`,
      input: { serviceIds: g.services.map((s) => s.id), ...windowOf(firstDay, g.window[0], g.window[1]), sort: 'START' as const, first: g.first },
      feedSystems: feedSystemsOf(g.services),
    }));
}

/** The `availability-warm-varied` set: 20 postcode searches and up to 4 by service id. */
export function variedSearches(firstDay: string, listed: readonly ListedService[], benchSet: readonly string[]): BenchSearch[] {
  return [...postcodeSearches(firstDay), ...serviceIdSearches(firstDay, listed, benchSet)];
}

/** Key of a search's input, the same for equal inputs whatever the order of their fields. */
export function searchKey(input: SearchInput): string {
  const sorted = (v: unknown): unknown =>
    Array.isArray(v) ? v.map(sorted) : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, x]) => [k, sorted(x)])) : v;
  return JSON.stringify(sorted(input));
}

/**
 * `availability-slow-feed`: searches without any service of `slowSystem` (from the varied set), and searches of
 * only its services (so every slot of the answer must come from its last snapshot), over two windows.
 */
export function slowFeedSearches(
  varied: readonly BenchSearch[],
  firstDay: string,
  listed: readonly ListedService[],
  slowSystem: string,
): { without: BenchSearch[]; with: BenchSearch[] } {
  const own = listed.filter((s) => s.supplier?.id === slowSystem).slice(0, 100);
  const withSearches: BenchSearch[] =
    own.length === 0
      ? []
      : ([[0, 7], [1, 3]] as const).map(([offset, days]) => ({
          name: `every ${slowSystem} service (${own.length}), ${days} d from +${offset}`,
          input: { serviceIds: own.map((s) => s.id), ...windowOf(firstDay, offset, days), sort: 'START' as const, first: 100 },
          feedSystems: [slowSystem],
        }));
  return { without: varied.filter((s) => !s.feedSystems.includes(slowSystem)), with: withSearches };
}

/** `without` and `with` interleaved, three of one to one of the other, each list cycled as needed. */
export function interleave<T>(without: readonly T[], withs: readonly T[], perWith = 3): { group: 'without' | 'with'; item: T }[] {
  const out: { group: 'without' | 'with'; item: T }[] = [];
  if (withs.length === 0) return without.map((item) => ({ group: 'without' as const, item }));
  let w = 0;
  for (let i = 0; i < without.length; i++) {
    out.push({ group: 'without', item: without[i]! });
    if ((i + 1) % perWith === 0) out.push({ group: 'with', item: withs[w++ % withs.length]! });
  }
  if (w === 0) out.push({ group: 'with', item: withs[0]! });
  return out;
}

/** How far `variantOf` may move a window's end: under a minute, so no slot boundary (whole minutes) is crossed. */
export const MAX_VARIANTS = 59_000;

/**
 * The same search, its window ending `k` ms earlier (k modulo MAX_VARIANTS; 0 is the search itself). Slots start
 * and end on whole minutes and every window here ends at hh:mm:59, so each variant finds exactly the same slots,
 * and yet is a different search to any answer cache: how the varied rows keep a merged answer of an identical
 * search (reported as availability-warm-same) from answering them.
 */
export function variantOf(input: SearchInput, k: number): SearchInput {
  const n = ((k % MAX_VARIANTS) + MAX_VARIANTS) % MAX_VARIANTS;
  if (n === 0) return input;
  return { ...input, to: new Date(Date.parse(input.to) - n).toISOString() };
}
