/** The gateway as its own process: `tsx gateway/index.ts`. */
import { createLogger } from '../common/logger.js';
import { loadRegistry } from '../subgraphs/kit/registry.js';
import { startTracing } from '../common/tracing.js';
import { authConfigFrom } from './plugins/auth.js';
import { gatewayConfig } from './config.js';
import { createIdeHandler, ideOptions } from './ide.js';
import { operationsDependencies } from './operations/dependencies.js';
import { buildOperationsSchema } from './operations/index.js';
import { answerRenders } from './operations/availability.js';
import { supplierStatusReport } from './operations/supplier-status.js';
import { connectRedis } from './redis.js';
import type { RedisClient } from '../common/redis.js';
import { RedisApqCache } from './plugins/persisted-queries.js';
import { ConsumerLimits } from './plugins/rate-limit/limits.js';
import { LeasedRateStore } from './plugins/rate-limit/leased-store.js';
import { RedisRateStore } from './plugins/rate-limit/redis-store.js';
import { startGateway } from './server.js';
import { gatewayPlugins } from './plugins/index.js';
import { onStopSignal } from '../common/stop-process.js';

const logger = createLogger('gateway');
const stopTracing = startTracing('gateway');
let redis: RedisClient | undefined;
try {
  const config = gatewayConfig();
  const registry = loadRegistry();
  if (config.redis) {
    redis = connectRedis(config.redis, logger);
  } else {
    logger.warn('REDIS_URL and REDIS_CLUSTER_NODES are not set: idempotency records are kept in this process, so run one gateway replica only');
  }
  // The operator's view: the supplierStatus query and /status on the internal port share it.
  const supplierStatus = () => supplierStatusReport({ registry, subgraphUrls: config.subgraphUrls, internalKey: config.internalKey });
  const operationsDeps = operationsDependencies(config, registry, redis, logger);
  const operations = buildOperationsSchema({ ...operationsDeps, supplierStatus });
  const plugins = gatewayPlugins({
    auth: await authConfigFrom(config.auth),
    consumerLimits: new ConsumerLimits(config.consumerLimits, redis ? new LeasedRateStore(new RedisRateStore(redis)) : null, logger),
    limits: config.limits,
    ...(redis ? { apqCache: new RedisApqCache(redis) } : {}),
    subgraphTimeoutMs: config.subgraphTimeoutMs,
    internalKey: config.internalKey,
    logger,
  });
  const gw = await startGateway({
    port: config.port,
    host: config.host,
    internalPort: config.internalPort,
    subgraphUrls: config.subgraphUrls,
    internalKey: config.internalKey,
    maxBodyBytes: config.maxBodyBytes,
    introspection: config.introspection,
    plugins,
    operations,
    renders: answerRenders(operations, operationsDeps.availability),
    ide: createIdeHandler(ideOptions(config)),
    supplierStatus,
    logger,
  });
  logger.info({ url: gw.url, internalPort: gw.internalPort }, `gateway listening on ${gw.url}; /metrics, /health/ready and /status on port ${gw.internalPort}`);
  onStopSignal(logger, 'gateway', () => gw.close(), async () => {
    // The operations' kept-alive sockets to the subgraphs, now that nothing in flight needs them.
    operationsDeps.availability.client.close();
    await stopTracing().catch(() => {});
    redis?.disconnect();
  });
} catch (err) {
  logger.fatal({ err: (err as Error).message }, 'gateway failed to start');
  redis?.disconnect();
  process.exit(1);
}
