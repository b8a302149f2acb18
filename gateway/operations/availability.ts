/**
 * Combined availability: the consumer's core question, "where can this patient be seen soonest?", answered in one
 * request across every matching service and supplier system. The directory says which services match (reused for a
 * short while: read-cache.ts); each supplier subgraph is asked once, for all the services of every system it serves,
 * for their first K slots (`<prefix>TopSlots`, schema/supplier-slots.graphql, ranked in common/top-slots.ts; each
 * system's deadline kept inside the subgraph); the subgraphs' sorted lists are k-way merged here and paginated, and
 * whatever could not answer is reported in `coverage` instead of failing the whole answer. Every call is a typed
 * document through subgraph-client.ts.
 *
 * Paging is exact: K is the page's end position, so the first K of the full merge are among the first K of every
 * subgraph's list (each sorted by the same total order), and totalCount sums each service's exact count. A search pages
 * through its first MAX_POSITION slots: a page reaching past that is shortened to end there, and hasNextPage is false
 * at that end, so no page the API offers is one it then refuses.
 *
 * One physical slot is shown once: a supplier system's answer already lists a slot mapped to several of its services
 * once, under the lowest-ranked of them, naming the others (`alsoListedAs`; common/top-slots.ts claimShared). A
 * slot's identity never crosses supplier systems, and every system's services are in one answer, so the merge needs
 * no dedupe of its own: the claimed listing is the first of its listings in both orders (they share a start, and
 * rank follows distance), each list is still sorted, K still fills, and totalCount sums the claimed counts.
 */
import { createHash } from 'node:crypto';
import { GraphQLError, type GraphQLSchema } from 'graphql';
import type { Logger } from 'pino';
import type { ConsumerOrganisation } from '../../common/consumer.js';
import { userInputError } from '../../common/errors.js';
import { availabilityAnswers } from '../../common/metrics.js';
import type { Registry } from '../../subgraphs/kit/registry.js';
import { MAX_TOP_K, compareKeyed, kWayMerge, type Keyed, type TopSlotsMode } from '../../common/top-slots.js';
import { checkInstant, readWindow } from '../../common/window-input.js';
import { canonicalJson } from '../../common/canonical-json.js';
import { FindServicesDocument, type FindServicesQuery } from './generated/directory.js';
import type { Availability, AvailabilitySearch, CapacityReport, CoverageReason, ServiceType, Slot } from './generated/resolvers.js';
import type { InFlight } from './in-flight.js';
import type { AnswerCache, CachedAnswer, DirectoryCache, GenerationsRead } from './read-cache.js';
import { MAX_PASSED_HOLD_SYSTEMS, MAX_PASSED_HOLDS, MAX_PASSED_HOLDS_CHARS, passableHold } from '../../common/holds.js';
import { AnswerRenders, noteReused } from './answer-renders.js';
import { SubgraphCallError, type SubgraphClient } from './subgraph-client.js';
import { topSlotsRoute, type SupplierTopSlots } from './suppliers.js';

export { MAX_WINDOW_DAYS } from '../../common/window-input.js';
export const MAX_SERVICES = 100;
const MAX_FIRST = 200;
/** A search pages through its first MAX_POSITION slots (the top-K operation's own cap on K). */
export const MAX_POSITION = MAX_TOP_K;
/** The longest DoS service id accepted in serviceIds. */
const MAX_ID_LENGTH = 200;
/** Grace on top of a system's own deadline, so its typed TIMEOUT answer arrives before we give up on it. */
const DEADLINE_GRACE_MS = 250;

export interface AvailabilityDeps {
  registry: Registry;
  client: SubgraphClient;
  logger: Logger;
  now: () => Date;
  /** Deadline for the directory look-up. */
  directoryDeadlineMs?: number;
  /** The directory's answers, reused briefly; absent: every search asks the directory. */
  directoryCache?: DirectoryCache<DirectoryService[]>;
  /** Merged answers of identical searches, generation-checked; absent: none reused. */
  answerCache?: AnswerCache<Availability>;
  /** Identical searches running at once (same generations read), sharing one fan-out; absent: none shared. */
  searches?: InFlight<Availability>;
}

export interface CallContext {
  consumer: ConsumerOrganisation;
  traceId: string;
}

/** A matching service as the directory answered it (generated from documents/directory.graphql). */
export type DirectoryService = FindServicesQuery['services']['edges'][number]['node'] & {
  distanceKm: number | null;
  /** Position in the gateway's order of services (distance, then id): the tie-break between equal starts. */
  rank: number;
};

/** A slot as the supplier subgraphs serve it (the shared contract). */
export type SlotData = Slot;

/** The same physical slot under another matching service: that service and its own id for the slot. */
export interface OtherListing {
  slotId: string;
  service: DirectoryService;
}

/** A slot with its sort keys, from one system's top-K answer, and its listings under other services. */
export type RankedSlot = Keyed<SlotData> & { service: DirectoryService; also?: readonly OtherListing[] };

export interface ServiceAnswer {
  /** Every slot the service lists. */
  totalCount: number;
  places: number;
  /** Of those, the slots (and places) counted under this service: each physical slot under one service only. */
  distinctCount: number;
  distinctPlaces: number;
  /** The earliest start of all the service's slots, shared ones included (which its own list may not carry). */
  firstStart: string | null;
  fetchedAt: string | null;
  stale: boolean;
}

export interface SupplierAnswers {
  /** Per system that answered: its slots, sorted by the mode's order. */
  lists: RankedSlot[][];
  /** Per answering service. */
  services: Map<string, ServiceAnswer>;
  failures: { service: DirectoryService; reason: CoverageReason }[];
}

// ---- input -----------------------------------------------------------------------------------------------------

export interface ValidAvailability {
  types: ServiceType[] | null;
  serviceIds: string[] | null;
  near: { postcode: string } | { lat: number; lon: number } | null;
  radiusKm: number;
  from: Date;
  to: Date;
  sort: 'START' | 'DISTANCE';
  first: number;
  offset: number;
  maxAge: number | null;
  includeHandoff: boolean;
  fingerprint: string;
}

/** `prefix` names the fields as the client wrote them: "search." for `availability`, none for root `capacity`. */
export function validateAvailability(s: AvailabilitySearch, now: Date, prefix = 'search.'): ValidAvailability {
  // `from` left out means now, to the second: identical searches made within a second are one search (the answer
  // cache and request coalescing key on it). A later page of such a search keeps its first page's window, which its
  // cursor carries: "now" must not move between pages, or they would be of different searches and no longer exact.
  const carried = !s.from && s.after ? cursorFrom(s.after) : null;
  // A cursor kept past the window's bounds (a day in the past) is refused as the cursor it is.
  if (carried) checkInstant(carried, 'search.after', now);
  const defaultFrom = carried ?? new Date(Math.floor(now.getTime() / 1000) * 1000);
  const { from, to } = readWindow({ from: s.from ?? defaultFrom.toISOString(), to: s.to }, now, prefix);
  const first = s.first ?? 50;
  if (!Number.isInteger(first) || first < 1 || first > MAX_FIRST) throw userInputError(`search.first must be from 1 to ${MAX_FIRST}`, 'search.first');
  const radiusKm = s.radiusKm ?? 25;
  if (!(radiusKm > 0 && radiusKm <= 160)) throw userInputError('search.radiusKm must be more than 0 and at most 160', 'search.radiusKm');
  if (s.serviceIds && (s.serviceIds.length === 0 || s.serviceIds.length > MAX_SERVICES)) {
    throw userInputError(`${prefix}serviceIds takes 1 to ${MAX_SERVICES} ids`, `${prefix}serviceIds`);
  }
  if (s.serviceIds?.some((id) => typeof id !== 'string' || id.length === 0 || id.length > MAX_ID_LENGTH)) {
    throw userInputError(`${prefix}serviceIds takes ids of 1 to ${MAX_ID_LENGTH} characters`, `${prefix}serviceIds`);
  }
  if (s.maxAge !== null && s.maxAge !== undefined && (!Number.isInteger(s.maxAge) || s.maxAge < 0)) {
    throw userInputError('search.maxAge must be a whole number of seconds', 'search.maxAge');
  }
  let near: ValidAvailability['near'] = null;
  if (s.near) {
    const hasPoint = s.near.lat !== null && s.near.lat !== undefined && s.near.lon !== null && s.near.lon !== undefined;
    if (s.near.postcode && hasPoint) throw userInputError('search.near takes a postcode or lat and lon, not both', 'search.near');
    if (s.near.postcode) near = { postcode: s.near.postcode };
    else if (hasPoint) near = { lat: s.near.lat!, lon: s.near.lon! };
    else throw userInputError('search.near needs a postcode, or lat and lon', 'search.near');
  }
  const sort = s.sort ?? 'START';
  if (sort === 'DISTANCE' && !near) throw userInputError('Sorting by distance needs search.near', 'search.sort');
  if (!near && !s.serviceIds && !s.types?.length) {
    throw userInputError('Give search.near, search.types or search.serviceIds: a search of every service is too wide', 'search');
  }

  const normalised = {
    types: s.types?.length ? [...new Set(s.types)].sort() : null,
    serviceIds: s.serviceIds ? [...new Set(s.serviceIds)].sort() : null,
    near,
    radiusKm,
    from: from.toISOString(),
    to: to.toISOString(),
    sort,
    maxAge: s.maxAge ?? null,
    includeHandoff: s.includeHandoff ?? true,
  };
  const fingerprint = createHash('sha256').update(canonicalJson(normalised)).digest('base64url').slice(0, 16);
  const offset = s.after ? decodeCursor(s.after, fingerprint) + 1 : 0;
  // Every page is exact because no system is asked for more than the page's end position (K), which the top-K
  // operation caps; a page reaching past it ends there (hasNextPage then says false), and only a cursor already at
  // the end, which no page offered as a next page, is refused.
  if (offset >= MAX_POSITION) {
    throw userInputError(`A search pages through its first ${MAX_POSITION} slots; narrow the window or the services for later ones`, 'search.after');
  }
  return { ...normalised, from, to, first: Math.min(first, MAX_POSITION - offset), offset, fingerprint };
}

/** A position in one search's merged list, with that search's fingerprint and the start of its window. */
export function encodeCursor(position: number, fingerprint: string, from: Date): string {
  return Buffer.from(JSON.stringify(['a2', position, fingerprint, from.getTime()])).toString('base64url');
}

/** Cursors are short; anything longer is not one of ours and is not parsed. */
const MAX_CURSOR_LENGTH = 200;

function readCursor(cursor: string): unknown[] | null {
  if (typeof cursor !== 'string' || cursor.length > MAX_CURSOR_LENGTH) return null;
  try {
    const v: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    return Array.isArray(v) && v[0] === 'a2' ? v : null;
  } catch {
    return null;
  }
}

/** The window start a cursor carries; null when it is not a cursor of ours (decodeCursor then says so). */
function cursorFrom(cursor: string): Date | null {
  const fromMs = readCursor(cursor)?.[3];
  return typeof fromMs === 'number' && Number.isInteger(fromMs) ? new Date(fromMs) : null;
}

function decodeCursor(cursor: string, fingerprint: string): number {
  const c = readCursor(cursor);
  if (c) {
    const [, position, fp] = c;
    if (fp !== fingerprint) throw userInputError('search.after is a cursor from a different search', 'search.after');
    if (typeof position === 'number' && Number.isInteger(position) && position >= 0) return position;
  }
  throw userInputError('search.after is not a cursor this API issued', 'search.after');
}

// ---- the directory ---------------------------------------------------------------------------------------------

/** The directory could not answer: a typed error (gateway/errors.ts lets the code through), never a subgraph name. */
export function directoryUnavailable(reason: string): GraphQLError {
  return new GraphQLError('The directory of services is unavailable; try again shortly', { extensions: { code: 'DIRECTORY_UNAVAILABLE', reason } });
}

type DirectorySearch = Pick<ValidAvailability, 'types' | 'serviceIds' | 'near' | 'radiusKm'>;

/**
 * The matching services, every page of them (at most MAX_SERVICES: a wider search is refused, not truncated), in
 * the gateway's order (distance, then id) with each one's rank. Reused from the directory cache when warm.
 */
export async function findServices(v: DirectorySearch, ctx: CallContext, deps: AvailabilityDeps, prefix = 'search.'): Promise<DirectoryService[]> {
  const search = { types: v.types, serviceIds: v.serviceIds, near: v.near, radiusKm: v.near ? v.radiusKm : null };
  const cached = await deps.directoryCache?.get(search);
  if (cached) return cached;
  const variables = {
    filter: { ...(v.types ? { types: v.types } : {}), ...(v.serviceIds ? { ids: v.serviceIds } : {}) },
    near: v.near,
    ...(v.near ? { radiusKm: v.radiusKm } : {}),
  };
  const found: Omit<DirectoryService, 'rank'>[] = [];
  let after: string | null = null;
  do {
    let page: FindServicesQuery['services'];
    try {
      const answer = await deps.client.request('directory', FindServicesDocument, { ...variables, after }, ctx, deps.directoryDeadlineMs ?? 3000);
      page = answer.data.services;
    } catch (err) {
      // The directory's words about our input (an unknown postcode, say) are the client's to read.
      if (err instanceof SubgraphCallError && err.reason === 'BAD_USER_INPUT') {
        throw userInputError(err.clientMessage ?? 'The directory refused the search', `${prefix}${err.field ?? 'near'}`);
      }
      deps.logger.warn({ traceId: ctx.traceId, err: (err as Error).message }, 'availability: the directory did not answer');
      throw directoryUnavailable(err instanceof SubgraphCallError ? err.reason : 'UNAVAILABLE');
    }
    if (page.totalCount > MAX_SERVICES) {
      throw userInputError(`The search matches ${page.totalCount} services; at most ${MAX_SERVICES} can be combined: narrow it by types, radiusKm or serviceIds`, prefix ? 'search' : 'serviceIds');
    }
    for (const e of page.edges) found.push({ ...e.node, distanceKm: e.distanceKm });
    after = page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null;
    // At most MAX_SERVICES services, 100 a page: a directory that keeps paging past them is not answering sensibly.
    if (after && found.length >= MAX_SERVICES) throw directoryUnavailable('INVALID_RESPONSE');
  } while (after);
  const services = rankServices(found);
  await deps.directoryCache?.set(search, services);
  return services;
}

/** The gateway's order of services: by distance (unknown last), then id; each one's position is its rank. */
export function rankServices<S extends { id: string; distanceKm: number | null }>(found: readonly S[]): (S & { rank: number })[] {
  const dist = (s: { distanceKm: number | null }) => s.distanceKm ?? Number.POSITIVE_INFINITY;
  return [...found].sort((a, b) => dist(a) - dist(b) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)).map((s, rank) => ({ ...s, rank }));
}

// ---- the suppliers ---------------------------------------------------------------------------------------------

const REASONS: ReadonlySet<string> = new Set(['TIMEOUT', 'UNAVAILABLE', 'RATE_LIMITED', 'CIRCUIT_OPEN', 'INVALID_RESPONSE']);

function coverageReason(r: string | null | undefined): CoverageReason {
  return (r && REASONS.has(r) ? r : 'UNAVAILABLE') as CoverageReason;
}

/** Services whose supplier system serves slots through a subgraph; the rest (referral-only) have none to ask for. */
export function askable(services: readonly DirectoryService[]): DirectoryService[] {
  return services.filter((s) => s.supplier && topSlotsRoute(s.supplier.kind) && s.__typename !== 'ReferralOnlyService');
}

/**
 * Sort by distance: each service's group for the MERGED top-K (schema/supplier-slots.graphql), one per distinct
 * distance in increasing order (unknown last), so a system's order is (distance, start, rank, id), the merge's, and it
 * sends K slots in all rather than K per service. Sort by start: none (one group).
 */
export function distanceGroups(services: readonly DirectoryService[], sort: 'START' | 'DISTANCE'): Map<string, number> | null {
  if (sort !== 'DISTANCE') return null;
  const groups = new Map<string, number>();
  let group = -1;
  let last: number | undefined;
  // Services are in rank order (distance, then id): a new group wherever the distance changes.
  for (const s of [...services].sort((a, b) => a.rank - b.rank)) {
    const d = s.distanceKm ?? Number.POSITIVE_INFINITY;
    if (d !== last) group++;
    last = d;
    groups.set(s.id, group);
  }
  return groups;
}

/**
 * The live holds read for this search, of the systems one subgraph is asked about, to hand over with the question
 * (common/holds.ts passableHold). Only what the subgraph accepts: a system whose holds are too many, or not all holds,
 * is left out (the subgraph then reads its own), as is any system past MAX_PASSED_HOLD_SYSTEMS or
 * MAX_PASSED_HOLDS_CHARS in all.
 */
export function passedHolds(systems: readonly string[], liveHolds: ReadonlyMap<string, readonly string[]> | undefined): { liveHolds?: { system: string; members: string[] }[] } {
  if (!liveHolds) return {};
  const given: { system: string; members: string[] }[] = [];
  let chars = 0;
  for (const system of systems) {
    const members = liveHolds.get(system);
    if (!members || members.length > MAX_PASSED_HOLDS || given.length === MAX_PASSED_HOLD_SYSTEMS) continue;
    const size = members.reduce((n, m) => n + m.length, 0);
    if (chars + size > MAX_PASSED_HOLDS_CHARS || !members.every(passableHold)) continue;
    chars += size;
    given.push({ system, members: [...members] });
  }
  return given.length > 0 ? { liveHolds: given } : {};
}

/**
 * One top-K call per supplier subgraph, for every service of every supplier system it serves, all in parallel, each
 * under the longest of its systems' deadlines (each system's own deadline is kept inside the subgraph, which reports
 * a system that missed it as TIMEOUT for its services and still answers the others): the first `k` slots of those
 * services by (group, start, rank, id) (MERGED; `groups` from distanceGroups, absent for sort by start), or of each
 * service (PER_SERVICE, for capacity). One call, not one per system: a subgraph serving two systems (Harbour and
 * Meridian at booking-standard) ranks and sends K slots once, where two calls sent 2K for the gateway to drop half.
 */
export async function fetchTop(
  services: readonly DirectoryService[],
  window: { from: Date; to: Date; maxAge: number | null; includeHandoff: boolean },
  ctx: CallContext,
  deps: AvailabilityDeps,
  k: number,
  mode: TopSlotsMode,
  groups: ReadonlyMap<string, number> | null = null,
  liveHolds?: ReadonlyMap<string, readonly string[]>,
): Promise<SupplierAnswers> {
  const bySubgraph = new Map<string, { route: NonNullable<ReturnType<typeof topSlotsRoute>>; group: DirectoryService[] }>();
  for (const s of askable(services)) {
    const route = topSlotsRoute(s.supplier!.kind)!;
    const held = bySubgraph.get(route.subgraph);
    if (held) held.group.push(s);
    else bySubgraph.set(route.subgraph, { route, group: [s] });
  }
  const answers: SupplierAnswers = { lists: [], services: new Map(), failures: [] };
  const first = Math.max(1, Math.min(MAX_TOP_K, k));

  await Promise.all(
    [...bySubgraph.values()].map(async ({ route, group }) => {
      const systems = [...new Set(group.map((s) => s.supplier!.id))];
      const deadline = Math.max(...systems.map((id) => deps.registry.system(id)?.deadlineMs ?? 2000)) + DEADLINE_GRACE_MS;
      const byId = new Map(group.map((s) => [s.id, s]));
      let top: SupplierTopSlots;
      try {
        const input = {
          services: group.map((s) => ({ id: s.id, system: s.supplier!.id, rank: s.rank, ...(groups ? { group: groups.get(s.id) ?? 0 } : {}) })),
          from: window.from.toISOString(),
          to: window.to.toISOString(),
          first,
          maxAge: window.maxAge,
          mode,
          includeHandoff: window.includeHandoff,
          ...passedHolds(systems, liveHolds),
        };
        top = (await deps.client.request(route.subgraph, route.doc, { input }, ctx, deadline)).data.result;
      } catch (err) {
        const reason = err instanceof SubgraphCallError ? coverageReason(err.reason) : 'UNAVAILABLE';
        deps.logger.warn({ traceId: ctx.traceId, system: systems.join(','), err: (err as Error).message }, 'availability: supplier subgraph did not answer');
        for (const service of group) answers.failures.push({ service, reason });
        return;
      }
      for (const s of top.services) {
        const service = byId.get(s.serviceId);
        if (!service) continue;
        if (s.failure || s.totalCount == null) answers.failures.push({ service, reason: coverageReason(s.failure) });
        else {
          const places = s.places ?? s.totalCount;
          answers.services.set(s.serviceId, {
            totalCount: s.totalCount,
            places,
            distinctCount: s.distinctCount ?? s.totalCount,
            distinctPlaces: s.distinctPlaces ?? places,
            firstStart: s.firstStart ?? null,
            fetchedAt: s.fetchedAt,
            stale: s.stale,
          });
        }
      }
      // A service the answer does not mention was not answered: never counted as if it had been.
      const mentioned = new Set(top.services.map((s) => s.serviceId));
      for (const service of group) if (!mentioned.has(service.id)) answers.failures.push({ service, reason: 'INVALID_RESPONSE' });
      // Sort keys as the subgraph computed them (epoch ms, rank); the service's distance from the directory.
      const list: RankedSlot[] = [];
      for (const r of top.slots) {
        const service = byId.get(r.slot.serviceId);
        if (!service || !answers.services.has(service.id)) continue;
        const ranked: RankedSlot = { a: r.startMs, b: service.rank, c: 0, id: r.slot.id, slot: r.slot as SlotData, service };
        if (r.alsoListedAs.length > 0) {
          const also: OtherListing[] = [];
          for (const l of r.alsoListedAs) {
            const other = byId.get(l.serviceId);
            if (other && answers.services.has(other.id)) also.push({ slotId: l.slotId, service: other });
          }
          if (also.length > 0) ranked.also = also;
        }
        list.push(ranked);
      }
      answers.lists.push(list);
    }),
  );
  return answers;
}

// ---- merging ---------------------------------------------------------------------------------------------------

/**
 * The first `limit` slots of every system's list in one total order: by start (then rank: distance, then service
 * id; then slot id), or by distance first (then start, rank, slot id). Keys were computed once, when the answers
 * arrived; the comparator only compares numbers (and, on a full tie, ids).
 */
export function mergeTop(answers: SupplierAnswers, sort: 'START' | 'DISTANCE', limit: number): RankedSlot[] {
  if (sort === 'START') {
    // Each system's list is already in (start, rank, id) order: a k-way merge of a handful of lists.
    return kWayMerge(answers.lists.map((l) => ensureSorted(l)), compareKeyed, limit);
  }
  // By distance: per service lists (each in start order), keyed (distance, start, rank).
  const byService = new Map<string, RankedSlot[]>();
  for (const list of answers.lists) {
    for (const r of list) {
      const keyed: RankedSlot = { ...r, a: r.service.distanceKm ?? Number.POSITIVE_INFINITY, b: r.a, c: r.service.rank };
      const l = byService.get(r.service.id);
      if (l) l.push(keyed);
      else byService.set(r.service.id, [keyed]);
    }
  }
  return kWayMerge([...byService.values()].map((l) => ensureSorted(l)), compareKeyed, limit);
}

function ensureSorted(list: RankedSlot[]): RankedSlot[] {
  for (let i = 1; i < list.length; i++) if (compareKeyed(list[i - 1]!, list[i]!) > 0) return [...list].sort(compareKeyed);
  return list;
}

/** What the top-K operation is asked for a sort: one merged list either way (by distance: with distanceGroups). */
export function modeFor(_sort: 'START' | 'DISTANCE'): TopSlotsMode {
  return 'MERGED';
}

/**
 * One page from answers fetched with K = offset + first: its slots, the exact total, and whether a next page exists
 * that the API will serve (slots lie beyond this page, within the first MAX_POSITION).
 */
export function pageOf(answers: SupplierAnswers, sort: 'START' | 'DISTANCE', offset: number, first: number) {
  const k = offset + first;
  const total = totalCount(answers);
  return { items: mergeTop(answers, sort, k).slice(offset, k), total, hasNextPage: k < Math.min(total, MAX_POSITION) };
}

/**
 * Free slots matching the search over all pages: each answering service's exact count of the slots counted under it
 * (hand-offs excluded when asked), so a slot several services list is counted once.
 */
export function totalCount(answers: SupplierAnswers): number {
  let total = 0;
  for (const s of answers.services.values()) total += s.distinctCount;
  return total;
}

/**
 * Asked, answered and why not. A service that answered with the last good data (its supplier failed since), or with
 * data older than the search's maxAge, is answered and also listed as STALE.
 */
export function coverage(services: readonly DirectoryService[], answers: SupplierAnswers, maxAge: number | null, now: Date) {
  const asked = askable(services);
  const failures: { serviceId: string; serviceName: string; supplierSystem: string; reason: CoverageReason }[] = answers.failures.map((f) => ({
    serviceId: f.service.id,
    serviceName: f.service.name,
    supplierSystem: f.service.supplier!.id,
    reason: f.reason,
  }));
  for (const s of asked) {
    const a = answers.services.get(s.id);
    if (!a) continue;
    const tooOld = maxAge != null && a.fetchedAt != null && now.getTime() - Date.parse(a.fetchedAt) > maxAge * 1000;
    if (a.stale || tooOld) failures.push({ serviceId: s.id, serviceName: s.name, supplierSystem: s.supplier!.id, reason: 'STALE' });
  }
  return { servicesAsked: asked.length, servicesAnswered: asked.length - answers.failures.length, failures };
}

// ---- the operations --------------------------------------------------------------------------------------------

/** A service as an answer shows it, made once per directory answer's service (reused while that answer is). */
const shown = new WeakMap<DirectoryService, ReturnType<typeof showService>>();

function availableService(s: DirectoryService) {
  let v = shown.get(s);
  if (v === undefined) {
    v = showService(s);
    shown.set(s, v);
  }
  return v;
}

function showService(s: DirectoryService) {
  return {
    id: s.id,
    name: s.name,
    serviceType: s.serviceType,
    supplierSystem: s.supplier!.id,
    postcode: s.location.postcode,
    lat: s.location.lat,
    lon: s.location.lon,
  };
}

/**
 * `availability`: one page of the merged list, reusing an identical search's answer while nothing was booked, and
 * joining an identical search already running (in-flight.ts) when it read the same slot generations and holds.
 */
export async function searchAvailability(v: ValidAvailability, ctx: CallContext, deps: AvailabilityDeps): Promise<Availability> {
  const reused = await reusableAnswer(v, ctx, deps);
  if (reused) {
    noteReused(ctx, reused);
    return reused.shown;
  }
  return fetchAnswer(v, answerKey(v, ctx), ctx, deps);
}

/** An answer reused for a search: the kept entry, under its key, and the entry as shown (labelled CACHE). */
export interface ReusedAnswer {
  key: string;
  entry: CachedAnswer<Availability>;
  shown: Availability;
}

/** The fingerprint covers the whole normalised search (window, maxAge included); the consumer decides what it may see. */
function answerKey(v: ValidAvailability, ctx: CallContext): string {
  return `${v.fingerprint}|${ctx.consumer.odsCode}|${v.offset}|${v.first}`;
}

/**
 * The kept answer of an identical search, when every generation behind it still holds; a stale one (past its ttl,
 * read-cache.ts) is reused the same way and refreshed in the background. Never for a search with maxAge. `counted`:
 * whether this reuse is counted here (answer-renders.ts counts its own, once per answer).
 */
export async function reusableAnswer(v: ValidAvailability, ctx: CallContext, deps: AvailabilityDeps, counted = true): Promise<ReusedAnswer | undefined> {
  const cache = deps.answerCache;
  if (!cache || v.maxAge !== null) return undefined;
  const key = answerKey(v, ctx);
  const hit = cache.peek(key);
  if (!hit) return undefined;
  const now = await cache.generationsNow(hit.entry.pairs, v.from, v.to).catch(() => null);
  if (now === null || now !== hit.entry.generations) return undefined;
  if (counted) availabilityAnswers.inc({ how: hit.stale ? 'stale' : 'reused' });
  if (hit.stale) {
    cache.refresh(key, () => fetchAnswer(v, key, ctx, deps), (err) => deps.logger.warn({ traceId: ctx.traceId, err: (err as Error).message }, 'availability: background refresh failed'));
  }
  return { key, entry: hit.entry, shown: shownAsCached(hit.entry) };
}

/** What the gateway's executor keeps of identical warm searches (answer-renders.ts); none when no answer is reused. */
export function answerRenders(schema: GraphQLSchema, deps: AvailabilityDeps): AnswerRenders | undefined {
  const cache = deps.answerCache;
  if (!cache) return undefined;
  return new AnswerRenders(schema, (search, ctx) => reusableAnswer(validateAvailability(search, deps.now()), ctx, deps, false), cache.lifeMs);
}

/** The answer fetched for this request: the directory (cached), then every system's top K, merged. */
async function fetchAnswer(v: ValidAvailability, key: string, ctx: CallContext, deps: AvailabilityDeps): Promise<Availability> {
  const startedAt = deps.answerCache?.now() ?? 0;
  const services = await findServices(v, ctx, deps);
  // Frozen: kept with the answer and read at each reuse, by identity too (read-cache.ts SlotGenerations layouts).
  const pairs = Object.freeze(askable(services).map((s) => Object.freeze({ system: s.supplier!.id, serviceId: s.id })));
  // Read before the fetch, so a booking during it makes the stored answer unusable (read-cache.ts SlotGenerations).
  // The live holds come with it, and go to the supplier subgraphs in place of their own read of them.
  const read = deps.answerCache ? await deps.answerCache.generationsAndHoldsNow(pairs).catch(() => null) : null;
  const before = read?.generations ?? null;
  const reuse = v.maxAge === null ? deps.answerCache : undefined;
  const answer = () => answerSearch(v, key, services, pairs, read, reuse, startedAt, ctx, deps);
  // Only a search that read the same generations and holds joins: one sent after this consumer's booking (or a hold)
  // reads a newer number and starts its own, so nobody is shown a slot as free after booking it.
  return before !== null && deps.searches ? deps.searches.run(`${key}|${before}`, answer) : answer();
}

async function answerSearch(
  v: ValidAvailability,
  key: string,
  services: DirectoryService[],
  pairs: readonly { system: string; serviceId: string }[],
  read: GenerationsRead | null,
  reuse: AnswerCache<Availability> | undefined,
  startedAt: number,
  ctx: CallContext,
  deps: AvailabilityDeps,
): Promise<Availability> {
  // Once per fan-out: searches joining it (in-flight.ts) are not counted again.
  availabilityAnswers.inc({ how: 'fetched' });
  const k = v.offset + v.first;
  const answers = await fetchTop(services, v, ctx, deps, k, modeFor(v.sort), distanceGroups(services, v.sort), read?.holds);
  const { items, hasNextPage, total } = pageOf(answers, v.sort, v.offset, v.first);
  const edges = items.map((m, i) => ({
    cursor: encodeCursor(v.offset + i, v.fingerprint, v.from),
    node: {
      slot: m.slot,
      distanceKm: m.service.distanceKm,
      service: availableService(m.service),
      alsoListedAs: (m.also ?? []).map((o) => ({ slotId: o.slotId, service: availableService(o.service) })),
    },
  }));
  const cov = coverage(services, answers, v.maxAge, deps.now());
  deps.logger.info({ traceId: ctx.traceId, services: services.length, slots: total, failures: cov.failures.length }, 'availability');
  const answer: Availability = {
    edges,
    nodes: edges.map((e) => e.node),
    // A next page exists when slots lie beyond this one and within the positions a search pages through.
    pageInfo: { hasNextPage, endCursor: edges.at(-1)?.cursor ?? null },
    totalCount: total,
    coverage: cov,
  };
  if (reuse && read && cov.failures.length === 0) reuse.set(key, { answer, generations: read.generations, pairs }, startedAt);
  return answer;
}

/** Reused: nothing in it was fetched for this request, so nothing in it is LIVE. Made once per kept answer. */
const asCached = new WeakMap<CachedAnswer<Availability>, Availability>();

function shownAsCached(entry: CachedAnswer<Availability>): Availability {
  let shown = asCached.get(entry);
  if (!shown) {
    const a = entry.answer;
    const edges = a.edges.map((e) => (e.node.slot.source === 'LIVE' ? { ...e, node: { ...e.node, slot: { ...e.node.slot, source: 'CACHE' as const } } } : e));
    shown = { edges, nodes: edges.map((e) => e.node), pageInfo: a.pageInfo, totalCount: a.totalCount, coverage: a.coverage };
    asCached.set(entry, shown);
  }
  return shown;
}

/**
 * Root `capacity`: per service, free places (all, and counted once across the report), the next start and the
 * evidence age, from the per-service counts of each system's answer.
 */
export async function capacityReport(
  args: { serviceIds: readonly string[]; from?: string | null; to?: string | null; maxAge?: number | null },
  ctx: CallContext,
  deps: AvailabilityDeps,
): Promise<CapacityReport> {
  if (args.serviceIds.length === 0 || args.serviceIds.length > MAX_SERVICES) {
    throw userInputError(`serviceIds takes 1 to ${MAX_SERVICES} ids`, 'serviceIds');
  }
  const v = validateAvailability({ serviceIds: [...args.serviceIds], from: args.from, to: args.to, maxAge: args.maxAge }, deps.now(), '');
  const services = await findServices(v, ctx, deps, '');
  const answers = await fetchTop(services, v, ctx, deps, 1, 'PER_SERVICE');
  const at = deps.now().getTime();
  const byId = new Map(services.map((s) => [s.id, s]));
  return {
    coverage: coverage(services, answers, v.maxAge, deps.now()),
    services: [...new Set(args.serviceIds)].map((id) => {
      const service = byId.get(id);
      const a = answers.services.get(id);
      const fetchedAt = a?.fetchedAt ? Date.parse(a.fetchedAt) : null;
      return {
        serviceId: id,
        freeSlots: a ? a.places : null,
        distinctFreeSlots: a ? a.distinctPlaces : null,
        // The service's own earliest, shared or not: its list leaves out slots another service asked claimed.
        nextAvailableStart: a?.firstStart ?? null,
        evidenceAgeSeconds: fetchedAt === null ? null : Math.max(0, Math.round((at - fetchedAt) / 1000)),
        rag: service?.capacityStatus?.rag ?? null,
        ragAgeMinutes: service?.capacityStatus?.ageMinutes ?? null,
      };
    }),
  };
}
