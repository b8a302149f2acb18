/** The Booking Standard STU3 adapter as its own process: `tsx subgraphs/booking-standard/index.ts`. */
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import { envPort } from '../kit/env.js';
import { createLogger } from '../kit/logger.js';
import { loadRegistry, type Registry } from '../kit/registry.js';
import { runSubgraphProcess, startSubgraph, type RunningSubgraph } from '../kit/server.js';
import { BookingStandardClient } from './client.js';
import { createResolvers } from './resolvers.js';

/** What tests (or an embedding process) may supply instead of the environment's. */
export interface BookingStandardOptions {
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
  return startSubgraph({
    name: 'booking-standard',
    resolvers: createResolvers({ registry, client, logger }),
    port,
    logger,
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  void runSubgraphProcess(() => startBookingStandardSubgraph(), 'booking-standard');
}
