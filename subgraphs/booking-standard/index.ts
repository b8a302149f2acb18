/**
 * The Booking Standard STU3 adapter as its own process: `tsx subgraphs/booking-standard/index.ts`.
 *   BOOKING_STANDARD_PORT  port to listen on (default 4002)
 *   REDIS_URL              the slot cache shared by every replica; unset: kept in this process (start-up says so)
 *   SLOT_CACHE=off         no slot cache: every slot read goes to the provider
 *   CIRCUIT_BREAKER=off    no circuit breaker around slot searches
 */
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import { circuitBreakersFromEnv, type CircuitBreakers } from '../kit/circuit-breaker.js';
import { envPort } from '../kit/env.js';
import { createLogger } from '../kit/logger.js';
import { loadRegistry, type Registry } from '../kit/registry.js';
import { runSubgraphProcess, startSubgraph, type RunningSubgraph } from '../kit/server.js';
import { slotCacheFromEnv, type SlotCache } from '../kit/slot-cache.js';
import { BookingStandardClient } from './client.js';
import { createResolvers } from './resolvers.js';

/** What tests (or an embedding process) may supply instead of the environment's. */
export interface BookingStandardOptions {
  registry?: Registry;
  logger?: Logger;
  /** The slot cache (the caller closes it); null for none; absent: from the environment, closed with the subgraph. */
  slotCache?: SlotCache | null;
  /** Circuit breakers per provider system; null for none; absent: from the environment (CIRCUIT_BREAKER). */
  breakers?: CircuitBreakers | null;
}

export async function startBookingStandardSubgraph(
  port = envPort('BOOKING_STANDARD_PORT', 4002),
  opts: BookingStandardOptions = {},
): Promise<RunningSubgraph> {
  const logger = opts.logger ?? createLogger('booking-standard');
  const registry = opts.registry ?? loadRegistry();
  const client = new BookingStandardClient(registry);
  const ownCache = opts.slotCache === undefined;
  const slotCache = ownCache ? slotCacheFromEnv(registry, logger) : (opts.slotCache ?? undefined);
  const breakers = opts.breakers === undefined ? circuitBreakersFromEnv(logger) : (opts.breakers ?? undefined);
  try {
    return await startSubgraph({
      name: 'booking-standard',
      resolvers: createResolvers({ registry, client, logger, ...(slotCache ? { slotCache } : {}), ...(breakers ? { breakers } : {}) }),
      port,
      logger,
      onClose: async () => {
        if (ownCache) await slotCache?.close();
      },
    });
  } catch (err) {
    if (ownCache) await slotCache?.close();
    throw err;
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  void runSubgraphProcess(() => startBookingStandardSubgraph(), 'booking-standard');
}
