/**
 * Cancelling a booking at Oakfield (API.md 6.3): `DELETE /bookings/{id}`. Oakfield makes cancelling idempotent
 * (a booking already cancelled is answered 200, unchanged), so unlike a Booking Standard PUT there is no version to
 * quote and nothing to reconcile: a DELETE that got no answer is simply sent once more.
 *
 *   200                      CANCELLED, with the booking as it now is (cancelled now, or already).
 *   403 / 401                FORBIDDEN (another organisation's booking, or our key refused).
 *   404                      NOT_FOUND.
 *   409 not cancellable      CONFLICT (its time has passed, or the patient attended).
 *   other 4xx                INVALID_REQUEST with Oakfield's message in diagnostics.
 *   no answer (timeout, reset, 5xx)
 *                            DELETE once more; a second "no answer" → OUTCOME_UNKNOWN (cancelling again is safe).
 *   429                      SUPPLIER_UNAVAILABLE, nothing cancelled; after a DELETE that got no answer,
 *                            OUTCOME_UNKNOWN.
 *
 * The contract's free-text reason is not sent: Oakfield takes a reason code only (never free text in a URL), and a
 * cancellation through the gateway is always the referrer's, REFERRER_CANCELLED.
 */
import { UpstreamError } from '../../common/upstream.js';
import { classifyFailure, toSupplierAppointment, type FailureCode } from './booking-map.js';
import { BOOKING_ID, type BookingAnswer } from './client.js';
import type { SupplierCancelInput, SupplierOutcome } from './generated/resolvers.js';
import { readOne, readOutcome, recordedService } from './lookup.js';
import { outcome, say, type Flow } from './outcomes.js';

type DeleteResult =
  | { kind: 'done'; answer: BookingAnswer }
  | { kind: 'lost' }
  | { kind: 'not-processed' }
  | { kind: 'refused'; code: FailureCode; diagnostics?: string };

export async function cancelFlow(flow: Flow, input: SupplierCancelInput): Promise<SupplierOutcome> {
  const s = flow.system.id;
  if (!BOOKING_ID.test(input.appointmentRef)) return finish(flow, outcome('INVALID_REQUEST', say.appointmentRefInvalid));

  let result = await del(flow, input.appointmentRef, 1);
  const retried = result.kind === 'lost';
  if (retried) result = await del(flow, input.appointmentRef, 2);

  switch (result.kind) {
    case 'done':
      return finish(flow, await cancelled(flow, result.answer, input));
    case 'lost':
      return finish(flow, outcome('OUTCOME_UNKNOWN', say.cancelUnknown(s)));
    case 'not-processed':
      return finish(flow, retried ? outcome('OUTCOME_UNKNOWN', say.cancelUnknown(s)) : outcome('SUPPLIER_UNAVAILABLE', say.cancelUnavailable(s)));
    case 'refused':
      switch (result.code) {
        case 'FORBIDDEN':
          return finish(flow, outcome('FORBIDDEN', say.forbiddenAppointment(s)));
        case 'NOT_FOUND':
          return finish(flow, outcome('NOT_FOUND', say.notFound(s)));
        case 'CONFLICT':
          return finish(flow, outcome('CONFLICT', say.notCancellable(s)));
        case 'SUPPLIER_UNAVAILABLE':
          return finish(flow, retried ? outcome('OUTCOME_UNKNOWN', say.cancelUnknown(s)) : outcome('SUPPLIER_UNAVAILABLE', say.cancelUnavailable(s)));
        default:
          return finish(flow, outcome('INVALID_REQUEST', say.invalidCancel(s), { diagnostics: result.diagnostics }));
      }
  }
}

async function del(flow: Flow, ref: string, attempt: number): Promise<DeleteResult> {
  try {
    const a = await flow.client.cancel(flow.system, ref, 'REFERRER_CANCELLED', flow.call);
    flow.log.info({ step: 'delete', attempt, status: a.status, code: a.error?.code }, 'cancellation answered');
    if (a.status >= 200 && a.status < 300) return { kind: 'done', answer: a };
    return { kind: 'refused', code: classifyFailure(a.status, a.error?.code, false), ...(a.diagnostics ? { diagnostics: a.diagnostics } : {}) };
  } catch (err) {
    if (!(err instanceof UpstreamError)) throw err;
    flow.log.warn({ step: 'delete', attempt, reason: err.reason, status: err.status }, 'cancellation got no answer');
    return err.reason === 'RATE_LIMITED' ? { kind: 'not-processed' } : { kind: 'lost' };
  }
}

/** 2xx: cancelled. The body normally is the booking; if it cannot be read, read it back for the caller. */
async function cancelled(flow: Flow, answer: BookingAnswer, input: SupplierCancelInput): Promise<SupplierOutcome> {
  if (answer.booking) {
    const mapped = toSupplierAppointment(answer.booking, await recordedService(flow, answer.booking, input.serviceId));
    if (!('reason' in mapped)) return outcome('CANCELLED', null, { appointment: mapped });
  }
  const again = await readOne(flow, input.appointmentRef);
  const o = again.kind === 'ok' ? readOutcome(flow, again, await recordedService(flow, again.booking, input.serviceId), 'CANCELLED') : undefined;
  return outcome('CANCELLED', null, o?.appointment ? { appointment: o.appointment } : {});
}

function finish(flow: Flow, o: SupplierOutcome): SupplierOutcome {
  flow.log.info({ outcome: o.code }, 'cancellation');
  return o;
}
