/**
 * Cancelling an appointment (spec 2.6, 8.3): read it (keeping its ETag), change only `status` to `cancelled`, and
 * PUT it back with If-Match. Cancelling is idempotent at our layer: an appointment already cancelled is CANCELLED.
 *
 *   read fails               NOT_FOUND (404), FORBIDDEN (401/403), SUPPLIER_UNAVAILABLE, INVALID_REQUEST.
 *   already cancelled        CANCELLED, nothing sent. Entered in error → CONFLICT (there is nothing to cancel).
 *   PUT 2xx                  CANCELLED with the new version.
 *   PUT 409 / 412            stale version (or our X-Request-ID seen): read again once, and unless it is cancelled
 *                            by then, PUT once more with a new X-Request-ID; a second 409/412 → CONFLICT.
 *   PUT 422                  INVALID_REQUEST with the provider's diagnostics: after a matching If-Match, "differences
 *                            detected" means our body differed from what we read, which retrying cannot fix.
 *   PUT 401/403, 404         FORBIDDEN, NOT_FOUND.
 *   PUT no answer            the PUT may have been applied: read again; cancelled → CANCELLED, else OUTCOME_UNKNOWN.
 *
 * A PUT is never re-sent blind after no answer. Worst case: read, PUT, read, PUT, read, each within deadlineMs.
 */
import { randomUUID } from 'node:crypto';
import { UpstreamError } from '../../common/upstream.js';
import { appointmentStatus, ifMatchFor, toSupplierAppointment } from './appointment-map.js';
import type { AppointmentAnswer, FhirAppointment } from './client.js';
import type { SupplierCancelInput, SupplierOutcome } from './generated/resolvers.js';
import { FHIR_ID, readOne, readOutcome, recordedService, type ReadResult } from './lookup.js';
import { classifyFailure } from './map.js';
import { outcome, say, type Flow } from './outcomes.js';

type PutResult =
  | { kind: 'done'; answer: AppointmentAnswer }
  | { kind: 'stale' }
  | { kind: 'lost' }
  | { kind: 'not-processed' }
  | { kind: 'refused'; status: number; answer: AppointmentAnswer };

export async function cancelFlow(flow: Flow, input: SupplierCancelInput): Promise<SupplierOutcome> {
  const s = flow.system.id;
  if (!FHIR_ID.test(input.appointmentRef)) return finish(flow, outcome('INVALID_REQUEST', say.appointmentRefInvalid));

  let read = await readOne(flow, input.appointmentRef);
  for (let attempt = 1; ; attempt++) {
    if (read.kind !== 'ok') return finish(flow, readOutcome(flow, read, input.serviceId, 'CANCELLED'));
    const current = read.appointment;
    const status = appointmentStatus(current.status);
    if (status === 'CANCELLED') return finish(flow, readOutcome(flow, read, input.serviceId, 'CANCELLED'));
    if (status === 'ENTERED_IN_ERROR') {
      const found = readOutcome(flow, read, input.serviceId, 'FOUND');
      return finish(flow, outcome('CONFLICT', say.enteredInError, found.appointment ? { appointment: found.appointment } : {}));
    }
    const ifMatch = ifMatchFor(current, read.etag);
    if (!ifMatch) return finish(flow, outcome('SUPPLIER_UNAVAILABLE', say.noVersion(s)));

    // The gateway's requestId for the first PUT; a retry after a refusal is a new request, so a new id: a provider
    // that records every X-Request-ID would otherwise refuse it as a repeat.
    const requestId = attempt === 1 ? input.requestId : randomUUID();
    const put = await putCancelled(flow, { ...current, status: 'cancelled' }, ifMatch, requestId, attempt);

    switch (put.kind) {
      case 'done':
        return finish(flow, await cancelled(flow, put.answer, input));
      case 'stale':
        if (attempt >= 2) return finish(flow, outcome('CONFLICT', say.cancelConflict(s)));
        read = await readOne(flow, input.appointmentRef);
        continue;
      case 'lost': {
        const again = await readOne(flow, input.appointmentRef);
        if (again.kind === 'ok' && appointmentStatus(again.appointment.status) === 'CANCELLED') {
          return finish(flow, readOutcome(flow, again, input.serviceId, 'CANCELLED'));
        }
        return finish(flow, outcome('OUTCOME_UNKNOWN', say.cancelUnknown(s)));
      }
      case 'not-processed':
        return finish(flow, outcome('SUPPLIER_UNAVAILABLE', say.cancelUnavailable(s)));
      case 'refused':
        return finish(flow, refused(s, put));
    }
  }
}

async function putCancelled(flow: Flow, body: FhirAppointment, ifMatch: string, requestId: string, attempt: number): Promise<PutResult> {
  try {
    const a = await flow.client.cancel(flow.system, body, ifMatch, requestId, flow.call);
    flow.log.info({ step: 'put', attempt, status: a.status, requestId }, 'cancellation answered');
    if (a.status >= 200 && a.status < 300) return { kind: 'done', answer: a };
    // 409: stale If-Match, or (issue type duplicate) this X-Request-ID already processed; 412: If-Match missing.
    // Each is settled by reading the appointment again.
    if (a.status === 409 || a.status === 412) return { kind: 'stale' };
    return { kind: 'refused', status: a.status, answer: a };
  } catch (err) {
    if (!(err instanceof UpstreamError)) throw err;
    flow.log.warn({ step: 'put', attempt, reason: err.reason, status: err.status, requestId }, 'cancellation got no answer');
    return err.reason === 'RATE_LIMITED' ? { kind: 'not-processed' } : { kind: 'lost' };
  }
}

/** 2xx: cancelled. The body normally is the new version; if it cannot be read, read it back for the caller. */
async function cancelled(flow: Flow, answer: AppointmentAnswer, input: SupplierCancelInput): Promise<SupplierOutcome> {
  if (answer.appointment) {
    const serviceId = recordedService(flow, answer.appointment, input.serviceId);
    const mapped = toSupplierAppointment(answer.appointment, { serviceId, ...(answer.etag ? { etag: answer.etag } : {}) });
    if (!('reason' in mapped)) return outcome('CANCELLED', null, { appointment: mapped });
  }
  const again: ReadResult = await readOne(flow, input.appointmentRef);
  const o = again.kind === 'ok' ? readOutcome(flow, again, input.serviceId, 'CANCELLED') : undefined;
  return outcome('CANCELLED', null, o?.appointment ? { appointment: o.appointment } : {});
}

function refused(s: string, put: Extract<PutResult, { kind: 'refused' }>): SupplierOutcome {
  const code = classifyFailure(put.status, put.answer.issue, false);
  switch (code) {
    case 'FORBIDDEN':
      return outcome('FORBIDDEN', say.forbiddenAppointment(s));
    case 'NOT_FOUND':
      return outcome('NOT_FOUND', say.notFound(s));
    case 'SUPPLIER_UNAVAILABLE':
      // A non-retryable 5xx such as 501: the provider did not apply it.
      return outcome('SUPPLIER_UNAVAILABLE', say.cancelUnavailable(s));
    default:
      // 400/422 (classified INVALID_REQUEST, or CONFLICT for "differences detected"): see the module comment.
      return outcome('INVALID_REQUEST', say.invalidCancel(s), { diagnostics: put.answer.diagnostics });
  }
}

function finish(flow: Flow, o: SupplierOutcome): SupplierOutcome {
  flow.log.info({ outcome: o.code }, 'cancellation');
  return o;
}
