/**
 * Booking an appointment time at Oakfield (API.md 6.1), never booking it twice.
 *
 * What makes a retry safe here is the supplier, not us: every POST for one booking carries `Idempotency-Key:
 * <requestId>` (the gateway derives requestId from the client's idempotency key, so every attempt, in this call or a
 * later one, carries the same key), and the request body is a pure function of the input (booking-map.ts). Oakfield
 * answers a repeat of a request that booked with that booking (200, Idempotent-Replayed) and books nothing new. So:
 *
 *   POST                     201 → BOOKED. 200 replayed → BOOKED, "booked by an earlier attempt".
 *   no answer (timeout, reset, 5xx, 409 key in use)
 *                            POST once more, same key, same body: either the first attempt's booking comes back
 *                            (replayed) or, if it never got through, the time is booked now. A second "no answer" →
 *                            OUTCOME_UNKNOWN (the gateway's next attempt with the same key settles it the same way).
 *   409 SLOT_FULL / SESSION_CLOSED, 422 TIME_IN_PAST
 *                            SLOT_UNAVAILABLE, even after an attempt that may have booked: had that attempt booked,
 *                            Oakfield would have replayed it, since it checks the key before the places.
 *   422 PATIENT_INVALID      INVALID_PATIENT; other 4xx INVALID_REQUEST, with Oakfield's message in diagnostics.
 *   401/403                  FORBIDDEN.
 *   429                      not processed: wait Retry-After (plus jitter) and send the same request with the same
 *                            key again, while the wait fits the booking's budget (kit/rate-limit-wait.ts).
 *   429 beyond the budget, or a refusal that processed nothing (401, 422 key reused, 501) after an attempt that may
 *                            have booked: OUTCOME_UNKNOWN: this answer says nothing about that earlier attempt.
 *                            Without one: SUPPLIER_UNAVAILABLE for 429 and 501, the refusal's own code otherwise.
 *
 * That is also why `mayHaveBooked` needs no reconciliation search here (the Booking Standard adapter has to search
 * the patient's appointments): the same POST with the same key is itself the question "did you book this?", and
 * Oakfield answers it exactly, NHS number or not. This relies on Oakfield keeping keys for 24 hours (API.md 6.1),
 * as long as the gateway keeps its idempotency records; a retry after that is a new booking request.
 *
 * Every HTTP call has the system's deadlineMs: the worst case is two POSTs and a read (3 × deadlineMs), plus at most
 * 5 × deadlineMs waiting out 429s (kit/rate-limit-wait.ts).
 */
import { bookingRefusal } from '../kit/booking-outcomes.js';
import { rateLimitBudget, waitOutRateLimit } from '../kit/rate-limit-wait.js';
import { UpstreamError } from '../../common/upstream.js';
import { BOOKING_ID, HOLD_ID, type BookingAnswer, type PasBookingRequest } from './client.js';
import { bookingRequest, classifyFailure, isBookingOf, toSupplierAppointment, type FailureCode } from './booking-map.js';
import type { SupplierBookingInput, SupplierOutcome } from './generated/resolvers.js';
import { readOne } from './lookup.js';
import { outcome, say, type Flow } from './outcomes.js';
import { decodeSlotRef, type SlotRefParts } from './slot-ref.js';

type PostResult =
  | { kind: 'booked'; answer: BookingAnswer }
  | { kind: 'slot-taken' }
  /** No answer we can act on: timeout, connection reset, 5xx, or the key still being processed. May have booked. */
  | { kind: 'lost' }
  /** 429: Oakfield did not process this request. */
  | { kind: 'not-processed' }
  | { kind: 'refused'; code: FailureCode; diagnostics?: string };

export async function bookFlow(flow: Flow, input: SupplierBookingInput): Promise<SupplierOutcome> {
  const s = flow.system.id;
  const slot = decodeSlotRef(input.slotRef);
  if (!slot) return finish(flow, outcome('INVALID_REQUEST', say.slotRefInvalid));
  // Only ever one of Oakfield's hold ids (the gateway's hold store keeps what Oakfield gave); nothing else reaches it.
  if (input.holdRef != null && !HOLD_ID.test(input.holdRef)) return finish(flow, outcome('INVALID_REQUEST', 'Not a hold id of this supplier'));
  const body = bookingRequest(input, slot);

  // A 429 was not processed (API.md section 2): waited out within this budget and sent again with the same key.
  const until = rateLimitBudget(flow.system.deadlineMs);
  let result = await post(flow, body, input.requestId, 1, until);
  const retried = result.kind === 'lost';
  if (retried) result = await post(flow, body, input.requestId, 2, until);
  // An attempt before this answer may have booked: this call's first POST, or the gateway's earlier call.
  const earlierMayHaveBooked = input.mayHaveBooked || retried;

  switch (result.kind) {
    case 'booked':
      return finish(flow, await booked(flow, result.answer, input.serviceId, slot));
    case 'slot-taken':
      return finish(flow, outcome('SLOT_UNAVAILABLE', say.slotTaken));
    case 'lost':
      return finish(flow, outcome('OUTCOME_UNKNOWN', say.outcomeUnknown(s)));
    case 'not-processed':
      return finish(flow, earlierMayHaveBooked ? outcome('OUTCOME_UNKNOWN', say.outcomeUnknown(s)) : outcome('SUPPLIER_UNAVAILABLE', say.bookingUnavailable(s)));
    case 'refused':
      return finish(flow, refused(s, result.code, result.diagnostics, earlierMayHaveBooked));
  }
}

async function post(flow: Flow, body: PasBookingRequest, key: string, attempt: number, until: number): Promise<PostResult> {
  try {
    const a = await waitOutRateLimit(() => flow.client.book(flow.system, body, key, flow.call), {
      until,
      onWait: (waitMs, send) => flow.log.info({ step: 'post', attempt, send, waitMs }, 'booking request rate limited; waiting as Retry-After asks'),
    });
    flow.log.info({ step: 'post', attempt, status: a.status, replayed: a.replayed, code: a.error?.code }, 'booking request answered');
    if (a.status >= 200 && a.status < 300) return { kind: 'booked', answer: a };
    const code = classifyFailure(a.status, a.error?.code, true);
    if (code === 'SLOT_UNAVAILABLE') return { kind: 'slot-taken' };
    if (code === 'KEY_IN_USE') return { kind: 'lost' };
    return { kind: 'refused', code, ...(a.diagnostics ? { diagnostics: a.diagnostics } : {}) };
  } catch (err) {
    if (!(err instanceof UpstreamError)) throw err;
    flow.log.warn({ step: 'post', attempt, reason: err.reason, status: err.status }, 'booking request got no answer');
    return err.reason === 'RATE_LIMITED' ? { kind: 'not-processed' } : { kind: 'lost' };
  }
}

/**
 * 2xx: booked. The body normally is the booking; if it cannot be read, the booking still stands, so read it back.
 * A replayed booking is returned as it is now, cancelled or not, as the gateway's own replays are.
 */
async function booked(flow: Flow, answer: BookingAnswer, serviceId: string, slot: SlotRefParts): Promise<SupplierOutcome> {
  const message = answer.replayed ? say.bookedEarlier : null;
  if (answer.booking) {
    const mapped = toSupplierAppointment(answer.booking, serviceId);
    if (!('reason' in mapped)) {
      if (!isBookingOf(answer.booking, slot)) {
        // Oakfield booked a different instant from the one our slot showed: we misread a session. The booking is what
        // it is, so it is returned as booked (with its real times), and loudly logged.
        flow.log.error({ appointment: mapped.ref }, 'the supplier booked a different time from the slot shown');
      }
      return outcome('BOOKED', message, { appointment: mapped });
    }
    flow.log.warn({ reason: mapped.reason }, 'booked, but the answer could not be read');
  }
  const id = answer.booking?.id ?? answer.location?.split('/').pop();
  if (id && BOOKING_ID.test(id)) {
    const read = await readOne(flow, id);
    if (read.kind === 'ok') {
      const mapped = toSupplierAppointment(read.booking, serviceId);
      if (!('reason' in mapped)) return outcome('BOOKED', message, { appointment: mapped });
    }
  }
  return outcome('OUTCOME_UNKNOWN', say.bookedUnreadable(flow.system.id));
}

function refused(s: string, code: FailureCode, diagnostics: string | undefined, earlierMayHaveBooked: boolean): SupplierOutcome {
  // Refusals that processed nothing say nothing about an earlier attempt that may have booked.
  if (earlierMayHaveBooked && (code === 'FORBIDDEN' || code === 'KEY_REUSED' || code === 'SUPPLIER_UNAVAILABLE')) {
    return outcome('OUTCOME_UNKNOWN', say.outcomeUnknown(s));
  }
  if (code === 'KEY_REUSED') return outcome('INVALID_REQUEST', say.keyReused(s));
  return bookingRefusal(s, code, diagnostics);
}

function finish(flow: Flow, o: SupplierOutcome): SupplierOutcome {
  flow.log.info({ outcome: o.code, ...(o.appointment ? { appointment: o.appointment.ref } : {}) }, 'booking');
  return o;
}
