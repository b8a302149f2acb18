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
 * Every booking and cancellation drops the cached day of its slot (kit/slot-cache.ts invalidateAfterWrite), in
 * kit/booking-operations.ts around the flows so that it also covers a flow that failed unexpectedly after sending
 * its write. For a cancellation that is the booking's day when the outcome names it; otherwise (a DELETE with no
 * answer) every day of the service.
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
import type { PasRestSystem, Registry } from '../kit/registry.js';
import type { SlotCache } from '../kit/slot-cache.js';
import { type HoldReader, registryDeadlines, slotFetchError, slotFields, type SlotWindow, type WindowSlots } from '../kit/slot-windows.js';
import { UpstreamError } from '../../common/upstream.js';
import { bookFlow } from './book.js';
import { holdFlow, releaseHoldFlow } from './hold.js';
import { pairKey } from '../../common/holds.js';
import type { SubgraphContext } from '../../common/context.js';
import type { SupplierHoldOutcome } from './generated/resolvers.js';
import { cancelFlow } from './cancel.js';
import type { CallContext, PasRestClient } from './client.js';
import { ClinicDirectory, type ClinicRef } from './clinics.js';
import type { Resolvers } from './generated/resolvers.js';
import { patientAppointmentsFlow, readFlow } from './lookup.js';
import { mapSessions, type SlotModel } from './map.js';
import { say, type Flow } from './outcomes.js';
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
  /** Live slot holds (common/holds.ts): slots others hold are not served to this consumer; absent: none kept. */
  holds?: HoldReader;
  onHoldsError?: (err: unknown) => void;
  /** A circuit breaker per supplier system around session searches; absent: none. */
  breakers?: CircuitBreakers;
}

export function createResolvers(deps: Deps): Resolvers {
  const now = deps.now ?? (() => new Date());
  const clinics = deps.clinics ?? new ClinicDirectory(deps.client);

  const slotFieldResolvers = slotFields<SlotModel>({
    deadlineMs: registryDeadlines(deps.registry),
    name: 'pas-rest:slots',
    now,
    fetchSpans,
    toError: slotFetchError(deps.logger, 'session search'),
    ...(deps.slotCache ? { cache: deps.slotCache } : {}),
    ...(deps.breakers ? { breakers: deps.breakers } : {}),
    ...(deps.holds ? { holds: deps.holds, ...(deps.onHoldsError ? { onHoldsError: deps.onHoldsError } : {}) } : {}),
  });

  /**
   * Places our consumers hold at this service, per slot id (common/holds.ts): Oakfield counts them in `held`, but they
   * stay in the shared answer, for the hold store hides them from all but their holder. Unreadable: none (every
   * held place then counts as taken, for the holder too).
   */
  async function heldThroughUs(system: string, serviceId: string): Promise<Map<string, number> | undefined> {
    if (!deps.holds) return undefined;
    try {
      const live = (await deps.holds.live([{ system, serviceId }])).get(pairKey(system, serviceId)) ?? [];
      const out = new Map<string, number>();
      for (const h of live) out.set(h.slotId, (out.get(h.slotId) ?? 0) + 1);
      return out;
    } catch (err) {
      deps.onHoldsError?.(err);
      return undefined;
    }
  }

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
      const ours = await heldThroughUs(system.id, w.serviceId);
      const mapped = mapSessions({ system: system.id, serviceId: w.serviceId, sessions: found.sessions, from: w.from, to: w.to, fetchedAt: found.fetchedAt, ...(ours ? { ours } : {}) });
      for (const s of mapped.skipped) {
        deps.logger.warn({ system: system.id, serviceId: w.serviceId, session: s.sessionId, reason: s.reason, traceId }, 'skipped a session the supplier sent');
      }
      return { slots: mapped.slots, fetchedAt: found.fetchedAt.toISOString() };
    });
  }



  const operations = bookingOperations({
    kind: 'PAS_REST',
    registry: deps.registry,
    logger: deps.logger,
    slotCache: deps.slotCache,
    messages: say,
    flowContext: (system, call, log): Flow => ({ client: deps.client, system, call, log, clinics }),
    flows: { read: readFlow, patientAppointments: patientAppointmentsFlow, book: bookFlow, cancel: cancelFlow },
    slotStart: (input) => decodeSlotRef(input.slotRef)?.start,
  });

  /** Holds (API.md 6.5): refused without a consumer or for a system that is not Oakfield's kind. */
  async function holdOperation(ctx: SubgraphContext, systemId: string, run: (flow: { client: PasRestClient; system: PasRestSystem; call: CallContext }) => Promise<SupplierHoldOutcome>): Promise<SupplierHoldOutcome> {
    const refusal = (code: 'FORBIDDEN' | 'INVALID_REQUEST', message: string): SupplierHoldOutcome => ({ code, message, holdRef: null, expiresAt: null });
    if (!ctx.consumer) return refusal('FORBIDDEN', say.noConsumer);
    const system = deps.registry.system(systemId);
    if (!system || system.kind !== 'PAS_REST') return refusal('INVALID_REQUEST', say.unknownSystem(systemId));
    const out = await run({ client: deps.client, system, call: { consumer: ctx.consumer, traceId: ctx.traceId } });
    deps.logger.info({ op: 'hold', system: system.id, traceId: ctx.traceId, consumer: ctx.consumer.odsCode, outcome: out.code }, 'hold operation');
    return out;
  }

  return {
    Query: {
      pasRestTopSlots: (_root, args, ctx) => slotFieldResolvers.topSlots(args.input, ctx),
      pasRestAppointment: operations.appointment,
      pasRestPatientAppointments: operations.patientAppointments,
    },
    Mutation: {
      pasRestBook: operations.book,
      pasRestCancel: operations.cancel,
      pasRestHoldSlot: (_root, { input }, ctx) =>
        // Cached sessions stay as they are: places we hold are hidden from other consumers by the gateway's hold
        // store (common/holds.ts), while the holder must still see the place it holds.
        holdOperation(ctx, input.system, (flow) => holdFlow(flow, input)),
      pasRestReleaseHold: (_root, { input }, ctx) => holdOperation(ctx, input.system, (flow) => releaseHoldFlow(flow, input)),
    },
    HealthcareService: {
      __resolveType: () => 'PasRestService',
    },
    PasRestService: {
      __resolveReference: (ref) => ref,
      slots: (parent, args, ctx) => slotFieldResolvers.slots(parent, args, ctx),
      nextAvailable: (parent, args, ctx) => slotFieldResolvers.nextAvailable(parent, args, ctx),
      capacity: (parent, args, ctx) => slotFieldResolvers.capacity(parent, args, ctx),
    },
  };
}

function pasSystem(registry: Registry, id: string): PasRestSystem {
  const s = registry.system(id);
  if (!s || s.kind !== 'PAS_REST') throw supplierError(id, 'REJECTED');
  return s;
}
