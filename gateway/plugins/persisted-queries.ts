/**
 * Automatic persisted queries kept in Redis, so a query hash registered through one gateway replica works through
 * every other. Query texts only (no variables, no results), under a TTL. Redis away: a miss (the client sends the
 * full query again, as APQ intends), never an error.
 */
import type { GatewayPlugin } from './plugin.js';
import type { RedisClient } from '../../common/redis.js';

/** Without a shared cache, Apollo Server's own in-memory one (one replica's worth). */
export function persistedQueriesPlugin(cache?: RedisApqCache, ttlSeconds = 24 * 3600): GatewayPlugin {
  return { name: 'persisted-queries', server: cache ? { persistedQueries: { cache, ttl: ttlSeconds } } : {} };
}

/** Apollo's KeyValueCache shape (structural, so no dependency on its package). */
interface KeyValueCacheSetOptions {
  ttl?: number | null;
}

export class RedisApqCache {
  constructor(
    private readonly redis: RedisClient,
    private readonly defaultTtlSeconds = 24 * 3600,
    private readonly prefix = 'apq:',
  ) {}

  async get(key: string): Promise<string | undefined> {
    try {
      return (await this.redis.get(this.prefix + key)) ?? undefined;
    } catch {
      return undefined;
    }
  }

  async set(key: string, value: string, options?: KeyValueCacheSetOptions): Promise<void> {
    try {
      await this.redis.set(this.prefix + key, value, 'EX', options?.ttl ?? this.defaultTtlSeconds);
    } catch {
      // Not stored: the next request with this hash is asked for the full query again.
    }
  }

  async delete(key: string): Promise<boolean | void> {
    try {
      await this.redis.del(this.prefix + key);
    } catch {
      // nothing to do
    }
  }
}
