/**
 * Booking a slot (spec 2.4) without ever sending a blind second booking (spec 11, "Retry safety").
 *
 * POST /Appointment is not idempotent. What protects the patient from two bookings is the X-Request-ID: the gateway
 * derives `requestId` from the client's idempotency key, every POST for that key carries it, and a conformant
 * provider refuses a repeat (409, issue type `duplicate`). Whenever an earlier attempt may have reached the provider,
 * we reconcile: search the patient's appointments (spec 2.7) for a booking of this slot. The steps:
 *
 *   mayHaveBooked            reconcile first; found → BOOKED with it.
 *   POST                     2xx → BOOKED. Refusals map to their codes (INVALID_PATIENT, INVALID_REQUEST, FORBIDDEN).
 *   no answer (timeout, reset, 5xx)
 *                            POST once more, same X-Request-ID. A second "no answer" → reconcile: found → BOOKED,
 *                            else OUTCOME_UNKNOWN.
 *   slot taken (409/422)     SLOT_UNAVAILABLE, unless an earlier attempt may have been ours (mayHaveBooked, or the
 *                            retry above): then reconcile; found → BOOKED; the search answered without it →
 *                            SLOT_UNAVAILABLE; no answer from the search → OUTCOME_UNKNOWN.
 *   request id reused (409 duplicate)
 *                            reconcile; found → BOOKED. Otherwise, if no earlier attempt can have carried this
 *                            X-Request-ID, the provider is using `duplicate` for a taken slot (as GP Connect does)
 *                            → SLOT_UNAVAILABLE; if one can, it may have booked → OUTCOME_UNKNOWN.
 *   429                      nothing was processed: wait Retry-After and send again with the same X-Request-ID, while
 *                            the wait fits the booking's budget (kit/rate-limit-wait.ts); beyond it, as 501.
 *   501...                   nothing was processed → SUPPLIER_UNAVAILABLE, or after a possible earlier attempt,
 *                            reconcile → BOOKED / OUTCOME_UNKNOWN.
 *
 * Reconciling looks for our booking reference first (the request id, sent as Appointment.identifier and searched
 * with the `identifier` parameter the CapabilityStatement declares): it needs no NHS number. A provider that does not
 * answer that search is asked for the patient's appointments by NHS number instead; with neither, an uncertain
 * outcome stays OUTCOME_UNKNOWN. Every HTTP call has the system's deadlineMs; the worst case is
 * a search, two POSTs and a search and read (about 5 × deadlineMs, plus one more read per extra candidate found).
 */
import { bookingRefusal } from '../kit/booking-outcomes.js';
import { rateLimitBudget, waitOutRateLimit } from '../kit/rate-limit-wait.js';
import { UpstreamError } from '../../common/upstream.js';
import {
  appointmentRef,
  appointmentStatus,
  bookingAppointment,
  isBookingOf,
  toSupplierAppointment,
} from './appointment-map.js';
import type { AppointmentAnswer, FhirAppointment } from './client.js';
import type { SupplierAppointment, SupplierBookingInput, SupplierOutcome } from './generated/resolvers.js';
import { FHIR_ID, readOne, searchByBookingReference, searchByNhsNumber } from './lookup.js';
import { classifyFailure, logicalId, type FailureCode } from './map.js';
import { outcome, say, type Flow } from './outcomes.js';
import { decodeSlotRef, type SlotCopy } from './slot-ref.js';

type BookableSlot = SlotCopy & { scheduleId: string };

type PostResult =
  | { kind: 'created'; answer: AppointmentAnswer }
  | { kind: 'slot-taken' }
  /** 409 `duplicate`: the provider has already processed this X-Request-ID. */
  | { kind: 'duplicate' }
  /** No answer: timeout, connection reset, 5xx. The provider may have committed the booking. */
  | { kind: 'lost' }
  /** The provider declined to process it (429, 501): nothing was booked by this request. */
  | { kind: 'not-processed' }
  | { kind: 'refused'; code: FailureCode; diagnostics?: string };

type Reconciled =
  | { kind: 'found'; appointment: SupplierAppointment }
  /** The search answered, and no booking of this slot for this patient is in it. */
  | { kind: 'absent' }
  /** We could not look: no NHS number, the search is not supported, or no answer. */
  | { kind: 'unknown' };

export async function bookFlow(flow: Flow, input: SupplierBookingInput): Promise<SupplierOutcome> {
  const s = flow.system.id;
  const copy = decodeSlotRef(input.slotRef);
  if (!copy) return finish(flow, outcome('INVALID_REQUEST', say.slotRefInvalid));
  if (!copy.scheduleId) return finish(flow, outcome('INVALID_REQUEST', say.slotNotBookable));
  const slot: BookableSlot = { ...copy, scheduleId: copy.scheduleId };
  flow.schedules.learn(s, slot.scheduleId, input.serviceId);
  const ctx: Ctx = {
    flow,
    slot,
    serviceId: input.serviceId,
    nhsNumber: input.patient.nhsNumber || null,
    reference: input.requestId,
    rateLimitUntil: rateLimitBudget(flow.system.deadlineMs),
  };

  if (input.mayHaveBooked) {
    const r = await reconcile(ctx);
    if (r.kind === 'found') return finish(flow, bookedEarlier(r.appointment));
  }

  // Our booking reference travels in the Appointment, so reconciliation can find it without an NHS number.
  const body = bookingAppointment(input, slot, flow.now(), input.requestId);
  let result = await post(ctx, body, input.requestId, 1);
  const retried = result.kind === 'lost';
  if (retried) result = await post(ctx, body, input.requestId, 2);
  const earlierMayBeOurs = input.mayHaveBooked || retried;

  switch (result.kind) {
    case 'created':
      return finish(flow, await created(ctx, result.answer));
    case 'slot-taken': {
      if (!earlierMayBeOurs) return finish(flow, outcome('SLOT_UNAVAILABLE', say.slotTaken));
      const r = await reconcile(ctx);
      if (r.kind === 'found') return finish(flow, bookedEarlier(r.appointment));
      return finish(flow, r.kind === 'absent' ? outcome('SLOT_UNAVAILABLE', say.slotTaken) : outcome('OUTCOME_UNKNOWN', say.outcomeUnknown(s)));
    }
    case 'duplicate': {
      const r = await reconcile(ctx);
      if (r.kind === 'found') return finish(flow, bookedEarlier(r.appointment));
      if (!earlierMayBeOurs) return finish(flow, outcome('SLOT_UNAVAILABLE', say.slotTaken));
      return finish(flow, outcome('OUTCOME_UNKNOWN', r.kind === 'absent' ? say.requestSeenNoBooking(s) : say.outcomeUnknown(s)));
    }
    case 'lost':
      return finish(flow, await settleUncertain(ctx));
    case 'not-processed':
      return finish(flow, earlierMayBeOurs ? await settleUncertain(ctx) : outcome('SUPPLIER_UNAVAILABLE', say.bookingUnavailable(s)));
    case 'refused':
      if (result.code === 'SUPPLIER_UNAVAILABLE' && earlierMayBeOurs) return finish(flow, await settleUncertain(ctx));
      return finish(flow, refused(s, result.code, result.diagnostics));
  }
}

interface Ctx {
  flow: Flow;
  slot: BookableSlot;
  serviceId: string;
  nhsNumber: string | null;
  /** Our booking reference (the request id, derived from the client's idempotency key), in Appointment.identifier. */
  reference: string;
  /** End of this booking's budget for waiting out 429s (kit/rate-limit-wait.ts). */
  rateLimitUntil: number;
}

async function post(ctx: Ctx, body: FhirAppointment, requestId: string, attempt: number): Promise<PostResult> {
  const { flow } = ctx;
  try {
    // A 429 was not processed: waited out (Retry-After) and sent again with the same X-Request-ID, within the budget.
    const a = await waitOutRateLimit(() => flow.client.book(flow.system, body, requestId, flow.call), {
      until: ctx.rateLimitUntil,
      onWait: (waitMs, send) => flow.log.info({ step: 'post', attempt, send, waitMs }, 'booking request rate limited; waiting as Retry-After asks'),
    });
    flow.log.info({ step: 'post', attempt, status: a.status }, 'booking request answered');
    if (a.status >= 200 && a.status < 300) return { kind: 'created', answer: a };
    const code = classifyFailure(a.status, a.issue, true);
    if (code === 'SLOT_UNAVAILABLE') return { kind: 'slot-taken' };
    if (code === 'DUPLICATE_REQUEST') return { kind: 'duplicate' };
    return { kind: 'refused', code, ...(a.diagnostics ? { diagnostics: a.diagnostics } : {}) };
  } catch (err) {
    if (!(err instanceof UpstreamError)) throw err;
    flow.log.warn({ step: 'post', attempt, reason: err.reason, status: err.status }, 'booking request got no answer');
    return err.reason === 'RATE_LIMITED' ? { kind: 'not-processed' } : { kind: 'lost' };
  }
}

/** 2xx: booked. The body normally is the appointment; if it cannot be read, the booking still stands, so find it. */
async function created(ctx: Ctx, answer: AppointmentAnswer): Promise<SupplierOutcome> {
  const { flow, serviceId } = ctx;
  if (answer.appointment) {
    const mapped = toSupplierAppointment(answer.appointment, { serviceId, ...(answer.etag ? { etag: answer.etag } : {}) });
    if (!('reason' in mapped)) return outcome('BOOKED', null, { appointment: mapped });
    flow.log.warn({ reason: mapped.reason }, 'booked, but the answer could not be read');
  }
  // Location: [base]/Appointment/{id}/_history/{vid} (spec 2.4).
  const ref = answer.appointment?.id ?? logicalId(answer.location, 'Appointment');
  if (ref && FHIR_ID.test(ref)) {
    const read = await readOne(flow, ref);
    if (read.kind === 'ok') {
      const mapped = toSupplierAppointment(read.appointment, { serviceId, ...(read.etag ? { etag: read.etag } : {}) });
      if (!('reason' in mapped)) return outcome('BOOKED', null, { appointment: mapped });
    }
  }
  const r = await reconcile(ctx);
  if (r.kind === 'found') return outcome('BOOKED', null, { appointment: r.appointment });
  return outcome('OUTCOME_UNKNOWN', say.bookedUnreadable(flow.system.id));
}

/** The provider may have booked and did not say: only finding the booking settles it. */
async function settleUncertain(ctx: Ctx): Promise<SupplierOutcome> {
  const r = await reconcile(ctx);
  if (r.kind === 'found') return bookedEarlier(r.appointment);
  return outcome('OUTCOME_UNKNOWN', say.outcomeUnknown(ctx.flow.system.id));
}

/**
 * Looks for this slot's booking among the patient's appointments at this provider: a booked appointment with the
 * slot's start and end, read back (for its version) and confirmed to be this slot (appointment-map isBookingOf).
 * The provider answers the search with what this organisation booked only, so a match is our earlier booking.
 */
async function reconcile(ctx: Ctx): Promise<Reconciled> {
  const { flow, slot } = ctx;
  const result = await lookFor(ctx);
  flow.log.info({ step: 'reconcile', result: result.kind, ...(result.kind === 'found' ? { appointment: result.appointment.ref } : {}) }, 'reconciled');
  return result;

  async function lookFor({ nhsNumber, reference }: Ctx): Promise<Reconciled> {
    // By our booking reference first: it needs no NHS number, and only our booking carries it.
    const byReference = await searchByBookingReference(flow, reference);
    if (byReference.kind === 'failed') return { kind: 'unknown' };
    if (byReference.kind === 'ok') {
      const r = await confirm(byReference.entries);
      if (r.kind !== 'absent' || !nhsNumber) return r;
    }
    // The provider does not search by our reference (or did not keep it): the patient's appointments, by NHS number.
    if (!nhsNumber) return { kind: 'unknown' };
    const found = await searchByNhsNumber(flow, nhsNumber);
    if (found.kind !== 'ok') return { kind: 'unknown' };
    return confirm(found.entries);
  }

  /** A booked appointment of this slot among the entries, read back (for its version) and confirmed. */
  async function confirm(entries: { appointment: FhirAppointment; fullUrl?: string }[]): Promise<Reconciled> {
    const { serviceId } = ctx;
    const candidates = entries.filter((e) => appointmentStatus(e.appointment.status) === 'BOOKED' && isBookingOf(e.appointment, slot));
    for (const c of candidates) {
      const ref = appointmentRef(c.appointment, c.fullUrl);
      if (!ref || !FHIR_ID.test(ref)) continue;
      const read = await readOne(flow, ref);
      if (read.kind === 'failed') return { kind: 'unknown' };
      if (read.kind === 'refused') continue;
      if (appointmentStatus(read.appointment.status) !== 'BOOKED' || !isBookingOf(read.appointment, slot)) continue;
      const mapped = toSupplierAppointment(read.appointment, { serviceId, ...(read.etag ? { etag: read.etag } : {}) });
      if ('reason' in mapped) return { kind: 'unknown' };
      return { kind: 'found', appointment: mapped };
    }
    return { kind: 'absent' };
  }
}

function bookedEarlier(appointment: SupplierAppointment): SupplierOutcome {
  return outcome('BOOKED', say.bookedEarlier, { appointment });
}

function refused(s: string, code: FailureCode, diagnostics: string | undefined): SupplierOutcome {
  // POST /Appointment itself is not there: registry or SDS drift, not anything about this booking.
  if (code === 'NOT_FOUND') return outcome('SUPPLIER_UNAVAILABLE', say.noBookingEndpoint(s));
  return bookingRefusal(s, code, diagnostics);
}

function finish(flow: Flow, o: SupplierOutcome): SupplierOutcome {
  flow.log.info({ outcome: o.code, ...(o.appointment ? { appointment: o.appointment.ref } : {}) }, 'booking');
  return o;
}
