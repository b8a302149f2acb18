/**
 * Combined availability: the consumer's core question, "where can this patient be seen soonest?", answered in one
 * request across every matching service and supplier system. The directory says which services match; each
 * supplier system is asked once, for all its services, through the same batched `_entities` call the planner would
 * make, under that system's deadline; the answers are merged, sorted and paginated here, and whatever could not
 * answer is reported in `coverage` instead of failing the whole answer.
 */
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { SUBGRAPHS } from '../../subgraphs/catalog.js';
import type { ConsumerOrganisation } from '../../subgraphs/kit/consumer.js';
import { userInputError } from '../../subgraphs/kit/errors.js';
import { gatewayHeaders } from '../../subgraphs/kit/internal-auth.js';
import type { Registry } from '../../subgraphs/kit/registry.js';
import { readWindow } from '../../subgraphs/kit/window-input.js';
import { canonicalJson } from './idempotency.js';
import type { AvailabilitySearch, CoverageReason, ServiceType, Slot } from './generated/resolvers.js';

export { MAX_WINDOW_DAYS } from '../../subgraphs/kit/window-input.js';
export const MAX_SERVICES = 100;
const MAX_FIRST = 200;
/** Per service and window: the adapters' own cap on one slots answer. */
export const SLOTS_PER_SERVICE = 500;
/** Grace on top of a system's own deadline, so its typed TIMEOUT answer arrives before we give up on it. */
const DEADLINE_GRACE_MS = 250;

export interface AvailabilityDeps {
  registry: Registry;
  /** Remote subgraph name → URL. */
  subgraphUrls: Record<string, string>;
  internalKey: string;
  logger: Logger;
  now: () => Date;
  /** Deadline for the directory look-up. */
  directoryDeadlineMs?: number;
}

export interface CallContext {
  consumer: ConsumerOrganisation;
  traceId: string;
}

export interface DirectoryService {
  __typename: string;
  id: string;
  name: string;
  serviceType: ServiceType;
  supplier: { id: string; kind: string } | null;
  location: { postcode: string | null; lat: number | null; lon: number | null };
  capacityStatus: { rag: string; ageMinutes: number } | null;
  distanceKm: number | null;
}

/** A slot as the supplier subgraphs serve it (the shared contract). */
export type SlotData = Slot;

export interface SupplierAnswers {
  slots: Map<string, SlotData[]>;
  /** Each answering service's free slots in the window, all of them, however few were fetched. */
  totals: Map<string, number>;
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
  const { from, to } = readWindow(s, now, prefix);
  const first = s.first ?? 50;
  if (!Number.isInteger(first) || first < 1 || first > MAX_FIRST) throw userInputError(`search.first must be from 1 to ${MAX_FIRST}`, 'search.first');
  const radiusKm = s.radiusKm ?? 25;
  if (!(radiusKm > 0 && radiusKm <= 160)) throw userInputError('search.radiusKm must be more than 0 and at most 160', 'search.radiusKm');
  if (s.serviceIds && (s.serviceIds.length === 0 || s.serviceIds.length > MAX_SERVICES)) {
    throw userInputError(`search.serviceIds takes 1 to ${MAX_SERVICES} ids`, 'search.serviceIds');
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
  // Every page is exact because no service is asked for more than the page's end position, up to what one slots
  // answer holds; past that, a narrower search (a shorter window, fewer services) is the honest answer.
  if (offset + first > SLOTS_PER_SERVICE) {
    throw userInputError(`A search pages through its first ${SLOTS_PER_SERVICE} slots; narrow the window or the services for later ones`, 'search.after');
  }
  return { ...normalised, from, to, first, offset, fingerprint };
}

export function encodeCursor(position: number, fingerprint: string): string {
  return Buffer.from(JSON.stringify(['a1', position, fingerprint])).toString('base64url');
}

function decodeCursor(cursor: string, fingerprint: string): number {
  try {
    const [v, position, fp] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [string, number, string];
    if (v === 'a1' && Number.isInteger(position) && position >= 0 && fp === fingerprint) return position;
    if (v === 'a1' && fp !== fingerprint) throw userInputError('search.after is a cursor from a different search', 'search.after');
  } catch (err) {
    if (err instanceof Error && 'extensions' in err) throw err;
  }
  throw userInputError('search.after is not a cursor this API issued', 'search.after');
}

// ---- the directory ---------------------------------------------------------------------------------------------

const SERVICES_QUERY = /* GraphQL */ `
  query($filter: ServiceFilter, $near: NearInput, $radiusKm: Float, $after: String) {
    services(filter: $filter, near: $near, radiusKm: $radiusKm, first: 100, after: $after) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges {
        distanceKm
        node {
          __typename id name serviceType
          supplier { id kind }
          location { postcode lat lon }
          capacityStatus { rag ageMinutes }
        }
      }
    }
  }
`;

async function postGraphQL<T>(url: string, query: string, variables: object, ctx: CallContext, key: string, deadlineMs: number): Promise<{ data?: T; errors?: GraphQLErrorShape[] }> {
  const body = JSON.stringify({ query, variables });
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...gatewayHeaders(ctx.consumer, { method: 'POST', url, body }, ctx.traceId, key) },
    body,
    signal: AbortSignal.timeout(deadlineMs),
  });
  return (await res.json()) as { data?: T; errors?: GraphQLErrorShape[] };
}

interface GraphQLErrorShape {
  message: string;
  path?: (string | number)[];
  extensions?: { code?: string; reason?: string; field?: string };
}

/** The matching services, every page of them (at most MAX_SERVICES: a wider search is refused, not truncated). */
export async function findServices(v: Pick<ValidAvailability, 'types' | 'serviceIds' | 'near' | 'radiusKm'>, ctx: CallContext, deps: AvailabilityDeps): Promise<DirectoryService[]> {
  const url = deps.subgraphUrls.directory;
  if (!url) throw new Error('no directory subgraph configured');
  const variables = {
    filter: { ...(v.types ? { types: v.types } : {}), ...(v.serviceIds ? { ids: v.serviceIds } : {}) },
    near: v.near,
    radiusKm: v.near ? v.radiusKm : undefined,
  };
  const out: DirectoryService[] = [];
  let after: string | null = null;
  do {
    type Page = { services: { totalCount: number; pageInfo: { hasNextPage: boolean; endCursor: string | null }; edges: { distanceKm: number | null; node: Omit<DirectoryService, 'distanceKm'> }[] } };
    const body: { data?: Page; errors?: GraphQLErrorShape[] } = await postGraphQL<Page>(url, SERVICES_QUERY, { ...variables, after }, ctx, deps.internalKey, deps.directoryDeadlineMs ?? 3000);
    const bad = body.errors?.find((e) => e.extensions?.code === 'BAD_USER_INPUT');
    // The directory's words about our input (an unknown postcode, say) are the client's to read.
    if (bad) throw userInputError(bad.message, `search.${bad.extensions?.field ?? 'near'}`);
    if (!body.data) throw new Error(`directory answered without data (${body.errors?.[0]?.extensions?.code ?? 'no code'})`);
    const page = body.data.services;
    if (page.totalCount > MAX_SERVICES) {
      throw userInputError(`The search matches ${page.totalCount} services; at most ${MAX_SERVICES} can be combined: narrow it by types, radiusKm or serviceIds`, 'search');
    }
    for (const e of page.edges) out.push({ ...e.node, distanceKm: e.distanceKm });
    after = page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null;
  } while (after);
  return out;
}

// ---- the suppliers ---------------------------------------------------------------------------------------------

const SLOT_FIELDS = 'id serviceId start end status deliveryChannel practitioner { name role } capacity bookingLink bookingPhone bookable fetchedAt source';

function subgraphFor(kind: string): string | undefined {
  return SUBGRAPHS.find((s) => s.books?.kinds.includes(kind) && s.remote)?.name;
}

const REASONS: ReadonlySet<string> = new Set(['TIMEOUT', 'UNAVAILABLE', 'RATE_LIMITED', 'CIRCUIT_OPEN', 'INVALID_RESPONSE']);

function reasonOf(error: GraphQLErrorShape | undefined): CoverageReason {
  const r = error?.extensions?.reason;
  return (r && REASONS.has(r) ? r : 'UNAVAILABLE') as CoverageReason;
}

/** Services whose supplier system serves slots through a subgraph; the rest (referral-only) have none to ask for. */
export function askable(services: readonly DirectoryService[]): DirectoryService[] {
  return services.filter((s) => s.supplier && subgraphFor(s.supplier.kind) && s.__typename !== 'ReferralOnlyService');
}

/**
 * One `_entities` call per supplier system, all in parallel, each under that system's own deadline. `perService`
 * slots are fetched from each service: a page of the merged list needs no more from any one service than the page's
 * end position, so page one moves a page's worth of slots through the gateway, not every slot in the window.
 */
export async function fetchSlots(
  services: readonly DirectoryService[],
  window: { from: Date; to: Date; maxAge: number | null },
  ctx: CallContext,
  deps: AvailabilityDeps,
  perService = SLOTS_PER_SERVICE,
): Promise<SupplierAnswers> {
  const bySystem = new Map<string, DirectoryService[]>();
  for (const s of askable(services)) bySystem.set(s.supplier!.id, [...(bySystem.get(s.supplier!.id) ?? []), s]);
  const answers: SupplierAnswers = { slots: new Map(), totals: new Map(), failures: [] };
  const first = Math.max(1, Math.min(SLOTS_PER_SERVICE, perService));

  await Promise.all(
    [...bySystem].map(async ([systemId, group]) => {
      const kind = group[0]!.supplier!.kind;
      const url = deps.subgraphUrls[subgraphFor(kind)!];
      const deadline = (deps.registry.system(systemId)?.deadlineMs ?? 2000) + DEADLINE_GRACE_MS;
      const typenames = [...new Set(group.map((s) => s.__typename))];
      const query = `query($reps: [_Any!]!, $from: DateTime, $to: DateTime, $maxAge: Int) { _entities(representations: $reps) { ${typenames
        .map((t) => `... on ${t} { id slots(from: $from, to: $to, first: ${first}, maxAge: $maxAge) { totalCount nodes { ${SLOT_FIELDS} } } }`)
        .join(' ')} } }`;
      const variables = {
        reps: group.map((s) => ({ __typename: s.__typename, id: s.id, supplier: { id: systemId } })),
        from: window.from.toISOString(),
        to: window.to.toISOString(),
        maxAge: window.maxAge,
      };
      try {
        if (!url) throw new Error(`no subgraph for ${kind}`);
        type Entities = { _entities: ({ id: string; slots: { totalCount: number; nodes: SlotData[] } | null } | null)[] };
        const body = await postGraphQL<Entities>(url, query, variables, ctx, deps.internalKey, deadline);
        const entities = body.data?._entities ?? [];
        group.forEach((service, i) => {
          const slots = entities[i]?.slots?.nodes;
          if (slots) {
            answers.slots.set(service.id, slots);
            answers.totals.set(service.id, entities[i]!.slots!.totalCount);
          } else {
            const error = body.errors?.find((e) => e.path?.[0] === '_entities' && e.path[1] === i) ?? body.errors?.[0];
            answers.failures.push({ service, reason: reasonOf(error) });
          }
        });
      } catch (err) {
        const timedOut = err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
        deps.logger.warn({ traceId: ctx.traceId, system: systemId, err: (err as Error).message }, 'availability: supplier system did not answer');
        for (const service of group) answers.failures.push({ service, reason: timedOut ? 'TIMEOUT' : 'UNAVAILABLE' });
      }
    }),
  );
  return answers;
}

// ---- merging ---------------------------------------------------------------------------------------------------

export interface Merged {
  slot: SlotData;
  service: DirectoryService;
}

function isHandoff(slot: SlotData): boolean {
  return !slot.bookable && !!slot.bookingLink;
}

/**
 * One list, in a total order (start, then distance, then service and slot id; or distance first), of the slots
 * fetched. When every service sent its first K slots, the first K positions of this list are exactly those of the
 * complete merge: no slot among them can come from beyond any one service's first K.
 */
export function merge(services: readonly DirectoryService[], answers: SupplierAnswers, v: Pick<ValidAvailability, 'sort' | 'includeHandoff'>): Merged[] {
  const byId = new Map(services.map((s) => [s.id, s]));
  const all: Merged[] = [];
  for (const [serviceId, slots] of answers.slots) {
    const service = byId.get(serviceId);
    if (!service) continue;
    for (const slot of slots) {
      if (!v.includeHandoff && isHandoff(slot)) continue;
      all.push({ slot, service });
    }
  }
  const kept = all;
  const dist = (m: Merged) => m.service.distanceKm ?? Number.POSITIVE_INFINITY;
  const byStart = (a: Merged, b: Merged) => Date.parse(a.slot.start) - Date.parse(b.slot.start);
  const byTie = (a: Merged, b: Merged) => (a.service.id < b.service.id ? -1 : a.service.id > b.service.id ? 1 : a.slot.id < b.slot.id ? -1 : a.slot.id > b.slot.id ? 1 : 0);
  return kept.sort(v.sort === 'DISTANCE' ? (a, b) => dist(a) - dist(b) || byStart(a, b) || byTie(a, b) : (a, b) => byStart(a, b) || dist(a) - dist(b) || byTie(a, b));
}

/**
 * Free slots matching the search over all pages: each service's own count. Feed services hand bookings off, so
 * when hand-offs are excluded a service whose fetched slots are all hand-offs counts nothing.
 */
export function totalCount(answers: SupplierAnswers, v: Pick<ValidAvailability, 'includeHandoff'>): number {
  let total = 0;
  for (const [serviceId, n] of answers.totals) {
    const slots = answers.slots.get(serviceId) ?? [];
    if (!v.includeHandoff && slots.length > 0 && slots.every(isHandoff)) continue;
    total += n;
  }
  return total;
}

export function coverage(services: readonly DirectoryService[], answers: SupplierAnswers) {
  const asked = askable(services).length;
  return {
    servicesAsked: asked,
    servicesAnswered: asked - answers.failures.length,
    failures: answers.failures.map((f) => ({ serviceId: f.service.id, serviceName: f.service.name, supplierSystem: f.service.supplier!.id, reason: f.reason })),
  };
}
