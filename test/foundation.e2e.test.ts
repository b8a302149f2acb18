/**
 * The foundation end to end: sandbox upstreams, both subgraphs and the gateway as separate processes on free
 * ports, talking real HTTP. Outages are real too: processes are stopped and started, faults injected upstream.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { freePorts, startStack, type Stack } from '../scripts/stack.js';
import { SUBGRAPHS } from '../subgraphs/catalog.js';
import { decodeSlotId } from '../common/slot-id.js';
import { clearSandbox, decodeJwt, gql, injectFault, noInternalAddress, sandboxRequests } from './helpers.js';

let stack: Stack;
let bsSandbox: string;

const NEAR_LEEDS = /* GraphQL */ `
  query Near($from: DateTime!, $to: DateTime!) {
    services(near: { postcode: "LS1 4AP" }, radiusKm: 15, first: 20) {
      totalCount
      edges { distanceKm node { id } }
      nodes {
        __typename
        id
        name
        serviceType
        bookable
        location { postcode lat lon siteId }
        supplier { id kind }
        capacityStatus { rag ageMinutes }
        slots(from: $from, to: $to, first: 500) {
          totalCount
          hasMore
          nodes { id serviceId start end status bookable deliveryChannel source fetchedAt practitioner { name role } }
        }
      }
    }
  }
`;

/** Every subgraph the gateway reaches over HTTP (the catalog's remote entries: the directory and every adapter). */
const REMOTE_SUBGRAPHS = SUBGRAPHS.filter((s) => s.remote).map((s) => s.name);

function window(hours = 24): { from: string; to: string } {
  const from = new Date();
  return { from: from.toISOString(), to: new Date(from.getTime() + hours * 3600_000).toISOString() };
}

beforeAll(async () => {
  // The uncached path: every query reaches the providers (the cache and breaker have suites of their own).
  stack = await startStack({ ports: await freePorts(), env: { LOG_LEVEL: 'warn', SLOT_CACHE: 'off', CIRCUIT_BREAKER: 'off' } });
  bsSandbox = stack.url('sandbox-booking-standard');
}, 90_000);

afterAll(async () => {
  await stack?.stopAll();
});

beforeEach(async () => {
  await clearSandbox(bsSandbox);
});

describe('the federated graph against the sandbox', () => {
  it('answers services near a postcode, nearest first, with free slots from the Booking Standard provider', async () => {
    const res = await gql(stack.gatewayUrl, NEAR_LEEDS, window());
    expect(res.errors).toBeUndefined();
    const conn = res.data!.services;
    const distances = conn.edges.map((e: { distanceKm: number }) => e.distanceKm);
    expect(distances).toEqual([...distances].sort((a, b) => a - b));
    expect(distances.every((d: number) => d <= 15)).toBe(true);

    const bs = conn.nodes.filter((n: { __typename: string }) => n.__typename === 'BookingStandardService');
    expect(bs.length).toBeGreaterThanOrEqual(4);
    const withSlots = bs.filter((n: any) => n.slots.totalCount > 0);
    expect(withSlots.length).toBeGreaterThanOrEqual(3);
    for (const service of withSlots) {
      expect(service.bookable).toBe(true);
      expect(['harbour-uec', 'meridian-ooh']).toContain(service.supplier.id);
      const starts = service.slots.nodes.map((s: { start: string }) => Date.parse(s.start));
      expect(starts).toEqual([...starts].sort((a, b) => a - b));
      for (const slot of service.slots.nodes) {
        expect(slot).toMatchObject({ serviceId: service.id, status: 'FREE', bookable: true, source: 'LIVE' });
        expect(decodeSlotId(slot.id)).toMatchObject({ system: service.supplier.id, serviceId: service.id });
        expect(Date.parse(slot.end)).toBeGreaterThan(Date.parse(slot.start));
      }
    }
    // St James's hosts four separately mapped services in one building (its emergency department and its BaRS same
    // day emergency care unit are two services of one type).
    const stJames = conn.nodes.filter((n: any) => n.location.siteId === 'site-ls9-sjuh');
    expect(stJames.map((n: { serviceType: string }) => n.serviceType).sort()).toEqual(['EMERGENCY_DEPARTMENT', 'EMERGENCY_DEPARTMENT', 'GP_OUT_OF_HOURS', 'URGENT_TREATMENT_CENTRE']);
    // Services without a usable booking endpoint are still listed, as referral-only, with no slots.
    const referral = conn.nodes.filter((n: { __typename: string }) => n.__typename === 'ReferralOnlyService');
    expect(referral.length).toBeGreaterThan(0);
    for (const r of referral) expect(r).toMatchObject({ bookable: false, slots: { totalCount: 0, nodes: [] } });
  });

  it('makes one provider search per Booking Standard service, with the headers and JWT the standard requires', async () => {
    const res = await gql(stack.gatewayUrl, NEAR_LEEDS, window());
    expect(res.errors).toBeUndefined();
    const bsIds = res.data!.services.nodes
      .filter((n: { __typename: string }) => n.__typename === 'BookingStandardService')
      .map((n: { id: string }) => n.id);

    const searches = (await sandboxRequests(bsSandbox)).filter((r) => r.path.endsWith('/Slot'));
    const searched = searches.filter((r) => !r.query._page);
    const service = (r: (typeof searches)[number]) => r.query['schedule.actor:healthcareservice']![0]!;
    expect([...new Set(searched.map(service))].sort()).toEqual([...bsIds].sort());
    // Searches per service as booking-standard/client.ts plans them: a window over a day cut into parts sent at once
    // (by day for a service not seen before), one that pages anyway followed by its parts: never a start range twice.
    const ranges = searched.map((r) => `${service(r)} ${r.query['start']!.join(' ')}`);
    expect(new Set(ranges).size).toBe(ranges.length);

    for (const r of searches) {
      const meridian = r.path.startsWith('/meridian/');
      expect(r.headers['ssp-from']).toBe('918999198738');
      expect(r.headers['ssp-to']).toBe(meridian ? '200000000202' : '200000000101');
      // The two providers registered different spellings of the slot search interaction.
      expect(r.headers['ssp-interactionid']).toBe(
        `urn:nhs:names:services:careconnect:fhir:rest:${meridian ? 'read' : 'search'}:slot`,
      );
      expect(r.headers['ssp-traceid']).toMatch(/^[0-9a-f-]{36}$/);
      const token = r.headers.authorization!.replace(/^Bearer /, '');
      expect(token.endsWith('.')).toBe(true);
      const jwt = decodeJwt(token);
      expect(jwt.header).toEqual({ alg: 'none', typ: 'JWT' });
      expect(jwt.payload).toMatchObject({
        reason_for_request: 'directcare',
        requested_scope: 'organization/slot.read',
        requesting_organization: { identifier: [{ system: 'https://fhir.nhs.uk/Id/ods-organization-code', value: 'RX8' }] },
      });
      expect(jwt.payload.exp - jwt.payload.iat).toBe(300);
      expect(jwt.payload.aud).toBe(`${bsSandbox}${meridian ? '/meridian/fhir/STU3' : '/harbour/STU3'}`);
      expect(r.status).toBe(200);
    }
  });

  it('answers a service with no released slots with an empty list, not an error', async () => {
    const res = await gql(
      stack.gatewayUrl,
      `query($id: ID!, $from: DateTime!, $to: DateTime!) {
        service(id: $id) { __typename name bookable slots(from: $from, to: $to) { totalCount hasMore nodes { id } } nextAvailable { id } }
      }`,
      { id: '1404000305', ...window(24 * 7) },
    );
    expect(res.errors).toBeUndefined();
    expect(res.data!.service).toEqual({
      __typename: 'BookingStandardService',
      name: 'Cromer Hospital Minor Injuries Unit',
      bookable: true,
      slots: { totalCount: 0, hasMore: false, nodes: [] },
      nextAvailable: null,
    });
  });

  it('finds the next available slot within the default week', async () => {
    const res = await gql(stack.gatewayUrl, `{ service(id: "1402000102") { ... on BookingStandardService { nextAvailable { start serviceId } } } }`);
    expect(res.errors).toBeUndefined();
    const next = res.data!.service.nextAvailable;
    expect(next.serviceId).toBe('1402000102');
    expect(Date.parse(next.start)).toBeGreaterThanOrEqual(Date.now() - 60_000);
  });

  it('rejects a window over 14 days or inverted with a typed error, before calling the provider', async () => {
    const from = new Date();
    const res = await gql(
      stack.gatewayUrl,
      `query($from: DateTime!, $to: DateTime!) { service(id: "1402000102") { ... on BookingStandardService { slots(from: $from, to: $to) { totalCount } } } }`,
      { from: from.toISOString(), to: new Date(from.getTime() + 15 * 86_400_000).toISOString() },
    );
    expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'to' });
    const bad = await gql(stack.gatewayUrl, `{ service(id: "1402000102") { ... on BookingStandardService { slots(from: "tomorrow") { totalCount } } } }`);
    expect(bad.status).toBe(400);
    expect(bad.errors?.[0]?.extensions).toEqual({ code: 'BAD_USER_INPUT', field: 'from' });
    expect((await sandboxRequests(bsSandbox)).filter((r) => r.path.endsWith('/Slot'))).toHaveLength(0);
  });

  it('never returns a query plan, whatever the client asks', async () => {
    const res = await gql(stack.gatewayUrl, '{ service(id: "1402000101") { name } }', {}, {
      'apollo-query-plan-experimental': '1',
      'apollo-query-plan-experimental-format': 'string',
    });
    expect(res.errors).toBeUndefined();
    expect(res.raw).not.toMatch(/queryPlan/i);
  });

  it('is ready, and not degraded, when every subgraph answers (on the internal port; the public one serves liveness only)', async () => {
    expect((await fetch(`http://127.0.0.1:${stack.port('gateway')}/health/ready`)).status).toBe(404);
    const res = await fetch(`http://127.0.0.1:${stack.port('gateway-internal')}/health/ready`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ready: true, degraded: false, subgraphs: Object.fromEntries(REMOTE_SUBGRAPHS.map((name) => [name, 'up'])) });
    expect((await fetch(`http://127.0.0.1:${stack.port('gateway')}/health/live`)).status).toBe(200);
  });
});

describe('when things fail', () => {
  it('stops a stalled provider at its deadline: directory data and one masked error', async () => {
    await injectFault(bsSandbox, { pathPrefix: '/harbour/', stall: true });
    const started = Date.now();
    const res = await gql(stack.gatewayUrl, NEAR_LEEDS, window());
    expect(Date.now() - started).toBeLessThan(2900);
    const harbour = res.data!.services.nodes.filter((n: any) => n.supplier?.id === 'harbour-uec');
    expect(harbour.length).toBeGreaterThan(0);
    for (const n of harbour) expect(n.slots).toBeNull();
    const meridian = res.data!.services.nodes.filter((n: any) => n.supplier?.id === 'meridian-ooh');
    for (const n of meridian) expect(n.slots).not.toBeNull();
    expect(res.errors).toHaveLength(1);
    expect(res.errors![0]!.extensions).toMatchObject({ code: 'SUPPLIER_UNAVAILABLE', supplierSystem: 'harbour-uec', reason: 'TIMEOUT', count: harbour.length });
    expect(noInternalAddress(res.raw)).toBe(true);
  });

  it('keeps directory fields when the Booking Standard provider is down, with a masked error', async () => {
    await stack.stop('sandbox-booking-standard');
    try {
      const res = await gql(stack.gatewayUrl, NEAR_LEEDS, window());
      expect(res.status).toBe(200);
      const nodes = res.data!.services.nodes;
      expect(nodes.length).toBeGreaterThan(5);
      for (const n of nodes) {
        expect(n.name).toEqual(expect.any(String));
        expect(n.location.postcode).toEqual(expect.any(String));
        if (n.__typename === 'BookingStandardService') expect(n.slots).toBeNull();
        else if (n.__typename === 'ReferralOnlyService') expect(n.slots).toEqual(expect.objectContaining({ totalCount: 0 }));
        else expect(n.slots).not.toBeNull(); // other suppliers are unaffected
      }
      const codes = res.errors!.map((e) => e.extensions?.code);
      expect(new Set(codes)).toEqual(new Set(['SUPPLIER_UNAVAILABLE']));
      expect(res.errors!.length).toBeLessThanOrEqual(2); // one per supplier system, however many services
      expect(noInternalAddress(res.raw)).toBe(true);
      expect(res.raw).not.toMatch(/stack|at \w+ \(/);
    } finally {
      await stack.start('sandbox-booking-standard');
    }
    const again = await gql(stack.gatewayUrl, NEAR_LEEDS, window());
    expect(again.errors).toBeUndefined();
  });

  it('keeps directory fields when the booking-standard subgraph itself is down, naming no URL', async () => {
    await stack.stop('booking-standard');
    try {
      const res = await gql(stack.gatewayUrl, NEAR_LEEDS, window());
      expect(res.data!.services.nodes.length).toBeGreaterThan(5);
      expect(res.data!.services.nodes[0].name).toEqual(expect.any(String));
      expect(res.errors!.length).toBe(1);
      expect(res.errors![0]).toMatchObject({
        message: 'The booking-standard service is unavailable',
        extensions: { code: 'SUBGRAPH_UNAVAILABLE', subgraph: 'booking-standard' },
      });
      expect(noInternalAddress(res.raw)).toBe(true);

      // Still ready (a subgraph outage hits every replica alike; this one answers it as a typed partial result), and
      // degraded, naming the subgraph. Readiness answers are reused for two seconds: ask until the outage shows.
      const readyUrl = `http://127.0.0.1:${stack.port('gateway-internal')}/health/ready`;
      let ready = await fetch(readyUrl);
      let body = await ready.text();
      for (const until = Date.now() + 15_000; !JSON.parse(body).degraded && Date.now() < until; ) {
        await new Promise((r) => setTimeout(r, 200));
        ready = await fetch(readyUrl);
        body = await ready.text();
      }
      expect(ready.status).toBe(200);
      const subgraphs = Object.fromEntries(REMOTE_SUBGRAPHS.map((name) => [name, name === 'booking-standard' ? 'down' : 'up']));
      expect(JSON.parse(body)).toEqual({ ready: true, degraded: true, subgraphs });
      expect(noInternalAddress(body)).toBe(true);
    } finally {
      await stack.start('booking-standard');
    }
  });
});
