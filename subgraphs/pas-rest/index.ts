/**
 * The PAS REST subgraph process (`pas-rest` in subgraphs/catalog.ts).
 *   PAS_REST_PORT      port to listen on (default 4003)
 *   SUPPLIER_REGISTRY  the supplier registry; every PAS_REST system in it names the environment variable holding
 *                      its API key (`credentials.apiKeyEnv`, e.g. OAKFIELD_PAS_API_KEY), read at start-up: a missing
 *                      key stops the process with a message naming the system and the variable.
 *   REDIS_URL          the slot cache shared by every replica; unset: kept in this process (start-up says so)
 *   SLOT_CACHE=off     no slot cache: every slot read goes to the supplier
 *   CIRCUIT_BREAKER=off no circuit breaker around session searches
 */
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import { envPort } from '../../common/env.js';
import { createLogger } from '../../common/logger.js';
import { loadRegistry, type Registry } from '../kit/registry.js';
import { runSubgraphProcess, startSubgraph, type RunningSubgraph } from '../kit/server.js';
import { slotRuntime, type SlotRuntimeOptions } from '../kit/slot-runtime.js';
import { PasRestClient, type ClientOptions } from './client.js';
import { ClinicDirectory, type ClinicDirectoryOptions } from './clinics.js';
import { createResolvers } from './resolvers.js';

/** What tests (or an embedding process) may supply instead of the environment's. */
export interface PasRestOptions extends SlotRuntimeOptions {
  port?: number;
  registry?: Registry;
  logger?: Logger;
  /** Where API keys are read from (default process.env). */
  env?: NodeJS.ProcessEnv;
  client?: ClientOptions;
  /** The kept clinic list's refresh timings (clinics.ts); tests shorten them. */
  clinics?: Omit<ClinicDirectoryOptions, 'logger'>;
}

export async function startPasRestSubgraph(opts: PasRestOptions = {}): Promise<RunningSubgraph> {
  const logger = opts.logger ?? createLogger('pas-rest');
  const registry = opts.registry ?? loadRegistry();
  const client = PasRestClient.forRegistry(registry, opts.env ?? process.env, opts.client);
  const runtime = slotRuntime(registry, logger, opts);
  // One per process: the clinic list every request of this process shares, refreshed in the background.
  const clinics = new ClinicDirectory(client, { ...opts.clinics, logger });
  try {
    return await startSubgraph({
      name: 'pas-rest',
      resolvers: createResolvers({ registry, client, logger, clinics, ...runtime.deps }),
      port: opts.port ?? envPort('PAS_REST_PORT', 4003),
      logger,
      onClose: async () => {
        clinics.close();
        await runtime.close();
      },
    });
  } catch (err) {
    clinics.close();
    await runtime.close();
    throw err;
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  void runSubgraphProcess(() => startPasRestSubgraph(), 'pas-rest');
}
