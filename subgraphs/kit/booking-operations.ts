/**
 * The internal booking operations (schema/supplier-booking.graphql) as every supplier adapter that takes bookings
 * serves them; the adapter maps them to its four root fields (`<prefix>Appointment`, `<prefix>PatientAppointments`,
 * `<prefix>Book`, `<prefix>Cancel`) and supplies its registry kind, its flows and the context they run in.
 *
 * Each operation refuses without a consumer organisation or for a system that is not of the adapter's kind, and
 * turns a bug into an outcome rather than a GraphQL error (for a booking or cancellation, OUTCOME_UNKNOWN: a write
 * may already have gone out); expected failures are the flows' own outcomes, data with a stable code. It logs ids,
 * statuses and codes only, never patient data. Every booking and cancellation then drops the cached day of its slot
 * (slot-cache.ts invalidateAfterWrite), whatever the flow's outcome might have changed: done here, around the flows,
 * so that it also covers a flow that failed unexpectedly after sending its write.
 *
 * The types are structural: an adapter's generated input and outcome types flow through unchanged, and the kit reads
 * of them only the ids it logs and what invalidation needs.
 */
import type { Logger } from 'pino';
import { list, outcome, type AppointmentList, type Outcome } from './booking-outcomes.js';
import type { ConsumerOrganisation } from '../../common/consumer.js';
import type { SubgraphContext } from '../../common/context.js';
import type { Registry, SupplierKind, SupplierSystem } from './registry.js';
import { invalidateAfterWrite, type SlotCache } from './slot-cache.js';

export type SystemOfKind<K extends SupplierKind> = Extract<SupplierSystem, { kind: K }>;

/** Who a flow's supplier calls are made for: the adapters' CallContext. */
export interface OperationCall {
  consumer: ConsumerOrganisation;
  traceId: string;
}

/** What the kit reads of each operation's input; the flows get the adapter's own input types whole. */
export interface AppointmentInputIds {
  system: string;
  appointmentRef: string;
}
export interface PatientAppointmentsInputIds {
  system: string;
}
export interface BookingInputIds {
  system: string;
  serviceId: string;
  requestId: string;
  mayHaveBooked: boolean;
}
export interface CancelInputIds {
  system: string;
  serviceId: string;
  appointmentRef: string;
  requestId: string;
}

/** What the kit reads of a flow's outcome: its code, and (after a cancellation) the appointment's start and service. */
export interface FlowOutcome {
  code: string;
  appointment?: { start: string; serviceId?: string } | null;
}

/** The codes the operations give themselves: refusals, and a flow's bug (its outcome then is not known). */
export type OperationCode = 'FORBIDDEN' | 'INVALID_REQUEST' | 'SUPPLIER_UNAVAILABLE' | 'OUTCOME_UNKNOWN';

/** The words the operations use themselves: the adapter's `say` (its unknownSystem names its kind). */
export interface OperationMessages {
  noConsumer: string;
  unknownSystem: (systemId: string) => string;
  outcomeUnknown: (systemId: string) => string;
  unavailable: (systemId: string) => string;
}

export interface BookingOperationsOptions<K extends SupplierKind, F, O, L, IR, IP, IB, IC> {
  /** The registry kind the adapter serves; a system of any other kind is refused. */
  kind: K;
  registry: Registry;
  logger: Logger;
  /** Absent: nothing to invalidate. */
  slotCache?: SlotCache | undefined;
  messages: OperationMessages;
  /** The context the adapter's flows run in, for one operation; `log` is already bound to the operation's ids. */
  flowContext: (system: SystemOfKind<K>, call: OperationCall, log: Logger) => F;
  flows: {
    read: (flow: F, input: IR) => Promise<O>;
    patientAppointments: (flow: F, input: IP) => Promise<L>;
    book: (flow: F, input: IB) => Promise<O>;
    cancel: (flow: F, input: IC) => Promise<O>;
  };
  /** When the booking input's slot starts (from its slotRef); undefined when it cannot be told: every day is dropped. */
  slotStart: (input: IB) => Date | string | null | undefined;
}

type Refusal = Outcome<OperationCode, never>;
type ListRefusal = AppointmentList<OperationCode, never>;

/** A root field's resolver, structurally: the adapter's generated Resolvers type checks it against its own field. */
export type OperationResolver<I, R> = (root: unknown, args: { input: I }, ctx: SubgraphContext) => Promise<R>;

export interface BookingOperations<O, L, IR, IP, IB, IC> {
  appointment: OperationResolver<IR, O | Refusal>;
  patientAppointments: OperationResolver<IP, L | ListRefusal>;
  book: OperationResolver<IB, O | Refusal>;
  cancel: OperationResolver<IC, O | Refusal>;
}

export function bookingOperations<
  K extends SupplierKind,
  F,
  O extends FlowOutcome,
  L,
  IR extends AppointmentInputIds,
  IP extends PatientAppointmentsInputIds,
  IB extends BookingInputIds,
  IC extends CancelInputIds,
>(opts: BookingOperationsOptions<K, F, O, L, IR, IP, IB, IC>): BookingOperations<O, L, IR, IP, IB, IC> {
  const { registry, logger, messages: say, flows } = opts;

  async function operation<T>(
    ctx: SubgraphContext,
    op: string,
    systemId: string,
    ids: Record<string, string | boolean>,
    fail: (code: OperationCode, message: string) => T,
    onBug: OperationCode,
    run: (flow: F) => Promise<T>,
  ): Promise<T> {
    if (!ctx.consumer) return fail('FORBIDDEN', say.noConsumer);
    const system = registry.system(systemId);
    if (!system || !isOfKind(system, opts.kind)) return fail('INVALID_REQUEST', say.unknownSystem(systemId));
    const log = logger.child({ op, system: system.id, traceId: ctx.traceId, consumer: ctx.consumer.odsCode, ...loggableIds(ids) });
    try {
      return await run(opts.flowContext(system, { consumer: ctx.consumer, traceId: ctx.traceId }, log));
    } catch (err) {
      // The stack without its message line: a message could quote data the flow was handling.
      const e = err instanceof Error ? err : new Error(String(err));
      log.error({ error: e.name, at: e.stack?.split('\n').slice(1, 4).map((l) => l.trim()) }, 'booking operation failed unexpectedly');
      return fail(onBug, onBug === 'OUTCOME_UNKNOWN' ? say.outcomeUnknown(system.id) : say.unavailable(system.id));
    }
  }

  /** A booking or a cancellation, then the slot day `start` gives dropped from the cache (undefined: every day). */
  async function write(
    ctx: SubgraphContext,
    op: 'book' | 'cancel',
    input: { system: string; serviceId: string },
    ids: Record<string, string | boolean>,
    run: (flow: F) => Promise<O>,
    start: (result: O | Refusal) => Date | string | null | undefined,
  ): Promise<O | Refusal> {
    const result = await operation<O | Refusal>(ctx, op, input.system, ids, (c, m) => outcome<OperationCode, never>(c, m), 'OUTCOME_UNKNOWN', run);
    // The service the supplier's record puts the appointment at, when the outcome names it; the input's (from the
    // signed id) too when they differ, so neither keeps a stale day.
    const recorded = result.appointment?.serviceId;
    for (const serviceId of new Set([recorded ?? input.serviceId, input.serviceId])) {
      await invalidateAfterWrite(opts.slotCache, { system: input.system, serviceId, outcome: result.code, start: start(result) });
    }
    return result;
  }

  return {
    appointment: (_root, { input }, ctx) =>
      operation<O | Refusal>(ctx, 'read', input.system, { appointment: input.appointmentRef }, (c, m) => outcome<OperationCode, never>(c, m), 'SUPPLIER_UNAVAILABLE', (flow) =>
        flows.read(flow, input),
      ),
    // No ids logged: the only input is the NHS number, which is patient data.
    patientAppointments: (_root, { input }, ctx) =>
      operation<L | ListRefusal>(ctx, 'patientAppointments', input.system, {}, (c, m) => list<OperationCode, never>(c, m), 'SUPPLIER_UNAVAILABLE', (flow) =>
        flows.patientAppointments(flow, input),
      ),
    book: (_root, { input }, ctx) => {
      const ids = { serviceId: input.serviceId, requestId: input.requestId, mayHaveBooked: input.mayHaveBooked };
      return write(ctx, 'book', input, ids, (flow) => flows.book(flow, input), () => opts.slotStart(input));
    },
    cancel: (_root, { input }, ctx) => {
      const ids = { serviceId: input.serviceId, appointment: input.appointmentRef, requestId: input.requestId };
      // The appointment's time when the outcome names it; otherwise every day of the service.
      return write(ctx, 'cancel', input, ids, (flow) => flows.cancel(flow, input), (result) => result.appointment?.start);
    },
  };
}

/** An id's shape: letters, digits and a few separators, bounded. What a client wrote anywhere else is not logged. */
const ID_SHAPE = /^[A-Za-z0-9._:~-]{1,128}$/;

/**
 * The ids an operation is logged with, each only once it has an id's shape. They come out of ids a client sent
 * (slot and appointment ids are opaque to the gateway's checks), so anything else (text a client smuggled into an id)
 * is logged as "[invalid]", never as written.
 */
export function loggableIds(ids: Record<string, string | boolean>): Record<string, string | boolean> {
  return Object.fromEntries(Object.entries(ids).map(([k, v]) => [k, typeof v === 'boolean' || ID_SHAPE.test(v) ? v : '[invalid]']));
}

function isOfKind<K extends SupplierKind>(system: SupplierSystem, kind: K): system is SystemOfKind<K> {
  return system.kind === kind;
}
