/**
 * `<prefix>TopSlots` as every supplier subgraph answers it (slot-windows.ts topSlots, top-slots.ts ranking): the
 * first K of its services by (start, rank, id) or per service, exact per-service counts, failures per service, and
 * bounded input refused with typed errors naming the field.
 */
import { GraphQLError } from 'graphql';
import { describe, expect, it } from 'vitest';
import type { SubgraphContext } from './context.js';
import { slotFields, type SlotWindow, type TopSlotsInput, type WindowSlots } from '../subgraphs/kit/slot-windows.js';
import { UpstreamError } from './upstream.js';
import { supplierError } from './errors.js';

interface S {
  id: string;
  start: string;
  bookable: boolean;
  bookingLink: string | null;
  capacity: number | null;
  nativeKey?: string;
}

const NOW = new Date('2026-12-07T08:00:00Z');
const at = (h: number, m = 0) => new Date(Date.UTC(2026, 11, 7, h, m)).toISOString();

/** Per service: its slots (any order the supplier likes), or a failure. */
const DATA: Record<string, S[] | UpstreamError> = {
  a: [
    { id: 'a2', start: at(10), bookable: true, bookingLink: null, capacity: null },
    { id: 'a1', start: at(9), bookable: true, bookingLink: null, capacity: 3 },
  ],
  b: [
    { id: 'b1', start: at(9), bookable: true, bookingLink: null, capacity: null },
    { id: 'b2', start: at(9, 30), bookable: false, bookingLink: 'https://example.org/b2', capacity: null },
    { id: 'b3', start: at(11), bookable: true, bookingLink: null, capacity: null },
  ],
  down: new UpstreamError('sys', 'UNAVAILABLE', 503),
  // One diary mapped to two services (an ED and its co-located UTC): n1 and n2 are listed under both.
  ed: [
    { id: 'ed-own', start: at(8, 30), bookable: true, bookingLink: null, capacity: null },
    { id: 'ed-n1', start: at(9), bookable: true, bookingLink: null, capacity: null, nativeKey: 'n1' },
    { id: 'ed-n2', start: at(10), bookable: true, bookingLink: null, capacity: null, nativeKey: 'n2' },
  ],
  utc: [
    { id: 'utc-n1', start: at(9), bookable: true, bookingLink: null, capacity: null, nativeKey: 'n1' },
    { id: 'utc-n2', start: at(10), bookable: true, bookingLink: null, capacity: null, nativeKey: 'n2' },
    { id: 'utc-own', start: at(11), bookable: true, bookingLink: null, capacity: 2 },
  ],
};

function fields(stale = false) {
  return slotFields<S>({
    name: 'test:slots',
    now: () => NOW,
    fetchSpans: (spans: readonly SlotWindow[]) =>
      spans.map(async (w): Promise<WindowSlots<S>> => {
        const d = DATA[w.serviceId];
        if (!d || d instanceof Error) throw d ?? new UpstreamError('sys', 'REJECTED', 404);
        return { slots: [...d].sort((x, y) => Date.parse(x.start) - Date.parse(y.start)), fetchedAt: NOW.toISOString(), ...(stale ? { stale: true } : {}) };
      }),
    toError: (system, err) => (err instanceof UpstreamError ? supplierError(system, err.reason) : (err as Error)),
  });
}

const ctx = (): SubgraphContext => ({ consumer: { odsCode: 'RX8', name: 'NHS 111' }, traceId: 't', loaders: new Map() });

function input(over: Partial<TopSlotsInput> = {}): TopSlotsInput {
  return {
    services: [
      { id: 'a', system: 'sys', rank: 1 },
      { id: 'b', system: 'sys', rank: 0 },
      { id: 'down', system: 'sys', rank: 2 },
    ],
    from: at(0),
    to: at(23),
    first: 3,
    mode: 'MERGED',
    includeHandoff: true,
    ...over,
  };
}

describe('topSlots', () => {
  it('MERGED: the first K by start, equal starts by rank; exact counts and places; a failing service named', async () => {
    const out = await fields().topSlots(input(), ctx());
    // a1 and b1 both start at 09:00: b has the lower rank (nearer), so it comes first.
    expect(out.slots.map((s) => s.slot.id)).toEqual(['b1', 'a1', 'b2']);
    expect(out.slots.map((s) => s.startMs)).toEqual([Date.parse(at(9)), Date.parse(at(9)), Date.parse(at(9, 30))]);
    expect(out.services).toEqual([
      { serviceId: 'a', totalCount: 2, places: 4, distinctCount: 2, distinctPlaces: 4, firstStart: at(9), fetchedAt: NOW.toISOString(), stale: false, failure: null },
      { serviceId: 'b', totalCount: 3, places: 3, distinctCount: 3, distinctPlaces: 3, firstStart: at(9), fetchedAt: NOW.toISOString(), stale: false, failure: null },
      { serviceId: 'down', totalCount: null, places: null, distinctCount: null, distinctPlaces: null, firstStart: null, fetchedAt: null, stale: false, failure: 'UNAVAILABLE' },
    ]);
    // Nothing shared: nobody else lists any of them.
    expect(out.slots.every((s) => s.alsoListedAs.length === 0)).toBe(true);
  });

  it('MERGED with groups (sort by distance): a lower group first whatever its starts, equal groups by start; K in all', async () => {
    const grouped = input({
      services: [
        { id: 'b', system: 'sys', rank: 0, group: 0 },
        { id: 'a', system: 'sys', rank: 1, group: 1 },
        { id: 'ed', system: 'sys', rank: 2, group: 1 },
      ],
      first: 5,
    });
    const out = await fields().topSlots(grouped, ctx());
    // All of b (group 0) first, though a1 and ed-own start before b3; then a and ed interleaved by start, rank.
    expect(out.slots.map((s) => s.slot.id)).toEqual(['b1', 'b2', 'b3', 'ed-own', 'a1']);
  });

  it('refuses a group out of bounds, naming the field', async () => {
    const bad = input({ services: [{ id: 'a', system: 'sys', rank: 0, group: -1 }] });
    await expect(fields().topSlots(bad, ctx())).rejects.toMatchObject({ extensions: { field: 'input.services.group' } });
  });

  it('PER_SERVICE: each service its own first K; hand-offs neither sent nor counted when excluded', async () => {
    const out = await fields().topSlots(input({ first: 1, mode: 'PER_SERVICE', includeHandoff: false }), ctx());
    expect(out.slots.map((s) => s.slot.id).sort()).toEqual(['a1', 'b1']);
    expect(out.services.find((s) => s.serviceId === 'b')).toMatchObject({ totalCount: 2 });
  });

  describe('one physical slot under two services', () => {
    const shared = (over: Partial<TopSlotsInput>) =>
      input({ services: [{ id: 'utc', system: 'sys', rank: 0 }, { id: 'ed', system: 'sys', rank: 1 }], first: 10, ...over });

    it('MERGED: sent once, under the lower-ranked service, naming the other; counts say all and distinct', async () => {
      const out = await fields().topSlots(shared({}), ctx());
      expect(out.slots.map((s) => [s.slot.id, s.alsoListedAs])).toEqual([
        ['ed-own', []],
        ['utc-n1', [{ serviceId: 'ed', slotId: 'ed-n1' }]],
        ['utc-n2', [{ serviceId: 'ed', slotId: 'ed-n2' }]],
        ['utc-own', []],
      ]);
      expect(out.services).toEqual([
        { serviceId: 'utc', totalCount: 3, places: 4, distinctCount: 3, distinctPlaces: 4, firstStart: at(9), fetchedAt: NOW.toISOString(), stale: false, failure: null },
        // The ED lists three, but two are the UTC's: one counted here; its earliest is its own, 08:30.
        { serviceId: 'ed', totalCount: 3, places: 3, distinctCount: 1, distinctPlaces: 1, firstStart: at(8, 30), fetchedAt: NOW.toISOString(), stale: false, failure: null },
      ]);
    });

    it('PER_SERVICE: the other service sends its own next slots instead, so K still fills', async () => {
      const out = await fields().topSlots(shared({ mode: 'PER_SERVICE', first: 2 }), ctx());
      expect(out.slots.map((s) => s.slot.id)).toEqual(['utc-n1', 'utc-n2', 'ed-own']);
      expect(out.slots[0]!.alsoListedAs).toEqual([{ serviceId: 'ed', slotId: 'ed-n1' }]);
    });

    it('when the claiming service fails, the other service lists the slot as its own', async () => {
      const out = await fields().topSlots(
        shared({ services: [{ id: 'down', system: 'sys', rank: 0 }, { id: 'ed', system: 'sys', rank: 1 }] }),
        ctx(),
      );
      expect(out.slots.map((s) => s.slot.id)).toEqual(['ed-own', 'ed-n1', 'ed-n2']);
      expect(out.services[1]).toMatchObject({ totalCount: 3, distinctCount: 3 });
    });

    it('in another supplier system the same native key is another slot', async () => {
      const out = await fields().topSlots(shared({ services: [{ id: 'utc', system: 'sys', rank: 0 }, { id: 'ed', system: 'other', rank: 1 }] }), ctx());
      expect(out.slots).toHaveLength(6);
      expect(out.services.map((s) => s.distinctCount)).toEqual([3, 3]);
    });
  });

  it('says when the data are the last good ones (stale)', async () => {
    const out = await fields(true).topSlots(input({ services: [{ id: 'a', system: 'sys', rank: 0 }] }), ctx());
    expect(out.services[0]).toMatchObject({ serviceId: 'a', stale: true });
  });

  const bad: [string, Partial<TopSlotsInput>, string][] = [
    ['K of 0', { first: 0 }, 'input.first'],
    ['K over 500', { first: 501 }, 'input.first'],
    ['no services', { services: [] }, 'input.services'],
    ['101 services', { services: Array.from({ length: 101 }, (_, i) => ({ id: `s${i}`, system: 'sys', rank: i })) }, 'input.services'],
    ['a service twice', { services: [{ id: 'a', system: 'sys', rank: 0 }, { id: 'a', system: 'sys', rank: 1 }] }, 'input.services'],
    ['an id of 201 characters', { services: [{ id: 'x'.repeat(201), system: 'sys', rank: 0 }] }, 'input.services.id'],
    ['a negative rank', { services: [{ id: 'a', system: 'sys', rank: -1 }] }, 'input.services.rank'],
    ['a window over 14 days', { to: new Date(NOW.getTime() + 15 * 86_400_000).toISOString() }, 'input.to'],
    ['a negative maxAge', { maxAge: -1 }, 'input.maxAge'],
  ];
  it.each(bad)('refuses %s with a typed error naming %s', async (_what, over, field) => {
    const err = await fields()
      .topSlots(input(over), ctx())
      .then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(GraphQLError);
    expect((err as GraphQLError).extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
  });

  it('refuses a call without a consumer organisation', async () => {
    const err = await fields()
      .topSlots(input(), { ...ctx(), consumer: null })
      .then(() => null, (e: unknown) => e);
    expect((err as GraphQLError).extensions).toMatchObject({ code: 'FORBIDDEN' });
  });
});
