/**
 * The SMART Scheduling Links feeds this adapter reads: one shared feed (kit/feeds/shared.ts) per SMART_LINKS system
 * in the registry. A background poller (one per feed across every process and replica when REDIS_URL is set) keeps
 * the snapshot; requests read it from memory and never wait for a poll.
 *
 * What a window answer says about freshness (kit/slot-windows.ts WindowSlots):
 *   - every slot's `fetchedAt` is the snapshot's fetch time, and `source` is CACHE: feed slots are never fetched for
 *     the request that reads them;
 *   - `stale` when the last poll failed, when the poll due is overdue (a publisher that stalls), or when the snapshot
 *     is older than the search's maxAge. In that last case the poller is also asked to poll at the floor rather than
 *     at the publisher's max-age, so maxAge is honoured from the next poll on, within the floor.
 */
import type { Logger } from 'pino';
import { SharedFeeds, sharedFeedsFromEnv, type SharedFeed } from '../kit/feeds/index.js';
import type { Registry } from '../kit/registry.js';
import type { SlotWindow, WindowSlots } from '../kit/slot-windows.js';
import { UpstreamError } from '../../common/upstream.js';
import { slotsInWindow, type SlotModel } from './map.js';

export interface SmartLinksClientOptions {
  logger: Logger;
  /** Clock for polling decisions and ages (tests pin it). */
  now?: () => Date;
  /** First start only: how long a request may wait for a feed's first snapshot (default: the environment's). */
  firstSnapshotWaitMs?: number;
  /** The shared feeds (the caller closes them); default: from the environment (REDIS_URL...), closed by close(). */
  feeds?: SharedFeeds;
}

export class SmartLinksClient {
  private readonly feeds: SharedFeeds;
  private readonly ownFeeds: boolean;

  constructor(registry: Pick<Registry, 'systems'>, opts: SmartLinksClientOptions) {
    this.ownFeeds = !opts.feeds;
    this.feeds = opts.feeds ?? sharedFeedsFromEnv(registry, {
        logger: opts.logger,
        ...(opts.now ? { now: opts.now } : {}),
        ...(opts.firstSnapshotWaitMs !== undefined ? { firstSnapshotWaitMs: opts.firstSnapshotWaitMs } : {}),
      });
  }

  /** Starts polling (the feeds it made itself; given feeds are the caller's to start). */
  start(): void {
    if (this.ownFeeds) this.feeds.start();
  }

  /** The feed of a registry system; undefined when it is not a SMART_LINKS system. */
  reader(systemId: string): SharedFeed | undefined {
    return this.feeds.feed(systemId);
  }

  systemIds(): string[] {
    return this.feeds.all().map((f) => f.system.id);
  }

  /** One window of one service from its feed's snapshot, labelled as kit/slot-windows expects. */
  async windowSlots(w: SlotWindow): Promise<WindowSlots<SlotModel>> {
    const feed = this.feeds.feed(w.system);
    if (!feed) throw new UpstreamError(w.system, 'REJECTED', undefined, 'not a SMART_LINKS system in the registry');
    const snapshot = await feed.snapshot();
    const slots = slotsInWindow(w.system, snapshot.slotsByService.get(w.serviceId) ?? [], w.from, w.to);
    const freshness = feed.freshness(w.maxAgeSeconds);
    if (w.maxAgeSeconds != null && freshness.ageSeconds > w.maxAgeSeconds) feed.wantFresher();
    return { slots, fetchedAt: snapshot.checkedAt, ...(freshness.stale ? { stale: true } : {}) };
  }

  async close(): Promise<void> {
    if (this.ownFeeds) await this.feeds.close();
  }
}
