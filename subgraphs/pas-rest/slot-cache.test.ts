/**
 * The adapter with its slot cache in a real Redis, against the Oakfield simulator: one bucket for every
 * organisation (Oakfield's sessions are the same for everyone), and a booking or cancellation through the adapter's
 * own flow shows in the next slot read.
 */
import { randomUUID } from 'node:crypto';
import { pino } from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RecordedRequest, SandboxServer } from '../../sandbox/lib/http.js';
import { startPasRestSimulator } from '../../sandbox/pas-rest/server.js';
import { startRedis, type TestRedis } from '../../test/redis.js';
import type { ConsumerOrganisation } from '../../common/consumer.js';
import { gatewayHeaders } from '../../common/internal-auth.js';
import { addDays, dayStart, londonDay } from '../../common/london-day.js';
import { loadRegistry } from '../kit/registry.js';
import type { RunningSubgraph } from '../kit/server.js';
import { createSlotCache, type SlotCache } from '../kit/slot-cache.js';
import { decodeSlotId } from '../../common/slot-id.js';
import { startPasRestSubgraph } from './index.js';

let redis: TestRedis;
let sim: SandboxServer;
let cache: SlotCache;
let subgraph: RunningSubgraph;
const NHS111: ConsumerOrganisation = { odsCode: 'RX8', name: 'Yorkshire Ambulance Service NHS 111' };
const CAS: ConsumerOrganisation = { odsCode: 'A91023', name: 'A clinical assessment service' };
const SERVICE = '1403000211';

beforeAll(async () => {
  redis = await startRedis();
  sim = await startPasRestSimulator({ port: 0, apiKeys: ['sandbox-oakfield-key'], rateLimit: { perSecond: 1000 } });
  const registry = loadRegistry(undefined, { SANDBOX_PAS_REST_URL: sim.url });
  const logger = pino({ level: 'silent' });
  cache = createSlotCache({ registry, logger, redis: redis.url });
  expect(await cache.whenReady(5000)).toBe(true);
  subgraph = await startPasRestSubgraph({ port: 0, registry, env: { OAKFIELD_PAS_API_KEY: 'sandbox-oakfield-key' }, logger, slotCache: cache });
});
afterAll(async () => {
  await subgraph?.close();
  await cache?.close();
  await sim?.close();
  await redis?.dispose();
});
beforeEach(async () => {
  await fetch(`${sim.url}/_sandbox/requests`, { method: 'DELETE' });
});

// From tomorrow (London) for three days: weekdays among them, so capacity-1 times are there.
const tomorrow = addDays(londonDay(Date.now()), 1);
const FROM = new Date(dayStart(tomorrow)).toISOString();
const TO = new Date(dayStart(addDays(tomorrow, 3)) - 1000).toISOString();

async function gql(query: string, variables: Record<string, unknown>, consumer = NHS111): Promise<any> {
  const sent = JSON.stringify({ query, variables });
  const res = await fetch(subgraph.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...gatewayHeaders(consumer, { url: subgraph.url, body: sent }) },
    body: sent,
  });
  const body = (await res.json()) as { data?: any; errors?: unknown[] };
  expect(body.errors).toBeUndefined();
  return body.data;
}

interface Slot {
  id: string;
  start: string;
  capacity: number;
  source: 'LIVE' | 'CACHE';
}

async function slots(consumer = NHS111): Promise<Slot[]> {
  const data = await gql(
    `query($reps: [_Any!]!, $from: DateTime, $to: DateTime) { _entities(representations: $reps) {
      ... on PasRestService { slots(from: $from, to: $to, first: 500) { nodes { id start capacity source } } } } }`,
    { reps: [{ __typename: 'PasRestService', id: SERVICE, supplier: { id: 'oakfield-pas' } }], from: FROM, to: TO },
    consumer,
  );
  return data._entities[0].slots.nodes as Slot[];
}

async function sessionSearches(): Promise<RecordedRequest[]> {
  const log = (await (await fetch(`${sim.url}/_sandbox/requests`)).json()) as RecordedRequest[];
  return log.filter((r) => r.path.endsWith('/sessions') && !r.query['cursor']);
}

describe('slot cache for Oakfield', () => {
  it('shares one bucket between organisations, fetched as one search over the missing dates', async () => {
    const first = await slots(NHS111);
    expect(first.length).toBeGreaterThan(0);
    const searches = await sessionSearches();
    expect(searches.map((s) => [s.query['from']?.[0], s.query['to']?.[0]])).toEqual([[tomorrow, addDays(tomorrow, 2)]]);
    const other = await slots(CAS);
    expect(new Set(other.map((s) => s.source))).toEqual(new Set(['CACHE']));
    expect(other.map((s) => s.id)).toEqual(first.map((s) => s.id));
    expect(await sessionSearches()).toHaveLength(1);
  });

  it('a booked time shows its place taken in the next read, and given back after cancelling', async () => {
    const before = await slots();
    const cached = await slots(CAS);
    expect(new Set(cached.map((s) => s.source))).toEqual(new Set(['CACHE']));
    // A time with one place left disappears when booked; any other shows one place fewer.
    const slot = before.find((s) => s.capacity === 1) ?? before[0]!;

    const booked = (
      await gql(`mutation($input: SupplierBookingInput!) { pasRestBook(input: $input) { code appointment { ref start } } }`, {
        input: {
          system: 'oakfield-pas', serviceId: SERVICE, slotRef: decodeSlotId(slot.id)!.ref, requestId: randomUUID(), mayHaveBooked: false,
          description: '111 referral: dental pain',
          patient: { nhsNumber: '9434765919', family: 'Jones', given: ['Sam'], birthDate: '1980-02-03', gender: 'male', addressLines: ['1 High Street'], postcode: 'BS16 3UH' },
          handover: { reportId: randomUUID(), reportTypeCode: 'POCD_MT200001GB02', reportTypeDisplay: 'Integrated Urgent Care Report', summary: 'Toothache', authorOdsCode: 'RX8' },
        },
      })
    ).pasRestBook;
    expect(booked.code).toBe('BOOKED');

    for (const consumer of [NHS111, CAS]) {
      const after = await slots(consumer);
      const same = after.find((s) => s.id === slot.id);
      if (slot.capacity === 1) expect(same).toBeUndefined();
      else expect(same?.capacity).toBe(slot.capacity - 1);
    }

    const cancelled = (
      await gql(`mutation($input: SupplierCancelInput!) { pasRestCancel(input: $input) { code } }`, {
        input: { system: 'oakfield-pas', serviceId: SERVICE, appointmentRef: booked.appointment.ref, requestId: randomUUID(), reason: 'Recovered' },
      })
    ).pasRestCancel;
    expect(cancelled.code).toBe('CANCELLED');
    const restored = await slots();
    expect(restored.find((s) => s.id === slot.id)?.capacity).toBe(slot.capacity);
  });
});
