/**
 * What the gateway-owned operations run on, built once from the operations' settings: the typed subgraph client,
 * supplier routing, the directory and answer caches, and the idempotency store (Redis when configured). Our gateway
 * (in-process) and the standalone operations subgraph build them the same way, here.
 */
import type { Logger } from 'pino';
import type { RedisClient } from '../../common/redis.js';
import type { Registry } from '../../subgraphs/kit/registry.js';
import type { OperationsConfig } from '../config.js';
import { Hasher } from './idempotency.js';
import { MemoryIdempotencyStore } from './idempotency-memory-store.js';
import { RedisIdempotencyStore } from './idempotency-redis-store.js';
import { AnswerCache, DirectoryCache, SlotGenerations } from './read-cache.js';
import { InFlight } from './in-flight.js';
import type { Availability } from './generated/resolvers.js';
import type { OperationsDeps } from './resolvers.js';
import { SubgraphClient } from './subgraph-client.js';
import { SupplierRouter } from './suppliers.js';
import { HoldStore } from '../../common/holds.js';

export function operationsDependencies(config: OperationsConfig, registry: Registry, redis: RedisClient | undefined, logger: Logger): OperationsDeps {
  // Every call the operations make to a subgraph (typed documents, one error taxonomy).
  const client = new SubgraphClient(config.subgraphUrls, config.internalKey);
  return {
    router: new SupplierRouter(registry, client, config.bookingTimeoutMs),
    availability: {
      registry,
      client,
      logger,
      now: () => new Date(),
      directoryCache: new DirectoryCache({ ttlMs: config.directoryCacheMs, ...(redis ? { redis } : {}) }),
      ...(redis && config.answerCacheMs > 0
        ? { answerCache: new AnswerCache({ ttlMs: config.answerCacheMs, generations: new SlotGenerations(redis) }), searches: new InFlight<Availability>() }
        : {}),
    },
    store: redis ? new RedisIdempotencyStore(redis) : new MemoryIdempotencyStore(),
    hasher: new Hasher(config.idempotencySecret),
    // Holds are for every replica and every supplier subgraph at once: only with the shared Redis.
    ...(redis ? { holds: new HoldStore(redis, () => Date.now(), config.holdsPerConsumer) } : {}),
    logger,
  };
}
