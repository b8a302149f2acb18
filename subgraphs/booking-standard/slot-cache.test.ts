/**
 * The adapter with its slot cache in a real Redis, against the Booking Standard simulator: NHS 111's ring-fenced
 * slots stay NHS 111's, and a booking or cancellation through the adapter's own flow shows in the next slot read.
 */
import { randomUUID } from 'node:crypto';
import { pino } from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startBookingStandardSimulator } from '../../sandbox/booking-standard/server.js';
import type { RecordedRequest, SandboxServer } from '../../sandbox/lib/http.js';
import { startRedis, type TestRedis } from '../../test/redis.js';
import type { ConsumerOrganisation } from '../../common/consumer.js';
import { gatewayHeaders } from '../../common/internal-auth.js';
import { addDays, dayStart, londonDay } from '../../common/london-day.js';
import { loadRegistry } from '../kit/registry.js';
import type { RunningSubgraph } from '../kit/server.js';
import { createSlotCache, type SlotCache } from '../kit/slot-cache.js';
import { decodeSlotId } from '../../common/slot-id.js';
import { startBookingStandardSubgraph } from './index.js';
import { decodeSlotRef } from './slot-ref.js';

let redis: TestRedis;
let sim: SandboxServer;
let cache: SlotCache;
let subgraph: RunningSubgraph;
const NHS111: ConsumerOrganisation = { odsCode: 'RX8', name: 'Yorkshire Ambulance Service NHS 111' };
const CAS: ConsumerOrganisation = { odsCode: 'A91023', name: 'A clinical assessment service' };

beforeAll(async () => {
  redis = await startRedis();
  sim = await startBookingStandardSimulator({ port: 0 });
  const registry = loadRegistry(undefined, { SANDBOX_BOOKING_STANDARD_URL: sim.url });
  const logger = pino({ level: 'silent' });
  cache = createSlotCache({ registry, logger, redis: redis.url });
  expect(await cache.whenReady(5000)).toBe(true);
  subgraph = await startBookingStandardSubgraph(0, { registry, logger, slotCache: cache });
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

// Tomorrow in London, the whole day (both ends inclusive).
const tomorrow = addDays(londonDay(Date.now()), 1);
const FROM = new Date(dayStart(tomorrow)).toISOString();
const TO = new Date(dayStart(addDays(tomorrow, 1)) - 1000).toISOString();

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
  source: 'LIVE' | 'CACHE';
  fetchedAt: string;
}

async function slots(serviceId: string, consumer = NHS111): Promise<Slot[]> {
  const data = await gql(
    `query($reps: [_Any!]!, $from: DateTime, $to: DateTime) { _entities(representations: $reps) {
      ... on BookingStandardService { slots(from: $from, to: $to, first: 500) { nodes { id start source fetchedAt } } } } }`,
    { reps: [{ __typename: 'BookingStandardService', id: serviceId, supplier: { id: 'harbour-uec' } }], from: FROM, to: TO },
    consumer,
  );
  return data._entities[0].slots.nodes as Slot[];
}

async function searches(): Promise<RecordedRequest[]> {
  const log = (await (await fetch(`${sim.url}/_sandbox/requests`)).json()) as RecordedRequest[];
  return log.filter((r) => r.path.endsWith('/Slot') && !r.query['_page']);
}

const londonClock = (iso: string) => new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/London', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(new Date(iso));
const ringFenced = (s: Slot) => {
  const t = londonClock(s.start);
  return (t >= '10:00' && t < '14:00') || (t >= '18:00' && t < '22:00');
};

describe('slot cache per consumer organisation', () => {
  it('never serves NHS 111\'s ring-fenced slots to another organisation', async () => {
    const ed = '1402000101';
    const for111 = await slots(ed, NHS111);
    expect(for111.some(ringFenced)).toBe(true);
    const forCas = await slots(ed, CAS);
    expect(forCas.length).toBeGreaterThan(0);
    expect(forCas.some(ringFenced)).toBe(false);
    expect((await searches()).length).toBe(2);

    // Both views are cached now, each for its own organisation: no more searches, and still apart.
    const again111 = await slots(ed, NHS111);
    const againCas = await slots(ed, CAS);
    expect(new Set([...again111, ...againCas].map((s) => s.source))).toEqual(new Set(['CACHE']));
    expect(again111.some(ringFenced)).toBe(true);
    expect(againCas.some(ringFenced)).toBe(false);
    expect(againCas.map((s) => s.id)).toEqual(forCas.map((s) => s.id));
    expect((await searches()).length).toBe(2);
  });
});

describe('invalidation by the booking flows', () => {
  const service = '1402000105';
  const BOOK = `mutation($input: SupplierBookingInput!) { bookingStandardBook(input: $input) { code appointment { ref start } } }`;
  const CANCEL = `mutation($input: SupplierCancelInput!) { bookingStandardCancel(input: $input) { code } }`;

  it('a booked slot is gone from the next read (for every organisation), and back after cancelling', async () => {
    await slots(service, CAS); // another organisation's cached view of the same day
    const before = await slots(service);
    const cached = await slots(service);
    expect(new Set(cached.map((s) => s.source))).toEqual(new Set(['CACHE']));
    const slot = before[0]!;

    const booked = (
      await gql(BOOK, {
        input: {
          system: 'harbour-uec', serviceId: service, slotRef: decodeSlotId(slot.id)!.ref, requestId: randomUUID(), mayHaveBooked: false,
          description: '111 referral: minor injury',
          patient: { nhsNumber: '9434765919', family: 'Jones', given: ['Sam'], birthDate: '1980-02-03', gender: 'female', addressLines: ['1 High Street'], postcode: 'LS10 1AA' },
          handover: { reportId: randomUUID(), reportTypeCode: 'POCD_MT200001GB02', reportTypeDisplay: 'Integrated Urgent Care Report', summary: 'Minor injury', authorOdsCode: 'RX8' },
        },
      })
    ).bookingStandardBook;
    expect(booked.code).toBe('BOOKED');

    const after = await slots(service);
    expect(after.map((s) => s.id)).not.toContain(slot.id);
    expect(after.length).toBe(before.length - 1);
    expect(new Set(after.map((s) => s.source))).toEqual(new Set(['LIVE']));
    expect((await slots(service, CAS)).map((s) => s.source)).toContain('LIVE');

    const cancelled = (await gql(CANCEL, { input: { system: 'harbour-uec', serviceId: service, appointmentRef: booked.appointment.ref, requestId: randomUUID(), reason: 'Recovered' } }))
      .bookingStandardCancel;
    expect(cancelled.code).toBe('CANCELLED');
    const restored = await slots(service);
    expect(restored.map((s) => s.id)).toContain(slot.id);
    expect(restored.length).toBe(before.length);
  });

  it('a slot booked through one service of a shared diary is gone from the other service\'s next read too, and back after cancelling', async () => {
    // Norfolk and Norwich: the UTC's diary is mapped to the ED too (sandbox/booking-standard/catalogue.ts).
    const [utc, ed] = ['1404000302', '1404000301'];
    const native = (s: Slot) => decodeSlotRef(decodeSlotId(s.id)!.ref)!.slotId;
    const utcBefore = await slots(utc);
    const edBefore = await slots(ed);
    expect(new Set((await slots(utc)).map((s) => s.source))).toEqual(new Set(['CACHE']));
    const shared = edBefore.find((s) => utcBefore.some((u) => native(u) === native(s)))!;
    expect(shared).toBeDefined();

    const booked = (
      await gql(BOOK, {
        input: {
          system: 'harbour-uec', serviceId: ed, slotRef: decodeSlotId(shared.id)!.ref, requestId: randomUUID(), mayHaveBooked: false,
          description: '111 referral: streamed to the UTC',
          patient: { nhsNumber: '9434765919', family: 'Jones', given: ['Sam'], birthDate: '1980-02-03', gender: 'female', addressLines: ['1 High Street'], postcode: 'NR4 7UY' },
          handover: { reportId: randomUUID(), reportTypeCode: 'POCD_MT200001GB02', reportTypeDisplay: 'Integrated Urgent Care Report', summary: 'Minor illness', authorOdsCode: 'RX8' },
        },
      })
    ).bookingStandardBook;
    expect(booked.code).toBe('BOOKED');

    const utcAfter = await slots(utc);
    expect(utcAfter.map(native)).not.toContain(native(shared));
    expect(utcAfter.length).toBe(utcBefore.length - 1);
    expect((await slots(ed)).map(native)).not.toContain(native(shared));

    // Cancelled through the ED: free again under the UTC at once, not after its cached day expires.
    expect(new Set((await slots(utc)).map((s) => s.source))).toEqual(new Set(['CACHE']));
    const cancelled = (await gql(CANCEL, { input: { system: 'harbour-uec', serviceId: ed, appointmentRef: booked.appointment.ref, requestId: randomUUID(), reason: 'Recovered' } }))
      .bookingStandardCancel;
    expect(cancelled.code).toBe('CANCELLED');
    const utcRestored = await slots(utc);
    expect(utcRestored.map(native)).toContain(native(shared));
    expect(utcRestored.length).toBe(utcBefore.length);
  });
});
