/**
 * The Redis connection every process shares its state through (gateway and subgraphs alike): one server (REDIS_URL)
 * or a Redis Cluster (REDIS_CLUSTER_NODES), through ioredis's Redis or Cluster client; every store takes either
 * (`RedisClient`). Redis is an optimisation or a fail-fast dependency here, never something a request waits on:
 * while it is away every command fails at once (no offline queue, a short command timeout, bounded retries) and
 * ioredis reconnects by itself in the background. An outage is logged at most once per ten seconds.
 */
import { Cluster, Redis, type ClusterNode } from 'ioredis';
import type { Logger } from 'pino';

/** What every store is written against: both clients offer the same commands, scripts and pipelines. */
export type RedisClient = Redis | Cluster;

/** Where Redis is: a server's URL, or a cluster's seed nodes (with the URL's credentials and TLS, when one is given). */
export type RedisTarget = string | ClusterTarget;

export interface ClusterTarget {
  clusterNodes: readonly { host: string; port: number }[];
  /** REDIS_URL beside REDIS_CLUSTER_NODES: one of the nodes, whose user, password and TLS apply to every node. */
  url?: string;
}

const MAX_CLUSTER_NODES = 100;

/**
 * REDIS_CLUSTER_NODES (`host:port,host:port`, seed nodes: the client learns the rest from the cluster) or REDIS_URL;
 * undefined when neither is set. The cluster wins; REDIS_URL beside it must name one of its nodes (and then lends
 * them its credentials and TLS), and anything else stops start-up: two settings disagreeing about where the shared
 * state lives would split it.
 */
export function redisTargetFromEnv(env: NodeJS.ProcessEnv = process.env): RedisTarget | undefined {
  const url = env.REDIS_URL || undefined;
  const nodesText = env.REDIS_CLUSTER_NODES?.trim();
  if (!nodesText) return url;
  const clusterNodes = parseClusterNodes(nodesText);
  if (!url) return { clusterNodes };
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error('REDIS_URL is not a URL (redis://host:port)');
  }
  const host = u.hostname.replace(/^\[|\]$/g, '');
  const port = Number(u.port || 6379);
  if (!clusterNodes.some((n) => n.host === host && n.port === port)) {
    throw new Error(
      'REDIS_URL and REDIS_CLUSTER_NODES disagree: REDIS_URL names a server that is not one of the cluster nodes. ' +
        'Set REDIS_CLUSTER_NODES alone for a cluster (REDIS_URL beside it may only name one of its nodes, for credentials and TLS)',
    );
  }
  if (u.pathname && u.pathname !== '/' && u.pathname !== '/0') {
    throw new Error('REDIS_URL selects a database, but a Redis Cluster has database 0 only (REDIS_CLUSTER_NODES is set)');
  }
  return { clusterNodes, url };
}

function parseClusterNodes(text: string): { host: string; port: number }[] {
  const parts = text.split(',').map((s) => s.trim()).filter(Boolean);
  if (parts.length === 0 || parts.length > MAX_CLUSTER_NODES) {
    throw new Error(`REDIS_CLUSTER_NODES must list between 1 and ${MAX_CLUSTER_NODES} nodes as host:port,host:port`);
  }
  return parts.map((p) => {
    const m = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]{1,253}):(\d{1,5})$/.exec(p);
    const port = m ? Number(m[2]) : NaN;
    if (!m || port < 1 || port > 65535) throw new Error(`REDIS_CLUSTER_NODES: "${p.slice(0, 80)}" is not host:port`);
    return { host: m[1]!.replace(/^\[|\]$/g, ''), port };
  });
}

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
  redis: RedisClient;
  /** Reports a failed command: logged at most once per ten seconds together with connection errors. */
  outage: OutageLog;
  /** Whether the connection is ready, waiting up to `timeoutMs` for it. */
  ready(timeoutMs: number): Promise<boolean>;
  close(): Promise<void>;
}

export function connectRedis(target: RedisTarget, opts: RedisOptions): RedisConnection {
  const outage = new OutageLog(opts.logger, opts.consequence);
  const redis = createClient(target, opts.commandTimeoutMs ?? 1000);
  redis.on('error', (err: Error) => outage.report(err));
  if (redis instanceof Cluster) {
    // A cluster reports a lost node here (its other nodes keep serving their slots), and stays "ready" throughout:
    // a slot map fetched afresh after the failover, with no failure since, is its way of being back.
    redis.on('node error', (err: Error) => outage.report(err));
    redis.on('refresh', () => {
      // The map is refreshed every few seconds even while a slot range has no master; back only once quiet too.
      if (outage.quietFor(10_000)) outage.recovered();
    });
  }
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

// Back off to one attempt every two seconds while it is away; never give up.
const reconnectDelay = (attempt: number) => Math.min(attempt * 200, 2000);

function createClient(target: RedisTarget, commandTimeout: number): RedisClient {
  const common = {
    maxRetriesPerRequest: 0,
    connectTimeout: 1000,
    // Long enough for a busy event loop not to be mistaken for an outage; short enough that a request never waits.
    commandTimeout,
  };
  if (typeof target === 'string') {
    return new Redis(target, { ...common, enableOfflineQueue: false, retryStrategy: reconnectDelay });
  }
  return new Cluster(target.clusterNodes as ClusterNode[], {
    enableOfflineQueue: false,
    clusterRetryStrategy: reconnectDelay,
    // A command that meets a master just lost, or a cluster still electing its replica: the slot map is fetched
    // again and the command tried a few more times, a fifth of a second apart, then it fails like any other. That
    // bounds a request's wait to about a second while a failover (node timeout plus election) runs its course.
    maxRedirections: 5,
    retryDelayOnFailover: 200,
    retryDelayOnClusterDown: 200,
    retryDelayOnTryAgain: 200,
    slotsRefreshTimeout: 1000,
    redisOptions: { ...common, ...(target.url ? credentialsOf(target.url) : {}) },
  });
}

/** The user, password and TLS of a redis:// or rediss:// URL, for every node of a cluster. */
function credentialsOf(url: string): { username?: string; password?: string; tls?: object } {
  const u = new URL(url);
  return {
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
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

  private lastReported = -Infinity;

  report(err: unknown): void {
    this.down = true;
    const now = this.clock();
    this.lastReported = now;
    if (now - this.lastLogged < this.everyMs) return;
    this.lastLogged = now;
    this.logger.warn({ err: err instanceof Error ? err.message : String(err) }, `redis unavailable: ${this.consequence}`);
  }

  /** Whether nothing has been reported for `ms`. */
  quietFor(ms: number): boolean {
    return this.clock() - this.lastReported >= ms;
  }

  recovered(): void {
    if (!this.down) return;
    this.down = false;
    this.logger.info('redis available again');
  }
}
