/**
 * The adapter's window answers from a shared feed (kit/feeds/shared.ts, here over a real redis-server): slots labelled
 * with the snapshot's fetch time, `stale` past the search's maxAge (and the poller asked for fresher data), and
 * `stale` when the last poll failed, the slots still served.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type TestRedis } from '../../test/redis.js';
import { SharedFeeds } from '../kit/feeds/shared.js';
import { RedisFeedStore } from '../kit/feeds/store-redis.js';
import { feedKey } from '../kit/feeds/store.js';
import { location, schedule, serveFixtures, simpleFeed, slot, testClock, type ServedFixtures } from '../../test/support/feeds.js';
import { pino } from 'pino';
import { SmartLinksClient } from './client.js';

let redis: TestRedis;
let conn: Redis;
let served: ServedFixtures;
beforeAll(async () => {
  redis = await startRedis();
  conn = new Redis(redis.url);
  served = await serveFixtures({
    clinic: {
      ...simpleFeed([slot('s1', '10', '2026-11-21T12:00:00Z', '2026-11-21T12:15:00Z'), slot('s2', '10', '2026-11-21T13:00:00Z', '2026-11-21T13:15:00Z')], {
        locations: [location('1')],
        schedules: [schedule('10', '1')],
      }),
      cache: { cacheControl: { maxAgeSeconds: 300 } },
    },
  });
});
afterAll(async () => {
  await served?.close();
  conn?.disconnect();
  await redis?.dispose();
});

async function until(cond: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('window answers from the shared snapshot', () => {
  it('CACHE with the snapshot fetch time; stale past maxAge (asking for fresher data); stale after a failed poll', async () => {
    const clock = testClock();
    const system = served.system('clinic', { pollFloorSeconds: 60, deadlineMs: 1000 });
    const store = new RedisFeedStore(conn);
    const feeds = new SharedFeeds({ store, systems: [system], tickMs: 50, now: clock.now }).start();
    const client = new SmartLinksClient({ systems: [system] }, { logger: pino({ level: 'silent' }), feeds });
    try {
      const serviceId = `smart:${system.id}:1:57`;
      const w = { system: system.id, serviceId, from: new Date('2026-11-21T00:00:00Z'), to: new Date('2026-11-22T00:00:00Z') };
      const fresh = await client.windowSlots(w);
      expect(fresh.fetchedAt).toBe(clock.now().toISOString());
      expect(fresh.stale).toBeUndefined();
      expect(fresh.slots.map((s) => [s.start, s.source, s.fetchedAt])).toEqual([
        ['2026-11-21T12:00:00.000Z', 'CACHE', fresh.fetchedAt],
        ['2026-11-21T13:00:00.000Z', 'CACHE', fresh.fetchedAt],
      ]);

      clock.advance(30);
      expect((await client.windowSlots({ ...w, maxAgeSeconds: 60 })).stale).toBeUndefined();
      const old = await client.windowSlots({ ...w, maxAgeSeconds: 10 });
      expect(old).toMatchObject({ stale: true, fetchedAt: fresh.fetchedAt });
      expect(old.slots).toHaveLength(2);
      await until(async () => (await store.readState(feedKey(system.id, system.manifestUrl))).wantedAt !== null);

      // The next poll (due at the floor, thanks to the demand) fails: the same slots, stale whatever the maxAge.
      await fetch(`${served.publisher.url}/_sandbox/faults`, { method: 'POST', body: JSON.stringify({ pathPrefix: '/clinic/', status: 503 }) });
      clock.advance(30);
      await until(async () => (await client.windowSlots(w)).stale === true);
      const failed = await client.windowSlots(w);
      expect(failed.fetchedAt).toBe(fresh.fetchedAt);
      expect(failed.slots.map((s) => s.fetchedAt)).toEqual([fresh.fetchedAt, fresh.fetchedAt]);
    } finally {
      await fetch(`${served.publisher.url}/_sandbox/faults`, { method: 'DELETE' });
      await feeds.close();
    }
  });

  it('a system that is not a feed is a typed rejection', async () => {
    const feeds = new SharedFeeds({ store: new RedisFeedStore(conn), systems: [] });
    const client = new SmartLinksClient({ systems: [] }, { logger: pino({ level: 'silent' }), feeds });
    await expect(client.windowSlots({ system: 'harbour-uec', serviceId: '1', from: new Date(), to: new Date() })).rejects.toMatchObject({ name: 'UpstreamError', reason: 'REJECTED' });
  });
});
