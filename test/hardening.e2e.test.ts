/**
 * Attacks from the adversarial review, each reproduced through the real stack (gateway, subgraphs, simulators, Redis)
 * and shown to do no harm now.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePorts, startStack, type Stack } from '../scripts/stack.js';
import { gatewayHeaders } from '../subgraphs/kit/internal-auth.js';
import { devToken } from '../scripts/token.js';
import { gql } from './helpers.js';
import { startRedis, type TestRedis } from './redis.js';

let stack: Stack;
let redis: TestRedis;
let auth: Record<string, string>;
const exits: string[] = [];

beforeAll(async () => {
  redis = await startRedis();
  stack = await startStack({
    ports: await freePorts(),
    env: { LOG_LEVEL: 'warn', REDIS_URL: redis.url },
    onUnexpectedExit: (name) => exits.push(name),
  });
  auth = { authorization: `Bearer ${await devToken({ org: 'RX8' })}` };
}, 90_000);

afterAll(async () => {
  await stack?.stopAll();
  await redis?.dispose();
});

const NEAR_LEEDS = { near: { postcode: 'LS1 4AP' }, radiusKm: 15 };

async function availabilityAnswers(): Promise<void> {
  const res = await gql(
    stack.gatewayUrl,
    'query($s: AvailabilitySearch!) { availability(search: $s) { totalCount coverage { failures { supplierSystem reason } } } }',
    { s: { ...NEAR_LEEDS, first: 5 } },
    auth,
  );
  expect(res.errors).toBeUndefined();
  expect(res.data!.availability.coverage.failures).toEqual([]);
  expect(res.data!.availability.totalCount).toBeGreaterThan(0);
}

describe('C1: a window far outside the calendar', () => {
  const WINDOWS = [
    { from: '9999-12-30T00:00:00Z', to: '9999-12-31T00:00:00Z', field: 'from' },
    { from: '9999-12-31T12:00:00Z', to: '+010000-01-01T00:00:00Z', field: 'from' },
    { from: '10000-01-01T00:00:00Z', to: '10000-01-02T00:00:00Z', field: 'from' },
    { from: '1800-01-01T00:00:00Z', to: '1800-01-02T00:00:00Z', field: 'from' },
    { from: '2026-02-30T00:00:00Z', to: '2026-03-02T00:00:00Z', field: 'from' },
    { from: new Date(Date.now() + 3_600_000).toISOString(), to: '2026-12-31T24:00:00Z', field: 'to' },
  ];

  it.each(WINDOWS)('is refused by the gateway on every field that takes one, naming it: $from … $to', async ({ from, to, field }) => {
    const checks: [string, Record<string, unknown>, string][] = [
      ['query($s: AvailabilitySearch!) { availability(search: $s) { totalCount } }', { s: { ...NEAR_LEEDS, from, to } }, `s.${field}`],
      ['query($f: DateTime, $t: DateTime) { capacity(serviceIds: ["1402000105"], from: $f, to: $t) { services { freeSlots } } }', { f: from, t: to }, field === 'from' ? 'f' : 't'],
      [`{ service(id: "1402000105") { slots(from: ${JSON.stringify(from)}, to: ${JSON.stringify(to)}) { totalCount } } }`, {}, field],
      [`{ service(id: "1402000105") { capacity(from: ${JSON.stringify(from)}, to: ${JSON.stringify(to)}) { freeSlots } } }`, {}, field],
      [`{ availability(search: { near: { postcode: "LS1 4AP" }, from: ${JSON.stringify(from)}, to: ${JSON.stringify(to)} }) { totalCount } }`, {}, `search.${field}`],
    ];
    for (const [query, variables, named] of checks) {
      const res = await gql(stack.gatewayUrl, query, variables, auth);
      expect(res.status, query).toBe(400);
      expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: named });
    }
    if (field === 'from') {
      const next = await gql(stack.gatewayUrl, `{ service(id: "1402000105") { nextAvailable(from: ${JSON.stringify(from)}) { id } } }`, {}, auth);
      expect(next.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'from' });
    }
  });

  it('is refused by each supplier subgraph called directly, and every subgraph keeps answering', async () => {
    const entities = [
      ['booking-standard', 'BookingStandardService', '1402000105', 'harbour-uec'],
      ['pas-rest', 'PasRestService', '1402000301', 'oakfield-pas'],
      ['smart-links', 'SmartLinksService', 'smart-1', 'smart-vaccines'],
    ] as const;
    for (const [name, typename, id, system] of entities) {
      for (const { from, to } of WINDOWS) {
        const fields = ['slots(from: $from, to: $to) { totalCount }', 'capacity(from: $from, to: $to) { freeSlots }', 'nextAvailable(from: $from) { id }'];
        for (const field of fields) {
          const takesTo = field.includes('$to');
          const sent = JSON.stringify({
            query: `query($r: [_Any!]!, $from: DateTime${takesTo ? ', $to: DateTime' : ''}) { _entities(representations: $r) { ... on ${typename} { ${field} } } }`,
            variables: { r: [{ __typename: typename, id, supplier: { id: system } }], from, ...(takesTo ? { to } : {}) },
          });
          const res = await fetch(stack.url(name), {
            method: 'POST',
            headers: { 'content-type': 'application/json', ...gatewayHeaders({ odsCode: 'RX8', name: 'NHS 111' }, { url: stack.url(name), body: sent }) },
            body: sent,
          });
          const body = (await res.json()) as { errors?: { extensions?: { code?: string } }[] };
          // nextAvailable takes only `from`; the last window's `from` is a sane one.
          if (!takesTo && from.startsWith('20') && !from.startsWith('2026-02-30')) continue;
          expect(body.errors?.[0]?.extensions?.code, `${name} ${field}`).toBe('BAD_USER_INPUT');
        }
      }
    }
    expect(exits).toEqual([]);
    await availabilityAnswers();
  }, 60_000);
});
