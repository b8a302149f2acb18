/**
 * Starting the directory subgraph with its collaborators: the DoS client, the supplier registry and the clock.
 * index.ts runs it as a process; tests start it in-process against the sandbox directory.
 */
import type { Logger } from 'pino';
import { createLogger } from '../../common/logger.js';
import { loadRegistry, type Registry } from '../kit/registry.js';
import { sharedFeedsFromEnv } from '../kit/feeds/index.js';
import { feedDirectory, type FeedDirectory } from './feeds.js';
import { startSubgraph, type RunningSubgraph } from '../kit/server.js';
import { DosClient, dosConfigFromEnv, type DosClientConfig } from './client.js';
import type { SupplierLookup } from './map.js';
import { createResolvers } from './resolvers.js';

export interface DirectorySubgraphOptions {
  port: number;
  host?: string;
  /** Defaults to DOS_API_URL / DOS_API_USER / DOS_API_PASSWORD (see client.ts). */
  dos?: DosClientConfig;
  /** Defaults to the registry file (SUPPLIER_REGISTRY, else config/suppliers.sandbox.json). */
  registry?: Registry;
  now?: () => Date;
  logger?: Logger;
  /** Services published in feeds; by default the shared snapshots of every SMART_LINKS system in the registry. */
  feeds?: FeedDirectory;
}

export async function startDirectorySubgraph(opts: DirectorySubgraphOptions): Promise<RunningSubgraph> {
  const logger = opts.logger ?? createLogger('directory');
  const registry = opts.registry ?? loadRegistry();
  // Feed services come from the snapshots the feed pollers share (one poller per feed across every process with
  // REDIS_URL, the smart-links subgraphs included): started here, read from memory by searches.
  const shared = opts.feeds ? null : sharedFeedsFromEnv(registry, { logger, start: false, ...(opts.now ? { now: opts.now } : {}) });
  const feeds = opts.feeds ?? feedDirectory(shared!.all(), logger);
  const resolvers = createResolvers({
    dos: new DosClient(opts.dos ?? dosConfigFromEnv()),
    suppliers: registrySuppliers(registry),
    now: opts.now ?? (() => new Date()),
    logger,
    feeds,
  });
  const running = await startSubgraph({ name: 'directory', resolvers, port: opts.port, host: opts.host, logger, ...(shared ? { onClose: () => shared.close() } : {}) }).catch(
    async (err: unknown) => {
      await shared?.close();
      throw err;
    },
  );
  // Polling starts once the server listens, so start-up does not compete with the first download.
  shared?.start();
  return running;
}

/** The registry as the directory sees it: a system's id, kind and name, never its URLs or credentials. */
export function registrySuppliers(registry: Pick<Registry, 'system'>): SupplierLookup {
  return (id) => {
    const s = registry.system(id);
    return s && { id: s.id, kind: s.kind, name: s.name };
  };
}
