/**
 * The subgraph in process over real HTTP, reading the sandbox publisher's reference feeds: slots of a service as
 * the gateway's planner asks for them (`_entities` with `supplier { id }`), the window rules, failures as typed
 * supplier errors, and the hand-off.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFeedPublisher } from '../../sandbox/feeds/server.js';
import type { SandboxServer } from '../../sandbox/lib/http.js';
import { gatewayHeaders } from '../../common/internal-auth.js';
import { smartSystem } from '../../test/support/feeds.js';
import { loadRegistry, type Registry } from '../kit/registry.js';
import type { RunningSubgraph } from '../kit/server.js';
import { decodeSlotId } from '../../common/slot-id.js';
import { startSmartLinksSubgraph } from './index.js';

const NOW = new Date('2026-11-18T12:00:00Z'); // a Wednesday
const DAY = 86_400_000;
const NHS111 = { odsCode: 'RX8', name: 'Yorkshire Ambulance Service NHS 111' };
const BOSTON = 'smart:smart-vaccines:0:57';
const DATA = fileURLToPath(new URL('../../sandbox/feeds/data/vaccine-clinic/', import.meta.url));

let pub: SandboxServer;
let subgraph: RunningSubgraph;
const logs: string[] = [];

beforeAll(async () => {
  pub = await startFeedPublisher({ port: 0, now: () => NOW });
  const base = loadRegistry(undefined, { SANDBOX_FEEDS_URL: pub.url });
  const dead = smartSystem('smart-dead', 'http://127.0.0.1:9/feed/$bulk-publish', { deadlineMs: 500 });
  const registry: Registry = { ...base, systems: [...base.systems, dead], system: (id) => (id === dead.id ? dead : base.system(id)) };
  subgraph = await startSmartLinksSubgraph({
    port: 0,
    registry,
    now: () => NOW,
    // Generous on a loaded machine: the first poll of both feeds runs while every test file starts.
    firstSnapshotWaitMs: 20_000,
    logger: pino({ level: 'info' }, { write: (line: string) => void logs.push(line) }),
  });
});
afterAll(async () => {
  await subgraph.close();
  await pub.close();
});

async function gql(query: string, variables: Record<string, unknown>, consumer: typeof NHS111 | null = NHS111): Promise<{ data?: any; errors?: any[] }> {
  const sent = JSON.stringify({ query, variables });
  const res = await fetch(subgraph.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...gatewayHeaders(consumer ?? null, { url: subgraph.url, body: sent }) },
    body: sent,
  });
  return (await res.json()) as never;
}

const SLOT = 'id serviceId start end status deliveryChannel capacity bookingLink bookingPhone bookable fetchedAt source practitioner { name role }';
const ENTITIES = `query($reps: [_Any!]!, $from: DateTime, $to: DateTime, $first: Int) {
  _entities(representations: $reps) {
    ... on SmartLinksService { id slots(from: $from, to: $to, first: $first) { totalCount hasMore fetchedAt nodes { ${SLOT} } } nextAvailable { id start } }
  }
}`;
const rep = (id: string, system = 'smart-vaccines') => ({ __typename: 'SmartLinksService', id, supplier: { id: system } });

/** The Boston clinic's slot starts in the window, counted from the published file with our own week shift. */
function expectedBostonStarts(from: Date, to: Date): string[] {
  const weeks = (Date.UTC(2026, 10, 16) - Date.UTC(2021, 2, 1)) / (7 * DAY); // Monday 1 March 2021 → Monday 16 November 2026
  return ['09', '10', '11', '12', '13']
    .flatMap((w) => readFileSync(`${DATA}slots-2021-W${w}.ndjson`, 'utf8').split('\n').filter((l) => l.trim()))
    .map((l) => JSON.parse(l) as { schedule: { reference: string }; start: string })
    .filter((s) => s.schedule.reference === 'Schedule/10')
    .map((s) => new Date(Date.parse(s.start) + weeks * 7 * DAY))
    .filter((d) => d >= from && d <= to)
    .map((d) => d.toISOString())
    .sort();
}

describe('slots of a SMART Links service, as the planner asks for them', () => {
  it('answers the feed slots of the service in the window, earliest first, as shared Slots', async () => {
    const from = NOW;
    const to = new Date(NOW.getTime() + 7 * DAY);
    const r = await gql(ENTITIES, { reps: [rep(BOSTON)], from: from.toISOString(), to: to.toISOString(), first: 3 });
    expect(r.errors).toBeUndefined();
    const svc = r.data._entities[0];
    const expected = expectedBostonStarts(from, to);
    expect(expected.length).toBeGreaterThan(3);
    expect(svc.slots.totalCount).toBe(expected.length);
    expect(svc.slots.hasMore).toBe(true);
    expect(svc.slots.nodes.map((s: { start: string }) => s.start)).toEqual(expected.slice(0, 3));
    expect(svc.slots.nodes[0]).toMatchObject({
      serviceId: BOSTON,
      status: 'FREE',
      deliveryChannel: 'IN_PERSON',
      capacity: 100,
      bookingLink: expect.stringMatching(/^https:\/\/ehr-portal\.example\.org\/bookings\?slot=\d+$/),
      bookingPhone: '000-000-0000',
      bookable: false,
      // From the snapshot the background poller keeps: never LIVE, and every slot carries the snapshot's fetch time.
      source: 'CACHE',
      practitioner: null,
    });
    expect(svc.slots.fetchedAt).toBe(NOW.toISOString());
    for (const s of svc.slots.nodes) expect(s.fetchedAt).toBe(svc.slots.fetchedAt);
    expect(decodeSlotId(svc.slots.nodes[0].id)).toMatchObject({ system: 'smart-vaccines', serviceId: BOSTON });
    expect(svc.nextAvailable.start).toBe(expected[0]);
  });

  it('defaults to the next 24 hours, and answers several services of two feeds in one call', async () => {
    const r = await gql(ENTITIES, { reps: [rep(BOSTON), rep('smart:smart-urgent-care:10:124', 'smart-urgent-care')], first: 500 });
    expect(r.errors).toBeUndefined();
    const [vaccines, gp] = r.data._entities;
    expect(vaccines.slots.nodes.map((s: { start: string }) => s.start)).toEqual(expectedBostonStarts(NOW, new Date(NOW.getTime() + DAY)));
    expect(gp.slots.totalCount).toBeGreaterThan(0);
    expect(gp.slots.nodes[0].practitioner).toEqual({ name: 'Dr. Daniel Michael Peraza', role: 'Medical practitioner' });
    for (const s of gp.slots.nodes) expect(Date.parse(s.start) - NOW.getTime()).toBeLessThanOrEqual(DAY);
  });

  it('a service the feed does not (or no longer) list has no slots', async () => {
    const r = await gql(ENTITIES, { reps: [rep('smart:smart-vaccines:999:57')] });
    expect(r.errors).toBeUndefined();
    expect(r.data._entities[0].slots).toMatchObject({ totalCount: 0, nodes: [], hasMore: false });
    expect(r.data._entities[0].nextAvailable).toBeNull();
  });

  it('applies the window rules of every adapter: at most 14 days, first 1..500, to after from', async () => {
    const codes = async (vars: Record<string, unknown>) => (await gql(ENTITIES, { reps: [rep(BOSTON)], ...vars })).errors?.map((e) => [e.extensions.code, e.extensions.field]);
    expect(await codes({ from: NOW.toISOString(), to: new Date(NOW.getTime() + 15 * DAY).toISOString() })).toContainEqual(['BAD_USER_INPUT', 'to']);
    expect(await codes({ first: 0 })).toContainEqual(['BAD_USER_INPUT', 'first']);
    expect(await codes({ first: 501 })).toContainEqual(['BAD_USER_INPUT', 'first']);
    expect(await codes({ from: NOW.toISOString(), to: NOW.toISOString() })).toContainEqual(['BAD_USER_INPUT', 'to']);
  });

  it('a feed that cannot be had is a typed supplier error naming the system, not its URL', async () => {
    const r = await gql(ENTITIES, { reps: [rep('smart:smart-dead:1:57', 'smart-dead')] });
    expect(r.data._entities[0].slots).toBeNull();
    expect(r.errors![0]).toMatchObject({ extensions: { code: 'SUPPLIER_UNAVAILABLE', supplierSystem: 'smart-dead', reason: 'UNAVAILABLE' } });
    expect(JSON.stringify(r.errors)).not.toContain('127.0.0.1');
  });

  it('refuses without a consumer organisation, as every supplier adapter does', async () => {
    const r = await gql(ENTITIES, { reps: [rep(BOSTON)] }, null);
    expect(r.errors![0].extensions.code).toBe('FORBIDDEN');
  });
});

describe('smartLinksBook: a hand-off, never a booking', () => {
  const BOOK = 'mutation($input: SupplierBookingInput!) { smartLinksBook(input: $input) { code message diagnostics appointment { ref } handoff { bookingLink bookingPhone } } }';
  const input = (slotRef: string, over: Record<string, unknown> = {}) => ({
    system: 'smart-vaccines',
    serviceId: BOSTON,
    slotRef,
    requestId: '6d1c2b3a-4e5f-4a6b-8c7d-9e0f1a2b3c4d',
    mayHaveBooked: false,
    description: '111 referral',
    patient: { nhsNumber: '9476719931', family: 'Jones', given: ['Sian'], birthDate: '1984-02-29', gender: 'female', addressLines: ['1 Park Row'], postcode: 'LS1 5AB' },
    handover: { reportId: 'r-1', reportTypeCode: 'POCD_MT200001GB02', reportTypeDisplay: 'Integrated Urgent Care Report', summary: 'Wrist pain after a fall', authorOdsCode: 'RX8' },
    ...over,
  });

  async function aSlotRef(): Promise<string> {
    const r = await gql(ENTITIES, { reps: [rep(BOSTON)], first: 1 });
    return decodeSlotId(r.data._entities[0].slots.nodes[0].id)!.ref;
  }

  it('answers HANDOFF with the deep link carrying our source and the booking referral, and the phone; logs no patient data', async () => {
    logs.length = 0;
    const r = await gql(BOOK, { input: input(await aSlotRef()) });
    expect(r.errors).toBeUndefined();
    const out = r.data.smartLinksBook;
    expect(out).toMatchObject({ code: 'HANDOFF', appointment: null, diagnostics: null, handoff: { bookingPhone: '000-000-0000' } });
    const link = new URL(out.handoff.bookingLink);
    expect(link.origin + link.pathname).toBe('https://ehr-portal.example.org/bookings');
    expect(link.searchParams.get('slot')).toMatch(/^\d+$/);
    expect(link.searchParams.get('source')).toBe('nhs-booking-gateway');
    expect(link.searchParams.get('booking-referral')).toBe('6d1c2b3a-4e5f-4a6b-8c7d-9e0f1a2b3c4d');
    const logged = logs.join('\n');
    expect(logged).toContain('HANDOFF');
    for (const secret of ['9476719931', 'Jones', 'Sian', '1984-02-29', 'LS1 5AB', 'Wrist pain']) expect(logged).not.toContain(secret);
  });

  it('a slot no longer in the feed is SLOT_UNAVAILABLE', async () => {
    expect((await gql(BOOK, { input: input('no-such-slot') })).data.smartLinksBook).toMatchObject({ code: 'SLOT_UNAVAILABLE', handoff: null });
    expect((await gql(BOOK, { input: input(await aSlotRef(), { serviceId: 'smart:smart-vaccines:1:57' }) })).data.smartLinksBook.code).toBe('SLOT_UNAVAILABLE');
  });

  it('refuses without a consumer, and for a system that is not a feed', async () => {
    expect((await gql(BOOK, { input: input('x') }, null)).data.smartLinksBook.code).toBe('FORBIDDEN');
    expect((await gql(BOOK, { input: input('x', { system: 'harbour-uec' }) })).data.smartLinksBook.code).toBe('INVALID_REQUEST');
  });

  it('a feed that cannot be read is SUPPLIER_UNAVAILABLE, as data', async () => {
    const r = await gql(BOOK, { input: input('x', { system: 'smart-dead', serviceId: 'smart:smart-dead:1:57' }) });
    expect(r.errors).toBeUndefined();
    expect(r.data.smartLinksBook.code).toBe('SUPPLIER_UNAVAILABLE');
  });
});
