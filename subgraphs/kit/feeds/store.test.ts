/**
 * The feed store's contract, the same for Redis (a real redis-server) and memory: the lease (SET NX PX, renewed by
 * its holder, taken over once it lapses), writes fenced by the lease, the demand for fresher data; and the snapshot
 * codec (bounded, slot and location data only, the snapshot's fetch time on every slot).
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type TestRedis } from '../../../test/redis.js';
import { assembleSnapshot, decodeSnapshot, encodeSnapshot } from './snapshot-codec.js';
import { MemoryFeedStore } from './store-memory.js';
import { RedisFeedStore } from './store-redis.js';
import { feedKey, type FeedMeta, type FeedStore } from './store.js';
import type { FeedService, FeedSlot, FeedSnapshot } from './types.js';

let redis: TestRedis;
let client: Redis;
beforeAll(async () => {
  redis = await startRedis();
  client = new Redis(redis.url);
});
afterAll(async () => {
  client?.disconnect();
  await redis?.dispose();
});

const meta = (over: Partial<FeedMeta> = {}): FeedMeta => ({
  bodyVersion: 'v1',
  checkedAt: '2026-11-21T10:00:00.000Z',
  nextPollAt: 1,
  attemptAt: 1,
  stale: null,
  failure: null,
  files: 3,
  ...over,
});

/** Waits for a condition, bounded, checking every 20 ms. */
async function until(cond: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe.each([
  { name: 'Redis', make: (): FeedStore => new RedisFeedStore(client) },
  { name: 'memory', make: (): FeedStore => new MemoryFeedStore() },
])('the $name feed store', ({ make }) => {
  it('one lease holder at a time: SET NX PX, renewed by its holder only, taken over once it lapses', async () => {
    const store = make();
    const feed = feedKey(`lease-${Math.random()}`, 'https://p.example/$bulk-publish');
    expect(await store.lease(feed, 'a', 300)).toBe(true);
    expect(await store.lease(feed, 'b', 300)).toBe(false);
    expect(await store.lease(feed, 'a', 300)).toBe(true); // renewal
    const lapsedFrom = Date.now();
    // a stops renewing (it died): b gets the feed once the lease has lapsed, not before.
    await until(() => store.lease(feed, 'b', 5000));
    expect(Date.now() - lapsedFrom).toBeGreaterThanOrEqual(250);
    expect(await store.lease(feed, 'a', 300)).toBe(false);
    await store.release(feed, 'a'); // not a's to release
    expect(await store.lease(feed, 'a', 300)).toBe(false);
    await store.release(feed, 'b');
    expect(await store.lease(feed, 'a', 300)).toBe(true);
  });

  it('writes are fenced by the lease; the body is read only when asked for; the latest demand is kept', async () => {
    const store = make();
    const feed = feedKey(`write-${Math.random()}`, 'https://p.example/$bulk-publish');
    expect(await store.readState(feed)).toEqual({ meta: null, wantedAt: null });
    expect(await store.lease(feed, 'a', 5000)).toBe(true);
    expect(await store.write(feed, 'b', meta(), 'body-b', 60_000)).toBe(false);
    expect(await store.readBody(feed)).toBeNull();
    expect(await store.write(feed, 'a', meta(), 'body-a', 60_000)).toBe(true);
    // A meta-only write (a 304 poll) keeps the body.
    expect(await store.write(feed, 'a', meta({ checkedAt: '2026-11-21T10:01:00.000Z' }), null, 60_000)).toBe(true);
    expect((await store.readState(feed)).meta).toEqual(meta({ checkedAt: '2026-11-21T10:01:00.000Z' }));
    expect(await store.readBody(feed)).toBe('body-a');
    await store.want(feed, 2000, 60_000);
    await store.want(feed, 1000, 60_000);
    expect((await store.readState(feed)).wantedAt).toBe(2000);
  });
});

describe('in Redis', () => {
  it('keys are digests under feeds:v1:, and expire', async () => {
    const store = new RedisFeedStore(client);
    const feed = feedKey('smart-vaccines', 'https://secret-host.example/$bulk-publish');
    await store.lease(feed, 'a', 5000);
    await store.write(feed, 'a', meta(), '{}', 60_000);
    const keys = await client.keys(`feeds:v1:{${feed}}:*`);
    expect(keys.sort()).toEqual([`feeds:v1:{${feed}}:body`, `feeds:v1:{${feed}}:lease`, `feeds:v1:{${feed}}:meta`]);
    expect(keys.join()).not.toContain('secret-host');
    expect(await client.pttl(`feeds:v1:{${feed}}:body`)).toBeGreaterThan(0);
  });
});

describe('the snapshot codec', () => {
  const service: FeedService = {
    id: 'smart:f:1:57',
    systemId: 'f',
    locationId: '1',
    name: 'Clinic',
    serviceType: 'VACCINATION',
    serviceTypeCode: '57',
    serviceTypeName: 'Immunization',
    address: { lines: ['1 Main St'], city: 'Boston', district: null, state: 'MA', postalCode: '02114', country: null },
    position: null,
    phone: null,
    website: null,
    timeZone: null,
    identifiers: [],
    scheduleIds: ['10'],
  };
  const slot = (i: number, day: number): FeedSlot => ({
    id: `s${i}`,
    publishedId: `s${i}`,
    scheduleId: '10',
    serviceId: service.id,
    start: new Date(Date.UTC(2026, 10, day, 9, i % 60)).toISOString(),
    end: new Date(Date.UTC(2026, 10, day, 10, i % 60)).toISOString(),
    startOffset: -300,
    endOffset: -300,
    timeZone: 'America/New_York',
    status: 'free',
    capacity: null,
    bookingLink: `https://portal.example/book?slot=${i}`,
    bookingLinkGeneric: false,
    bookingLinkShared: false,
    bookingPhone: null,
    practitioner: null,
    coarse: null,
    offsetSuspect: false,
    capacityCoerced: false,
    placeholder: false,
    phoneTruncated: false,
    fetchedAt: '2026-11-21T09:59:00.000Z',
  });
  const snapshot = (slots: FeedSlot[]): FeedSnapshot => ({
    systemId: 'f',
    manifestUrl: 'https://p.example/$bulk-publish',
    transactionTime: '2026-11-21T09:00:00.000Z',
    checkedAt: '2026-11-21T10:00:00.000Z',
    services: [service],
    slots,
    servicesById: new Map([[service.id, service]]),
    slotsByService: new Map([[service.id, slots]]),
    files: [{ type: 'Slot', url: 'https://p.example/slots.ndjson', downloadedAt: '2026-11-21T09:59:00.000Z', fetchedAt: '2026-11-21T09:59:00.000Z', records: slots.length }],
    issues: [],
    stale: null,
  });

  it('round-trips, every slot carrying the fetch time of the meta it is read with', () => {
    // Every per-slot field travels: the published offsets, the zone and the defects behind the slot's quality flags.
    const flagged: FeedSlot = { ...slot(2, 23), coarse: 'day', offsetSuspect: true, bookingLinkGeneric: true, bookingLinkShared: true, capacityCoerced: true, placeholder: true, phoneTruncated: true };
    const slots = [slot(1, 22), flagged];
    const { body, version, droppedSlots } = encodeSnapshot(snapshot(slots));
    expect(droppedSlots).toBe(0);
    const back = assembleSnapshot(decodeSnapshot(body)!, { checkedAt: '2026-11-21T10:05:00.000Z', stale: null });
    expect(decodeSnapshot(body)!.version).toBe(version);
    expect(back.slots).toEqual(slots.map((s) => ({ ...s, fetchedAt: '2026-11-21T10:05:00.000Z' })));
    expect(back.slotsByService.get(service.id)).toHaveLength(2);
    expect(back.servicesById.get(service.id)).toEqual(service);
    expect(back.checkedAt).toBe('2026-11-21T10:05:00.000Z');
  });

  it('is bounded: over the limit, ended slots go first, then the latest-starting; services stay; an issue says so', () => {
    const slots = [slot(0, 1), ...Array.from({ length: 400 }, (_, i) => slot(i + 1, 22 + Math.floor(i / 60)))];
    const whole = encodeSnapshot(snapshot(slots)).body.length;
    const { body, droppedSlots } = encodeSnapshot(snapshot(slots), { maxBytes: Math.floor(whole / 2), now: new Date('2026-11-21T10:00:00Z') });
    expect(body.length).toBeLessThanOrEqual(Math.floor(whole / 2));
    const back = decodeSnapshot(body)!;
    expect(back.services).toEqual([service]);
    expect(back.slots.length).toBeGreaterThan(100);
    expect(droppedSlots).toBe(slots.length - back.slots.length);
    expect(back.slots.map((s) => s.id)).toEqual(slots.slice(1, 1 + back.slots.length).map((s) => s.id)); // the ended one, then the latest
    expect(back.issues.at(-1)).toMatchObject({ kind: 'suppressed', action: 'skipped', reason: expect.stringContaining(`(${droppedSlots} of 401)`) });
  });

  it('a body it did not write reads as none', () => {
    expect(decodeSnapshot('not json')).toBeNull();
    expect(decodeSnapshot('{"version":1}')).toBeNull();
  });
});
