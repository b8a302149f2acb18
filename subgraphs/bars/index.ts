/**
 * The BaRS (FHIR R4) adapter as its own process: `tsx subgraphs/bars/index.ts`.
 *   BARS_PORT              port to listen on (default 4006)
 *   REDIS_URL              the slot cache shared by every replica; unset: kept in this process (start-up says so)
 *   SLOT_CACHE=off         no slot cache: every slot read goes to the receivers
 *   CIRCUIT_BREAKER=off    no circuit breaker around slot searches
 * Every BaRS system's private key is read at start-up: a missing or unreadable key stops the adapter, naming the
 * system and the file, never showing the key.
 */
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import { envPort } from '../kit/env.js';
import { createLogger } from '../kit/logger.js';
import { loadRegistry, type Registry } from '../kit/registry.js';
import { runSubgraphProcess, startSubgraph, type RunningSubgraph } from '../kit/server.js';
import { slotRuntime, type SlotRuntimeOptions } from '../kit/slot-runtime.js';
import { BarsClient } from './client.js';
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
  try {
    return await startSubgraph({
      name: 'bars',
      resolvers: createResolvers({ registry, client, logger, ...runtime.deps }),
      port,
      logger,
      onClose: () => runtime.close(),
    });
  } catch (err) {
    await runtime.close();
    throw err;
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  void runSubgraphProcess(() => startBarsSubgraph(), 'bars');
}
