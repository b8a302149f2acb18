/**
 * The shared feeds as a process runs them, from the environment:
 *   REDIS_URL, REDIS_CLUSTER_NODES the feed store (lease and snapshot) shared by every process and replica; absent:
 *                                  this process's memory, so each process polls for itself (and a log line says so)
 *   FEED_FIRST_SNAPSHOT_WAIT_MS    first start only: how long after start a request may wait for the very first
 *                                  snapshot (default 2000; 0: never wait)
 *   FEED_SNAPSHOT_MAX_BYTES        bound on a stored snapshot (default 32 MiB)
 * Feeds and their poll floors come from the registry's SMART_LINKS systems.
 */
import type { Logger } from 'pino';
import { connectRedis, redisTargetFromEnv } from '../../../common/redis.js';
import type { Registry, SmartLinksSystem } from '../registry.js';
import { SharedFeeds } from './shared.js';
import { DEFAULT_MAX_SNAPSHOT_BYTES } from './snapshot-codec.js';
import { MemoryFeedStore } from './store-memory.js';
import { RedisFeedStore } from './store-redis.js';
import type { FeedStore } from './store.js';

export interface SharedFeedsSetup {
  logger: Logger;
  now?: () => Date;
  env?: NodeJS.ProcessEnv;
  /** Overrides FEED_FIRST_SNAPSHOT_WAIT_MS. */
  firstSnapshotWaitMs?: number;
  /** Start polling at once (default); false: the caller calls start() (after its server listens, say). */
  start?: boolean;
  /** A store of the caller's (kept open by close()); default: from REDIS_URL. */
  store?: FeedStore;
}

/** Started (unless told not to): the first tick of every feed is under way when this returns. */
export function sharedFeedsFromEnv(registry: Pick<Registry, 'systems'>, opts: SharedFeedsSetup): SharedFeeds {
  const env = opts.env ?? process.env;
  const systems = registry.systems.filter((s): s is SmartLinksSystem => s.kind === 'SMART_LINKS');
  const firstSnapshotWaitMs = opts.firstSnapshotWaitMs ?? intFrom(env, 'FEED_FIRST_SNAPSHOT_WAIT_MS', 2000, 0, 60_000);
  const maxSnapshotBytes = intFrom(env, 'FEED_SNAPSHOT_MAX_BYTES', DEFAULT_MAX_SNAPSHOT_BYTES, 64 * 1024, 512 * 1024 * 1024);
  const common = { systems, logger: opts.logger, firstSnapshotWaitMs, maxSnapshotBytes, ...(opts.now ? { now: opts.now } : {}) };
  const go = (f: SharedFeeds) => (opts.start === false ? f : f.start());
  if (opts.store) return go(new SharedFeeds({ ...common, store: opts.store }));
  if (systems.length === 0) return new SharedFeeds({ ...common, store: new MemoryFeedStore(), ownsStore: true });
  const target = redisTargetFromEnv(env);
  if (!target) {
    opts.logger.info('REDIS_URL and REDIS_CLUSTER_NODES are not set: SMART feeds are polled by this process alone (other processes poll their own)');
    return go(new SharedFeeds({ ...common, store: new MemoryFeedStore(), ownsStore: true }));
  }
  // The URL may carry a password: never logged.
  const conn = connectRedis(target, { logger: opts.logger, consequence: 'feed snapshots are not shared: the snapshot in hand is served, marked stale once overdue' });
  return go(
    new SharedFeeds({
      ...common,
      store: new RedisFeedStore(conn.redis, () => conn.close()),
      ownsStore: true,
      onStoreError: (err) => conn.outage.report(err),
      storeReady: (ms) => conn.ready(ms),
    }),
  );
}

function intFrom(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const v = env[name];
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${name} must be a whole number from ${min} to ${max}, got "${v}"`);
  return n;
}
