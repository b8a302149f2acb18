/**
 * Subgraphs' Redis connection (the slot cache's). Redis is an optimisation here, never a dependency: while it is
 * away every command fails at once (no offline queue, no re-sends, a short command timeout) so a request never waits
 * on it, and ioredis reconnects by itself in the background. An outage is logged at most once per ten seconds.
 */
import { Redis } from 'ioredis';
import type { Logger } from 'pino';

export interface RedisOptions {
  logger: Logger;
  /** What an outage means for this process, for the log line ("slot reads go straight to the suppliers"). */
  consequence: string;
  /**
   * Longest wait for one command. Redis answers in well under a millisecond; this only bounds a hung server or a
   * starved event loop, so it is short but not tight.
   */
  commandTimeoutMs?: number;
}

export interface RedisConnection {
  redis: Redis;
  /** Reports a failed command: logged at most once per ten seconds together with connection errors. */
  outage: OutageLog;
  /** Whether the connection is ready, waiting up to `timeoutMs` for it. */
  ready(timeoutMs: number): Promise<boolean>;
  close(): Promise<void>;
}

export function connectRedis(url: string, opts: RedisOptions): RedisConnection {
  const outage = new OutageLog(opts.logger, opts.consequence);
  const redis = new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    connectTimeout: 1000,
    // Long enough for a busy event loop not to be mistaken for an outage; short enough that a request never waits.
    commandTimeout: opts.commandTimeoutMs ?? 1000,
    // Back off to one attempt every two seconds while it is away; never give up.
    retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
  });
  redis.on('error', (err: Error) => outage.report(err));
  redis.on('ready', () => outage.recovered());
  return {
    redis,
    outage,
    ready: (timeoutMs) =>
      new Promise<boolean>((resolve) => {
        if (redis.status === 'ready') return resolve(true);
        const onReady = () => {
          clearTimeout(timer);
          resolve(true);
        };
        const timer = setTimeout(() => {
          redis.off('ready', onReady);
          resolve(false);
        }, timeoutMs);
        redis.once('ready', onReady);
      }),
    async close() {
      redis.disconnect();
    },
  };
}

/** One warning per `everyMs` at most, however many commands fail; one info line when it is back. */
export class OutageLog {
  private lastLogged = -Infinity;
  private down = false;

  constructor(
    private readonly logger: Logger,
    private readonly consequence: string,
    private readonly everyMs = 10_000,
    private readonly clock: () => number = () => performance.now(),
  ) {}

  report(err: unknown): void {
    this.down = true;
    const now = this.clock();
    if (now - this.lastLogged < this.everyMs) return;
    this.lastLogged = now;
    this.logger.warn({ err: err instanceof Error ? err.message : String(err) }, `redis unavailable: ${this.consequence}`);
  }

  recovered(): void {
    if (!this.down) return;
    this.down = false;
    this.logger.info('redis available again');
  }
}
