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
 * Modules: manifest.ts (the $bulk-publish document), ndjson.ts (line streaming), http.ts (conditional streaming
 * GET), cache-control.ts (when to poll), records/ (one pure parser per resource type), join.ts (records → services
 * and slots), reader.ts (polling, caching, single flight, staleness).
 */
export { FeedReader, type FeedReaderOptions, type SnapshotOptions } from './reader.js';
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
