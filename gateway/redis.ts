/**
 * The gateway's Redis connection (idempotency records now; persisted queries and rate limits later). Fails fast
 * while Redis is away instead of queueing commands, so a request never waits on it; reconnects by itself.
 */
import { Redis } from 'ioredis';
import type { Logger } from 'pino';

export function connectRedis(url: string, logger: Logger): Redis {
  const redis = new Redis(url, {
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    connectTimeout: 1000,
    commandTimeout: 1000,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
  });
  let lastLogged = 0;
  redis.on('error', (err: Error) => {
    // One line per ten seconds at most: an outage must not flood the logs.
    if (Date.now() - lastLogged > 10_000) {
      lastLogged = Date.now();
      logger.warn({ err: err.message }, 'redis unavailable');
    }
  });
  redis.on('ready', () => logger.info('redis connected'));
  return redis;
}
