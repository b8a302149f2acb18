/**
 * The BaRS (FHIR R4) adapter as its own process: `tsx subgraphs/bars/index.ts`.
 *   BARS_PORT              port to listen on (default 4006)
 *   REDIS_URL              the slot cache, and the receivers met (for a patient's appointments), shared by every
 *                          replica (or REDIS_CLUSTER_NODES); unset: kept in this process (start-up says so)
 *   SLOT_CACHE=off         no slot cache: every slot read goes to the receivers
 *   CIRCUIT_BREAKER=off    no circuit breaker around slot searches
 * Every BaRS system's private key is read at start-up: a missing or unreadable key stops the adapter, naming the
 * system and the file, never showing the key.
 */
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import { envPort } from '../../common/env.js';
import { createLogger } from '../../common/logger.js';
import { connectRedis, redisTargetFromEnv } from '../../common/redis.js';
import { loadRegistry, type Registry } from '../kit/registry.js';
import { runSubgraphProcess, startSubgraph, type RunningSubgraph } from '../kit/server.js';
import { slotRuntime, type SlotRuntimeOptions } from '../kit/slot-runtime.js';
import { BarsClient } from './client.js';
import { KnownServices, redisKnownServices } from './known-services.js';
import { createResolvers } from './resolvers.js';
import { BarsTokens } from './token.js';

export interface BarsOptions extends SlotRuntimeOptions {
  registry?: Registry;
  logger?: Logger;
}

export async function startBarsSubgraph(port = envPort('BARS_PORT', 4006), opts: BarsOptions = {}): Promise<RunningSubgraph> {
  const logger = opts.logger ?? createLogger('bars');
  const registry = opts.registry ?? loadRegistry();
  const tokens = new BarsTokens({ logger });
  for (const s of registry.systems) if (s.kind === 'BARS') await tokens.loadKey(s);
  const client = new BarsClient(tokens);
  const runtime = slotRuntime(registry, logger, opts);
  const target = redisTargetFromEnv();
  const receivers = target ? connectRedis(target, { logger, consequence: "a patient's appointments are asked of the receivers this replica met" }) : undefined;
  const services = new KnownServices(receivers ? redisKnownServices(receivers.redis) : undefined);
  const close = async () => {
    await runtime.close();
    await receivers?.close();
  };
  try {
    return await startSubgraph({
      name: 'bars',
      resolvers: createResolvers({ registry, client, logger, services, ...runtime.deps }),
      port,
      logger,
      onClose: close,
    });
  } catch (err) {
    await close();
    throw err;
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  void runSubgraphProcess(() => startBarsSubgraph(), 'bars');
}
