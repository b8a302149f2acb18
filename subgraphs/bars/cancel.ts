/**
 * Cancelling a BaRS appointment: read it (GET /Appointment/{id} at its service), then POST /$process-message with the
 * Appointment as read and `status: cancelled` (message.ts cancelMessage). Cancelling is idempotent: an appointment
 * already cancelled is CANCELLED with nothing sent, and the receiver answers a second cancellation alike.
 *
 *   read fails               NOT_FOUND (404 REC_NOT_FOUND: unknown, or another organisation's), FORBIDDEN,
 *                            SUPPLIER_UNAVAILABLE, INVALID_REQUEST.
 *   already cancelled        CANCELLED; entered in error → CONFLICT.
 *   200                      CANCELLED, with the Appointment the response carries.
 *   no answer                the same message once more, same X-Request-Id (replay or first delivery); no answer
 *                            again → read: cancelled → CANCELLED, else OUTCOME_UNKNOWN.
 *   409 duplicate            processed before: read to confirm.
 *   404, 403, 400/422        NOT_FOUND, FORBIDDEN, INVALID_REQUEST with the receiver's diagnostics.
 */
import { FHIR_ID } from '../kit/fhir/identifiers.js';
import { classifyBarsFailure } from '../kit/fhir/operation-outcome.js';
import { UpstreamError } from '../../common/upstream.js';
import { appointmentOfMessage, appointmentStatus, toSupplierAppointment } from './appointment-map.js';
import type { Answer } from './client.js';
import type { SupplierCancelInput, SupplierOutcome } from './generated/resolvers.js';
import { readOne, readOutcome } from './lookup.js';
import { cancelMessage } from './message.js';
import { outcome, say, type Flow } from './outcomes.js';

type PostResult = { kind: 'done'; answer: Answer } | { kind: 'duplicate' } | { kind: 'lost' } | { kind: 'not-processed' } | { kind: 'refused'; answer: Answer };

export async function cancelFlow(flow: Flow, input: SupplierCancelInput): Promise<SupplierOutcome> {
  const s = flow.system.id;
  if (!FHIR_ID.test(input.appointmentRef)) return finish(flow, outcome('INVALID_REQUEST', say.appointmentRefInvalid));
  flow.services.learn(s, input.serviceId);
  const read = await readOne(flow, input.serviceId, input.appointmentRef);
  if (read.kind !== 'ok') return finish(flow, readOutcome(flow, read, input.serviceId, 'CANCELLED'));
  const status = appointmentStatus(read.appointment.status);
  if (status === 'CANCELLED') return finish(flow, readOutcome(flow, read, input.serviceId, 'CANCELLED'));
  if (status === 'ENTERED_IN_ERROR') {
    const found = readOutcome(flow, read, input.serviceId, 'FOUND');
    return finish(flow, outcome('CONFLICT', say.enteredInError, found.appointment ? { appointment: found.appointment } : {}));
  }

  const message = cancelMessage({
    requestId: input.requestId,
    serviceId: input.serviceId,
    appointment: read.appointment,
    consumer: flow.call.consumer,
    sourceEndpoint: flow.sourceEndpoint,
    softwareName: flow.system.requestingSoftware.name,
    reason: input.reason ?? null,
  });
  let result = await post(flow, input, message, 1);
  if (result.kind === 'lost') result = await post(flow, input, message, 2);

  switch (result.kind) {
    case 'done': {
      const found = appointmentOfMessage(result.answer.body);
      const mapped = found ? toSupplierAppointment(found.appointment, input.serviceId, found.patient) : null;
      if (mapped && !('reason' in mapped)) return finish(flow, outcome('CANCELLED', null, { appointment: mapped }));
      return finish(flow, await confirm(flow, input));
    }
    case 'duplicate':
    case 'lost':
      return finish(flow, await confirm(flow, input));
    case 'not-processed':
      return finish(flow, outcome('SUPPLIER_UNAVAILABLE', say.cancelUnavailable(s)));
    case 'refused':
      return finish(flow, refused(s, result.answer));
  }
}

async function post(flow: Flow, input: SupplierCancelInput, message: ReturnType<typeof cancelMessage>, attempt: number): Promise<PostResult> {
  try {
    const a = await flow.client.processMessage(flow.system, input.serviceId, message, input.requestId, flow.call);
    flow.log.info({ step: 'post', attempt, status: a.status, code: a.outcome.code }, 'cancellation answered');
    if (a.status >= 200 && a.status < 300) return { kind: 'done', answer: a };
    if (a.status === 409 && a.outcome.type === 'duplicate') return { kind: 'duplicate' };
    return { kind: 'refused', answer: a };
  } catch (err) {
    if (!(err instanceof UpstreamError)) throw err;
    flow.log.warn({ step: 'post', attempt, reason: err.reason, status: err.status }, 'cancellation got no answer');
    return err.reason === 'RATE_LIMITED' || err.reason === 'REJECTED' ? { kind: 'not-processed' } : { kind: 'lost' };
  }
}

/** The cancellation may or may not have been applied: the appointment as the receiver holds it settles it. */
async function confirm(flow: Flow, input: SupplierCancelInput): Promise<SupplierOutcome> {
  const again = await readOne(flow, input.serviceId, input.appointmentRef);
  if (again.kind === 'ok' && appointmentStatus(again.appointment.status) === 'CANCELLED') return readOutcome(flow, again, input.serviceId, 'CANCELLED');
  return outcome('OUTCOME_UNKNOWN', say.cancelUnknown(flow.system.id));
}

function refused(s: string, a: Answer): SupplierOutcome {
  switch (classifyBarsFailure(a.status, a.outcome)) {
    case 'NOT_FOUND':
      return outcome('NOT_FOUND', say.notFound(s));
    case 'FORBIDDEN':
      return outcome('FORBIDDEN', say.forbiddenAppointment(s));
    case 'SUPPLIER_UNAVAILABLE':
    case 'UNAUTHORIZED':
      return outcome('SUPPLIER_UNAVAILABLE', say.cancelUnavailable(s));
    case 'SLOT_UNAVAILABLE':
      return outcome('CONFLICT', say.cancelConflict(s));
    default:
      return outcome('INVALID_REQUEST', say.invalidCancel(s), { diagnostics: a.outcome.diagnostics });
  }
}

function finish(flow: Flow, o: SupplierOutcome): SupplierOutcome {
  flow.log.info({ outcome: o.code }, 'cancellation');
  return o;
}
