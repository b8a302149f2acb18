/**
 * The directory subgraph in-process against the sandbox directory: GraphQL in, DoS calls out (counted from the
 * simulator's request log).
 */
import { pino } from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RecordedRequest, SandboxServer } from '../../sandbox/lib/http.js';
import { startDirectorySimulator } from '../../sandbox/directory/server.js';
import { SEED_SERVICES } from '../../sandbox/seed/services.js';
import { parseRegistry } from '../kit/registry.js';
import type { RunningSubgraph } from '../kit/server.js';
import { startDirectorySubgraph } from './subgraph.js';
import { gatewayHeaders } from '../../common/internal-auth.js';

const NOW = new Date('2026-03-10T12:00:00Z');
let sim: SandboxServer;
let subgraph: RunningSubgraph;

// The sandbox registry as it stands: two Booking Standard systems; oakfield-pas is not listed yet.
const registry = parseRegistry({
  consumerSystem: { asid: '918999198738', endpoint: 'https://booking-gateway.sandbox.invalid/fhir' },
  systems: [
    { id: 'harbour-uec', kind: 'BOOKING_STANDARD', name: 'Harbour UEC Booking', baseUrl: 'http://127.0.0.1:9/harbour', asid: '200000000101', interactions: { searchSlot: 'urn:x' } },
    { id: 'meridian-ooh', kind: 'BOOKING_STANDARD', name: 'Meridian Out-of-Hours', baseUrl: 'http://127.0.0.1:9/meridian', asid: '200000000202', interactions: { searchSlot: 'urn:y' } },
  ],
});

beforeAll(async () => {
  sim = await startDirectorySimulator({ port: 0, now: () => NOW, credentials: { user: 'dos-sandbox', password: 'sandbox-password' } });
  subgraph = await startDirectorySubgraph({
    port: 0,
    dos: { baseUrl: sim.url, user: 'dos-sandbox', password: 'sandbox-password', deadlineMs: 1000, retries: 0 },
    registry,
    now: () => NOW,
    logger: pino({ level: 'silent' }),
  });
});
afterAll(async () => {
  await subgraph.close();
  await sim.close();
});
beforeEach(async () => {
  await fetch(`${sim.url}/_sandbox/faults`, { method: 'DELETE' });
  await fetch(`${sim.url}/_sandbox/requests`, { method: 'DELETE' });
});

interface GqlError {
  message: string;
  path?: (string | number)[];
  extensions?: Record<string, unknown>;
}
interface GqlResult<T> {
  data?: T;
  errors?: GqlError[];
}

async function gql<T = Record<string, unknown>>(query: string, variables: Record<string, unknown> = {}): Promise<GqlResult<T>> {
  const sent = JSON.stringify({ query, variables });
  const res = await fetch(subgraph.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...gatewayHeaders(null, { url: subgraph.url, body: sent }) },
    body: sent,
  });
  return (await res.json()) as GqlResult<T>;
}

/** DoS API calls since the last reset of the simulator's log. */
async function dosCalls(): Promise<RecordedRequest[]> {
  const log = (await (await fetch(`${sim.url}/_sandbox/requests`)).json()) as RecordedRequest[];
  return log.filter((r) => r.path.startsWith('/app/'));
}

interface Edge {
  cursor: string;
  distanceKm: number | null;
  node: { __typename: string; id: string; serviceType: string; bookable: boolean };
}
interface Page {
  services: { totalCount: number; pageInfo: { hasNextPage: boolean; endCursor: string | null }; edges: Edge[]; nodes: { id: string }[] };
}

const PAGE = `
  query Page($filter: ServiceFilter, $near: NearInput, $radiusKm: Float, $first: Int, $after: String) {
    services(filter: $filter, near: $near, radiusKm: $radiusKm, first: $first, after: $after) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { cursor distanceKm node { __typename id serviceType bookable } }
      nodes { id }
    }
  }`;

/** Pages through a search with the given page sizes (the last one repeats), counting DoS calls per page. */
async function pageThrough(vars: Record<string, unknown>, sizes: number[]) {
  const edges: Edge[] = [];
  const callsPerPage: number[] = [];
  let after: string | null = null;
  let totalCount = -1;
  for (let i = 0; i < 50; i++) {
    await fetch(`${sim.url}/_sandbox/requests`, { method: 'DELETE' });
    const r: GqlResult<Page> = await gql<Page>(PAGE, { ...vars, first: sizes[Math.min(i, sizes.length - 1)], after });
    expect(r.errors).toBeUndefined();
    const page = r.data!.services;
    callsPerPage.push((await dosCalls()).length);
    expect(page.nodes.map((n) => n.id)).toEqual(page.edges.map((e) => e.node.id));
    totalCount = page.totalCount;
    edges.push(...page.edges);
    if (!page.pageInfo.hasNextPage) break;
    after = page.pageInfo.endCursor;
  }
  return { edges, callsPerPage, totalCount };
}

const leedsEdges = async () => (await gql<Page>(PAGE, { near: { postcode: 'LS1 4AP' }, radiusKm: 25, first: 100 })).data!.services;

describe('services near a postcode', () => {
  it('pages nearest first with cursors, losing and repeating nothing, one DoS call a page', async () => {
    const all = await leedsEdges();
    expect(all.totalCount).toBe(13);
    const distances = all.edges.map((e) => e.distanceKm!);
    expect(distances.every((d) => typeof d === 'number' && d <= 25)).toBe(true);
    expect(distances).toEqual([...distances].sort((a, b) => a - b));

    const { edges, callsPerPage, totalCount } = await pageThrough({ near: { postcode: 'ls14ap' }, radiusKm: 25 }, [5]);
    expect(totalCount).toBe(13);
    expect(edges.map((e) => e.node.id)).toEqual(all.edges.map((e) => e.node.id));
    expect(callsPerPage).toEqual([1, 1, 1]);
  });

  it('says there is no next page when the last page is exactly full', async () => {
    const { edges, callsPerPage, totalCount } = await pageThrough({ near: { postcode: 'LS1 4AP' }, radiusKm: 25 }, [13]);
    expect(totalCount).toBe(13);
    expect(edges).toHaveLength(13);
    expect(callsPerPage).toEqual([1]); // one full page, and no empty second one asked for
  });

  it('keeps its place when the page size changes between pages', async () => {
    const all = await leedsEdges();
    const { edges, callsPerPage } = await pageThrough({ near: { postcode: 'LS1 4AP' }, radiusKm: 25 }, [2, 3, 4]);
    expect(edges.map((e) => e.node.id)).toEqual(all.edges.map((e) => e.node.id));
    expect(Math.max(...callsPerPage)).toBeLessThanOrEqual(2);
  });

  it('resumes after any edge cursor, not only the end cursor', async () => {
    const all = await leedsEdges();
    const r = await gql<Page>(PAGE, { near: { postcode: 'LS1 4AP' }, radiusKm: 25, first: 3, after: all.edges[6]!.cursor });
    expect(r.data!.services.nodes.map((n) => n.id)).toEqual(all.edges.slice(7, 10).map((e) => e.node.id));
  });

  it('searches around coordinates within the radius', async () => {
    const r = await gql<Page>(PAGE, { near: { lat: 51.4545, lon: -2.593 }, radiusKm: 2, first: 20 });
    expect(r.errors).toBeUndefined();
    expect(r.data!.services.edges.length).toBeGreaterThan(0);
    for (const e of r.data!.services.edges) expect(e.distanceKm!).toBeLessThanOrEqual(2);
    expect(r.data!.services.edges.every((e) => e.node.id.startsWith('1403'))).toBe(true);
  });

  it('has no distances without a point, and orders by DoS id', async () => {
    const r = await gql<Page>(PAGE, { first: 100 });
    const ids = r.data!.services.edges.map((e) => e.node.id);
    expect(ids).toEqual(SEED_SERVICES.map((s) => s.id).sort());
    expect(r.data!.services.edges.every((e) => e.distanceKm === null)).toBe(true);
  });
});

describe('filters', () => {
  it('by type', async () => {
    const r = await gql<Page>(PAGE, { filter: { types: ['GP_OUT_OF_HOURS', 'URGENT_DENTAL'] }, first: 100 });
    const nodes = r.data!.services.edges.map((e) => e.node);
    expect(new Set(nodes.map((n) => n.serviceType))).toEqual(new Set(['GP_OUT_OF_HOURS', 'URGENT_DENTAL']));
    expect(nodes.length).toBe(SEED_SERVICES.filter((s) => s.type === 'GP_OOH' || s.type === 'DENTAL').length);
    expect(r.data!.services.totalCount).toBe(nodes.length);
  });

  it('by explicit ids, ignoring ids the DoS does not know', async () => {
    const r = await gql<Page>(PAGE, { filter: { ids: ['1403000202', '1402000103', '1999999999'] } });
    expect(r.data!.services.nodes.map((n) => n.id)).toEqual(['1402000103', '1403000202']);
  });

  it('bookableOnly, paged, counts only bookable services', async () => {
    const all = await gql<Page>(PAGE, { near: { postcode: 'BS1 5TR' }, radiusKm: 30, first: 100 });
    const bookable = all.data!.services.edges.filter((e) => e.node.bookable).map((e) => e.node.id);
    expect(bookable.length).toBeGreaterThan(2);
    expect(bookable.length).toBeLessThan(all.data!.services.totalCount);

    const { edges, totalCount } = await pageThrough({ near: { postcode: 'BS1 5TR' }, radiusKm: 30, filter: { bookableOnly: true } }, [2]);
    expect(totalCount).toBe(bookable.length);
    expect(edges.map((e) => e.node.id)).toEqual(bookable);
    expect(edges.every((e) => e.node.__typename === 'BookingStandardService')).toBe(true);
  });

  it('an empty list of ids matches nothing, without asking the DoS', async () => {
    const r = await gql<Page>(PAGE, { filter: { ids: [] } });
    expect(r.data!.services).toMatchObject({ totalCount: 0, nodes: [], pageInfo: { hasNextPage: false, endCursor: null } });
    expect(await dosCalls()).toHaveLength(0);
  });
});

describe('service types and supplier', () => {
  const SERVICE = `
    query One($id: ID!) {
      service(id: $id) {
        __typename id name odsCode serviceType serviceTypeName bookable bookingRequired
        supplier { id kind name }
        capacityStatus { rag setAt ageMinutes resetAt }
        location { siteId addressLines town postcode lat lon }
        ... on ReferralOnlyService { slots(first: 5) { nodes { id } totalCount hasMore fetchedAt } nextAvailable { id } }
      }
    }`;

  it('a service on a registered Booking Standard system is a BookingStandardService', async () => {
    const r = await gql(SERVICE, { id: '1402000101' });
    expect(r.data!.service).toEqual({
      __typename: 'BookingStandardService',
      id: '1402000101',
      name: "St James's University Hospital Emergency Department",
      odsCode: 'RR813',
      serviceType: 'EMERGENCY_DEPARTMENT',
      serviceTypeName: 'Emergency Department',
      bookable: true,
      bookingRequired: false,
      supplier: { id: 'harbour-uec', kind: 'BOOKING_STANDARD', name: 'Harbour UEC Booking' },
      capacityStatus: { rag: 'AMBER', setAt: '2026-03-10T11:25:00.000Z', ageMinutes: 35, resetAt: '2026-03-10T14:50:00.000Z' },
      location: { siteId: 'site-ls9-sjuh', addressLines: ['Beckett Street'], town: 'Leeds', postcode: 'LS9 7TF', lat: 53.8073, lon: -1.5205 },
    });
  });

  it('a service on an unregistered system is referral-only, with empty slots and no next slot', async () => {
    const r = await gql(SERVICE, { id: '1402000107' }); // Oakfield PAS: not in this registry
    expect(r.data!.service).toMatchObject({
      __typename: 'ReferralOnlyService',
      bookable: false,
      bookingRequired: true,
      supplier: null,
      slots: { nodes: [], totalCount: 0, hasMore: false, fetchedAt: NOW.toISOString() },
      nextAvailable: null,
    });
  });

  it('a capacity status older than 24 hours is null', async () => {
    const r = await gql(SERVICE, { id: '1404000308' });
    expect(r.data!.service).toMatchObject({ id: '1404000308', capacityStatus: null });
  });

  it('an unknown id is null; an id that cannot be a DoS id is null without a DoS call', async () => {
    expect((await gql(SERVICE, { id: '1999999999' })).data).toEqual({ service: null });
    await fetch(`${sim.url}/_sandbox/requests`, { method: 'DELETE' });
    expect((await gql(SERVICE, { id: 'drop table' })).data).toEqual({ service: null });
    expect(await dosCalls()).toHaveLength(0);
  });
});

describe('_entities', () => {
  const ENTITIES = `
    query Entities($representations: [_Any!]!) {
      _entities(representations: $representations) {
        __typename
        ... on BookingStandardService { id supplier { id } }
        ... on ReferralOnlyService { id name }
      }
    }`;

  it('resolves a batch of references with one DoS call', async () => {
    const representations = [
      { __typename: 'BookingStandardService', id: '1402000101' },
      { __typename: 'BookingStandardService', id: '1403000201' },
      { __typename: 'ReferralOnlyService', id: '1402000109' },
      { __typename: 'BookingStandardService', id: '1404000303' },
      { __typename: 'ReferralOnlyService', id: '1403000203' },
      { __typename: 'BookingStandardService', id: '1402000101' },
    ];
    const r = await gql<{ _entities: ({ id: string; __typename: string } | null)[] }>(ENTITIES, { representations });
    expect(r.errors).toBeUndefined();
    expect(r.data!._entities.map((e) => e && `${e.__typename}:${e.id}`)).toEqual(representations.map((x) => `${x.__typename}:${x.id}`));
    expect(r.data!._entities[0]).toMatchObject({ supplier: { id: 'harbour-uec' } });
    const calls = await dosCalls();
    expect(calls).toHaveLength(1);
    expect(calls[0]!.path).toMatch(/\/services\/search$/);
    expect(calls[0]!.query.ids?.[0]?.split(',').sort()).toEqual(['1402000101', '1402000109', '1403000201', '1403000203', '1404000303']);
  });

  it('uses byServiceId for a single reference', async () => {
    const r = await gql(ENTITIES, { representations: [{ __typename: 'BookingStandardService', id: '1402000102' }] });
    expect(r.data).toEqual({ _entities: [{ __typename: 'BookingStandardService', id: '1402000102', supplier: { id: 'harbour-uec' } }] });
    const calls = await dosCalls();
    expect(calls.map((c) => c.path)).toEqual(['/app/controllers/api/v1.0/services/byServiceId/1402000102']);
  });

  it('resolves unknown ids, and references naming the wrong type, to null', async () => {
    const r = await gql(ENTITIES, {
      representations: [
        { __typename: 'BookingStandardService', id: '1999999999' },
        { __typename: 'BookingStandardService', id: '1402000109' }, // a pharmacy with no booking endpoint
        { __typename: 'ReferralOnlyService', id: '1402000109' },
      ],
    });
    expect(r.errors).toBeUndefined();
    expect(r.data).toEqual({ _entities: [null, null, { __typename: 'ReferralOnlyService', id: '1402000109', name: 'Boots Pharmacy Briggate' }] });
  });
});

describe('typed errors', () => {
  it.each([
    [{ first: 0 }, 'first'],
    [{ first: 101 }, 'first'],
    [{ near: { postcode: 'LS1 4AP', lat: 53.8, lon: -1.5 } }, 'near'],
    [{ near: {} }, 'near'],
    [{ near: { lat: 53.8 } }, 'near.lon'],
    [{ near: { postcode: 'nonsense' } }, 'near.postcode'],
    [{ near: { postcode: 'LS1 4AP' }, radiusKm: 200 }, 'radiusKm'],
    [{ filter: { ids: ['abc'] } }, 'filter.ids'],
    [{ after: 'not-a-cursor' }, 'after'],
  ])('refuses %j as BAD_USER_INPUT naming %s, without calling the DoS', async (vars, field) => {
    const r = await gql(PAGE, vars);
    expect(r.data).toBeNull();
    expect(r.errors).toHaveLength(1);
    expect(r.errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
    expect(await dosCalls()).toHaveLength(0);
  });

  it('refuses a postcode the DoS cannot place, without echoing it', async () => {
    const r = await gql(PAGE, { near: { postcode: 'ZE2 9XX' } });
    expect(r.errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'near.postcode' });
    expect(r.errors![0]!.message).not.toMatch(/ZE2/i);
  });

  it('refuses an edited cursor and a cursor from another search', async () => {
    const first = (await gql<Page>(PAGE, { near: { postcode: 'LS1 4AP' }, first: 2 })).data!.services.pageInfo.endCursor!;
    const raw = Buffer.from(first, 'base64url').toString('utf8');
    const edited = Buffer.from(raw.replace(/^c1:1:/, 'c1:5:'), 'utf8').toString('base64url');
    expect(edited).not.toBe(first);
    const tampered = await gql(PAGE, { near: { postcode: 'LS1 4AP' }, first: 2, after: edited });
    expect(tampered.errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'after' });

    const elsewhere = await gql(PAGE, { near: { postcode: 'BS1 5TR' }, first: 2, after: first });
    expect(elsewhere.errors![0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field: 'after' }, message: expect.stringContaining('different search') });
  });

  it('reports a DoS outage as DIRECTORY_UNAVAILABLE, without internal URLs', async () => {
    await fetch(`${sim.url}/_sandbox/faults`, { method: 'POST', body: JSON.stringify({ pathPrefix: '/app/', status: 503 }) });
    const r = await gql(PAGE, { near: { postcode: 'LS1 4AP' } });
    expect(r.data).toBeNull();
    expect(r.errors![0]!.extensions).toMatchObject({ code: 'DIRECTORY_UNAVAILABLE', reason: 'UNAVAILABLE' });
    const text = JSON.stringify(r.errors);
    expect(text).not.toContain('127.0.0.1');
    expect(text).not.toContain('/app/controllers');

    const entities = await gql(`{ _entities(representations: [{ __typename: "BookingStandardService", id: "1402000101" }]) { __typename } }`);
    expect(entities.errors![0]!.extensions).toMatchObject({ code: 'DIRECTORY_UNAVAILABLE' });
  });

  it('reports a timed-out DoS as DIRECTORY_UNAVAILABLE with reason TIMEOUT', async () => {
    await fetch(`${sim.url}/_sandbox/faults`, { method: 'POST', body: JSON.stringify({ pathPrefix: '/app/', stall: true }) });
    const r = await gql(`{ service(id: "1402000101") { id } }`);
    expect(r.errors![0]!.extensions).toMatchObject({ code: 'DIRECTORY_UNAVAILABLE', reason: 'TIMEOUT' });
  });
});
