/**
 * The top-K read path as a whole, against a brute-force merge (issue 9): each supplier system ranks its services'
 * slots (common/top-slots.ts, as `<prefix>TopSlots` does) and sends its first K; the gateway k-way merges the
 * systems' lists (availability.ts mergeTop/pageOf). For random service sets, slot lists, windows, hand-off choices
 * and both sorts: the merged first N equal the full merge's first N, and paging through every page (as cursors do)
 * loses and repeats nothing, with an exact totalCount and no hasNextPage leading to a page the API would refuse.
 */
import { describe, expect, it } from 'vitest';
import { inWindow } from '../../subgraphs/kit/slot-windows.js';
import { isHandoff, kWayMerge, rankService, topK } from '../../common/top-slots.js';
import { MAX_POSITION, modeFor, pageOf, rankServices, type DirectoryService, type RankedSlot, type SlotData, type SupplierAnswers } from './availability.js';

/** Deterministic: a failing seed is printed and replays. */
function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const BASE = Date.parse('2026-12-07T00:00:00Z');

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
    // Earliest first, as the slot loading hands them over.
    list.sort((a, b) => Date.parse(a.start) - Date.parse(b.start));
    slots.set(s.id, list);
  }
  const a = BASE + int(3 * 24) * 3_600_000 - 6 * 3_600_000;
  const b = a + (1 + int(4 * 24)) * 3_600_000;
  // Big worlds take the whole three days, so a search has more slots than it pages through.
  if (big) return { services, slots, from: new Date(BASE), to: new Date(BASE + 3 * 86_400_000), includeHandoff: r() < 0.6, sort };
  return { services, slots, from: new Date(a), to: new Date(b), includeHandoff: r() < 0.6, sort };
}

/** What the suppliers would answer a top-K question with this K: each system ranks its own services. */
function askSuppliers(w: World, k: number): SupplierAnswers {
  const answers: SupplierAnswers = { lists: [], services: new Map(), failures: [] };
  const bySystem = new Map<string, DirectoryService[]>();
  for (const s of w.services) bySystem.set(s.supplier!.id, [...(bySystem.get(s.supplier!.id) ?? []), s]);
  for (const group of bySystem.values()) {
    const ranked = group.map((s) => rankService({ serviceId: s.id, rank: s.rank, slots: w.slots.get(s.id)!.filter((x) => inWindow(x, w)) }, w.includeHandoff));
    for (const r of ranked) answers.services.set(r.serviceId, { totalCount: r.keyed.length, places: r.keyed.length, fetchedAt: null, stale: false });
    const byId = new Map(group.map((s) => [s.id, s]));
    // Through JSON, as the answer crosses HTTP.
    const top = JSON.parse(JSON.stringify(topK(ranked, Math.min(k, 500), modeFor(w.sort)).map((x) => ({ startMs: x.a, rank: x.b, slot: x.slot })))) as {
      startMs: number;
      slot: SlotData;
    }[];
    answers.lists.push(top.map((t): RankedSlot => { const service = byId.get(t.slot.serviceId)!; return { a: t.startMs, b: service.rank, c: 0, id: t.slot.id, slot: t.slot, service }; }));
  }
  return answers;
}

/** Every qualifying slot, sorted by the documented order, computed the slow obvious way. */
function bruteForce(w: World): string[] {
  const all: { slot: SlotData; service: DirectoryService }[] = [];
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
  return all.sort(w.sort === 'DISTANCE' ? byDistance : byStart).map((x) => x.slot.id);
}

const SEEDS = Array.from({ length: 150 }, (_, i) => 1000 + i);

describe('top-K per system, k-way merged at the gateway', () => {
  it.each(SEEDS)('seed %i: the merged first N equal the full merge first N', (seed) => {
    const w = world(seed);
    const full = bruteForce(w);
    const r = rng(seed * 7);
    for (const n of [1, 2, 5, 1 + Math.floor(r() * 60), full.length, full.length + 3]) {
      const k = Math.max(1, Math.min(n, MAX_POSITION));
      const got = pageOf(askSuppliers(w, k), w.sort, 0, k);
      expect(got.items.map((m) => m.slot.id), `N=${k}`).toEqual(full.slice(0, k));
      expect(got.total).toBe(full.length);
    }
  });

  it.each([...SEEDS.slice(0, 60), 7001, 7002, 7003, 7004, 7005, 7006])('seed %i: paging through every page loses and repeats nothing', (seed) => {
    const w = world(seed, seed > 7000);
    const full = bruteForce(w);
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
      seen.push(...page.items.map((m) => m.slot.id));
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

  it('kWayMerge equals a sort of the concatenation, and stops at the limit', () => {
    const r = rng(42);
    for (let t = 0; t < 200; t++) {
      const lists = Array.from({ length: Math.floor(r() * 6) }, () => Array.from({ length: Math.floor(r() * 20) }, () => Math.floor(r() * 50)).sort((a, b) => a - b));
      const limit = Math.floor(r() * 80);
      expect(kWayMerge(lists, (a, b) => a - b, limit)).toEqual(lists.flat().sort((a, b) => a - b).slice(0, limit));
    }
  });
});
