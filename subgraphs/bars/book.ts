/**
 * Booking a BaRS slot: POST /$process-message with a booking message (message.ts), never a blind second booking.
 *
 * The message is a pure function of the booking (its ids derive from the request id, itself derived from the
 * client's idempotency key), and it always goes with X-Request-Id = the request id. So sending it again is safe
 * where sending a new booking is not: a receiver that saw it answers with its first answer (X-Request-Id replay), or
 * refuses the Bundle.id as a duplicate (409 `duplicate`); either way nothing is booked twice. The steps:
 *
 *   mayHaveBooked            an earlier attempt may have reached the receiver: the same message, same X-Request-Id
 *                            (the replay gives the first answer), then as below with "earlier may be ours".
 *   200                      BOOKED, with the Appointment the response message carries.
 *   no answer (timeout, reset, 5xx)
 *                            the same message once more, same X-Request-Id (a replay, or a first delivery);
 *                            no answer again → reconcile by the patient's appointments: found → BOOKED, else
 *                            OUTCOME_UNKNOWN.
 *   409 REC_CONFLICT conflict
 *                            SLOT_UNAVAILABLE; when an earlier attempt may have been ours, reconcile first (a
 *                            receiver without replay answers our own booking's slot as taken).
 *   409 duplicate            the message was processed before: reconcile; found → BOOKED, else OUTCOME_UNKNOWN.
 *   422 processing           the slot is not bookable (started, gone from the diary, times differ): SLOT_UNAVAILABLE.
 *   429                      nothing processed: wait Retry-After and send again, within the booking's budget.
 *   400/422, 403, 404 proxy  INVALID_PATIENT / INVALID_REQUEST (with the receiver's diagnostics), FORBIDDEN,
 *                            SUPPLIER_UNAVAILABLE (not in the endpoint catalogue; the token refused).
 *
 * Reconciling asks the receiver for the patient's appointments (by NHS number: it answers only what this
 * organisation booked there) for a booked one of this slot, confirmed by its Slot reference or times and our
 * booking reference. Without an NHS number an uncertain outcome stays OUTCOME_UNKNOWN.
 */
import { bookingRefusal } from '../kit/booking-outcomes.js';
import { classifyBarsFailure } from '../kit/fhir/operation-outcome.js';
import { identifierValue } from '../kit/fhir/identifiers.js';
import { rateLimitBudget, waitOutRateLimit } from '../kit/rate-limit-wait.js';
import { UpstreamError } from '../../common/upstream.js';
import { appointmentOfMessage, appointmentStatus, isBookingOf, toSupplierAppointment } from './appointment-map.js';
import type { Answer } from './client.js';
import type { SupplierAppointment, SupplierBookingInput, SupplierOutcome } from './generated/resolvers.js';
import { searchAt } from './lookup.js';
import { BOOKING_REFERENCE_SYSTEM, bookingMessage, bookingReference } from './message.js';
import { outcome, say, type Flow } from './outcomes.js';
import { decodeSlotRef, type BarsSlotRef } from './slot-ref.js';
import { AssertionRefusedError } from './token.js';

type PostResult =
  | { kind: 'booked'; answer: Answer }
  | { kind: 'slot-taken' }
  | { kind: 'duplicate' }
  | { kind: 'lost' }
  | { kind: 'not-processed' }
  | { kind: 'refused'; code: string; diagnostics?: string };

type Reconciled = { kind: 'found'; appointment: SupplierAppointment } | { kind: 'absent' } | { kind: 'unknown' };

interface Ctx {
  flow: Flow;
  input: SupplierBookingInput;
  slot: BarsSlotRef;
  rateLimitUntil: number;
}

export async function bookFlow(flow: Flow, input: SupplierBookingInput): Promise<SupplierOutcome> {
  const s = flow.system.id;
  const slot = decodeSlotRef(input.slotRef);
  if (!slot) return finish(flow, outcome('INVALID_REQUEST', say.slotRefInvalid));
  flow.services.learn(s, input.serviceId);
  const ctx: Ctx = { flow, input, slot, rateLimitUntil: rateLimitBudget(flow.system.deadlineMs) };
  const message = bookingMessage({ input, slot, consumer: flow.call.consumer, sourceEndpoint: flow.sourceEndpoint, softwareName: flow.system.requestingSoftware.name });

  let result = await post(ctx, message, 1);
  const resent = result.kind === 'lost';
  if (resent) result = await post(ctx, message, 2);
  const earlierMayBeOurs = input.mayHaveBooked || resent;

  switch (result.kind) {
    case 'booked':
      return finish(flow, await booked(ctx, result.answer));
    case 'slot-taken': {
      if (!earlierMayBeOurs) return finish(flow, outcome('SLOT_UNAVAILABLE', say.slotTaken));
      const r = await reconcile(ctx);
      if (r.kind === 'found') return finish(flow, bookedEarlier(r.appointment));
      return finish(flow, r.kind === 'absent' ? outcome('SLOT_UNAVAILABLE', say.slotTaken) : outcome('OUTCOME_UNKNOWN', say.outcomeUnknown(s)));
    }
    case 'duplicate': {
      const r = await reconcile(ctx);
      if (r.kind === 'found') return finish(flow, bookedEarlier(r.appointment));
      return finish(flow, outcome('OUTCOME_UNKNOWN', r.kind === 'absent' ? say.duplicateNoBooking(s) : say.outcomeUnknown(s)));
    }
    case 'lost':
      return finish(flow, await settleUncertain(ctx));
    case 'not-processed':
      return finish(flow, earlierMayBeOurs ? await settleUncertain(ctx) : outcome('SUPPLIER_UNAVAILABLE', say.bookingUnavailable(s)));
    case 'refused':
      if (result.code === 'SUPPLIER_UNAVAILABLE' && earlierMayBeOurs) return finish(flow, await settleUncertain(ctx));
      return finish(flow, bookingRefusal(s, result.code, result.diagnostics));
  }
}

async function post(ctx: Ctx, message: ReturnType<typeof bookingMessage>, attempt: number): Promise<PostResult> {
  const { flow, input } = ctx;
  try {
    const a = await waitOutRateLimit(() => flow.client.processMessage(flow.system, input.serviceId, message, input.requestId, flow.call), {
      until: ctx.rateLimitUntil,
      onWait: (waitMs, send) => flow.log.info({ step: 'post', attempt, send, waitMs }, 'booking message rate limited; waiting as Retry-After asks'),
    });
    flow.log.info({ step: 'post', attempt, status: a.status, code: a.outcome.code }, 'booking message answered');
    if (a.status >= 200 && a.status < 300) return { kind: 'booked', answer: a };
    if (a.status === 422 && a.outcome.code === 'REC_UNPROCESSABLE_ENTITY' && a.outcome.type === 'processing') return { kind: 'slot-taken' };
    const code = classifyBarsFailure(a.status, a.outcome);
    if (code === 'SLOT_UNAVAILABLE') return { kind: 'slot-taken' };
    if (code === 'DUPLICATE') return { kind: 'duplicate' };
    // 401 twice (the client refreshed once): our credentials, not this booking.
    const mapped = code === 'UNAUTHORIZED' || code === 'NOT_FOUND' ? 'SUPPLIER_UNAVAILABLE' : code;
    return { kind: 'refused', code: mapped, ...(a.outcome.diagnostics ? { diagnostics: a.outcome.diagnostics } : {}) };
  } catch (err) {
    if (err instanceof AssertionRefusedError) return { kind: 'not-processed' };
    if (!(err instanceof UpstreamError)) throw err;
    flow.log.warn({ step: 'post', attempt, reason: err.reason, status: err.status }, 'booking message got no answer');
    return err.reason === 'RATE_LIMITED' || err.reason === 'REJECTED' || err.name === 'ThrottledError' ? { kind: 'not-processed' } : { kind: 'lost' };
  }
}

/** 200: booked. The response message normally carries the Appointment; if not readable, the booking stands: find it. */
async function booked(ctx: Ctx, answer: Answer): Promise<SupplierOutcome> {
  const found = appointmentOfMessage(answer.body);
  if (found) {
    const mapped = toSupplierAppointment(found.appointment, ctx.input.serviceId, found.patient);
    if (!('reason' in mapped)) return outcome('BOOKED', null, { appointment: mapped });
    ctx.flow.log.warn({ reason: mapped.reason }, 'booked, but the answer could not be read');
  }
  const r = await reconcile(ctx);
  if (r.kind === 'found') return outcome('BOOKED', null, { appointment: r.appointment });
  return outcome('OUTCOME_UNKNOWN', say.bookedUnreadable(ctx.flow.system.id));
}

async function settleUncertain(ctx: Ctx): Promise<SupplierOutcome> {
  const r = await reconcile(ctx);
  if (r.kind === 'found') return bookedEarlier(r.appointment);
  return outcome('OUTCOME_UNKNOWN', say.outcomeUnknown(ctx.flow.system.id));
}

async function reconcile(ctx: Ctx): Promise<Reconciled> {
  const { flow, input, slot } = ctx;
  const nhsNumber = input.patient.nhsNumber;
  let result: Reconciled = { kind: 'unknown' };
  // A booked appointment of this slot, carrying our reference when the receiver kept it (it answers only what this
  // organisation booked, so one without any reference is ours too).
  const reference = bookingReference(input.requestId);
  if (nhsNumber) {
    const found = await searchAt(flow, input.serviceId, nhsNumber);
    if (found.kind === 'ok') {
      const ours = found.appointments.filter(
        (a) => appointmentStatus(a.status) === 'BOOKED' && isBookingOf(a, slot) && (identifierValue(a.identifier, BOOKING_REFERENCE_SYSTEM) ?? reference) === reference,
      );
      const mapped = ours.map((a) => toSupplierAppointment(a, input.serviceId)).find((m): m is SupplierAppointment => !('reason' in m));
      result = mapped ? { kind: 'found', appointment: mapped } : { kind: 'absent' };
    }
  }
  flow.log.info({ step: 'reconcile', result: result.kind, ...(result.kind === 'found' ? { appointment: result.appointment.ref } : {}) }, 'reconciled');
  return result;
}

function bookedEarlier(appointment: SupplierAppointment): SupplierOutcome {
  return outcome('BOOKED', say.bookedEarlier, { appointment });
}

function finish(flow: Flow, o: SupplierOutcome): SupplierOutcome {
  flow.log.info({ outcome: o.code, ...(o.appointment ? { appointment: o.appointment.ref } : {}) }, 'booking');
  return o;
}
