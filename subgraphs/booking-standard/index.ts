/** The Booking Standard STU3 adapter as its own process: `tsx subgraphs/booking-standard/index.ts`. */
import { fileURLToPath } from 'node:url';
import { envPort } from '../kit/env.js';
import { createLogger } from '../kit/logger.js';
import { loadRegistry } from '../kit/registry.js';
import { runSubgraphProcess, startSubgraph, type RunningSubgraph } from '../kit/server.js';
import { BookingStandardClient } from './client.js';
import { createResolvers } from './resolvers.js';

export async function startBookingStandardSubgraph(port = envPort('BOOKING_STANDARD_PORT', 4002)): Promise<RunningSubgraph> {
  const logger = createLogger('booking-standard');
  const registry = loadRegistry();
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
