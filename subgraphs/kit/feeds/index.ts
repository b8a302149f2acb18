/**
 * SMART Scheduling Links feed ingest, shared by the smart-links subgraph (slots) and the directory (services).
 *
 *   const reader = new FeedReader(system, { logger, types: ['Location', 'Schedule', 'PractitionerRole'] });
 *   const feed = await reader.snapshot();   // polls politely; throws UpstreamError only if there never was a feed
 *   feed.services                          // one per (location, service type): id smart:<system>:<location>:<code>
 *   feed.slotsByService.get(service.id)    // earliest first (empty when Slot files were not asked for)
 *   feed.issues                            // what was normalised, flagged or skipped, and where
 *   feed.stale                             // non-null when the last refresh failed and this is the one before
 *
 * Off the request path (shared.ts): one poller per feed across every process (a lease in the feed store, store.ts:
 * Redis in store-redis.ts, or memory in store-memory.ts), the parsed snapshot shared through the store
 * (snapshot-codec.ts), and every reader answering from memory:
 *
 *   const feeds = sharedFeedsFromEnv(registry, { logger });   // started; REDIS_URL shares the lease and snapshot
 *   const feed = feeds.feed(systemId)!;
 *   feed.current()                                           // never waits; null before the first snapshot
 *   await feed.snapshot()                                    // first start only: waits a bounded time for it
 *   feed.freshness(maxAgeSeconds).stale                      // last poll failed, overdue, or older than maxAge
 *
 * Modules: manifest.ts (the $bulk-publish document), ndjson.ts (line streaming), http.ts (conditional streaming
 * GET), cache-control.ts (when to poll), records/ (one pure parser per resource type), join.ts (records → services
 * and slots), reader.ts (polling, caching, single flight, staleness).
 */
export { FeedReader, type FeedReaderOptions, type SnapshotOptions } from './reader.js';
export { SharedFeed, SharedFeeds, type Freshness, type SharedFeedsOptions } from './shared.js';
export { sharedFeedsFromEnv, type SharedFeedsSetup } from './setup.js';
export type { FeedMeta, FeedStore } from './store.js';
export { parseServiceId, serviceId, NO_SERVICE_TYPE_CODE, type ServiceIdParts } from './service-id.js';
export type {
  FeedAddress,
  FeedFile,
  FeedIssue,
  FeedIssueKind,
  FeedResourceType,
  FeedService,
  FeedServiceType,
  FeedSlot,
  FeedSlotStatus,
  FeedSnapshot,
  FeedStaleness,
} from './types.js';
