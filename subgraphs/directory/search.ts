/**
 * `services`: one validated search run against the DoS and shaped as a cursor connection. A cursor is a position
 * in the DoS's own ordering (distance then id, or id), so consecutive pages neither lose nor repeat a service,
 * and each page is usually one DoS call (see paging.ts).
 *
 * `bookableOnly` is the exception: bookability depends on our supplier registry, which the DoS knows nothing
 * of, so the whole result is read (100 a call, bounded) and filtered here, and positions index the filtered list.
 * So are searches that feed-published services also match: the DoS result is read whole, merged with them in one
 * order (distance then id), and positions index the merged list.
 */
import { userInputError } from '../../common/errors.js';
import type { DosClient, DosSearchParams, DosService } from './client.js';
import { decodeCursor, encodeCursor, searchFingerprint } from './cursor.js';
import type { DirectorySearch, ValidServicesArgs } from './input.js';
import type { ServiceModel } from './model.js';
import { feedCandidates, mergeOrder, withinRadius, type FeedDirectory, type FeedServiceRecord, type Located } from './feeds.js';
import { DOS_MAX_PAGE_SIZE, planDosPages, positionOf } from './paging.js';

/** The most DoS results a bookableOnly search will read and filter (ten calls). */
export const MAX_BOOKABLE_SCAN = 1000;

export interface SearchDeps {
  client: Pick<DosClient, 'search'>;
  /** A DoS record as a parent object; null for a record this API cannot represent (logged by the caller). */
  toModel: (record: DosService) => ServiceModel | null;
  /** Feed-published services, when feeds are configured. */
  feeds?: FeedDirectory;
  /** A feed record as a parent object; null when its supplier system is no longer in the registry. */
  toFeedModel?: (record: FeedServiceRecord) => ServiceModel | null;
}

export interface ServiceEdgeResult {
  cursor: string;
  node: ServiceModel;
  distanceKm: number | null;
}

export interface ServiceConnectionResult {
  edges: ServiceEdgeResult[];
  nodes: ServiceModel[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
  totalCount: number;
}

interface Positioned {
  position: number;
  record: DosService;
}

export async function searchServices(args: ValidServicesArgs, deps: SearchDeps): Promise<ServiceConnectionResult> {
  const { search, first } = args;
  const fingerprint = searchFingerprint(search);
  const offset = args.after === null ? 0 : startAfter(args.after, fingerprint);
  const params = dosParams(search);
  const candidates = deps.feeds && deps.toFeedModel ? feedCandidates(await deps.feeds.list(), search) : [];
  if (candidates.length > 0) return mergedSearch(search, params, candidates, offset, first, fingerprint, deps);
  if (search.matchesNothing) return connection([], 0, offset, first, fingerprint, deps);
  if (search.bookableOnly) {
    const all = (await readAll(params, deps, 'filter.bookableOnly')).models;
    const bookable = all.filter(({ node }) => node.bookable);
    const window = bookable.slice(offset, offset + first).map((x, i) => ({ ...x, position: offset + i }));
    return connectionOfModels(window, bookable.length, offset, first, fingerprint);
  }

  const pages = planDosPages(offset, first);
  const answers = await Promise.all(pages.map((p) => deps.client.search({ ...params, ...p })));
  const inWindow: Positioned[] = [];
  answers.forEach((answer, i) => {
    answer.services.forEach((record, index) => {
      const position = positionOf(pages[i]!, index);
      if (position >= offset && position < offset + first) inWindow.push({ position, record });
    });
  });
  // Both pages come from the same DoS moment in practice; the first page's count is the one its positions match.
  return connection(inWindow, answers[0]!.totalCount, offset, first, fingerprint, deps);
}

function startAfter(after: string, fingerprint: string): number {
  const decoded = decodeCursor(after, fingerprint);
  if ('problem' in decoded) {
    throw userInputError(
      decoded.problem === 'OTHER_SEARCH'
        ? 'after is a cursor from a different search: keep the same filter, near and radiusKm while paging'
        : 'after is not a cursor this API issued',
      'after',
    );
  }
  return decoded.position + 1;
}

function dosParams(s: DirectorySearch): Omit<DosSearchParams, 'page' | 'pageSize'> {
  return {
    ...(s.point && 'postcode' in s.point ? { postcode: s.point.postcode } : {}),
    ...(s.point && 'lat' in s.point ? { lat: s.point.lat, lon: s.point.lon } : {}),
    ...(s.point && s.radiusKm !== null ? { distanceKm: s.radiusKm } : {}),
    serviceTypeIds: s.serviceTypeIds,
    ...(s.ids ? { ids: s.ids } : {}),
  };
}

/**
 * DoS services and the matching feed services in one list. The DoS tells us where a postcode is (its search
 * origin); when the filters exclude every DoS service, one single-result search still asks it.
 */
async function mergedSearch(
  search: DirectorySearch,
  params: Omit<DosSearchParams, 'page' | 'pageSize'>,
  candidates: FeedServiceRecord[],
  offset: number,
  first: number,
  fingerprint: string,
  deps: SearchDeps,
): Promise<ServiceConnectionResult> {
  let dos: { models: { node: ServiceModel; distanceKm: number | null }[]; origin: { lat: number; lon: number } | null } = { models: [], origin: null };
  if (!search.matchesNothing) dos = await readAll(params, deps, 'filter');
  let origin = search.point && 'lat' in search.point ? search.point : dos.origin;
  if (search.point && !origin) origin = (await deps.client.search({ ...params, serviceTypeIds: undefined, ids: undefined, page: 1, pageSize: 1 })).origin;

  const feeds: Located<ServiceModel>[] = [];
  for (const { node, distanceKm } of withinRadius(candidates, search, origin)) {
    const model = deps.toFeedModel!(node);
    if (model) feeds.push({ node: model, distanceKm });
  }
  const dosModels = search.bookableOnly ? dos.models.filter(({ node }) => node.bookable) : dos.models;
  const merged = [...dosModels, ...feeds].sort(mergeOrder);
  const window = merged.slice(offset, offset + first).map((x, i) => ({ ...x, position: offset + i }));
  return connectionOfModels(window, merged.length, offset, first, fingerprint);
}

async function readAll(params: Omit<DosSearchParams, 'page' | 'pageSize'>, deps: SearchDeps, field: string) {
  const head = await deps.client.search({ ...params, page: 1, pageSize: DOS_MAX_PAGE_SIZE });
  if (head.totalCount > MAX_BOOKABLE_SCAN) {
    throw userInputError(
      `This search matches ${head.totalCount} services, more than the ${MAX_BOOKABLE_SCAN} that can be filtered and merged here: narrow it by types, ids or radiusKm`,
      field,
    );
  }
  const more = Math.ceil(head.totalCount / DOS_MAX_PAGE_SIZE) - 1;
  const rest = await Promise.all(
    Array.from({ length: Math.max(0, more) }, (_, i) => deps.client.search({ ...params, page: i + 2, pageSize: DOS_MAX_PAGE_SIZE })),
  );
  const models: { node: ServiceModel; distanceKm: number | null }[] = [];
  for (const record of [head, ...rest].flatMap((a) => a.services)) {
    const node = deps.toModel(record);
    if (node) models.push({ node, distanceKm: distanceOf(record) });
  }
  return { models, origin: head.origin };
}

function connection(
  window: Positioned[],
  totalCount: number,
  offset: number,
  first: number,
  fingerprint: string,
  deps: SearchDeps,
): ServiceConnectionResult {
  const mapped: { position: number; node: ServiceModel; distanceKm: number | null }[] = [];
  for (const { position, record } of window) {
    const node = deps.toModel(record);
    if (node) mapped.push({ position, node, distanceKm: distanceOf(record) });
  }
  const result = connectionOfModels(mapped, totalCount, offset, first, fingerprint);
  // A record we could not map still occupies its position: resume after it, or the next page would repeat it.
  const lastSeen = window.at(-1)?.position;
  if (lastSeen !== undefined) result.pageInfo.endCursor = encodeCursor(lastSeen, fingerprint);
  return result;
}

function connectionOfModels(
  window: { position: number; node: ServiceModel; distanceKm: number | null }[],
  totalCount: number,
  offset: number,
  first: number,
  fingerprint: string,
): ServiceConnectionResult {
  const edges = window.map(({ position, node, distanceKm }) => ({ cursor: encodeCursor(position, fingerprint), node, distanceKm }));
  return {
    edges,
    nodes: edges.map((e) => e.node),
    pageInfo: { hasNextPage: offset + first < totalCount, endCursor: edges.at(-1)?.cursor ?? null },
    totalCount,
  };
}

function distanceOf(record: DosService): number | null {
  return typeof record.distanceKm === 'number' && Number.isFinite(record.distanceKm) ? record.distanceKm : null;
}
