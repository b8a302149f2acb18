/**
 * Thin resolvers. The slot fields come from kit/slot-windows.ts, exactly as every supplier adapter's do: one
 * DataLoader per request collects every PasRestService's `slots` and `nextAvailable` windows, merges each service's
 * into as few spans as the two-week cap allows, and this file fetches the spans: one clinic lookup for every unknown
 * service of the request (clinics.ts, cached), then per span one paged session search over its local dates, in
 * parallel, mapped to slots by map.ts. With a slot cache (kit/slot-cache.ts) the spans are runs of whole London
 * days the cache lacks, which suits Oakfield exactly: a run is one `from=<date>&to=<date>` session search.
 *
 * Slot answers are cached once for every consumer organisation: Oakfield's sessions are "the same for everyone"
 * (API.md section 1); the requesting organisation scopes bookings only, never what is offered.
 *
 * Every booking and cancellation drops the cached day of its slot (kit/slot-cache.ts invalidateAfterWrite), here
 * around the flows so that it also covers a flow that failed unexpectedly after sending its write.
 *
 * The internal booking operations (schema/supplier-booking.graphql) hand over to their flows (book.ts, cancel.ts,
 * lookup.ts). Their expected failures are data with a stable code, never GraphQL errors.
 */
import type { Logger } from 'pino';
import type { CircuitBreakers } from '../kit/circuit-breaker.js';
import type { ConsumerOrganisation } from '../kit/consumer.js';
import type { SubgraphContext } from '../kit/context.js';
import { supplierError } from '../kit/errors.js';
import type { PasRestSystem, Registry } from '../kit/registry.js';
import { invalidateAfterWrite, type SlotCache } from '../kit/slot-cache.js';
import { slotFields, type SlotWindow, type WindowSlots } from '../kit/slot-windows.js';
import { UpstreamError } from '../kit/upstream.js';
import { bookFlow } from './book.js';
import { cancelFlow } from './cancel.js';
import type { CallContext, PasRestClient } from './client.js';
import { ClinicDirectory, type ClinicRef } from './clinics.js';
import type { Resolvers, SupplierOutcomeCode } from './generated/resolvers.js';
import { patientAppointmentsFlow, readFlow } from './lookup.js';
import { mapSessions, type SlotModel } from './map.js';
import { list, outcome, say, type Flow } from './outcomes.js';
import { decodeSlotRef } from './slot-ref.js';
import { londonDate } from './wall-clock.js';

export interface Deps {
  registry: Registry;
  client: PasRestClient;
  logger: Logger;
  now?: () => Date;
  /** DoS service ↔ clinic, learnt from the supplier and kept a while (clinics.ts). */
  clinics?: ClinicDirectory;
  /** Day buckets of slot answers shared across requests and replicas; absent: every read goes to Oakfield. */
  slotCache?: SlotCache;
  /** A circuit breaker per supplier system around session searches; absent: none. */
  breakers?: CircuitBreakers;
}

export function createResolvers(deps: Deps): Resolvers {
  const now = deps.now ?? (() => new Date());
  const clinics = deps.clinics ?? new ClinicDirectory(deps.client);

  const slotFieldResolvers = slotFields<SlotModel>({
    name: 'pas-rest:slots',
    now,
    fetchSpans,
    toError: toGraphQLError,
    ...(deps.slotCache ? { cache: deps.slotCache } : {}),
    ...(deps.breakers ? { breakers: deps.breakers } : {}),
  });

  /** One clinic lookup per system for every service in the batch, then one session search per span. */
  function fetchSpans(spans: readonly SlotWindow[], consumer: ConsumerOrganisation, traceId: string): Promise<WindowSlots<SlotModel>>[] {
    const call: CallContext = { consumer, traceId };
    const lookups = new Map<string, Promise<Map<string, ClinicRef | null>>>();
    return spans.map(async (w) => {
      const system = pasSystem(deps.registry, w.system);
      let lookup = lookups.get(system.id);
      if (!lookup) {
        const serviceIds = spans.filter((x) => x.system === system.id).map((x) => x.serviceId);
        lookup = clinics.clinicsFor(system, serviceIds, call);
        lookups.set(system.id, lookup);
      }
      const clinic = (await lookup).get(w.serviceId);
      // The directory says Oakfield books this service, Oakfield holds no clinic for it: configuration drift that
      // retrying does not fix, reported as such rather than as "no slots".
      if (!clinic) throw new UpstreamError(system.id, 'REJECTED', 404, 'no clinic carries this DoS service id');
      if (!clinic.active) return { slots: [], fetchedAt: now().toISOString() };
      // Sessions never cross midnight, so the local dates of the window's ends cover every slot that can start in it.
      const found = await deps.client.sessions(system, clinic.id, londonDate(w.from.getTime()), londonDate(w.to.getTime()), call);
      const mapped = mapSessions({ system: system.id, serviceId: w.serviceId, sessions: found.sessions, from: w.from, to: w.to, fetchedAt: found.fetchedAt });
      for (const s of mapped.skipped) {
        deps.logger.warn({ system: system.id, serviceId: w.serviceId, session: s.sessionId, reason: s.reason, traceId }, 'skipped a session the supplier sent');
      }
      return { slots: mapped.slots, fetchedAt: found.fetchedAt.toISOString() };
    });
  }

  function toGraphQLError(systemId: string, err: unknown): Error {
    if (err instanceof UpstreamError) {
      deps.logger.warn({ system: systemId, reason: err.reason, status: err.status, detail: err.detail }, 'session search failed');
      return supplierError(systemId, err.reason);
    }
    if (err instanceof Error && 'extensions' in err) return err;
    deps.logger.error({ system: systemId, err: (err as Error).message }, 'session search failed unexpectedly');
    return supplierError(systemId, 'INVALID_RESPONSE');
  }

  /**
   * Runs one internal booking operation: refuses without a consumer organisation or for a system that is not a PAS
   * REST one, and turns a bug into `onBug` rather than a GraphQL error (for a booking or cancellation,
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
    if (!system || system.kind !== 'PAS_REST') return fail('INVALID_REQUEST', say.unknownSystem(systemId));
    const log = deps.logger.child({ op, system: system.id, traceId: ctx.traceId, consumer: ctx.consumer.odsCode, ...ids });
    try {
      return await run({ client: deps.client, system, call: { consumer: ctx.consumer, traceId: ctx.traceId }, log, clinics });
    } catch (err) {
      // The stack without its message line: a message could quote data the flow was handling.
      const e = err instanceof Error ? err : new Error(String(err));
      log.error({ error: e.name, at: e.stack?.split('\n').slice(1, 4).map((l) => l.trim()) }, 'booking operation failed unexpectedly');
      return fail(onBug, onBug === 'OUTCOME_UNKNOWN' ? say.outcomeUnknown(system.id) : say.unavailable(system.id));
    }
  }

  return {
    Query: {
      pasRestAppointment: (_root, { input }, ctx) =>
        operation(ctx, 'read', input.system, { appointment: input.appointmentRef }, (c, m) => outcome(c, m), 'SUPPLIER_UNAVAILABLE', (flow) =>
          readFlow(flow, input),
        ),
      // No ids logged: the only input is the NHS number, which is patient data.
      pasRestPatientAppointments: (_root, { input }, ctx) =>
        operation(ctx, 'patientAppointments', input.system, {}, (c, m) => list(c, m), 'SUPPLIER_UNAVAILABLE', (flow) =>
          patientAppointmentsFlow(flow, input),
        ),
    },
    Mutation: {
      pasRestBook: async (_root, { input }, ctx) => {
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
      pasRestCancel: async (_root, { input }, ctx) => {
        const result = await operation(
          ctx,
          'cancel',
          input.system,
          { serviceId: input.serviceId, appointment: input.appointmentRef, requestId: input.requestId },
          (c, m) => outcome(c, m),
          'OUTCOME_UNKNOWN',
          (flow) => cancelFlow(flow, input),
        );
        // The booking's time when the outcome names it; otherwise (a DELETE with no answer) every day of the service.
        await invalidateAfterWrite(deps.slotCache, { system: input.system, serviceId: input.serviceId, outcome: result.code, start: result.appointment?.start });
        return result;
      },
    },
    HealthcareService: {
      __resolveType: () => 'PasRestService',
    },
    PasRestService: {
      __resolveReference: (ref) => ref,
      slots: (parent, args, ctx) => slotFieldResolvers.slots(parent, args, ctx),
      nextAvailable: (parent, args, ctx) => slotFieldResolvers.nextAvailable(parent, args, ctx),
    },
  };
}

function pasSystem(registry: Registry, id: string): PasRestSystem {
  const s = registry.system(id);
  if (!s || s.kind !== 'PAS_REST') throw supplierError(id, 'REJECTED');
  return s;
}
