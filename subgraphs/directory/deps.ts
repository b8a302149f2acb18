/** What the resolvers need from outside, injected so tests can swap the clock, the registry or the DoS. */
import type { Logger } from 'pino';
import type { DosClient, DosService } from './client.js';
import { toServiceModel, type SupplierLookup } from './map.js';
import type { ServiceModel } from './model.js';

export interface DirectoryDeps {
  dos: Pick<DosClient, 'getService' | 'search'>;
  suppliers: SupplierLookup;
  now: () => Date;
  logger: Logger;
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
