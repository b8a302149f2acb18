/**
 * Holding and releasing a place at Oakfield (API.md 6.5) for the gateway's `holdSlot` and `releaseHold`
 * (schema/supplier-holds.graphql). The hold request is a pure function of the slot reference and the duration; a hold
 * is a POST and is never re-sent (a repeat could hold a second place): no answer is OUTCOME_UNKNOWN, and a hold that
 * was granted unseen simply expires. Oakfield's answers, as the contract's codes:
 *
 *   201                                  HELD, with Oakfield's hold id and expiry
 *   409 SLOT_HELD                        SLOT_HELD: another organisation holds every free place
 *   409 SLOT_FULL / SESSION_CLOSED, 404 SESSION_NOT_FOUND, 422 TIME_IN_PAST / TIME_NOT_IN_SESSION
 *                                        SLOT_UNAVAILABLE
 *   401/403                              FORBIDDEN; other 4xx INVALID_REQUEST; 429, 5xx, no answer: as above
 *
 * Release: 200 → RELEASED (also for a hold that had already ended: DELETE is idempotent); 404 NOT_FOUND; 403 FORBIDDEN.
 */
import { UpstreamError } from '../../common/upstream.js';
import type { PasRestSystem } from '../kit/registry.js';
import { HOLD_ID, type CallContext, type HoldAnswer, type PasRestClient } from './client.js';
import type { SupplierHoldCode, SupplierHoldInput, SupplierHoldOutcome, SupplierReleaseHoldInput } from './generated/resolvers.js';
import { decodeSlotRef } from './slot-ref.js';

export interface HoldFlow {
  client: PasRestClient;
  system: PasRestSystem;
  call: CallContext;
}

const MAX_SECONDS = 300;

function result(code: SupplierHoldCode, message: string | null, extra: Partial<SupplierHoldOutcome> = {}): SupplierHoldOutcome {
  return { code, message, holdRef: null, expiresAt: null, ...extra };
}

/** What a refused hold call means (pure). */
export function holdRefusal(status: number, code: string | undefined, s: string): SupplierHoldOutcome {
  if (code === 'SLOT_HELD') return result('SLOT_HELD', `Supplier system ${s}: every free place at this time is held by someone else`);
  if (code === 'SLOT_FULL' || code === 'SESSION_CLOSED' || code === 'SESSION_NOT_FOUND' || code === 'TIME_IN_PAST' || code === 'TIME_NOT_IN_SESSION') {
    return result('SLOT_UNAVAILABLE', `Supplier system ${s} no longer offers this appointment time`);
  }
  if (status === 401 || status === 403) return result('FORBIDDEN', `Supplier system ${s} refused the request`);
  if (status === 429 || status >= 500) return result('SUPPLIER_UNAVAILABLE', `Supplier system ${s} is unavailable; try again shortly`);
  return result('INVALID_REQUEST', `Supplier system ${s} refused the hold request`);
}

export async function holdFlow(flow: HoldFlow, input: SupplierHoldInput): Promise<SupplierHoldOutcome> {
  const s = flow.system.id;
  const slot = decodeSlotRef(input.slotRef);
  if (!slot) return result('INVALID_REQUEST', 'Not a slot reference this adapter issued');
  if (!Number.isInteger(input.seconds) || input.seconds < 1 || input.seconds > MAX_SECONDS) return result('INVALID_REQUEST', `seconds must be from 1 to ${MAX_SECONDS}`);
  let a: HoldAnswer;
  try {
    a = await flow.client.hold(flow.system, { sessionId: slot.sessionId, time: slot.time, ...(slot.fold === 1 ? { fold: 1 as const } : {}), seconds: input.seconds }, flow.call);
  } catch (err) {
    if (!(err instanceof UpstreamError)) throw err;
    // A 429 was not processed; anything else may have held a place, which then expires by itself.
    return result(err.reason === 'RATE_LIMITED' ? 'SUPPLIER_UNAVAILABLE' : 'OUTCOME_UNKNOWN', `Supplier system ${s} did not answer the hold request`);
  }
  if (a.status === 201 || a.status === 200) {
    const id = a.hold?.id;
    const expiresAt = a.hold?.expiresAt;
    if (typeof id === 'string' && HOLD_ID.test(id) && typeof expiresAt === 'string' && !Number.isNaN(Date.parse(expiresAt))) {
      return result('HELD', null, { holdRef: id, expiresAt: new Date(Date.parse(expiresAt)).toISOString() });
    }
    return result('OUTCOME_UNKNOWN', `Supplier system ${s} held the time but its answer could not be read`);
  }
  return holdRefusal(a.status, a.error?.code, s);
}

export async function releaseHoldFlow(flow: HoldFlow, input: SupplierReleaseHoldInput): Promise<SupplierHoldOutcome> {
  const s = flow.system.id;
  if (!HOLD_ID.test(input.holdRef)) return result('INVALID_REQUEST', 'Not a hold id of this supplier');
  let a: HoldAnswer;
  try {
    a = await flow.client.releaseHold(flow.system, input.holdRef, flow.call);
  } catch (err) {
    if (!(err instanceof UpstreamError)) throw err;
    return result('SUPPLIER_UNAVAILABLE', `Supplier system ${s} did not answer; the hold expires by itself`);
  }
  if (a.status === 200) return result('RELEASED', null);
  if (a.status === 404) return result('NOT_FOUND', `Supplier system ${s} holds no such hold`);
  if (a.status === 403 || a.status === 401) return result('FORBIDDEN', `Supplier system ${s} refused the request`);
  return result('SUPPLIER_UNAVAILABLE', `Supplier system ${s} could not release the hold; it expires by itself`);
}
