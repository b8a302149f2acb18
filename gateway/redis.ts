/**
 * The gateway's Redis connection (idempotency records, persisted queries, rate limits, the read caches): one server
 * or a cluster, through the factory every process shares (common/redis.ts), so it fails fast the same way:
 * no offline queue, a short command timeout, an outage logged at most once per ten seconds.
 */
import type { Logger } from 'pino';
import { connectRedis as connectShared, type RedisClient, type RedisTarget } from '../common/redis.js';

export function connectRedis(target: RedisTarget, logger: Logger): RedisClient {
  return connectShared(target, { logger, consequence: 'idempotency records, shared rate limits, persisted queries and read caches are unavailable' }).redis;
}
