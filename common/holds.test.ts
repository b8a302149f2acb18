/**
 * The hold store on a real redis-server: exclusive grants under concurrency (one of many), retries of the same hold,
 * the per-system read that ignores an expired hold by its score alone, ending a hold, idempotency keys, one lease per
 * physical slot across the services listing it, the per-consumer bound, and every key of one system under one tag.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type TestRedis } from '../test/redis.js';
import { HoldStore, holdsKey, pairKey, type HoldRecord } from './holds.js';
import { encodeSlotId } from './slot-id.js';

let server: TestRedis;
const clients: Redis[] = [];
let clock = 1_000_000;

function store(perConsumer?: number): HoldStore {
  const r = new Redis(server.url, { maxRetriesPerRequest: 0 });
  clients.push(r);
  return new HoldStore(r, () => clock, perConsumer);
}

beforeAll(async () => {
  server = await startRedis();
});
afterAll(async () => {
  for (const c of clients) c.disconnect();
  await server.dispose();
});

let n = 0;
function hold(over: Partial<HoldRecord> = {}): HoldRecord {
  n++;
  // A system of its own per hold unless a test says otherwise: holds are kept per system.
  return { hid: `h${n}`, system: `sys-${n}`, serviceId: `svc-${Math.floor(n / 100)}`, slotId: `slot-${n}`, consumer: 'RX8', kind: 'GATEWAY_SOFT', expiresAtMs: clock + 60_000, ...over };
}

describe('hold store (Redis)', () => {
  it('grants exactly one of 20 concurrent exclusive holds on one slot, from separate connections', async () => {
    const stores = Array.from({ length: 4 }, store);
    const base = hold({ serviceId: 'race' });
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) => stores[i % 4]!.acquire({ ...base, hid: `race-${i}`, consumer: `C${i}` }, true)),
    );
    expect(answers.filter((a) => a.granted)).toHaveLength(1);
    const live = await stores[0]!.live([{ system: base.system, serviceId: 'race' }]);
    expect(live.get(pairKey(base.system, 'race'))).toHaveLength(1);
  });

  it('the same hold granted again is the same hold (a retry); an ended hold frees the slot at once', async () => {
    const s = store();
    const h = hold();
    const first = await s.acquire(h, true);
    expect(first).toEqual({ granted: true, hold: h });
    expect(await s.acquire({ ...h, expiresAtMs: h.expiresAtMs + 5000 }, true)).toEqual({ granted: true, hold: h });
    expect((await s.acquire({ ...h, hid: 'other' }, true)).granted).toBe(false);
    expect(await s.get(h)).toEqual(h);
    expect(await s.end(h)).toBe(true);
    expect(await s.end(h)).toBe(false);
    expect(await s.get(h)).toBeNull();
    expect((await s.live([h])).get(pairKey(h.system, h.serviceId))).toEqual([]);
    expect((await s.acquire({ ...h, hid: 'other' }, true)).granted).toBe(true);
  });

  it('non-exclusive (SUPPLIER) holds record several per slot, one per place', async () => {
    const s = store();
    const a = hold({ kind: 'SUPPLIER', serviceId: 'sessions', supplierRef: 'hd_1' });
    const b = { ...a, hid: `${a.hid}-b`, consumer: 'A91', supplierRef: 'hd_2' };
    expect((await s.acquire(a, false)).granted).toBe(true);
    expect((await s.acquire(b, false)).granted).toBe(true);
    const live = (await s.live([a])).get(pairKey(a.system, a.serviceId))!;
    expect(live.map((l) => [l.slotId, l.consumer]).sort()).toEqual([[a.slotId, 'A91'], [a.slotId, 'RX8']]);
  });

  it('an expired hold is out of every read the moment its expiry passes, and pruned by the next grant', async () => {
    const s = store();
    const h = hold({ serviceId: 'expiry', expiresAtMs: clock + 1000 });
    await s.acquire(h, true);
    expect((await s.live([h])).get(pairKey(h.system, h.serviceId))).toHaveLength(1);
    clock += 1000;
    try {
      expect((await s.live([h])).get(pairKey(h.system, h.serviceId))).toEqual([]);
      expect(await s.get(h)).toBeNull();
      await s.acquire(hold({ system: h.system, serviceId: 'expiry' }), true);
      expect(await server.client().zcard(holdsKey(h.system))).toBe(1);
    } finally {
      clock -= 1000;
    }
  });

  it('idempotency keys: new, then pending, then the hold; another request with the key is a mismatch', async () => {
    const s = store();
    expect(await s.claimKey('k1', 'fp', 10_000)).toEqual({ kind: 'new' });
    expect(await s.claimKey('k1', 'fp', 10_000)).toEqual({ kind: 'pending' });
    expect(await s.claimKey('k1', 'other', 10_000)).toEqual({ kind: 'mismatch' });
    const h = hold();
    await s.finishKey('k1', 'fp', h);
    expect(await s.claimKey('k1', 'fp', 10_000)).toEqual({ kind: 'done', hold: h });
    await s.releaseKey('k1');
    expect(await s.claimKey('k1', 'fp', 10_000)).toEqual({ kind: 'new' });
    clock += 20_000;
    try {
      expect(await s.claimKey('k1', 'fp', 10_000)).toEqual({ kind: 'new' });
    } finally {
      clock -= 20_000;
    }
  });

  it('keeps one system\'s keys under one hash tag, and stores ids only', async () => {
    const s = store();
    const h = hold({ serviceId: 'tagged' });
    await s.acquire(h, true);
    const keys = (await server.client().keys('holds:v1:{*')).filter((k) => k.startsWith(holdsKey(h.system).slice(0, -1)));
    expect(keys.length).toBe(4); // the set, the record, the lease and the consumer's holds
    const tags = new Set(keys.map((k) => /\{([^}]+)\}/.exec(k)![1]));
    expect(tags.size).toBe(1);
  });

  it('one physical slot listed under two services (a shared diary) has one lease, and its hold is read through either', async () => {
    const s = store();
    const system = 'harbour-shared';
    const ref = '1~slot-utc-0900~sch-main~abc~jag0~';
    const viaUtc = hold({ system, serviceId: 'utc', slotId: encodeSlotId({ system, serviceId: 'utc', ref }), consumer: 'RX8' });
    const viaEd = hold({ system, serviceId: 'ed', slotId: encodeSlotId({ system, serviceId: 'ed', ref }), consumer: 'A91' });
    expect((await s.acquire(viaUtc, true)).granted).toBe(true);
    expect((await s.acquire(viaEd, true)).granted).toBe(false);
    const live = await s.live([{ system, serviceId: 'ed' }]);
    expect(live.get(pairKey(system, 'ed'))).toEqual([{ hid: viaUtc.hid, slotId: viaUtc.slotId, serviceId: 'utc', ref, consumer: 'RX8' }]);
    await s.end(viaUtc);
    expect((await s.acquire(viaEd, true)).granted).toBe(true);
  });

  it('one consumer may have only so many live holds at a system; ended or expired ones make room; others are not held back', async () => {
    const s = store(2);
    const system = 'bounded';
    const mine = [1, 2, 3].map((i) => hold({ system, slotId: `slot-b${i}`, consumer: 'RX8', expiresAtMs: clock + 1000 * i }));
    expect((await s.acquire(mine[0]!, true)).granted).toBe(true);
    expect((await s.acquire(mine[1]!, false)).granted).toBe(true);
    expect(await s.acquire(mine[2]!, true)).toEqual({ granted: false, reason: 'LIMIT' });
    expect(await s.hasRoom(system, 'RX8')).toBe(false);
    expect((await s.acquire(hold({ system, slotId: 'slot-theirs', consumer: 'A91' }), true)).granted).toBe(true);
    expect(await s.acquire(hold({ system, slotId: 'slot-theirs', consumer: 'B22' }), true)).toEqual({ granted: false, reason: 'HELD' });
    await s.end(mine[1]!);
    expect((await s.acquire(mine[2]!, true)).granted).toBe(true);
    clock += 1500; // mine[0] expires
    try {
      expect(await s.hasRoom(system, 'RX8')).toBe(true);
      expect((await s.acquire(hold({ system, slotId: 'slot-b4', consumer: 'RX8' }), true)).granted).toBe(true);
    } finally {
      clock -= 1500;
    }
  });
});
