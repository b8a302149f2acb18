/**
 * The gateway-owned booking operations: validate, route by the id's supplier system, and make retries safe.
 * Outcomes are data with stable codes; only programming errors become GraphQL errors.
 */
import { randomUUID } from 'node:crypto';
import { GraphQLError } from 'graphql';
import type { Logger } from 'pino';
import { normaliseNhsNumber } from '../../common/nhs-number.js';
import { userInputError } from '../../common/errors.js';
import { sanitiseDiagnostics } from '../../common/supplier-diagnostics.js';
import { decodeAppointmentId, encodeAppointmentId } from '../../common/slot-id.js';
import type { OperationsContext } from './context.js';
import type {
  Appointment,
  AppointmentResult,
  BookAppointmentResult,
  BookingOutcome,
  CancelAppointmentResult,
  CancelOutcome,
  LookupOutcome,
  Resolvers,
} from './generated/resolvers.js';
import { Hasher, recordAfter, retryInBackground, type IdempotencyStore, type StoredOutcome } from './idempotency.js';
import { canonicalJson } from '../../common/canonical-json.js';
import { SupplierCallError, type SupplierAppointment, type SupplierOutcome, type SupplierRouter } from './suppliers.js';
import { validateBooking, type ValidBooking } from './validate.js';
import { capacityReport, searchAvailability, validateAvailability, type AvailabilityDeps } from './availability.js';
import type { SupplierStatusReport } from './supplier-status.js';
import type { HoldStore } from '../../common/holds.js';
import { holdOperations } from './holds.js';

export interface OperationsDeps {
  router: SupplierRouter;
  /** Combined availability and capacity (directory and supplier subgraphs). */
  availability: AvailabilityDeps;
  store: IdempotencyStore;
  hasher: Hasher;
  /** Slot holds (common/holds.ts), shared with the supplier subgraphs; absent without Redis: none are kept. */
  holds?: HoldStore;
  /** The operator's view (supplier-status.ts); absent where this schema runs without the gateway's configuration. */
  supplierStatus?: () => Promise<SupplierStatusReport>;
  logger: Logger;
  now?: () => Date;
  /** How long a booking may hold its idempotency key before another attempt may take it over. */
  leaseMs?: number;
  /** How long a second request with the same key waits for the first to finish. */
  waitForPendingMs?: number;
}

const BOOKING_OUTCOMES: ReadonlySet<string> = new Set<BookingOutcome>([
  'BOOKED', 'SLOT_UNAVAILABLE', 'INVALID_PATIENT', 'INVALID_REQUEST', 'FORBIDDEN', 'SUPPLIER_UNAVAILABLE', 'OUTCOME_UNKNOWN',
]);
const CANCEL_OUTCOMES: ReadonlySet<string> = new Set<CancelOutcome>([
  'CANCELLED', 'NOT_FOUND', 'FORBIDDEN', 'CONFLICT', 'INVALID_REQUEST', 'SUPPLIER_UNAVAILABLE', 'OUTCOME_UNKNOWN',
]);
const LOOKUP_OUTCOMES: ReadonlySet<string> = new Set<LookupOutcome>([
  'FOUND', 'NOT_FOUND', 'FORBIDDEN', 'INVALID_REQUEST', 'SUPPLIER_UNAVAILABLE', 'NOT_SUPPORTED',
]);

const RETRY_SAME_KEY = 'The supplier system may or may not have booked this slot; retry with the same idempotencyKey to find out.';

export function toAppointment(system: string, a: SupplierAppointment): Appointment {
  return {
    id: encodeAppointmentId({ system, serviceId: a.serviceId, ref: a.ref }),
    status: a.status,
    serviceId: a.serviceId,
    supplierSystem: system,
    start: a.start,
    end: a.end,
    created: a.created,
    description: a.description,
    clinicalReportId: a.handoverReportId,
    patient: a.patient ? { ...a.patient, given: a.patient.given ?? [] } : null,
  };
}

function error(message: string | null | undefined, field?: string | null, diagnostics?: string | null) {
  // The adapters forward only sanitised OperationOutcome (or vendor envelope) text; sanitised again here, so a
  // subgraph that forgot cannot leak a supplier's internals to a client.
  return { message: message ?? 'The supplier system gave no reason', field: field ?? null, diagnostics: sanitiseDiagnostics(diagnostics) ?? null };
}

export function createOperationsResolvers(deps: OperationsDeps): Resolvers<OperationsContext> {
  const now = deps.now ?? (() => new Date());
  const leaseMs = deps.leaseMs ?? 60_000;
  const waitMs = deps.waitForPendingMs ?? 15_000;
  const holds = holdOperations({ router: deps.router, ...(deps.holds ? { holds: deps.holds } : {}), hasher: deps.hasher, logger: deps.logger, now });

  async function book(v: ValidBooking, ctx: OperationsContext): Promise<BookAppointmentResult> {
    const key = deps.hasher.hex('booking', ctx.consumer.odsCode, v.idempotencyKey);
    const fingerprint = deps.hasher.hex(
      canonicalJson({ slotId: v.slotId, patient: v.patient, handover: v.handover, description: v.description, ...(v.holdId ? { holdId: v.holdId } : {}) }),
    );
    const requestId = deps.hasher.uuid(ctx.consumer.odsCode, v.idempotencyKey);

    let mayHaveBooked: boolean;
    const deadline = Date.now() + waitMs;
    for (;;) {
      let claim;
      try {
        claim = await deps.store.claim(key, fingerprint, leaseMs);
      } catch (err) {
        // Without the store we cannot tell a retry from a first attempt: book as if it might be a retry. The
        // provider still recognises a repeat by the derived X-Request-ID, and the adapter reconciles first.
        deps.logger.error({ err: (err as Error).message, traceId: ctx.traceId }, 'idempotency store unavailable; booking with reconciliation');
        claim = { kind: 'claimed' as const, mayHaveBooked: true };
      }
      if (claim.kind === 'claimed') {
        mayHaveBooked = claim.mayHaveBooked;
        break;
      }
      if (claim.kind === 'mismatch') {
        return { outcome: 'INVALID_REQUEST', appointment: null, error: error('This idempotencyKey was already used for a different booking', 'idempotencyKey') };
      }
      if (claim.kind === 'done') return replay(v.slot.system, claim.result, ctx);
      if (Date.now() > deadline) {
        return { outcome: 'OUTCOME_UNKNOWN', appointment: null, error: error('A booking with this idempotencyKey is still in progress; retry shortly with the same key') };
      }
      await new Promise((r) => setTimeout(r, 100));
    }

    const result = await callBook(v, requestId, mayHaveBooked, ctx);
    const stored: StoredOutcome = {
      outcome: result.outcome,
      appointment: result.appointment
        ? {
            id: result.appointment.id,
            serviceId: result.appointment.serviceId,
            supplierSystem: result.appointment.supplierSystem,
            start: result.appointment.start,
            end: result.appointment.end,
          }
        : null,
      message: result.error?.message ?? null,
      field: result.error?.field ?? null,
      handoff: result.handoff ? { bookingLink: result.handoff.bookingLink ?? null, bookingPhone: result.handoff.bookingPhone ?? null } : null,
    };
    // Only a definitive outcome answers later attempts; after a transient failure the key is free to try again.
    const record = recordAfter(fingerprint, stored, mayHaveBooked);
    try {
      if (record === 'release') await deps.store.release(key, fingerprint);
      else await deps.store.finish(key, record);
    } catch (err) {
      deps.logger.error({ err: (err as Error).message, traceId: ctx.traceId }, 'could not record the booking outcome');
      if (record !== 'release' && record.state === 'done') {
        retryInBackground(
          () => deps.store.finish(key, record),
          (last) => deps.logger.error({ err: (last as Error).message, traceId: ctx.traceId }, 'gave up recording the booking outcome'),
        );
      }
    }
    deps.logger.info({ traceId: ctx.traceId, system: v.slot.system, outcome: result.outcome, mayHaveBooked }, 'booking');
    return result;
  }

  async function callBook(v: ValidBooking, requestId: string, mayHaveBooked: boolean, ctx: OperationsContext): Promise<BookAppointmentResult> {
    // Holds first: the consumer's own (its supplier id travels with the booking), or another's soft hold refusing it.
    const held = await holds.forBooking(v.slot, v.slotId, v.holdId, ctx);
    if (!held.ok) return { outcome: held.outcome, appointment: null, error: error(held.message, held.field) };
    // A live hold travels as it is; an ended one only on a retry that may already have booked with it (then the
    // supplier replays that booking for the same request, instead of refusing the key as reused with another body).
    const holdRef = held.own?.supplierRef ?? (mayHaveBooked ? held.grantedRef : null);
    const result = await callSupplier(v, requestId, mayHaveBooked, holdRef, ctx);
    if (result.outcome === 'BOOKED') await holds.afterBooking(held.own);
    return result;
  }

  async function callSupplier(v: ValidBooking, requestId: string, mayHaveBooked: boolean, holdRef: string | null, ctx: OperationsContext): Promise<BookAppointmentResult> {
    let out: SupplierOutcome;
    try {
      out = await deps.router.book(
        v.slot.system,
        {
          system: v.slot.system,
          serviceId: v.slot.serviceId,
          slotRef: v.slot.ref,
          requestId,
          mayHaveBooked,
          description: v.description ?? `Referral from ${ctx.consumer.name}`,
          patient: v.patient,
          handover: v.handover,
          holdRef,
        },
        ctx,
      );
    } catch (err) {
      if (err instanceof SupplierCallError && err.kind === 'UNROUTABLE') {
        return { outcome: 'INVALID_REQUEST', appointment: null, error: error('The slot belongs to a supplier system this gateway cannot book', 'slotId') };
      }
      // The call may have reached the supplier: unknown, and the next attempt reconciles.
      deps.logger.warn({ err: (err as Error).message, traceId: ctx.traceId }, 'booking call failed');
      return { outcome: 'OUTCOME_UNKNOWN', appointment: null, error: error(RETRY_SAME_KEY) };
    }
    if (out.code === 'HANDOFF') {
      const handoff = { bookingLink: out.handoff?.bookingLink ?? null, bookingPhone: out.handoff?.bookingPhone ?? null };
      return { outcome: 'BOOK_WITH_PROVIDER', appointment: null, error: null, handoff };
    }
    const outcome = (BOOKING_OUTCOMES.has(out.code) ? out.code : out.code === 'CONFLICT' ? 'SLOT_UNAVAILABLE' : 'INVALID_REQUEST') as BookingOutcome;
    if (outcome === 'BOOKED' && out.appointment) {
      return { outcome, appointment: toAppointment(v.slot.system, out.appointment), error: null };
    }
    if (outcome === 'BOOKED') {
      return { outcome: 'OUTCOME_UNKNOWN', appointment: null, error: error(RETRY_SAME_KEY) };
    }
    return {
      outcome,
      appointment: null,
      error: error(out.message ?? (outcome === 'OUTCOME_UNKNOWN' ? RETRY_SAME_KEY : null), outcome === 'SLOT_UNAVAILABLE' ? 'slotId' : null, out.diagnostics),
    };
  }

  /** A repeat of a finished booking: the first outcome, with the appointment read afresh when there is one. */
  async function replay(system: string, stored: StoredOutcome, ctx: OperationsContext): Promise<BookAppointmentResult> {
    const outcome = stored.outcome as BookingOutcome;
    if (outcome === 'BOOKED' && stored.appointment) {
      const read = await lookup(stored.appointment.id, ctx);
      if (read.appointment) return { outcome, appointment: read.appointment, error: null };
      deps.logger.warn({ traceId: ctx.traceId, system, outcome: read.outcome }, 'replayed a booking whose appointment could not be read back');
      // As it was when booked; the patient is not kept, so it is not repeated.
      const a = stored.appointment;
      return {
        outcome,
        appointment: { ...a, status: 'BOOKED', created: null, description: null, patient: null, clinicalReportId: null },
        error: null,
      };
    }
    return { outcome, appointment: null, error: stored.message ? error(stored.message, stored.field) : null, handoff: stored.handoff ?? null };
  }

  async function lookup(id: string, ctx: OperationsContext): Promise<AppointmentResult> {
    const ref = decodeAppointmentId(id);
    if (!ref) return { outcome: 'INVALID_REQUEST', appointment: null, error: error('Not an appointment id this gateway issued', 'id') };
    try {
      const out = await deps.router.read(ref.system, { system: ref.system, serviceId: ref.serviceId, appointmentRef: ref.ref }, ctx);
      const outcome = (LOOKUP_OUTCOMES.has(out.code) ? out.code : 'SUPPLIER_UNAVAILABLE') as LookupOutcome;
      return {
        outcome,
        appointment: outcome === 'FOUND' && out.appointment ? toAppointment(ref.system, out.appointment) : null,
        error: outcome === 'FOUND' ? null : error(out.message),
      };
    } catch (err) {
      return unavailable<AppointmentResult>(err, ctx, 'SUPPLIER_UNAVAILABLE');
    }
  }

  function unavailable<T extends { outcome: string }>(err: unknown, ctx: OperationsContext, outcome: T['outcome']): T {
    if (err instanceof SupplierCallError && err.kind === 'UNROUTABLE') {
      return { outcome: 'NOT_FOUND', appointment: null, error: error('The appointment belongs to a supplier system this gateway no longer knows') } as unknown as T;
    }
    deps.logger.warn({ err: (err as Error).message, traceId: ctx.traceId }, 'supplier call failed');
    return { outcome, appointment: null, error: error('The supplier system could not be reached') } as unknown as T;
  }

  return {
    Query: {
      async availability(_root, { search }, ctx) {
        return searchAvailability(validateAvailability(search, now()), ctx, deps.availability);
      },
      capacity: (_root, args, ctx) => capacityReport(args, ctx, deps.availability),
      async supplierStatus() {
        if (!deps.supplierStatus) throw new GraphQLError('supplierStatus is served by the gateway only', { extensions: { code: 'NOT_SUPPORTED' } });
        return deps.supplierStatus();
      },
      appointment: (_root, args, ctx) => lookup(args.id, ctx),
      async appointments(_root, args, ctx) {
        const nhsNumber = normaliseNhsNumber(args.patient.nhsNumber);
        if (!nhsNumber) throw userInputError('patient.nhsNumber is not a valid NHS number (10 digits passing the modulus-11 check)', 'patient.nhsNumber');
        const systems = deps.router.bookingSystems();
        const answers = await Promise.all(
          systems.map(async (system) => {
            try {
              return { system, list: await deps.router.patientAppointments(system, { system, nhsNumber }, ctx) };
            } catch (err) {
              deps.logger.warn({ err: (err as Error).message, traceId: ctx.traceId }, 'patient appointment search failed');
              return { system, list: null };
            }
          }),
        );
        const appointments: Appointment[] = [];
        const failures = [];
        for (const { system, list } of answers) {
          if (list?.code === 'FOUND') appointments.push(...list.appointments.map((a) => toAppointment(system, a)));
          else {
            const outcome = (list && LOOKUP_OUTCOMES.has(list.code) ? list.code : 'SUPPLIER_UNAVAILABLE') as LookupOutcome;
            failures.push({ supplierSystem: system, outcome, message: list?.message ?? 'The supplier system could not be reached' });
          }
        }
        appointments.sort((a, b) => Date.parse(a.start) - Date.parse(b.start));
        return { appointments, failures };
      },
    },
    Mutation: {
      async bookAppointment(_root, args, ctx) {
        const checked = validateBooking(args.input, now());
        if (!checked.ok) {
          return { outcome: checked.problem.outcome, appointment: null, error: error(checked.problem.message, checked.problem.field) };
        }
        return book(checked.value, ctx);
      },
      holdSlot: (_root, args, ctx) => holds.holdSlot(args.input, ctx),
      releaseHold: (_root, args, ctx) => holds.releaseHold(args.input.holdId, ctx),
      async cancelAppointment(_root, args, ctx): Promise<CancelAppointmentResult> {
        const ref = decodeAppointmentId(args.input.appointmentId);
        if (!ref) return { outcome: 'INVALID_REQUEST', appointment: null, error: error('Not an appointment id this gateway issued', 'appointmentId') };
        try {
          const out = await deps.router.cancel(
            ref.system,
            { system: ref.system, serviceId: ref.serviceId, appointmentRef: ref.ref, requestId: randomUUID(), reason: args.input.reason ?? null },
            ctx,
          );
          const outcome = (CANCEL_OUTCOMES.has(out.code) ? out.code : 'SUPPLIER_UNAVAILABLE') as CancelOutcome;
          deps.logger.info({ traceId: ctx.traceId, system: ref.system, outcome }, 'cancellation');
          return {
            outcome,
            appointment: out.appointment ? toAppointment(ref.system, out.appointment) : null,
            error: outcome === 'CANCELLED' ? null : error(out.message, null, out.diagnostics),
          };
        } catch (err) {
          // A cancel that may have reached the supplier is unknown until read back; cancelling again is safe.
          return unavailable<CancelAppointmentResult>(err, ctx, 'OUTCOME_UNKNOWN');
        }
      },
    },
  };
}
