/**
 * Services by id, batched per request. The federation planner sends every reference of one fetch in a single
 * `_entities` call; the loader turns them into one DoS call (the search endpoint's `ids` filter, up to 100 ids),
 * or a byServiceId call when there is only one. Loaders live in the request context, so nothing is shared
 * between requests or consumers.
 */
import DataLoader from 'dataloader';
import type { SubgraphContext } from '../../common/context.js';
import { feedMapper, recordMapper, type DirectoryDeps } from './deps.js';
import { isFeedServiceId } from './feeds.js';
import { guarded } from './errors.js';
import { isDosServiceId } from './map.js';
import type { ServiceModel } from './model.js';
import { DOS_MAX_PAGE_SIZE } from './paging.js';

const KEY = 'directory:services-by-id';

export type ServiceLoader = DataLoader<string, ServiceModel | null>;

export function serviceLoader(ctx: SubgraphContext, deps: DirectoryDeps): ServiceLoader {
  let loader = ctx.loaders.get(KEY) as ServiceLoader | undefined;
  if (!loader) {
    loader = new DataLoader<string, ServiceModel | null>((ids) => loadBatch(ids, deps), { maxBatchSize: DOS_MAX_PAGE_SIZE });
    ctx.loaders.set(KEY, loader);
  }
  return loader;
}

async function loadBatch(ids: readonly string[], deps: DirectoryDeps): Promise<(ServiceModel | null)[]> {
  const byId = new Map<string, ServiceModel>();
  // Feed-published services come from the feeds, never from the DoS.
  if (deps.feeds && ids.some(isFeedServiceId)) {
    const toModel = feedMapper(deps);
    const wanted = new Set(ids.filter(isFeedServiceId));
    for (const record of await deps.feeds.list()) {
      const model = wanted.has(record.id) ? toModel(record) : null;
      if (model) byId.set(model.id, model);
    }
  }
  // Ids that cannot be DoS ids are unknown services: answered without asking the DoS.
  const valid = ids.filter(isDosServiceId);
  if (valid.length === 0) return ids.map((id) => byId.get(id) ?? null);
  // One error for the whole batch: every reference in it rejects with the same typed error.
  const records = await guarded(deps.logger, async () =>
    valid.length === 1
      ? [await deps.dos.getService(valid[0]!)].filter((r) => r !== null)
      : (await deps.dos.search({ ids: valid, page: 1, pageSize: valid.length })).services,
  );
  const toModel = recordMapper(deps);
  for (const record of records) {
    const model = toModel(record);
    if (model) byId.set(model.id, model);
  }
  return ids.map((id) => byId.get(id) ?? null);
}
