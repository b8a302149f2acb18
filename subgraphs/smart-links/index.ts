/**
 * The SMART Scheduling Links adapter as its own process: `tsx subgraphs/smart-links/index.ts`.
 *   SMART_LINKS_PORT             port (default 4004)
 *   SMART_LINKS_REFERRAL_SOURCE  the `source` put on booking deep links: who referred the patient (default
 *                                nhs-booking-gateway)
 * Feeds and their polling floors come from the supplier registry (SMART_LINKS systems); REDIS_URL shares one poller
 * and one snapshot per feed with every other process (kit/feeds/setup.ts has the other settings).
 */
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import { envPort, envString } from '../../common/env.js';
import { createLogger } from '../../common/logger.js';
import { loadRegistry, type Registry } from '../kit/registry.js';
import { runSubgraphProcess, startSubgraph, type RunningSubgraph } from '../kit/server.js';
import { SmartLinksClient } from './client.js';
import { issueCounts } from '../kit/feeds/issues.js';
import { supplierStatus } from '../kit/supplier-status.js';
import { createResolvers } from './resolvers.js';
import { slotFlagCounts } from './map.js';

export const DEFAULT_REFERRAL_SOURCE = 'nhs-booking-gateway';

/** What tests (or an embedding process) may supply instead of the environment's. */
export interface SmartLinksOptions {
  port?: number;
  host?: string;
  registry?: Registry;
  logger?: Logger;
  /** Clock for windows and polling decisions. */
  now?: () => Date;
  referralSource?: string;
  /** First start only: how long a request may wait for a feed's first snapshot (default FEED_FIRST_SNAPSHOT_WAIT_MS, 2 s). */
  firstSnapshotWaitMs?: number;
}

export async function startSmartLinksSubgraph(opts: SmartLinksOptions = {}): Promise<RunningSubgraph> {
  const logger = opts.logger ?? createLogger('smart-links');
  const registry = opts.registry ?? loadRegistry();
  // Feeds are polled in the background (one poller per feed across processes with REDIS_URL), from listening on.
  const client = new SmartLinksClient(registry, {
    logger,
    ...(opts.now ? { now: opts.now } : {}),
    ...(opts.firstSnapshotWaitMs !== undefined ? { firstSnapshotWaitMs: opts.firstSnapshotWaitMs } : {}),
  });
  // The operator's view: every feed, its snapshot's issues by kind, and its slots by quality flag.
  const unregister = supplierStatus.registerSource({
    systems: () => client.systemIds(),
    qualityFlags: (id) => {
      const snapshot = client.reader(id)?.current();
      return snapshot ? { ...issueCounts(snapshot.issues), ...slotFlagCounts(snapshot.slots) } : undefined;
    },
  });
  const referralSource = opts.referralSource ?? envString('SMART_LINKS_REFERRAL_SOURCE', DEFAULT_REFERRAL_SOURCE);
  const running = await startSubgraph({
    name: 'smart-links',
    resolvers: createResolvers({ registry, client, logger, referralSource, ...(opts.now ? { now: opts.now } : {}) }),
    port: opts.port ?? envPort('SMART_LINKS_PORT', 4004),
    ...(opts.host ? { host: opts.host } : {}),
    logger,
    onClose: () => {
      unregister();
      return client.close();
    },
  }).catch(async (err: unknown) => {
    unregister();
    await client.close();
    throw err;
  });
  // Polling starts once the server listens, so start-up does not compete with the first download.
  client.start();
  return running;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  void runSubgraphProcess(() => startSmartLinksSubgraph(), 'smart-links');
}
