/**
 * The Booking Standard STU3 adapter as its own process: `tsx subgraphs/booking-standard/index.ts`.
 *   BOOKING_STANDARD_PORT  port to listen on (default 4002)
 *   REDIS_URL              the slot cache shared by every replica; unset: kept in this process (start-up says so)
 *   SLOT_CACHE=off         no slot cache: every slot read goes to the provider
 *   CIRCUIT_BREAKER=off    no circuit breaker around slot searches
 */
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import { envPort } from '../../common/env.js';
import { createLogger } from '../../common/logger.js';
import { loadRegistry, type Registry } from '../kit/registry.js';
import { runSubgraphProcess, startSubgraph, type RunningSubgraph } from '../kit/server.js';
import { slotRuntime, type SlotRuntimeOptions } from '../kit/slot-runtime.js';
import { BookingStandardClient } from './client.js';
import { createResolvers } from './resolvers.js';

/** What tests (or an embedding process) may supply instead of the environment's. */
export interface BookingStandardOptions extends SlotRuntimeOptions {
  registry?: Registry;
  logger?: Logger;
}

export async function startBookingStandardSubgraph(
  port = envPort('BOOKING_STANDARD_PORT', 4002),
  opts: BookingStandardOptions = {},
): Promise<RunningSubgraph> {
  const logger = opts.logger ?? createLogger('booking-standard');
  const registry = opts.registry ?? loadRegistry();
  const client = new BookingStandardClient(registry);
  const runtime = slotRuntime(registry, logger, opts);
  try {
    return await startSubgraph({
      name: 'booking-standard',
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
  void runSubgraphProcess(() => startBookingStandardSubgraph(), 'booking-standard');
}
