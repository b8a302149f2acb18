/**
 * The top-K read path as a whole, against a brute-force merge (issue 9): each supplier system ranks its services'
 * slots (common/top-slots.ts, as `<prefix>TopSlots` does) and sends its first K; the gateway k-way merges the
 * systems' lists (availability.ts mergeTop/pageOf). For random service sets, slot lists, windows, hand-off choices
 * and both sorts: the merged first N equal the full merge's first N, and paging through every page (as cursors do)
 * loses and repeats nothing, with an exact totalCount and no hasNextPage leading to a page the API would refuse.
 *
 * One physical slot, shown once (issue 12): in about half the worlds a supplier system maps a diary to several of its
 * services, so the same native slot (same `nativeKey`, its own id per service) is listed under each. The brute force
 * then keeps the first listing of each physical slot in the page order and names the others on it; the real path
 * (claimShared in each system, the gateway's merge) must give exactly that, pages included, with K still filled.
 */
import { describe, expect, it } from 'vitest';
import { inWindow } from '../../subgraphs/kit/slot-windows.js';
import { seededRandom } from '../../sandbox/booking-standard/prng.js';
import { claimShared, isHandoff, kWayMerge, rankService, topK, type Listing } from '../../common/top-slots.js';
import { topSlotsRoute } from './suppliers.js';
import { MAX_POSITION, distanceGroups, modeFor, pageOf, rankServices, type DirectoryService, type RankedSlot, type SlotData, type SupplierAnswers } from './availability.js';

/** Deterministic: a failing seed is printed and replays. */
const rng = seededRandom;

const BASE = Date.parse('2026-12-07T00:00:00Z');

type Slotted = SlotData & { nativeKey?: string };

interface World {
  services: DirectoryService[];
  slots: Map<string, SlotData[]>;
  from: Date;
  to: Date;
  includeHandoff: boolean;
  sort: 'START' | 'DISTANCE';
}

function world(seed: number, big = false): World {
  const r = rng(seed);
  const int = (n: number) => Math.floor(r() * n);
  const systems = ['harbour-uec', 'meridian-ooh', 'oakfield-pas', 'feeds-a'].slice(0, 1 + int(4));
  const sort = r() < 0.5 ? 'START' : 'DISTANCE';
  const n = big ? 3 + int(4) : 1 + int(12);
  const raw = Array.from({ length: n }, (_, i) => {
    const system = systems[int(systems.length)]!;
    // Few distinct distances, so equal distances (and their id tie-break) are common; unknown ones now and then.
    const distanceKm = r() < 0.1 ? null : [0.4, 1.2, 1.2, 3.5, 7.0][int(5)]!;
    return {
      __typename: system === 'oakfield-pas' ? 'PasRestService' : 'BookingStandardService',
      id: `14020${String(1000 + int(9000))}-${i}`,
      name: `Service ${i}`,
      serviceType: 'URGENT_TREATMENT_CENTRE' as const,
      supplier: { id: system, kind: system === 'oakfield-pas' ? 'PAS_REST' : system === 'feeds-a' ? 'SMART_LINKS' : 'BOOKING_STANDARD' },
      location: { postcode: null, lat: null, lon: null },
      capacityStatus: null,
      distanceKm,
    };
  });
  const services = rankServices(raw) as DirectoryService[];
  const slots = new Map<string, SlotData[]>();
  for (const s of services) {
    const count = big ? 120 + int(200) : int(40);
    const list: SlotData[] = Array.from({ length: count }, (_, j) => {
      // Starts on a coarse grid over three days, so equal starts across services are common; some with an offset.
      const ms = BASE + int(3 * 24 * 4) * 15 * 60_000;
      const bst = r() < 0.3;
      const start = bst ? new Date(ms + 3_600_000).toISOString().replace('Z', '+01:00').replace('.000', '') : new Date(ms).toISOString();
      const handoff = s.supplier!.kind === 'SMART_LINKS' && r() < 0.7;
      return {
        id: `slot-${s.id}-${String(j).padStart(3, '0')}`,
        serviceId: s.id,
        start,
        end: start,
        status: 'FREE',
        deliveryChannel: 'IN_PERSON',
        practitioner: null,
        capacity: null,
        bookingLink: handoff ? 'https://example.org/book' : null,
        bookingPhone: null,
        bookable: !handoff,
        fetchedAt: new Date(BASE).toISOString(),
        source: 'CACHE',
      } as SlotData;
    });
    slots.set(s.id, list);
  }
  // Shared diaries: per system, now and then, one diary mapped to two or three of its services. Its slots are listed
  // under each, with the same native key and start and an id of that service's own.
  if (r() < 0.5) {
    for (const system of systems) {
      const own = services.filter((s) => s.supplier!.id === system);
      if (own.length < 2) continue;
      const sharing = own.filter(() => r() < 0.6).slice(0, 3);
      if (sharing.length < 2) continue;
      const count = big ? 60 + int(150) : 1 + int(25);
      for (let j = 0; j < count; j++) {
        const ms = BASE + int(3 * 24 * 4) * 15 * 60_000;
        const start = new Date(ms).toISOString();
        for (const s of sharing) {
          const template = { ...(slots.get(s.id)![0] ?? {}) } as SlotData;
          const shared: Slotted = { ...template, id: `slot-${s.id}-sh${String(j).padStart(3, '0')}`, serviceId: s.id, start, end: start, nativeKey: `native-${system}-${j}`, bookable: true, bookingLink: null, fetchedAt: new Date(BASE).toISOString(), source: 'CACHE', status: 'FREE', deliveryChannel: 'IN_PERSON', practitioner: null, capacity: null, bookingPhone: null };
          slots.get(s.id)!.push(shared);
        }
      }
    }
  }
  // Earliest first, as the slot loading hands them over.
  for (const list of slots.values()) list.sort((a, b) => Date.parse(a.start) - Date.parse(b.start));
  const a = BASE + int(3 * 24) * 3_600_000 - 6 * 3_600_000;
  const b = a + (1 + int(4 * 24)) * 3_600_000;
  // Big worlds take the whole three days, so a search has more slots than it pages through.
  if (big) return { services, slots, from: new Date(BASE), to: new Date(BASE + 3 * 86_400_000), includeHandoff: r() < 0.6, sort };
  return { services, slots, from: new Date(a), to: new Date(b), includeHandoff: r() < 0.6, sort };
}

/**
 * What the suppliers would answer a top-K question with this K, asked once per subgraph as fetchTop asks (Harbour and
 * Meridian together at booking-standard): each subgraph ranks the services of every system it serves and claims
 * shared slots within each system.
 */
function askSuppliers(w: World, k: number): SupplierAnswers {
  const answers: SupplierAnswers = { lists: [], services: new Map(), failures: [] };
  const bySubgraph = new Map<string, DirectoryService[]>();
  for (const s of w.services) {
    const subgraph = topSlotsRoute(s.supplier!.kind)!.subgraph;
    bySubgraph.set(subgraph, [...(bySubgraph.get(subgraph) ?? []), s]);
  }
  // The groups the gateway sends (fetchTop): by distance, one per distance over every service of the search.
  const groups = distanceGroups(w.services, w.sort);
  for (const group of bySubgraph.values()) {
    const ranked = group.map((s) => ({
      ...rankService({ serviceId: s.id, rank: s.rank, system: s.supplier!.id, slots: w.slots.get(s.id)!.filter((x) => inWindow(x, w)) }, w.includeHandoff),
      ...(groups ? { group: groups.get(s.id)! } : {}),
    }));
    const claimed = claimShared(ranked);
    for (const r of claimed.services) {
      answers.services.set(r.serviceId, { totalCount: r.all, places: r.all, distinctCount: r.slots.length, distinctPlaces: r.slots.length, firstStart: null, fetchedAt: null, stale: false });
    }
    const byId = new Map(group.map((s) => [s.id, s]));
    // Through JSON, as the answer crosses HTTP.
    const top = JSON.parse(
      JSON.stringify(topK(claimed.services, Math.min(k, 500), modeFor(w.sort)).map((x) => ({ startMs: x.a, rank: x.b, slot: x.slot, alsoListedAs: claimed.also.get(x.id) ?? [] }))),
    ) as { startMs: number; slot: SlotData; alsoListedAs: Listing[] }[];
    answers.lists.push(
      top.map((t): RankedSlot => {
        const service = byId.get(t.slot.serviceId)!;
        const also = t.alsoListedAs.map((l) => ({ slotId: l.slotId, service: byId.get(l.serviceId)! }));
        return { a: t.startMs, b: service.rank, c: 0, id: t.slot.id, slot: t.slot, service, ...(also.length > 0 ? { also } : {}) };
      }),
    );
  }
  return answers;
}

/** Every qualifying slot, sorted by the documented order, computed the slow obvious way. */
function bruteForceListings(w: World): { slot: Slotted; service: DirectoryService }[] {
  const all: { slot: Slotted; service: DirectoryService }[] = [];
  for (const s of w.services) {
    for (const slot of w.slots.get(s.id)!) {
      if (!inWindow(slot, w)) continue;
      if (!w.includeHandoff && isHandoff(slot)) continue;
      all.push({ slot, service: s });
    }
  }
  const dist = (x: { service: DirectoryService }) => x.service.distanceKm ?? Number.POSITIVE_INFINITY;
  const start = (x: { slot: SlotData }) => Date.parse(x.slot.start);
  const cmpStr = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  const tie = (a: (typeof all)[number], b: (typeof all)[number]) => cmpStr(a.service.id, b.service.id) || cmpStr(a.slot.id, b.slot.id);
  const byDistance = (a: (typeof all)[number], b: (typeof all)[number]) => {
    const d = dist(a) === dist(b) ? 0 : dist(a) - dist(b);
    return d || start(a) - start(b) || tie(a, b);
  };
  const byStart = (a: (typeof all)[number], b: (typeof all)[number]) => {
    const d = dist(a) === dist(b) ? 0 : dist(a) - dist(b);
    return start(a) - start(b) || d || tie(a, b);
  };
  return all.sort(w.sort === 'DISTANCE' ? byDistance : byStart);
}

/** The page order with each physical slot once: its first listing, naming the later ones ("id>svc:id,svc:id"). */
function bruteForceShown(w: World): string[] {
  const first = new Map<string, { id: string; also: string[] }>();
  const shown: { id: string; also: string[] }[] = [];
  for (const x of bruteForceListings(w)) {
    const key = x.slot.nativeKey ? `${x.service.supplier!.id}|${x.slot.nativeKey}` : null;
    const earlier = key ? first.get(key) : undefined;
    if (earlier) {
      earlier.also.push(`${x.service.id}:${x.slot.id}`);
      continue;
    }
    const entry = { id: x.slot.id, also: [] as string[] };
    if (key) first.set(key, entry);
    shown.push(entry);
  }
  return shown.map((e) => (e.also.length > 0 ? `${e.id}>${e.also.join(',')}` : e.id));
}

function bruteForce(w: World): string[] {
  return bruteForceListings(w).map((x) => x.slot.id);
}

const shownIds = (items: readonly RankedSlot[]) => items.map((m) => (m.also?.length ? `${m.id}>${m.also.map((o) => `${o.service.id}:${o.slotId}`).join(',')}` : m.id));

const SEEDS = Array.from({ length: 150 }, (_, i) => 1000 + i);

describe('top-K per system, k-way merged at the gateway', () => {
  it.each(SEEDS)('seed %i: the merged first N equal the full merge first N', (seed) => {
    const w = world(seed);
    const full = bruteForceShown(w);
    const r = rng(seed * 7);
    for (const n of [1, 2, 5, 1 + Math.floor(r() * 60), full.length, full.length + 3]) {
      const k = Math.max(1, Math.min(n, MAX_POSITION));
      const got = pageOf(askSuppliers(w, k), w.sort, 0, k);
      expect(shownIds(got.items), `N=${k}`).toEqual(full.slice(0, k));
      expect(got.total).toBe(full.length);
    }
  });

  it.each([...SEEDS.slice(0, 60), 7001, 7002, 7003, 7004, 7005, 7006])('seed %i: paging through every page loses and repeats nothing', (seed) => {
    const w = world(seed, seed > 7000);
    const full = bruteForceShown(w);
    const pageSize = 1 + Math.floor(rng(seed * 13)() * (seed > 7000 ? 200 : 40));
    const seen: string[] = [];
    let offset = 0;
    for (let pages = 0; ; pages++) {
      expect(pages).toBeLessThan(1000);
      // As validateAvailability reads a page: a cursor at or past the end is refused, a long page shortened.
      expect(offset).toBeLessThan(MAX_POSITION);
      const first = Math.min(pageSize, MAX_POSITION - offset);
      const page = pageOf(askSuppliers(w, offset + first), w.sort, offset, first);
      expect(page.total).toBe(full.length);
      seen.push(...shownIds(page.items));
      if (!page.hasNextPage) break;
      // hasNextPage promises a non-empty next page.
      expect(page.items.length).toBe(first);
      offset += page.items.length;
    }
    expect(seen).toEqual(full.slice(0, MAX_POSITION));
    expect(new Set(seen).size).toBe(seen.length);
  });

  it('the big worlds really reach past the last position a search pages through', () => {
    expect(Math.max(...[7001, 7002, 7003].map((s) => bruteForce(world(s, true)).length))).toBeGreaterThan(MAX_POSITION);
  });

  it('shared diaries are really exercised, and both sorts drop listings; a world without one is unchanged', () => {
    const dropped = { START: 0, DISTANCE: 0 };
    let unshared = 0;
    for (const seed of SEEDS) {
      const w = world(seed);
      const listed = bruteForce(w).length;
      const shown = bruteForceShown(w).length;
      if (shown < listed) dropped[w.sort]++;
      if (![...w.slots.values()].some((l) => l.some((x) => (x as Slotted).nativeKey))) {
        unshared++;
        expect(bruteForceShown(w)).toEqual(bruteForce(w));
      }
    }
    expect(dropped.START).toBeGreaterThan(10);
    expect(dropped.DISTANCE).toBeGreaterThan(10);
    expect(unshared).toBeGreaterThan(30);
  });

  it('claimShared leaves services without native keys as they were (same arrays, counts equal)', () => {
    const w = world(1003);
    const ranked = w.services.map((s) => rankService({ serviceId: s.id, rank: s.rank, system: s.supplier!.id, slots: w.slots.get(s.id)!.filter((x) => !(x as Slotted).nativeKey) }, true));
    const claimed = claimShared(ranked);
    expect(claimed.also.size).toBe(0);
    claimed.services.forEach((c, i) => {
      expect(c.slots).toBe(ranked[i]!.slots);
      expect(c.all).toBe(c.slots.length);
    });
  });

  it('a native key is one physical slot within its supplier system only', () => {
    const slot = (id: string, nativeKey: string) => ({ id, start: '2026-12-07T09:00:00Z', nativeKey });
    const ranked = [
      rankService({ serviceId: 'a', rank: 0, system: 'harbour-uec', slots: [slot('a1', 'n1')] }, true),
      rankService({ serviceId: 'b', rank: 1, system: 'meridian-ooh', slots: [slot('b1', 'n1')] }, true),
      rankService({ serviceId: 'c', rank: 2, system: 'harbour-uec', slots: [slot('c1', 'n1')] }, true),
    ];
    const claimed = claimShared(ranked);
    expect(claimed.services.map((s) => [s.serviceId, s.slots.map((x) => x.id), s.all])).toEqual([
      ['a', ['a1'], 1],
      ['b', ['b1'], 1],
      ['c', [], 1],
    ]);
    expect(claimed.also.get('a1')).toEqual([{ serviceId: 'c', slotId: 'c1' }]);
  });

  it('kWayMerge equals a sort of the concatenation, and stops at the limit', () => {
    const r = rng(42);
    for (let t = 0; t < 200; t++) {
      const lists = Array.from({ length: Math.floor(r() * 6) }, () => Array.from({ length: Math.floor(r() * 20) }, () => Math.floor(r() * 50)).sort((a, b) => a - b));
      const limit = Math.floor(r() * 80);
      expect(kWayMerge(lists, (a, b) => a - b, limit)).toEqual(lists.flat().sort((a, b) => a - b).slice(0, limit));
    }
  });
});
