/**
 * The gateway's holds (`holdSlot`, `releaseHold`, and what `bookAppointment` does with a `holdId`), over the shared
 * hold store (common/holds.ts), which every supplier subgraph reads to hide held slots from other consumers.
 *
 *   SUPPLIER       the slot's supplier system holds a place itself (its subgraph serves <prefix>HoldSlot): asked
 *                  first; the hold it grants is then recorded in the store (not exclusive: the supplier arbitrates
 *                  places), so our slot answers hide it at once, and its id travels with the booking.
 *   GATEWAY_SOFT   every other system that takes bookings: the store's exclusive lease is the hold (one per slot:
 *                  these systems' slots are single places, capacity null).
 *   feeds          not holdable: a typed NOT_HOLDABLE.
 *
 * Idempotency: the hold's own id is derived from (consumer, idempotencyKey), so a retry finds the same hold; the key's
 * record (24 hours) keeps the request's fingerprint, so the same key for another slot or duration is refused. Nothing
 * about a patient exists at hold time, and nothing but ids and times is stored.
 */
import type { Logger } from 'pino';
import type { HoldRecord, HoldStore } from '../../common/holds.js';
import { pairKey, refOf } from '../../common/holds.js';
import { decodeHoldId, decodeSlotId, encodeHoldId } from '../../common/slot-id.js';
import type { OperationsContext } from './context.js';
import type { HoldSlotInput, HoldSlotResult, Hold, HoldOutcome, ReleaseHoldResult } from './generated/resolvers.js';
import type { Hasher } from './idempotency.js';
import { canonicalJson } from '../../common/canonical-json.js';
import type { SupplierRouter } from './suppliers.js';
import { IDEMPOTENCY_KEY } from './validate.js';

export const MAX_HOLD_SECONDS = 300;

export interface HoldDeps {
  router: SupplierRouter;
  /** Absent without Redis: no holds can be kept (HOLDS_UNAVAILABLE). */
  holds?: HoldStore;
  hasher: Hasher;
  logger: Logger;
  now: () => Date;
  /** How long a second request with the same key waits for the first to finish. */
  waitForPendingMs?: number;
}

function problem<T extends { outcome: string }>(outcome: T['outcome'], message: string, field: string | null = null): T {
  return { outcome, error: { message, field, diagnostics: null } } as unknown as T;
}

function view(h: HoldRecord, active: boolean, slotId: string): Hold {
  return {
    id: encodeHoldId({ system: h.system, serviceId: h.serviceId, ref: h.hid }),
    slotId,
    holdKind: h.kind,
    expiresAt: new Date(h.expiresAtMs).toISOString(),
    active,
  };
}

const SUPPLIER_CODES: Record<string, Exclude<HoldOutcome, 'HELD'>> = {
  SLOT_HELD: 'SLOT_HELD',
  SLOT_UNAVAILABLE: 'SLOT_UNAVAILABLE',
  INVALID_REQUEST: 'INVALID_REQUEST',
};

export function holdOperations(deps: HoldDeps) {
  const waitMs = deps.waitForPendingMs ?? 10_000;

  async function holdSlot(input: HoldSlotInput, ctx: OperationsContext): Promise<HoldSlotResult> {
    const slot = decodeSlotId(input.slotId);
    if (!slot) return problem('INVALID_REQUEST', 'slotId is not a slot id this gateway issued', 'slotId');
    if (!Number.isInteger(input.seconds) || input.seconds < 1 || input.seconds > MAX_HOLD_SECONDS) {
      return problem('INVALID_REQUEST', `seconds must be a whole number from 1 to ${MAX_HOLD_SECONDS}`, 'seconds');
    }
    if (!IDEMPOTENCY_KEY.test(input.idempotencyKey)) {
      return problem('INVALID_REQUEST', "idempotencyKey must be 8 to 128 characters: letters, digits, '-', '_', ':' or '.'", 'idempotencyKey');
    }
    const kind = deps.router.holdKind(slot.system);
    if (kind === 'UNROUTABLE') return problem('INVALID_REQUEST', 'The slot belongs to a supplier system this gateway cannot book', 'slotId');
    if (kind === 'NOT_HOLDABLE') {
      return problem('NOT_HOLDABLE', 'This slot comes from a published feed: it is booked on the provider\'s own site or by phone, and cannot be held', 'slotId');
    }
    const store = deps.holds;
    if (!store) return problem('HOLDS_UNAVAILABLE', 'This gateway keeps no holds (it runs without its shared store)');

    const hid = deps.hasher.hex('hold', ctx.consumer.odsCode, input.idempotencyKey).slice(0, 32);
    const fingerprint = deps.hasher.hex(canonicalJson({ slotId: input.slotId, seconds: input.seconds }));
    try {
      const deadline = Date.now() + waitMs;
      for (;;) {
        const claim = await store.claimKey(hid, fingerprint, waitMs + 5000);
        if (claim.kind === 'mismatch') return problem('INVALID_REQUEST', 'This idempotencyKey was already used for a different hold', 'idempotencyKey');
        if (claim.kind === 'done') return { outcome: 'HELD', hold: view(claim.hold, (await store.get(claim.hold)) !== null, input.slotId), error: null };
        if (claim.kind === 'new') break;
        if (Date.now() > deadline) return problem('SUPPLIER_UNAVAILABLE', 'A hold with this idempotencyKey is still in progress; retry shortly with the same key');
        await new Promise((r) => setTimeout(r, 100));
      }
    } catch (err) {
      deps.logger.warn({ err: (err as Error).message, traceId: ctx.traceId }, 'hold store unavailable');
      return problem('HOLDS_UNAVAILABLE', 'This gateway cannot keep holds right now; try again shortly');
    }

    const record: HoldRecord = {
      hid,
      system: slot.system,
      serviceId: slot.serviceId,
      slotId: input.slotId,
      consumer: ctx.consumer.odsCode,
      kind,
      expiresAtMs: deps.now().getTime() + input.seconds * 1000,
    };
    const result = kind === 'SUPPLIER' ? await supplierHold(record, slot.ref, input.seconds, ctx) : await softHold(record);
    try {
      if (result.outcome === 'HELD') await store.finishKey(hid, fingerprint, result.record);
      else await store.releaseKey(hid);
    } catch (err) {
      deps.logger.warn({ err: (err as Error).message, traceId: ctx.traceId }, 'could not record the hold against its key');
    }
    deps.logger.info({ traceId: ctx.traceId, system: slot.system, kind, outcome: result.outcome }, 'hold');
    if (result.outcome !== 'HELD') return problem(result.outcome, result.message, result.outcome === 'SLOT_HELD' || result.outcome === 'SLOT_UNAVAILABLE' ? 'slotId' : null);
    return { outcome: 'HELD', hold: view(result.record, true, input.slotId), error: null };
  }

  type Attempt = { outcome: 'HELD'; record: HoldRecord } | { outcome: Exclude<HoldOutcome, 'HELD'>; message: string };
  const tooMany: Attempt = {
    outcome: 'TOO_MANY_HOLDS',
    message: 'Your organisation already has its most live holds at this supplier system: book or release one, or wait for one to expire',
  };

  async function softHold(record: HoldRecord): Promise<Attempt> {
    try {
      const r = await deps.holds!.acquire(record, true);
      if (r.granted) return { outcome: 'HELD', record: r.hold };
      return r.reason === 'LIMIT' ? tooMany : { outcome: 'SLOT_HELD', message: 'Someone else holds this slot; it may be offered again when that hold ends' };
    } catch (err) {
      deps.logger.warn({ err: (err as Error).message }, 'hold store unavailable');
      return { outcome: 'HOLDS_UNAVAILABLE', message: 'This gateway cannot keep holds right now; try again shortly' };
    }
  }

  async function supplierHold(record: HoldRecord, slotRef: string, seconds: number, ctx: OperationsContext): Promise<Attempt> {
    // Checked before the supplier is asked, so a consumer at its most does not take a place there first.
    try {
      if (!(await deps.holds!.hasRoom(record.system, record.consumer))) return tooMany;
    } catch (err) {
      deps.logger.warn({ err: (err as Error).message }, 'hold store unavailable');
      return { outcome: 'HOLDS_UNAVAILABLE', message: 'This gateway cannot keep holds right now; try again shortly' };
    }
    let out;
    try {
      out = await deps.router.holdSlot(record.system, { system: record.system, serviceId: record.serviceId, slotRef, seconds }, ctx);
    } catch (err) {
      deps.logger.warn({ err: (err as Error).message, traceId: ctx.traceId }, 'supplier hold call failed');
      return { outcome: 'SUPPLIER_UNAVAILABLE', message: 'The supplier system did not answer; if it held the slot, that hold expires by itself' };
    }
    if (out.code !== 'HELD' || !out.holdRef || !out.expiresAt) {
      return { outcome: SUPPLIER_CODES[out.code] ?? 'SUPPLIER_UNAVAILABLE', message: out.message ?? 'The supplier system did not hold the slot' };
    }
    // Never longer than the supplier keeps it.
    const held: HoldRecord = { ...record, supplierRef: out.holdRef, expiresAtMs: Math.min(record.expiresAtMs, Date.parse(out.expiresAt)) };
    let refused: Attempt = { outcome: 'HOLDS_UNAVAILABLE', message: 'This gateway cannot keep holds right now; try again shortly' };
    try {
      const r = await deps.holds!.acquire(held, false);
      if (r.granted) return { outcome: 'HELD', record: r.hold };
      // Only the per-consumer bound refuses a SUPPLIER hold here (concurrent holds passed the early check together).
      refused = tooMany;
    } catch (err) {
      deps.logger.warn({ err: (err as Error).message, traceId: ctx.traceId }, 'hold store unavailable after the supplier held');
    }
    // Held at the supplier but not recorded here: let it go rather than hand out a hold our answers do not honour.
    await deps.router.releaseHold(record.system, { system: record.system, serviceId: record.serviceId, holdRef: out.holdRef }, ctx).catch(() => undefined);
    return refused;
  }

  async function releaseHold(holdId: string, ctx: OperationsContext): Promise<ReleaseHoldResult> {
    const ref = decodeHoldId(holdId);
    if (!ref) return problem('INVALID_REQUEST', 'holdId is not a hold id this gateway issued', 'holdId');
    if (!deps.holds) return problem('HOLDS_UNAVAILABLE', 'This gateway keeps no holds (it runs without its shared store)');
    let h: HoldRecord | null;
    try {
      h = await deps.holds.get({ system: ref.system, hid: ref.ref });
    } catch {
      return problem('HOLDS_UNAVAILABLE', 'This gateway cannot reach its holds right now; the hold expires by itself');
    }
    if (!h) return problem('NOT_FOUND', 'No live hold by this id: it expired, was released, or was booked', 'holdId');
    if (h.consumer !== ctx.consumer.odsCode) return problem('FORBIDDEN', 'This hold belongs to another organisation', 'holdId');
    if (h.kind === 'SUPPLIER' && h.supplierRef) {
      try {
        const out = await deps.router.releaseHold(h.system, { system: h.system, serviceId: h.serviceId, holdRef: h.supplierRef }, ctx);
        if (out.code !== 'RELEASED' && out.code !== 'NOT_FOUND') return problem('SUPPLIER_UNAVAILABLE', out.message ?? 'The supplier system could not release the hold; it expires by itself');
      } catch {
        return problem('SUPPLIER_UNAVAILABLE', 'The supplier system did not answer; the hold expires by itself');
      }
    }
    await deps.holds.end(h).catch(() => undefined);
    deps.logger.info({ traceId: ctx.traceId, system: h.system, kind: h.kind }, 'hold released');
    return { outcome: 'RELEASED', error: null };
  }

  /**
   * Before a booking: the consumer's own live hold named by `holdId` (whose supplier id the booking carries), or a
   * refusal when another consumer's soft hold keeps the slot. Redis away: the booking goes ahead unchecked (the
   * supplier still arbitrates), as a soft hold promises nothing beyond this gateway anyway.
   */
  async function forBooking(
    slot: { system: string; serviceId: string },
    slotId: string,
    holdId: string | null,
    ctx: OperationsContext,
  ): Promise<{ ok: true; own: HoldRecord | null; grantedRef: string | null } | { ok: false; field: string; message: string; outcome: 'INVALID_REQUEST' | 'SLOT_UNAVAILABLE' }> {
    if (!deps.holds) return { ok: true, own: null, grantedRef: null };
    try {
      let own: HoldRecord | null = null;
      let grantedRef: string | null = null;
      if (holdId) {
        const ref = decodeHoldId(holdId);
        // Any listing of the held physical slot may be booked with the hold (a shared diary lists it under several
        // services): the hold and the slot must share the system and the adapter's reference.
        if (!ref || ref.system !== slot.system) {
          return { ok: false, outcome: 'INVALID_REQUEST', field: 'holdId', message: 'holdId is not a hold on this slot' };
        }
        own = await deps.holds.get({ system: ref.system, hid: ref.ref });
        if (own && (own.consumer !== ctx.consumer.odsCode || refOf(own.slotId) !== refOf(slotId))) {
          return { ok: false, outcome: 'INVALID_REQUEST', field: 'holdId', message: 'holdId is not a hold of yours on this slot' };
        }
        // The supplier's id for the hold as granted, live or not: a retry of a booking whose first attempt may have
        // used the hold must send what that attempt sent, or the supplier sees another request under the same key.
        const granted = own ?? (await deps.holds.granted(ref.ref));
        if (granted && granted.consumer === ctx.consumer.odsCode && refOf(granted.slotId) === refOf(slotId)) grantedRef = granted.supplierRef ?? null;
      }
      if (deps.router.holdKind(slot.system) === 'GATEWAY_SOFT') {
        const live = (await deps.holds.live([slot])).get(pairKey(slot.system, slot.serviceId)) ?? [];
        const physical = refOf(slotId);
        if (live.some((h) => h.ref === physical && h.consumer !== ctx.consumer.odsCode)) {
          return { ok: false, outcome: 'SLOT_UNAVAILABLE', field: 'slotId', message: 'Another organisation holds this slot; it may be offered again when that hold ends' };
        }
      }
      return { ok: true, own, grantedRef };
    } catch (err) {
      deps.logger.warn({ err: (err as Error).message, traceId: ctx.traceId }, 'hold store unavailable; booking without hold checks');
      return { ok: true, own: null, grantedRef: null };
    }
  }

  /** After a booking that took the slot: the hold has done its work and ends, everywhere at once. */
  async function afterBooking(own: HoldRecord | null): Promise<void> {
    if (own) await deps.holds?.end(own).catch(() => undefined);
  }

  return { holdSlot, releaseHold, forBooking, afterBooking };
}
