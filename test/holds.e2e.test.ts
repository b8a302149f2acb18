/**
 * Holds end to end: the whole stack with one redis-server, plus a second gateway process sharing it (a replica).
 * Booking Standard slots get GATEWAY_SOFT holds (20 concurrent requests across both gateways and two consumers grant
 * exactly one; the other consumer neither sees nor books the slot; the holder does both; expiry makes it visible again
 * from both gateways at once). Oakfield slots get SUPPLIER holds (the simulator's own hold, 409 SLOT_HELD for a second
 * holder, mapped; booked with the hold's id). Feed slots cannot be held.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GATEWAY, freePorts, startStack, type Stack } from '../scripts/stack.js';
import { devToken } from '../scripts/token.js';
import { ADAPTERS } from '../subgraphs/adapters.js';
import { SUBGRAPHS } from '../subgraphs/catalog.js';
import type { SupplierAdapter } from '../subgraphs/kit/adapter.js';
import { encodeSlotId } from '../common/slot-id.js';
import { gql, sandboxRequests } from './helpers.js';
import { commandCalls, startRedis, type TestRedis } from './redis.js';
import { defineReplica, type Replica } from './support/replicas.js';

let redis: TestRedis;
let stack: Stack;
let second: Replica;
/** The two gateways, sharing one Redis. */
let gateways: [string, string];
const tokens: Record<'a' | 'b', string> = { a: '', b: '' };
const auth = (who: 'a' | 'b') => ({ authorization: `Bearer ${tokens[who]}` });

const BS = '1402000102'; // harbour-uec, Booking Standard: GATEWAY_SOFT
const PAS = '1402000107'; // oakfield-pas: SUPPLIER

const HOLD = /* GraphQL */ `
  mutation Hold($input: HoldSlotInput!) { holdSlot(input: $input) { outcome error { message field } hold { id slotId holdKind expiresAt active } } }
`;
const RELEASE = /* GraphQL */ `
  mutation Release($id: ID!) { releaseHold(input: { holdId: $id }) { outcome error { message field } } }
`;
const BOOK = /* GraphQL */ `
  mutation Book($input: BookAppointmentInput!) { bookAppointment(input: $input) { outcome error { message field } appointment { id start } } }
`;
const AVAILABILITY = /* GraphQL */ `
  query($s: AvailabilitySearch!) { availability(search: $s) { totalCount edges { node { slot { id } } } } }
`;
const PATIENT = {
  name: { family: 'Jones', given: ['Sian'] },
  birthDate: '1984-02-29',
  gender: 'FEMALE',
  address: { lines: ['1 Park Row'], postcode: 'LS1 5AB' },
};
const HANDOVER = { reportId: '6f1f1c2e-8c7b-4d6e-9f0a-1b2c3d4e5f60', summary: 'Toothache, no swelling.', authorOdsCode: 'RX8' };
let seq = 0;
const key = () => `hold-e2e-${Date.now()}-${++seq}`;
const bookInput = (slotId: string, extra: Record<string, unknown> = {}) => ({ slotId, patient: PATIENT, clinicalHandover: HANDOVER, idempotencyKey: key(), ...extra });

function window() {
  const from = new Date(Date.now() + 24 * 3600_000);
  from.setUTCHours(0, 0, 0, 0);
  return { from: from.toISOString(), to: new Date(from.getTime() + 24 * 3600_000).toISOString() };
}

interface SlotNode { id: string; start: string; capacity: number | null }

async function slots(serviceId: string, who: 'a' | 'b', url = gateways[0]): Promise<SlotNode[]> {
  const typename = serviceId === PAS ? 'PasRestService' : 'BookingStandardService';
  const res = await gql(url, `query($id: ID!, $from: DateTime!, $to: DateTime!) { service(id: $id) { ... on ${typename} { slots(from: $from, to: $to, first: 500) { nodes { id start capacity } } } } }`, { id: serviceId, ...window() }, auth(who));
  expect(res.errors).toBeUndefined();
  return res.data!.service.slots.nodes as SlotNode[];
}

async function availableIds(serviceId: string, who: 'a' | 'b', url = gateways[0]): Promise<string[]> {
  const res = await gql(url, AVAILABILITY, { s: { serviceIds: [serviceId], ...window(), first: 200 } }, auth(who));
  expect(res.errors).toBeUndefined();
  return res.data!.availability.edges.map((e: any) => e.node.slot.id as string);
}

const used = new Set<string>();
async function aSlot(serviceId: string, pick: (s: SlotNode) => boolean = () => true): Promise<SlotNode> {
  const s = (await slots(serviceId, 'a')).find((x) => !used.has(x.id) && pick(x));
  if (!s) throw new Error(`no free slot left at ${serviceId}`);
  used.add(s.id);
  return s;
}

beforeAll(async () => {
  redis = await startRedis();
  // No answer reuse beyond what the holds allow is tested here: the default (3 s) stays on.
  stack = await startStack({ ports: await freePorts(), env: { LOG_LEVEL: 'warn', REDIS_URL: redis.url }, readyTimeoutMs: 180_000 });
  const sandboxEnv: Record<string, string> = Object.assign({}, ...(ADAPTERS as readonly SupplierAdapter[]).map((a) => a.simulator?.env ?? {}));
  const subgraphUrls = Object.fromEntries(SUBGRAPHS.filter((s) => s.remote).map((s) => [s.remote!.urlEnv, stack.url(s.name)]));
  second = await defineReplica({ process: GATEWAY.name, name: 'gateway-2', env: { LOG_LEVEL: 'warn', REDIS_URL: redis.url, ...sandboxEnv, ...subgraphUrls }, readyTimeoutMs: 180_000 });
  await second.start();
  gateways = [stack.gatewayUrl, second.url];
  tokens.a = await devToken({ org: 'RX8' });
  tokens.b = await devToken({ org: 'NLO11' });
}, 400_000);

afterAll(async () => {
  await second?.stop();
  await stack?.stopAll();
  await redis?.dispose();
});

describe('GATEWAY_SOFT holds (Booking Standard)', () => {
  it('20 concurrent holds of one slot, through both gateways and two consumers, grant exactly one', async () => {
    const slot = await aSlot(BS);
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) => gql(gateways[i % 2]!, HOLD, { input: { slotId: slot.id, seconds: 60, idempotencyKey: key() } }, auth(i % 4 < 2 ? 'a' : 'b'))),
    );
    for (const a of answers) expect(a.errors).toBeUndefined();
    const outcomes = answers.map((a) => a.data!.holdSlot.outcome);
    expect(outcomes.filter((o) => o === 'HELD')).toHaveLength(1);
    expect(outcomes.filter((o) => o === 'SLOT_HELD')).toHaveLength(19);
    const held = answers.find((a) => a.data!.holdSlot.outcome === 'HELD')!.data!.holdSlot.hold;
    expect(held).toMatchObject({ slotId: slot.id, holdKind: 'GATEWAY_SOFT', active: true });
  });

  it('another consumer neither sees nor books a held slot; the holder sees it and books it with the hold, which then ends', async () => {
    const slot = await aSlot(BS);
    // Asked before the hold, so each gateway may reuse this answer for a few seconds: it must not, once held.
    for (const url of gateways) expect(await availableIds(BS, 'b', url)).toContain(slot.id);
    const k = key();
    const held = await gql(gateways[0], HOLD, { input: { slotId: slot.id, seconds: 120, idempotencyKey: k } }, auth('a'));
    const hold = held.data!.holdSlot.hold;
    expect(held.data!.holdSlot.outcome).toBe('HELD');
    expect(Date.parse(hold.expiresAt) - Date.now()).toBeGreaterThan(100_000);
    // The same key is the same hold; the same key for another duration is refused, naming the field.
    expect((await gql(gateways[1], HOLD, { input: { slotId: slot.id, seconds: 120, idempotencyKey: k } }, auth('a'))).data!.holdSlot.hold.id).toBe(hold.id);
    expect((await gql(gateways[1], HOLD, { input: { slotId: slot.id, seconds: 60, idempotencyKey: k } }, auth('a'))).data!.holdSlot.error.field).toBe('idempotencyKey');

    for (const url of gateways) {
      expect((await slots(BS, 'b', url)).map((s) => s.id)).not.toContain(slot.id);
      expect(await availableIds(BS, 'b', url)).not.toContain(slot.id);
      expect((await slots(BS, 'a', url)).map((s) => s.id)).toContain(slot.id);
      expect(await availableIds(BS, 'a', url)).toContain(slot.id);
    }
    const theirs = await gql(gateways[1], BOOK, { input: bookInput(slot.id) }, auth('b'));
    expect(theirs.data!.bookAppointment).toMatchObject({ outcome: 'SLOT_UNAVAILABLE', error: { field: 'slotId' } });
    const stolen = await gql(gateways[1], BOOK, { input: bookInput(slot.id, { holdId: hold.id }) }, auth('b'));
    expect(stolen.data!.bookAppointment).toMatchObject({ outcome: 'INVALID_REQUEST', error: { field: 'holdId' } });
    expect((await gql(gateways[1], RELEASE, { id: hold.id }, auth('b'))).data!.releaseHold.outcome).toBe('FORBIDDEN');

    const mine = await gql(gateways[1], BOOK, { input: bookInput(slot.id, { holdId: hold.id }) }, auth('a'));
    expect(mine.data!.bookAppointment.outcome).toBe('BOOKED');
    expect((await gql(gateways[0], RELEASE, { id: hold.id }, auth('a'))).data!.releaseHold.outcome).toBe('NOT_FOUND');
  });

  it('an availability search hands the holds the gateway read to the supplier subgraph, which reads none itself', async () => {
    const slot = await aSlot(BS);
    const held = await gql(gateways[0], HOLD, { input: { slotId: slot.id, seconds: 120, idempotencyKey: key() } }, auth('a'));
    expect(held.data!.holdSlot.outcome).toBe('HELD');
    // A window no earlier search asked (a few seconds shorter), so the answer is fetched, not reused.
    const w = window();
    const s = { serviceIds: [BS], from: w.from, to: new Date(Date.parse(w.to) - 1000 * (1 + (seq++ % 3600))).toISOString(), first: 200 };
    const reads = async () => (await commandCalls(redis.client())).zrangebyscore ?? 0;
    const before = await reads();
    const res = await gql(gateways[0], AVAILABILITY, { s }, auth('b'));
    const after = await reads();
    expect(res.data!.availability.edges.map((e: any) => e.node.slot.id)).not.toContain(slot.id);
    // One read of the system's holds: the gateway's, before asking (the subgraph read them again before).
    expect(after - before).toBe(1);
    expect((await gql(gateways[0], RELEASE, { id: held.data!.holdSlot.hold.id }, auth('a'))).data!.releaseHold.outcome).toBe('RELEASED');
  });

  it('released or expired, a held slot is offered again at once, by every gateway', async () => {
    const released = await aSlot(BS);
    const r = await gql(gateways[0], HOLD, { input: { slotId: released.id, seconds: 120, idempotencyKey: key() } }, auth('a'));
    expect(await availableIds(BS, 'b', gateways[1])).not.toContain(released.id);
    expect((await gql(gateways[1], RELEASE, { id: r.data!.holdSlot.hold.id }, auth('a'))).data!.releaseHold.outcome).toBe('RELEASED');
    for (const url of gateways) expect(await availableIds(BS, 'b', url)).toContain(released.id);

    const slot = await aSlot(BS);
    // Long enough for the four reads below to finish before it ends on a busy machine.
    const held = await gql(gateways[0], HOLD, { input: { slotId: slot.id, seconds: 10, idempotencyKey: key() } }, auth('a'));
    const expiresAt = Date.parse(held.data!.holdSlot.hold.expiresAt);
    // Both gateways hide it (and their answers, reused for a few seconds, are checked against the live holds).
    for (const url of gateways) {
      expect(await availableIds(BS, 'b', url)).not.toContain(slot.id);
      expect((await slots(BS, 'b', url)).map((s) => s.id)).not.toContain(slot.id);
    }
    expect(Date.now()).toBeLessThan(expiresAt);
    // Nothing is called when it expires: waiting for the instant itself, then every replica offers it at once.
    await new Promise((r) => setTimeout(r, Math.max(0, expiresAt - Date.now() + 50)));
    for (const url of gateways) {
      expect(await availableIds(BS, 'b', url)).toContain(slot.id);
      expect((await slots(BS, 'b', url)).map((s) => s.id)).toContain(slot.id);
    }
    const booked = await gql(gateways[1], BOOK, { input: bookInput(slot.id) }, auth('b'));
    expect(booked.data!.bookAppointment.outcome).toBe('BOOKED');
  });
});

describe('a slot listed under two services (a shared diary)', () => {
  // Norfolk and Norwich ED and UTC: Harbour maps the UTC's diary to the ED too (sandbox/booking-standard/catalogue.ts),
  // so each of those slots has two ids, one per service, and one physical place.
  const NNUH = ['1404000301', '1404000302'];
  const LISTED = /* GraphQL */ `
    query($s: AvailabilitySearch!) { availability(search: $s) { edges { node { slot { id } alsoListedAs { slotId } } } } }
  `;
  const listings = async (who: 'a' | 'b', url: string): Promise<string[][]> => {
    const res = await gql(url, LISTED, { s: { serviceIds: NNUH, ...window(), first: 200 } }, auth(who));
    expect(res.errors).toBeUndefined();
    return res.data!.availability.edges.map((e: any) => [e.node.slot.id, ...e.node.alsoListedAs.map((a: any) => a.slotId)] as string[]);
  };

  it('held through one listing, the slot is hidden and refused under the other too; the holder books it through either', async () => {
    const row = (await listings('a', gateways[0])).find((ids) => ids.length === 2 && !ids.some((id) => used.has(id)));
    expect(row, 'a slot listed under both services').toBeDefined();
    const [shown, other] = row!;
    used.add(shown!).add(other!);
    // Held through the listing availability did not show.
    const held = await gql(gateways[0], HOLD, { input: { slotId: other, seconds: 120, idempotencyKey: key() } }, auth('a'));
    expect(held.data!.holdSlot.outcome).toBe('HELD');
    for (const url of gateways) {
      const seen = (await listings('b', url)).flat();
      expect(seen).not.toContain(shown);
      expect(seen).not.toContain(other);
      for (const service of NNUH) expect((await slots(service, 'b', url)).map((s) => s.id)).not.toContain(shown);
    }
    expect((await gql(gateways[1], HOLD, { input: { slotId: shown, seconds: 60, idempotencyKey: key() } }, auth('b'))).data!.holdSlot.outcome).toBe('SLOT_HELD');
    const refused = await gql(gateways[1], BOOK, { input: bookInput(shown!) }, auth('b'));
    expect(refused.data!.bookAppointment.outcome).toBe('SLOT_UNAVAILABLE');
    // The holder still sees it, and books it with the hold through the other listing.
    expect((await listings('a', gateways[1])).flat()).toContain(shown);
    const booked = await gql(gateways[0], BOOK, { input: bookInput(shown!, { holdId: held.data!.holdSlot.hold.id }) }, auth('a'));
    expect(booked.data!.bookAppointment.outcome).toBe('BOOKED');
  });
});

describe('SUPPLIER holds (Oakfield PAS)', () => {
  it('holds at the supplier: a second holder gets 409 there (SLOT_HELD here); the holder books with the hold id', async () => {
    const sim = stack.url('sandbox-pas-rest');
    const slot = await aSlot(PAS, (s) => s.capacity === 1);
    const held = await gql(gateways[0], HOLD, { input: { slotId: slot.id, seconds: 120, idempotencyKey: key() } }, auth('a'));
    expect(held.data!.holdSlot).toMatchObject({ outcome: 'HELD', hold: { holdKind: 'SUPPLIER', active: true } });
    const hold = held.data!.holdSlot.hold;

    const other = await gql(gateways[1], HOLD, { input: { slotId: slot.id, seconds: 60, idempotencyKey: key() } }, auth('b'));
    expect(other.data!.holdSlot).toMatchObject({ outcome: 'SLOT_HELD', error: { field: 'slotId' } });
    const holdCalls = (await sandboxRequests(sim)).filter((q) => q.method === 'POST' && q.path.endsWith('/holds'));
    expect(holdCalls.slice(-2).map((q) => [q.status, q.headers['x-requesting-organisation']])).toEqual([[201, 'RX8'], [409, 'NLO11']]);

    expect((await slots(PAS, 'b')).map((s) => s.id)).not.toContain(slot.id);
    expect((await slots(PAS, 'a')).map((s) => s.id)).toContain(slot.id);
    const theirs = await gql(gateways[1], BOOK, { input: bookInput(slot.id) }, auth('b'));
    expect(theirs.data!.bookAppointment.outcome).toBe('SLOT_UNAVAILABLE');

    const mine = await gql(gateways[0], BOOK, { input: bookInput(slot.id, { holdId: hold.id }) }, auth('a'));
    expect(mine.data!.bookAppointment.outcome).toBe('BOOKED');
    const post = (await sandboxRequests(sim)).filter((q) => q.method === 'POST' && q.path.endsWith('/bookings')).at(-1)!;
    expect(JSON.parse(post.body).holdId).toMatch(/^hd_/);
    expect(post.status).toBe(201);
  });
});

describe('what cannot be held, and bounded input', () => {
  it('a feed slot is NOT_HOLDABLE; seconds and the idempotency key are bounded, naming the field', async () => {
    const feedSlot = encodeSlotId({ system: 'smart-urgent-care', serviceId: 'smart:any', ref: 'slot-1' });
    const feed = await gql(gateways[0], HOLD, { input: { slotId: feedSlot, seconds: 60, idempotencyKey: key() } }, auth('a'));
    expect(feed.data!.holdSlot).toMatchObject({ outcome: 'NOT_HOLDABLE', hold: null, error: { field: 'slotId' } });
    const slot = await aSlot(BS);
    for (const [input, field] of [
      [{ slotId: slot.id, seconds: 301, idempotencyKey: key() }, 'seconds'],
      [{ slotId: slot.id, seconds: 0, idempotencyKey: key() }, 'seconds'],
      [{ slotId: slot.id, seconds: 10, idempotencyKey: 'short' }, 'idempotencyKey'],
      [{ slotId: 'not-a-slot-id', seconds: 10, idempotencyKey: key() }, 'slotId'],
    ] as const) {
      const r = await gql(gateways[0], HOLD, { input }, auth('a'));
      expect(r.data!.holdSlot).toMatchObject({ outcome: 'INVALID_REQUEST', error: { field } });
    }
  });
});
