/**
 * Thin resolvers. The slot fields come from kit/slot-windows.ts (one DataLoader per request; the slot cache's day
 * buckets, then the circuit breaker, then provider searches run in parallel); this file supplies the search. Slot
 * answers are cached per consumer organisation: providers filter slots by the JWT's requesting organisation (some
 * are ring-fenced for NHS 111), so one organisation's view must never be served to another.
 *
 * Every booking and cancellation drops the cached day of its slot, for every organisation, whatever the flow's
 * outcome might have changed (kit/slot-cache.ts invalidateAfterWrite). It is done here, around the flows, so that
 * it also covers a flow that failed unexpectedly after sending its write.
 *
 * The internal booking operations (schema/supplier-booking.graphql) hand over to their flows (book.ts, cancel.ts,
 * lookup.ts). Their expected failures are data with a stable code, never GraphQL errors.
 */
import type { Logger } from 'pino';
import type { CircuitBreakers } from '../kit/circuit-breaker.js';
import type { ConsumerOrganisation } from '../kit/consumer.js';
import type { SubgraphContext } from '../kit/context.js';
import { supplierError } from '../kit/errors.js';
import type { BookingStandardSystem, Registry } from '../kit/registry.js';
import { invalidateAfterWrite, type SlotCache } from '../kit/slot-cache.js';
import { slotFields, type SlotWindow, type WindowSlots } from '../kit/slot-windows.js';
import { UpstreamError } from '../kit/upstream.js';
import { bookFlow } from './book.js';
import { cancelFlow } from './cancel.js';
import type { BookingStandardClient, FhirSlot } from './client.js';
import { logicalId, mapSlots, type SlotModel } from './map.js';
import type { Resolvers, SupplierOutcomeCode } from './generated/resolvers.js';
import { patientAppointmentsFlow, readFlow } from './lookup.js';
import { list, outcome, say, type Flow } from './outcomes.js';
import { ScheduleServices } from './schedule-services.js';
import { decodeSlotRef } from './slot-ref.js';

// The window rules now live in the kit, shared by every supplier adapter; re-exported for existing importers.
export { MAX_WINDOW_DAYS, checkWindow, spans } from '../kit/slot-windows.js';

export interface Deps {
  registry: Registry;
  client: BookingStandardClient;
  logger: Logger;
  now?: () => Date;
  /** Which service each provider schedule serves, learnt from slot searches and bookings (schedule-services.ts). */
  schedules?: ScheduleServices;
  /** Day buckets of slot answers shared across requests and replicas; absent: every read goes to the provider. */
  slotCache?: SlotCache;
  /** A circuit breaker per provider system around slot searches; absent: none. */
  breakers?: CircuitBreakers;
}

export function createResolvers(deps: Deps): Resolvers {
  const now = deps.now ?? (() => new Date());
  const schedules = deps.schedules ?? new ScheduleServices();

  const slotFieldResolvers = slotFields<SlotModel>({
    name: 'booking-standard:slots',
    now,
    fetchSpans: (spans, consumer, traceId) => spans.map((w) => fetchSpan(w, consumer, traceId)),
    toError: toGraphQLError,
    ...(deps.slotCache ? { cache: deps.slotCache } : {}),
    audience: (consumer) => consumer.odsCode,
    ...(deps.breakers ? { breakers: deps.breakers } : {}),
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

  function toGraphQLError(systemId: string, err: unknown): Error {
    if (err instanceof UpstreamError) {
      deps.logger.warn({ system: systemId, reason: err.reason, status: err.status, detail: err.detail }, 'slot search failed');
      return supplierError(systemId, err.reason);
    }
    if (err instanceof Error && 'extensions' in err) return err;
    deps.logger.error({ system: systemId, err: (err as Error).message }, 'slot search failed unexpectedly');
    return supplierError(systemId, 'INVALID_RESPONSE');
  }

  /**
   * Runs one internal booking operation: refuses without a consumer organisation or for a system that is not a
   * Booking Standard one, and turns a bug into `onBug` rather than a GraphQL error (for a booking or cancellation,
   * OUTCOME_UNKNOWN: a write may already have gone out). Logs ids, statuses and codes only, never patient data.
   */
  async function operation<T>(
    ctx: SubgraphContext,
    op: string,
    systemId: string,
    ids: Record<string, string | boolean>,
    fail: (code: SupplierOutcomeCode, message: string) => T,
    onBug: SupplierOutcomeCode,
    run: (flow: Flow) => Promise<T>,
  ): Promise<T> {
    if (!ctx.consumer) return fail('FORBIDDEN', say.noConsumer);
    const system = deps.registry.system(systemId);
    if (!system || system.kind !== 'BOOKING_STANDARD') return fail('INVALID_REQUEST', say.unknownSystem(systemId));
    const log = deps.logger.child({ op, system: system.id, traceId: ctx.traceId, consumer: ctx.consumer.odsCode, ...ids });
    try {
      return await run({ client: deps.client, system, call: { consumer: ctx.consumer, traceId: ctx.traceId }, log, now, schedules });
    } catch (err) {
      // The stack without its message line: a message could quote data the flow was handling.
      const e = err instanceof Error ? err : new Error(String(err));
      log.error({ error: e.name, at: e.stack?.split('\n').slice(1, 4).map((l) => l.trim()) }, 'booking operation failed unexpectedly');
      return fail(onBug, onBug === 'OUTCOME_UNKNOWN' ? say.outcomeUnknown(system.id) : say.unavailable(system.id));
    }
  }

  return {
    Query: {
      bookingStandardAppointment: (_root, { input }, ctx) =>
        operation(ctx, 'read', input.system, { appointment: input.appointmentRef }, (c, m) => outcome(c, m), 'SUPPLIER_UNAVAILABLE', (flow) =>
          readFlow(flow, input),
        ),
      // No ids logged: the only input is the NHS number, which is patient data.
      bookingStandardPatientAppointments: (_root, { input }, ctx) =>
        operation(ctx, 'patientAppointments', input.system, {}, (c, m) => list(c, m), 'SUPPLIER_UNAVAILABLE', (flow) =>
          patientAppointmentsFlow(flow, input),
        ),
    },
    Mutation: {
      bookingStandardBook: async (_root, { input }, ctx) => {
        const result = await operation(
          ctx,
          'book',
          input.system,
          { serviceId: input.serviceId, requestId: input.requestId, mayHaveBooked: input.mayHaveBooked },
          (c, m) => outcome(c, m),
          'OUTCOME_UNKNOWN',
          (flow) => bookFlow(flow, input),
        );
        const start = decodeSlotRef(input.slotRef)?.start;
        await invalidateAfterWrite(deps.slotCache, { system: input.system, serviceId: input.serviceId, outcome: result.code, start });
        return result;
      },
      bookingStandardCancel: async (_root, { input }, ctx) => {
        const result = await operation(
          ctx,
          'cancel',
          input.system,
          { serviceId: input.serviceId, appointment: input.appointmentRef, requestId: input.requestId },
          (c, m) => outcome(c, m),
          'OUTCOME_UNKNOWN',
          (flow) => cancelFlow(flow, input),
        );
        // The appointment's time when the outcome names it; otherwise every day of the service.
        await invalidateAfterWrite(deps.slotCache, { system: input.system, serviceId: input.serviceId, outcome: result.code, start: result.appointment?.start });
        return result;
      },
    },
    HealthcareService: {
      __resolveType: () => 'BookingStandardService',
    },
    BookingStandardService: {
      __resolveReference: (ref) => ref,
      slots: (parent, args, ctx) => slotFieldResolvers.slots(parent, args, ctx),
      nextAvailable: (parent, args, ctx) => slotFieldResolvers.nextAvailable(parent, args, ctx),
    },
  };
}

function bookingSystem(registry: Registry, id: string): BookingStandardSystem {
  const s = registry.system(id);
  if (!s || s.kind !== 'BOOKING_STANDARD') throw supplierError(id, 'REJECTED');
  return s;
}
