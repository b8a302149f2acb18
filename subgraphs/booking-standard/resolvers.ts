/**
 * Thin resolvers. The planner sends one batched _entities call with every Booking Standard service in the answer;
 * a per-request DataLoader turns all their `slots` and `nextAvailable` fields into one provider search per service,
 * covering the union of the windows asked for, run in parallel.
 *
 * The internal booking operations (schema/supplier-booking.graphql) hand over to their flows (book.ts, cancel.ts,
 * lookup.ts). Their expected failures are data with a stable code, never GraphQL errors.
 */
import DataLoader from 'dataloader';
import type { Logger } from 'pino';
import type { SubgraphContext } from '../kit/context.js';
import { forbiddenError, supplierError, userInputError } from '../kit/errors.js';
import type { BookingStandardSystem, Registry } from '../kit/registry.js';
import { UpstreamError } from '../kit/upstream.js';
import { bookFlow } from './book.js';
import { cancelFlow } from './cancel.js';
import type { BookingStandardClient, FhirSlot } from './client.js';
import { logicalId, mapSlots, type SlotModel } from './map.js';
import type { Resolvers, SupplierOutcomeCode } from './generated/resolvers.js';
import { patientAppointmentsFlow, readFlow } from './lookup.js';
import { list, outcome, say, type Flow } from './outcomes.js';
import { ScheduleServices } from './schedule-services.js';

const DAY_MS = 24 * 60 * 60 * 1000;
/** GP Connect's consumer rule, which providers size for: never ask for more than two weeks at once. */
export const MAX_WINDOW_DAYS = 14;
const MAX_FIRST = 500;

export interface Deps {
  registry: Registry;
  client: BookingStandardClient;
  logger: Logger;
  now?: () => Date;
  /** Which service each provider schedule serves, learnt from slot searches and bookings (schedule-services.ts). */
  schedules?: ScheduleServices;
}

interface Window {
  system: string;
  serviceId: string;
  from: Date;
  to: Date;
}

interface ServiceSlots {
  slots: SlotModel[];
  fetchedAt: string;
}

interface EntityRef {
  id: string;
  supplier?: { id?: string | null } | null;
}

export function createResolvers(deps: Deps): Resolvers {
  const now = deps.now ?? (() => new Date());
  const schedules = deps.schedules ?? new ScheduleServices();

  function loader(ctx: SubgraphContext): DataLoader<Window, ServiceSlots, string> {
    let l = ctx.loaders.get('booking-standard:slots') as DataLoader<Window, ServiceSlots, string> | undefined;
    if (!l) {
      l = new DataLoader((keys) => loadWindows(keys, ctx), {
        cacheKeyFn: (k) => `${k.system}|${k.serviceId}|${k.from.toISOString()}|${k.to.toISOString()}`,
      });
      ctx.loaders.set('booking-standard:slots', l);
    }
    return l;
  }

  async function loadWindows(keys: readonly Window[], ctx: SubgraphContext): Promise<(ServiceSlots | Error)[]> {
    const consumer = ctx.consumer;
    if (!consumer) return keys.map(() => forbiddenError('No consumer organisation: call through the gateway'));
    // One search per service over the union of its windows (when that union is still within the two-week cap).
    const groups = new Map<string, Window[]>();
    for (const k of keys) {
      const g = `${k.system}|${k.serviceId}`;
      groups.set(g, [...(groups.get(g) ?? []), k]);
    }
    const fetched = new Map<Window, Promise<ServiceSlots>>();
    for (const windows of groups.values()) {
      for (const span of spans(windows)) {
        const p = fetchSpan(span.window, consumer, ctx.traceId);
        for (const w of span.members) fetched.set(w, p);
      }
    }
    return Promise.all(
      keys.map(async (k) => {
        try {
          const all = await fetched.get(k)!;
          return { slots: all.slots.filter((s) => inWindow(s, k)), fetchedAt: all.fetchedAt };
        } catch (err) {
          return toGraphQLError(k.system, err);
        }
      }),
    );
  }

  async function fetchSpan(w: Window, consumer: NonNullable<SubgraphContext['consumer']>, traceId: string): Promise<ServiceSlots> {
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

  function windowFor(parent: EntityRef, from: Date, to: Date): Window {
    const systemId = parent.supplier?.id;
    if (!systemId) throw supplierError('unknown', 'REJECTED');
    return { system: systemId, serviceId: parent.id, from, to };
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
      bookingStandardBook: (_root, { input }, ctx) =>
        operation(
          ctx,
          'book',
          input.system,
          { serviceId: input.serviceId, requestId: input.requestId, mayHaveBooked: input.mayHaveBooked },
          (c, m) => outcome(c, m),
          'OUTCOME_UNKNOWN',
          (flow) => bookFlow(flow, input),
        ),
      bookingStandardCancel: (_root, { input }, ctx) =>
        operation(
          ctx,
          'cancel',
          input.system,
          { serviceId: input.serviceId, appointment: input.appointmentRef, requestId: input.requestId },
          (c, m) => outcome(c, m),
          'OUTCOME_UNKNOWN',
          (flow) => cancelFlow(flow, input),
        ),
    },
    HealthcareService: {
      __resolveType: () => 'BookingStandardService',
    },
    BookingStandardService: {
      __resolveReference: (ref) => ref,
      async slots(parent, args, ctx) {
        const from = args.from ? new Date(args.from) : now();
        const to = args.to ? new Date(args.to) : new Date(from.getTime() + DAY_MS);
        checkWindow(from, to);
        if (!Number.isInteger(args.first) || args.first < 1 || args.first > MAX_FIRST) {
          throw userInputError(`first must be from 1 to ${MAX_FIRST}`, 'first');
        }
        const found = await loader(ctx).load(windowFor(parent as EntityRef, from, to));
        return {
          nodes: found.slots.slice(0, args.first),
          totalCount: found.slots.length,
          hasMore: found.slots.length > args.first,
          fetchedAt: found.fetchedAt,
        };
      },
      async nextAvailable(parent, args, ctx) {
        if (!Number.isInteger(args.withinDays) || args.withinDays < 1 || args.withinDays > MAX_WINDOW_DAYS) {
          throw userInputError(`withinDays must be from 1 to ${MAX_WINDOW_DAYS}`, 'withinDays');
        }
        const from = args.from ? new Date(args.from) : now();
        const to = new Date(from.getTime() + args.withinDays * DAY_MS);
        const found = await loader(ctx).load(windowFor(parent as EntityRef, from, to));
        return found.slots[0] ?? null;
      },
    },
  };
}

export function checkWindow(from: Date, to: Date): void {
  if (to.getTime() <= from.getTime()) throw userInputError('to must be after from', 'to');
  if (to.getTime() - from.getTime() > MAX_WINDOW_DAYS * DAY_MS) {
    throw userInputError(`The window may span at most ${MAX_WINDOW_DAYS} days`, 'to');
  }
}

function bookingSystem(registry: Registry, id: string): BookingStandardSystem {
  const s = registry.system(id);
  if (!s || s.kind !== 'BOOKING_STANDARD') throw supplierError(id, 'REJECTED');
  return s;
}

function inWindow(s: SlotModel, w: Window): boolean {
  const t = Date.parse(s.start);
  return t >= w.from.getTime() && t <= w.to.getTime();
}

/**
 * Groups one service's windows into as few searches as possible: windows are merged while the merged span stays
 * within the two-week cap. Windows are few per request, so a simple sweep is enough.
 */
export function spans(windows: readonly Window[]): { window: Window; members: Window[] }[] {
  const sorted = [...windows].sort((a, b) => a.from.getTime() - b.from.getTime());
  const out: { window: Window; members: Window[] }[] = [];
  for (const w of sorted) {
    const last = out.at(-1);
    if (last) {
      const to = new Date(Math.max(last.window.to.getTime(), w.to.getTime()));
      if (to.getTime() - last.window.from.getTime() <= MAX_WINDOW_DAYS * DAY_MS) {
        last.window = { ...last.window, to };
        last.members.push(w);
        continue;
      }
    }
    out.push({ window: { ...w }, members: [w] });
  }
  return out;
}
