/** What the resolvers need from outside, injected so tests can swap the clock, the registry or the DoS. */
import type { Logger } from 'pino';
import type { DosClient, DosService } from './client.js';
import { toServiceModel, type SupplierLookup } from './map.js';
import type { ServiceModel } from './model.js';
import { toFeedModel, type FeedDirectory, type FeedServiceRecord } from './feeds.js';

export interface DirectoryDeps {
  dos: Pick<DosClient, 'getService' | 'search'>;
  suppliers: SupplierLookup;
  now: () => Date;
  logger: Logger;
  /** Services published in SMART Scheduling Links feeds, when any are configured. */
  feeds?: FeedDirectory;
}

/** A feed record as a parent object, attributed to its registry system; null when the registry no longer lists it. */
export function feedMapper(deps: DirectoryDeps): (record: FeedServiceRecord) => ServiceModel | null {
  return (record) => {
    const supplier = deps.suppliers(record.systemId);
    return supplier ? toFeedModel(record, supplier) : null;
  };
}

/** Maps one record at the current time; a record this API cannot represent is logged (ids only) and skipped. */
export function recordMapper(deps: DirectoryDeps): (record: DosService) => ServiceModel | null {
  const now = deps.now();
  return (record) => {
    const result = toServiceModel(record, { suppliers: deps.suppliers, now });
    if (result.ok) return result.service;
    deps.logger.warn({ reason: result.reason }, 'DoS record skipped');
    return null;
  };
}
