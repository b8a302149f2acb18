/**
 * The read path's honest edges through the real stack (issue 9): a directory outage during `availability` or root
 * `capacity` is a typed DIRECTORY_UNAVAILABLE (never INTERNAL_SERVER_ERROR, never a subgraph's name or address),
 * whether the DoS API behind the directory subgraph is down or the directory subgraph itself; and a search the
 * gateway answered moments ago keeps answering through the outage from its reused directory answer (no directory
 * call for a warm search).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePorts, startStack, type Stack } from '../scripts/stack.js';
import { devToken } from '../scripts/token.js';
import { gql, noInternalAddress } from './helpers.js';
import { startRedis, type TestRedis } from './redis.js';

let stack: Stack;
let redis: TestRedis;
let auth: Record<string, string>;

const AVAILABILITY = /* GraphQL */ `
  query($s: AvailabilitySearch!) {
    availability(search: $s) {
      totalCount
      coverage { servicesAsked servicesAnswered failures { serviceId reason } }
      edges { node { slot { id start } service { id } } }
    }
  }
`;

const CAPACITY = /* GraphQL */ `
  query($ids: [ID!]!) { capacity(serviceIds: $ids) { services { serviceId freeSlots } coverage { servicesAsked } } }
`;

function day(n: number) {
  const from = new Date(Date.now() + n * 86_400_000);
  from.setUTCHours(0, 0, 0, 0);
  return { from: from.toISOString(), to: new Date(from.getTime() + 86_400_000 - 1000).toISOString() };
}

beforeAll(async () => {
  redis = await startRedis();
  // Generous readiness: on a loaded 2-core machine a process can take a while to answer its health check.
  stack = await startStack({ ports: await freePorts(), env: { LOG_LEVEL: 'warn', REDIS_URL: redis.url }, readyTimeoutMs: 120_000 });
  auth = { authorization: `Bearer ${await devToken({ org: 'RX8' })}` };
}, 180_000);

afterAll(async () => {
  await stack?.stopAll();
  await redis?.dispose();
});

function expectDirectoryUnavailable(res: Awaited<ReturnType<typeof gql>>) {
  expect(res.errors, res.raw).toHaveLength(1);
  expect(res.errors![0]!.extensions).toMatchObject({ code: 'DIRECTORY_UNAVAILABLE' });
  expect(res.errors![0]!.message).toMatch(/directory/i);
  expect(res.raw).not.toMatch(/bookings|INTERNAL_SERVER_ERROR|SUBGRAPH_UNAVAILABLE/);
  expect(noInternalAddress(res.raw)).toBe(true);
}

describe('a directory outage during availability', () => {
  it('the DoS API down: DIRECTORY_UNAVAILABLE for a new search and for capacity; a search answered moments ago still answers', async () => {
    const warm = { serviceIds: ['1402000105', '1402000107'], ...day(3), first: 50 };
    const before = await gql(stack.gatewayUrl, AVAILABILITY, { s: warm }, auth);
    expect(before.errors, before.raw).toBeUndefined();
    expect(before.data!.availability.coverage.servicesAsked).toBe(2);

    await stack.stop('sandbox-directory');
    try {
      const fresh = await gql(stack.gatewayUrl, AVAILABILITY, { s: { near: { postcode: 'LS1 4AP' }, radiusKm: 12, types: ['URGENT_TREATMENT_CENTRE'], ...day(4) } }, auth);
      expectDirectoryUnavailable(fresh);
      expect(fresh.data?.availability ?? null).toBeNull();

      const capacity = await gql(stack.gatewayUrl, CAPACITY, { ids: ['1402000101', '1402000102'] }, auth);
      expectDirectoryUnavailable(capacity);

      // The same search as before the outage: its services come from the gateway's reused directory answer.
      const again = await gql(stack.gatewayUrl, AVAILABILITY, { s: warm }, auth);
      expect(again.errors, again.raw).toBeUndefined();
      // (What the suppliers answer may differ from the first time on a loaded machine; the services asked may not.)
      expect(again.data!.availability.coverage.servicesAsked).toBe(2);
      for (const e of again.data!.availability.edges) expect(warm.serviceIds).toContain(e.node.service.id);
    } finally {
      await stack.start('sandbox-directory');
    }
    // And back: the outage is not remembered.
    const after = await gql(stack.gatewayUrl, AVAILABILITY, { s: { near: { postcode: 'LS1 4AP' }, radiusKm: 12, types: ['URGENT_TREATMENT_CENTRE'], ...day(4) } }, auth);
    expect(after.errors, after.raw).toBeUndefined();
    expect(after.data!.availability.coverage.servicesAsked).toBeGreaterThan(0);
  }, 60_000);

  it('the directory subgraph down: DIRECTORY_UNAVAILABLE, not an error naming a subgraph', async () => {
    await stack.stop('directory');
    try {
      const res = await gql(stack.gatewayUrl, AVAILABILITY, { s: { serviceIds: ['1402000101'], ...day(5) } }, auth);
      expectDirectoryUnavailable(res);
    } finally {
      await stack.start('directory');
    }
    const back = await gql(stack.gatewayUrl, AVAILABILITY, { s: { serviceIds: ['1402000101'], ...day(5) } }, auth);
    expect(back.errors, back.raw).toBeUndefined();
  }, 60_000);
});

describe('bounded input, typed errors naming the field', () => {
  it('too many or too long service ids', async () => {
    const many = await gql(stack.gatewayUrl, AVAILABILITY, { s: { serviceIds: Array.from({ length: 101 }, (_, i) => `id${i}`) } }, auth);
    expect(many.errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'search.serviceIds' });
    const long = await gql(stack.gatewayUrl, AVAILABILITY, { s: { serviceIds: ['9'.repeat(201)] } }, auth);
    expect(long.errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'search.serviceIds' });
  });
});
