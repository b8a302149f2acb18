/**
 * The gateway's hold operations on a real redis-server, with a stand-in supplier router: SUPPLIER holds asked of the
 * supplier first and recorded (its refusals mapped), GATEWAY_SOFT holds exclusive, retries with the same key answered
 * with the same hold even while the first is still running, releases, and the checks a booking makes.
 */
import { pino } from 'pino';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HoldStore, pairKey } from '../../common/holds.js';
import { decodeHoldId, encodeSlotId } from '../../common/slot-id.js';
import { startRedis, type TestRedis } from '../../test/redis.js';
import { holdOperations } from './holds.js';
import { Hasher } from './idempotency.js';
import type { OperationsContext } from './context.js';
import type { SupplierRouter } from './suppliers.js';

let server: TestRedis;
let redis: Redis;
let store: HoldStore;
const calls: string[] = [];
let supplierAnswer: { code: string; holdRef: string | null; expiresAt: string | null; message: string | null } = { code: 'HELD', holdRef: 'hd_1', expiresAt: null, message: null };
let supplierDelayMs = 0;

const router = {
  holdKind: (system: string) => ({ pas: 'SUPPLIER', bs: 'GATEWAY_SOFT', feed: 'NOT_HOLDABLE' } as Record<string, string>)[system] ?? 'UNROUTABLE',
  async holdSlot(system: string, input: { slotRef: string; seconds: number }) {
    calls.push(`hold ${system} ${input.slotRef} ${input.seconds}`);
    await new Promise((r) => setTimeout(r, supplierDelayMs));
    return { ...supplierAnswer, expiresAt: supplierAnswer.expiresAt ?? new Date(Date.now() + input.seconds * 1000).toISOString() };
  },
  async releaseHold(system: string, input: { holdRef: string }) {
    calls.push(`release ${system} ${input.holdRef}`);
    return { code: 'RELEASED', holdRef: null, expiresAt: null, message: null };
  },
} as unknown as SupplierRouter;

const ctx = (odsCode: string): OperationsContext => ({ consumer: { odsCode, name: odsCode } as OperationsContext['consumer'], authenticated: true, traceId: 't' });
let n = 0;
const key = () => `holds-test-${++n}-key`;
const ops = () => holdOperations({ router, holds: store, hasher: new Hasher('a-test-secret-of-16+'), logger: pino({ level: 'silent' }), now: () => new Date(), waitForPendingMs: 5000 });

beforeAll(async () => {
  server = await startRedis();
  redis = new Redis(server.url, { maxRetriesPerRequest: 0 });
  store = new HoldStore(redis);
});
afterAll(async () => {
  redis.disconnect();
  await server.dispose();
});

describe('holdSlot', () => {
  it('SUPPLIER: asks the supplier, records its hold (so slot answers hide it) and keeps its id for the booking', async () => {
    const slotId = encodeSlotId({ system: 'pas', serviceId: 'svc1', ref: 'ref-1' });
    supplierAnswer = { code: 'HELD', holdRef: 'hd_abc', expiresAt: null, message: null };
    const r = await ops().holdSlot({ slotId, seconds: 90, idempotencyKey: key() }, ctx('RX8'));
    expect(r).toMatchObject({ outcome: 'HELD', hold: { holdKind: 'SUPPLIER', slotId, active: true } });
    expect(calls.at(-1)).toBe('hold pas ref-1 90');
    expect((await store.live([{ system: 'pas', serviceId: 'svc1' }])).get(pairKey('pas', 'svc1'))).toEqual([expect.objectContaining({ slotId, consumer: 'RX8' })]);
    const booking = await ops().forBooking({ system: 'pas', serviceId: 'svc1' }, slotId, r.hold!.id, ctx('RX8'));
    expect(booking).toMatchObject({ ok: true, own: { supplierRef: 'hd_abc' } });

    supplierAnswer = { code: 'SLOT_HELD', holdRef: null, expiresAt: null, message: 'held by someone else' };
    const other = await ops().holdSlot({ slotId, seconds: 90, idempotencyKey: key() }, ctx('A91'));
    expect(other).toMatchObject({ outcome: 'SLOT_HELD', error: { field: 'slotId' } });
    expect(other.hold ?? null).toBeNull();
  });

  it('SUPPLIER: once the hold has ended, its supplier id is still known to the holder\'s booking retries, and to nobody else', async () => {
    const slotId = encodeSlotId({ system: 'pas', serviceId: 'svc9', ref: 'ref-9' });
    supplierAnswer = { code: 'HELD', holdRef: 'hd_gone', expiresAt: null, message: null };
    const r = await ops().holdSlot({ slotId, seconds: 60, idempotencyKey: key() }, ctx('RX8'));
    const hold = (await store.get({ system: 'pas', hid: decodeHoldId(r.hold!.id)!.ref }))!;
    await store.end(hold); // as a booking that took it, or its expiry, would
    expect(await ops().forBooking({ system: 'pas', serviceId: 'svc9' }, slotId, r.hold!.id, ctx('RX8'))).toEqual({ ok: true, own: null, grantedRef: 'hd_gone' });
    expect(await ops().forBooking({ system: 'pas', serviceId: 'svc9' }, slotId, r.hold!.id, ctx('A91'))).toEqual({ ok: true, own: null, grantedRef: null });
  });

  it('GATEWAY_SOFT: one holder per slot; another consumer\'s booking through us is refused, the holder\'s goes ahead', async () => {
    const slotId = encodeSlotId({ system: 'bs', serviceId: 'svc2', ref: 'ref-2' });
    const first = await ops().holdSlot({ slotId, seconds: 60, idempotencyKey: key() }, ctx('RX8'));
    expect(first.outcome).toBe('HELD');
    expect((await ops().holdSlot({ slotId, seconds: 60, idempotencyKey: key() }, ctx('A91'))).outcome).toBe('SLOT_HELD');
    expect(await ops().forBooking({ system: 'bs', serviceId: 'svc2' }, slotId, null, ctx('A91'))).toMatchObject({ ok: false, outcome: 'SLOT_UNAVAILABLE', field: 'slotId' });
    expect(await ops().forBooking({ system: 'bs', serviceId: 'svc2' }, slotId, first.hold!.id, ctx('A91'))).toMatchObject({ ok: false, outcome: 'INVALID_REQUEST', field: 'holdId' });
    const own = await ops().forBooking({ system: 'bs', serviceId: 'svc2' }, slotId, first.hold!.id, ctx('RX8'));
    expect(own).toMatchObject({ ok: true, own: { hid: expect.any(String) } });
    if (!own.ok) throw new Error('expected the holder\'s own hold');
    await ops().afterBooking(own.own);
    expect(await ops().forBooking({ system: 'bs', serviceId: 'svc2' }, slotId, null, ctx('A91'))).toEqual({ ok: true, own: null, grantedRef: null });
  });

  it('the same key is the same hold, also while the first request is still at the supplier; another request with it is refused', async () => {
    const slotId = encodeSlotId({ system: 'pas', serviceId: 'svc3', ref: 'ref-3' });
    supplierAnswer = { code: 'HELD', holdRef: 'hd_same', expiresAt: null, message: null };
    supplierDelayMs = 300;
    const k = key();
    const before = calls.length;
    const [a, b] = await Promise.all([ops().holdSlot({ slotId, seconds: 60, idempotencyKey: k }, ctx('RX8')), ops().holdSlot({ slotId, seconds: 60, idempotencyKey: k }, ctx('RX8'))]);
    supplierDelayMs = 0;
    expect(a.hold!.id).toBe(b.hold!.id);
    expect(calls.length - before).toBe(1);
    expect((await ops().holdSlot({ slotId, seconds: 30, idempotencyKey: k }, ctx('RX8')))).toMatchObject({ outcome: 'INVALID_REQUEST', error: { field: 'idempotencyKey' } });
  });

  it('release: the holder only; the supplier is told; then NOT_FOUND', async () => {
    const slotId = encodeSlotId({ system: 'pas', serviceId: 'svc4', ref: 'ref-4' });
    supplierAnswer = { code: 'HELD', holdRef: 'hd_rel', expiresAt: null, message: null };
    const h = (await ops().holdSlot({ slotId, seconds: 60, idempotencyKey: key() }, ctx('RX8'))).hold!;
    expect((await ops().releaseHold(h.id, ctx('A91'))).outcome).toBe('FORBIDDEN');
    expect((await ops().releaseHold(h.id, ctx('RX8'))).outcome).toBe('RELEASED');
    expect(calls.at(-1)).toBe('release pas hd_rel');
    expect((await ops().releaseHold(h.id, ctx('RX8'))).outcome).toBe('NOT_FOUND');
    expect((await ops().releaseHold('nonsense', ctx('RX8'))).error!.field).toBe('holdId');
  });

  it('without a store: HOLDS_UNAVAILABLE; feeds: NOT_HOLDABLE before anything else', async () => {
    const none = holdOperations({ router, hasher: new Hasher('a-test-secret-of-16+'), logger: pino({ level: 'silent' }), now: () => new Date() });
    expect((await none.holdSlot({ slotId: encodeSlotId({ system: 'bs', serviceId: 's', ref: 'r' }), seconds: 10, idempotencyKey: key() }, ctx('RX8'))).outcome).toBe('HOLDS_UNAVAILABLE');
    expect((await none.holdSlot({ slotId: encodeSlotId({ system: 'feed', serviceId: 's', ref: 'r' }), seconds: 10, idempotencyKey: key() }, ctx('RX8'))).outcome).toBe('NOT_HOLDABLE');
  });
});
