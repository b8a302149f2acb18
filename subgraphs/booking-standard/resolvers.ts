/**
 * Thin resolvers. The slot fields come from kit/slot-windows.ts (one DataLoader per request; the slot cache's day
 * buckets, then the circuit breaker, then provider searches run in parallel); this file supplies the search. Slot
 * answers are cached per consumer organisation: providers filter slots by the JWT's requesting organisation (some
 * are ring-fenced for NHS 111), so one organisation's view must never be served to another.
 *
 * Every booking and cancellation drops the cached day of its slot, for every organisation, whatever the flow's
 * outcome might have changed (kit/slot-cache.ts invalidateAfterWrite). kit/booking-operations.ts does it, around
 * the flows, so that it also covers a flow that failed unexpectedly after sending its write. A booking or cancellation
 * also drops that day for the other services its schedule is mapped to (one physical slot listed under several
 * services), as far as this process has seen them share it.
 *
 * The internal booking operations (schema/supplier-booking.graphql) run in kit/booking-operations.ts and hand over
 * to their flows (book.ts, cancel.ts, lookup.ts). Their expected failures are data with a stable code, never
 * GraphQL errors.
 */
import type { Logger } from 'pino';
import { bookingOperations } from '../kit/booking-operations.js';
import type { CircuitBreakers } from '../kit/circuit-breaker.js';
import type { ConsumerOrganisation } from '../../common/consumer.js';
import { supplierError } from '../../common/errors.js';
import type { BookingStandardSystem, Registry } from '../kit/registry.js';
import { invalidateAfterWrite, type SlotCache } from '../kit/slot-cache.js';
import { type HoldReader, registryDeadlines, slotFetchError, slotFields, type SlotWindow, type WindowSlots } from '../kit/slot-windows.js';
import { bookFlow } from './book.js';
import { cancelFlow } from './cancel.js';
import type { BookingStandardClient, FhirSlot } from './client.js';
import { logicalId, mapSlots, type SlotModel } from './map.js';
import type { Resolvers } from './generated/resolvers.js';
import { patientAppointmentsFlow, readFlow } from './lookup.js';
import { say, type Flow } from './outcomes.js';
import { ScheduleServices } from './schedule-services.js';
import { decodeSlotRef } from './slot-ref.js';

// The window rules now live in the kit, shared by every supplier adapter; re-exported for existing importers.
export { MAX_WINDOW_DAYS, spans } from '../kit/slot-windows.js';

export interface Deps {
  registry: Registry;
  client: BookingStandardClient;
  logger: Logger;
  now?: () => Date;
  /** Which service each provider schedule serves, learnt from slot searches and bookings (schedule-services.ts). */
  schedules?: ScheduleServices;
  /** Day buckets of slot answers shared across requests and replicas; absent: every read goes to the provider. */
  slotCache?: SlotCache;
  /** Live slot holds (common/holds.ts): slots others hold are not served to this consumer; absent: none kept. */
  holds?: HoldReader;
  onHoldsError?: (err: unknown) => void;
  /** A circuit breaker per provider system around slot searches; absent: none. */
  breakers?: CircuitBreakers;
}

export function createResolvers(deps: Deps): Resolvers {
  const now = deps.now ?? (() => new Date());
  const schedules = deps.schedules ?? new ScheduleServices();

  const slotFieldResolvers = slotFields<SlotModel>({
    deadlineMs: registryDeadlines(deps.registry),
    name: 'booking-standard:slots',
    now,
    fetchSpans: (spans, consumer, traceId) => spans.map((w) => fetchSpan(w, consumer, traceId)),
    toError: slotFetchError(deps.logger, 'slot search'),
    ...(deps.slotCache ? { cache: deps.slotCache } : {}),
    audience: (consumer) => consumer.odsCode,
    ...(deps.breakers ? { breakers: deps.breakers } : {}),
    ...(deps.holds ? { holds: deps.holds, ...(deps.onHoldsError ? { onHoldsError: deps.onHoldsError } : {}) } : {}),
  });

  async function fetchSpan(w: SlotWindow, consumer: ConsumerOrganisation, traceId: string): Promise<WindowSlots<SlotModel>> {
    const system = bookingSystem(deps.registry, w.system);
    const result = await deps.client.searchSlots(system, { serviceId: w.serviceId, from: w.from, to: w.to }, { consumer, traceId });
    // Every slot in a search for one service is that service's: so are their schedules (schedule-services.ts).
    for (const r of result.resources) {
      const scheduleId = r.resourceType === 'Slot' ? logicalId((r as FhirSlot).schedule?.reference, 'Schedule') : null;
      if (scheduleId) schedules.learn(system.id, scheduleId, w.serviceId);
    }
    const mapped = mapSlots({ system: system.id, serviceId: w.serviceId, resources: result.resources, from: w.from, to: w.to, fetchedAt: result.fetchedAt });
    for (const s of mapped.skipped) {
      deps.logger.warn({ system: system.id, serviceId: w.serviceId, slot: s.slotId, reason: s.reason, traceId }, 'skipped a slot the provider sent');
    }
    return { slots: mapped.slots, fetchedAt: result.fetchedAt.toISOString() };
  }



  const operations = bookingOperations({
    kind: 'BOOKING_STANDARD',
    registry: deps.registry,
    logger: deps.logger,
    slotCache: deps.slotCache,
    messages: say,
    flowContext: (system, call, log): Flow => ({ client: deps.client, system, call, log, now, schedules }),
    flows: { read: readFlow, patientAppointments: patientAppointmentsFlow, book: bookFlow, cancel: cancelFlow },
    slotStart: (input) => decodeSlotRef(input.slotRef)?.start,
  });

  /**
   * A booking through one service takes the slot from every service its schedule is mapped to (one physical slot):
   * their cached days of it are dropped too, as far as this process has seen the schedule under them. Elsewhere the
   * cache's TTL bounds it, and the provider refuses the taken slot (SLOT_UNAVAILABLE, which drops that day).
   */
  const book: typeof operations.book = async (root, args, ctx) => {
    const result = await operations.book(root, args, ctx);
    const { system, serviceId, slotRef } = args.input;
    const slot = decodeSlotRef(slotRef);
    for (const other of schedules.servicesOf(system, slot?.scheduleId ?? null)) {
      if (other !== serviceId) await invalidateAfterWrite(deps.slotCache, { system, serviceId: other, outcome: result.code, start: slot?.start });
    }
    return result;
  };

  /** A cancellation frees the slot under every service sharing the service's schedules: their cached day too. */
  const cancel: typeof operations.cancel = async (root, args, ctx) => {
    const result = await operations.cancel(root, args, ctx);
    const { system, serviceId } = args.input;
    for (const other of schedules.sharingWith(system, serviceId)) {
      await invalidateAfterWrite(deps.slotCache, { system, serviceId: other, outcome: result.code, start: result.appointment?.start });
    }
    return result;
  };

  return {
    Query: {
      bookingStandardTopSlots: (_root, args, ctx) => slotFieldResolvers.topSlots(args.input, ctx),
      bookingStandardAppointment: operations.appointment,
      bookingStandardPatientAppointments: operations.patientAppointments,
    },
    Mutation: {
      bookingStandardBook: book,
      bookingStandardCancel: cancel,
    },
    HealthcareService: {
      __resolveType: () => 'BookingStandardService',
    },
    BookingStandardService: {
      __resolveReference: (ref) => ref,
      slots: (parent, args, ctx) => slotFieldResolvers.slots(parent, args, ctx),
      nextAvailable: (parent, args, ctx) => slotFieldResolvers.nextAvailable(parent, args, ctx),
      capacity: (parent, args, ctx) => slotFieldResolvers.capacity(parent, args, ctx),
    },
  };
}

function bookingSystem(registry: Registry, id: string): BookingStandardSystem {
  const s = registry.system(id);
  if (!s || s.kind !== 'BOOKING_STANDARD') throw supplierError(id, 'REJECTED');
  return s;
}
