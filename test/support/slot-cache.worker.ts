/**
 * One "replica" for the cross-process single-flight test (slot-cache.processes.test.ts): the Booking Standard
 * adapter's resolvers with a Redis slot cache, in its own Node process. It prints `ready` once connected, waits for
 * `go` on stdin, then resolves REQUESTS slot fields at once (each its own request, so nothing is shared in process
 * but the cache), alternating over SERVICES, and prints one JSON line: how many answered and how.
 *
 *   node --import tsx test/support/slot-cache.worker.ts
 *   env: REDIS_URL, SANDBOX_BOOKING_STANDARD_URL, SERVICES (comma-separated), FROM, TO, REQUESTS
 */
import { createInterface } from 'node:readline';
import { pino } from 'pino';
import { BookingStandardClient } from '../../subgraphs/booking-standard/client.js';
import { createResolvers } from '../../subgraphs/booking-standard/resolvers.js';
import type { SubgraphContext } from '../../common/context.js';
import { loadRegistry } from '../../subgraphs/kit/registry.js';
import { createSlotCache } from '../../subgraphs/kit/slot-cache.js';

type SlotsField = (parent: unknown, args: unknown, ctx: SubgraphContext) => Promise<{ totalCount: number; nodes: { id: string; source: string }[] }>;

const env = process.env;
const logger = pino({ level: 'silent' });
const registry = loadRegistry();
const slotCache = createSlotCache({ registry, logger, redis: env.REDIS_URL! });
const resolvers = createResolvers({ registry, client: new BookingStandardClient(registry), logger, slotCache });
const slots = (resolvers.BookingStandardService as unknown as { slots: SlotsField }).slots;

if (!(await slotCache.whenReady(10_000))) throw new Error('redis not ready');
console.log('ready');
await new Promise<void>((resolve) => createInterface({ input: process.stdin }).once('line', () => resolve()));

const services = env.SERVICES!.split(',');
const results = await Promise.allSettled(
  Array.from({ length: Number(env.REQUESTS) }, (_, i) =>
    slots(
      { id: services[i % services.length], supplier: { id: 'harbour-uec' } },
      { from: env.FROM, to: env.TO, first: 500 },
      { consumer: { odsCode: 'RX8', name: 'NHS 111' }, traceId: crypto.randomUUID(), loaders: new Map() },
    ),
  ),
);
const answered = results.filter((r) => r.status === 'fulfilled').map((r) => r.value);
console.log(
  JSON.stringify({
    answered: answered.length,
    failed: results.length - answered.length,
    live: answered.filter((a) => a.nodes.every((n) => n.source === 'LIVE')).length,
    slotIds: [...new Set(answered.flatMap((a) => a.nodes.map((n) => n.id)))].sort(),
  }),
);
await slotCache.close();
process.exit(0);
