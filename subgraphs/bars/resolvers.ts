/**
 * Thin resolvers. The slot fields come from kit/slot-windows.ts exactly as every supplier adapter's do (one
 * DataLoader per request; the slot cache's day buckets, then the circuit breaker, then receiver searches in
 * parallel); this file supplies the search: one GET /Slot per service and span (a span is at most 14 days, the
 * receivers' own cap), mapped by map.ts. Slot answers are cached per consumer organisation: a receiver may offer
 * an organisation slots it offers no other (the end user's organisation travels with every call).
 *
 * The internal booking operations (schema/supplier-booking.graphql) run in kit/booking-operations.ts and hand over
 * to their flows (book.ts, cancel.ts, lookup.ts); expected failures are data with a stable code, never GraphQL
 * errors, and every booking and cancellation drops the cached day of its slot.
 */
import type { Logger } from 'pino';
import { bookingOperations } from '../kit/booking-operations.js';
import type { CircuitBreakers } from '../kit/circuit-breaker.js';
import type { ConsumerOrganisation } from '../../common/consumer.js';
import { supplierError } from '../../common/errors.js';
import type { Registry } from '../kit/registry.js';
import type { SlotCache } from '../kit/slot-cache.js';
import { type HoldReader, registryDeadlines, slotFetchError, slotFields, type SlotWindow, type WindowSlots } from '../kit/slot-windows.js';
import type { BarsSystem } from './system.js';
import { bookFlow } from './book.js';
import { cancelFlow } from './cancel.js';
import type { BarsClient } from './client.js';
import type { Resolvers } from './generated/resolvers.js';
import { KnownServices } from './known-services.js';
import { patientAppointmentsFlow, readFlow } from './lookup.js';
import { mapSlots, type SlotModel } from './map.js';
import { say, type Flow } from './outcomes.js';
import { decodeSlotRef } from './slot-ref.js';

export interface Deps {
  registry: Registry;
  client: BarsClient;
  logger: Logger;
  now?: () => Date;
  services?: KnownServices;
  slotCache?: SlotCache;
  /** Live slot holds (common/holds.ts): slots others hold are not served to this consumer; absent: none kept. */
  holds?: HoldReader;
  onHoldsError?: (err: unknown) => void;
  breakers?: CircuitBreakers;
}

export function createResolvers(deps: Deps): Resolvers {
  const now = deps.now ?? (() => new Date());
  const services = deps.services ?? new KnownServices();
  const sourceEndpoint = deps.registry.consumerSystem.endpoint;

  const slotFieldResolvers = slotFields<SlotModel>({
    deadlineMs: registryDeadlines(deps.registry),
    name: 'bars:slots',
    now,
    fetchSpans: (spans, consumer, traceId) => spans.map((w) => fetchSpan(w, consumer, traceId)),
    toError: slotFetchError(deps.logger, 'slot search'),
    ...(deps.slotCache ? { cache: deps.slotCache } : {}),
    audience: (consumer) => consumer.odsCode,
    ...(deps.breakers ? { breakers: deps.breakers } : {}),
    ...(deps.holds ? { holds: deps.holds, ...(deps.onHoldsError ? { onHoldsError: deps.onHoldsError } : {}) } : {}),
  });

  async function fetchSpan(w: SlotWindow, consumer: ConsumerOrganisation, traceId: string): Promise<WindowSlots<SlotModel>> {
    const system = barsSystem(deps.registry, w.system);
    services.learn(system.id, w.serviceId);
    const result = await deps.client.searchSlots(system, { serviceId: w.serviceId, from: w.from, to: w.to }, { consumer, traceId });
    const mapped = mapSlots({ system: system.id, serviceId: w.serviceId, entries: result.entries, from: w.from, to: w.to, fetchedAt: result.fetchedAt });
    for (const s of mapped.skipped) {
      deps.logger.warn({ system: system.id, serviceId: w.serviceId, slot: s.slotId, reason: s.reason, traceId }, 'skipped a slot the receiver sent');
    }
    return { slots: mapped.slots, fetchedAt: result.fetchedAt.toISOString() };
  }

  const operations = bookingOperations({
    kind: 'BARS',
    registry: deps.registry,
    logger: deps.logger,
    slotCache: deps.slotCache,
    messages: say,
    flowContext: (system, call, log): Flow => ({ client: deps.client, system, call, log, services, sourceEndpoint }),
    flows: { read: readFlow, patientAppointments: patientAppointmentsFlow, book: bookFlow, cancel: cancelFlow },
    slotStart: (input) => decodeSlotRef(input.slotRef)?.start,
  });

  return {
    Query: {
      barsTopSlots: (_root, args, ctx) => slotFieldResolvers.topSlots(args.input, ctx),
      barsAppointment: operations.appointment,
      barsPatientAppointments: operations.patientAppointments,
    },
    Mutation: {
      barsBook: operations.book,
      barsCancel: operations.cancel,
    },
    HealthcareService: {
      __resolveType: () => 'BarsService',
    },
    BarsService: {
      __resolveReference: (ref) => ref,
      slots: (parent, args, ctx) => slotFieldResolvers.slots(parent, args, ctx),
      nextAvailable: (parent, args, ctx) => slotFieldResolvers.nextAvailable(parent, args, ctx),
      capacity: (parent, args, ctx) => slotFieldResolvers.capacity(parent, args, ctx),
    },
  };
}

function barsSystem(registry: Registry, id: string): BarsSystem {
  const s = registry.system(id);
  if (!s || s.kind !== 'BARS') throw supplierError(id, 'REJECTED');
  return s;
}
