/**
 * "The first K free slots of these services in this window": the internal root field every supplier subgraph
 * answers for the gateway's `availability` and `capacity` (schema/supplier-slots.graphql, `<prefix>TopSlots`), so a
 * supplier system sends at most K slots however many services it holds, and the gateway k-way merges a handful of
 * sorted lists instead of sorting every slot of every service.
 *
 * The slots come from the same loading as the `slots` fields (slot-windows.ts: the per-request DataLoader, the slot
 * cache, the circuit breaker); this module ranks them. A slot's start is parsed once (startMs, kept on the slot);
 * no comparator parses a date. Ranking copies nothing it need not: a service's list, sorted as every adapter and the
 * cache hand it over, is merged where it lies, and only the K slots sent are given their keys.
 *
 * Orders (a total order, so pages are exact and repeat nothing):
 *   MERGED       (group, startMs, rank, slot id). `rank` is the service's position in the gateway's order
 *                of services (distance, then id), so "equal start, nearer first" is decided here exactly as the
 *                gateway would, and the first K here are the first K of the full merge. Sort by start asks one
 *                group; sort by distance gives each distance its group (nearer lower), so the order is the
 *                gateway's (distance, startMs, rank, id) and a system sends K slots in all, not K per service.
 *   PER_SERVICE  each service's first K by (startMs, slot id): `capacity`'s first slot of each service.
 *
 * Counts stay exact: every service reports how many free slots it has in the window (hand-offs excluded when
 * asked), not how many were sent.
 *
 * One physical slot, listed once (`claimShared`): a supplier may map one schedule to several DoS services (the
 * Booking Standard's Schedule.actor naming several HealthcareServices), so the same native slot comes back under
 * each, with a different global id per service. Its listings share their start, so in both orders the first of them
 * is the one under the lowest-ranked service: that service claims it, the others' listings are dropped from their
 * lists and named on the claimed one (`also`). Both orders then see every physical slot once, and paging stays
 * exact: a dropped listing could only ever have come after its claimed twin. Counts report both every listing of a
 * service (`all`) and those it claimed (its `slots` after claiming), whose sum over the services is the distinct
 * slots. The order argument needs ranks that follow distance, as the gateway's do (distance, then id). Only slots
 * carrying a `nativeKey` (the adapter sets one where its supplier says a slot is shared) cost a map entry.
 */
import { compareCodeUnits } from './code-units.js';
export type TopSlotsMode = 'MERGED' | 'PER_SERVICE';

/** The most slots a top-K answer carries (per answer when MERGED, per service when PER_SERVICE). */
export const MAX_TOP_K = 500;
/** The most services one top-K question names (the gateway's own bound on a search). */
export const MAX_TOP_SERVICES = 100;

/** A slot with its sort keys. `a`, `b`, `c` compare numerically in that order, then `id` as a string. */
export interface Keyed<S> {
  a: number;
  b: number;
  c: number;
  id: string;
  slot: S;
}

export function compareKeyed(x: Keyed<unknown>, y: Keyed<unknown>): number {
  return x.a - y.a || x.b - y.b || x.c - y.c || compareCodeUnits(x.id, y.id);
}

/**
 * The first `limit` items of several lists, each already sorted by `cmp`, in `cmp` order: a binary heap over the
 * lists' heads, O(limit · log lists). Lists are not modified.
 */
export function kWayMerge<T>(lists: readonly (readonly T[])[], cmp: (x: T, y: T) => number, limit = Infinity): T[] {
  const cursors = lists.map((list) => ({ list, at: 0 }));
  return mergeCursors(cursors, (x, y) => cmp(x.list[x.at]!, y.list[y.at]!), (c) => c.list[c.at]!, limit);
}

/** A position in one sorted list, with whatever else its comparison needs. */
interface Cursor {
  list: readonly unknown[];
  at: number;
}

/**
 * The heap behind kWayMerge and topK: `cmp` compares two cursors' current items, `take` makes the output of one.
 * Cursors are advanced in place.
 */
function mergeCursors<C extends Cursor, O>(cursors: C[], cmp: (x: C, y: C) => number, take: (c: C) => O, limit: number): O[] {
  const heap = cursors.filter((c) => c.at < c.list.length);
  const less = (i: number, j: number) => cmp(heap[i]!, heap[j]!) < 0;
  const down = (i: number) => {
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < heap.length && less(l, m)) m = l;
      if (r < heap.length && less(r, m)) m = r;
      if (m === i) return;
      const t = heap[i]!;
      heap[i] = heap[m]!;
      heap[m] = t;
      i = m;
    }
  };
  for (let i = (heap.length >> 1) - 1; i >= 0; i--) down(i);
  const out: O[] = [];
  while (heap.length > 0 && out.length < limit) {
    const top = heap[0]!;
    out.push(take(top));
    top.at++;
    if (top.at >= top.list.length) {
      heap[0] = heap[heap.length - 1]!;
      heap.pop();
    }
    if (heap.length > 0) down(0);
  }
  return out;
}

/** What ranking needs of a slot. */
export interface RankableSlot {
  id: string;
  start: string;
  bookable?: boolean | null;
  bookingLink?: string | null;
  /**
   * The supplier's own identity of the physical slot, unique within its supplier system, set by adapters only where
   * one slot can be listed under several services; absent (or null) where a slot belongs to one service.
   */
  nativeKey?: string | null;
}

/** A slot booked on the provider's own site (feeds): excluded when the search says `includeHandoff: false`. */
export function isHandoff(slot: RankableSlot): boolean {
  return !slot.bookable && !!slot.bookingLink;
}

/** One service's slots in the window as loaded (earliest first), with its rank. */
export interface ServiceSlots<S extends RankableSlot> {
  serviceId: string;
  rank: number;
  /** The supplier system holding the service: native keys are unique within a system only. Absent: one system. */
  system?: string;
  slots: readonly S[];
}

export interface RankedService<S> {
  serviceId: string;
  rank: number;
  /** MERGED: groups come in increasing order, before start (absent: 0). */
  group?: number;
  system?: string;
  /**
   * Every qualifying slot of the service, sorted by (startMs, id): within one service, the order of the keys
   * (startMs, rank, 0, id) that compareKeyed gives. Not keyed here: only the K slots an answer sends are (topK), so a
   * warm request allocates per slot sent, not per slot of every service-day it reads.
   */
  slots: readonly S[];
}

/**
 * Epoch ms of a slot's start, parsed once per slot object: the slot cache hands the same decoded objects to every
 * warm request (slot-cache.ts), so each request would otherwise parse every start of every service-day again. Kept
 * on the object under a symbol, not enumerable (so neither JSON, GraphQL nor a spread copy `{ ...slot, start }` ever
 * sees or carries it): a property read, where a WeakMap look-up per slot and request was a profile's visible share.
 * An object that cannot take it (frozen) is parsed each time.
 */
const START_MS = Symbol('startMs');

export function startMs(slot: { start: string }): number {
  const held = (slot as { [START_MS]?: number })[START_MS];
  if (held !== undefined) return held;
  const ms = Date.parse(slot.start);
  if (Object.isExtensible(slot)) Object.defineProperty(slot, START_MS, { value: ms, enumerable: false, writable: false, configurable: false });
  return ms;
}

/** The order of one service's slots: (startMs, id), as compareKeyed orders them when their ranks are equal. */
export function compareSlots(x: RankableSlot, y: RankableSlot): number {
  return startMs(x) - startMs(y) || compareCodeUnits(x.id, y.id);
}

/**
 * A service's qualifying slots (hand-offs dropped when asked), in order: the list as given when nothing is dropped
 * and it is sorted already (what every adapter and the slot cache hand over), so mostly no copy; sorted only if not.
 */
export function rankService<S extends RankableSlot>(s: ServiceSlots<S>, includeHandoff: boolean): RankedService<S> {
  const given = s.slots;
  let kept: S[] | null = null;
  let sorted = true;
  let last: S | undefined;
  for (let j = 0; j < given.length; j++) {
    const slot = given[j]!;
    if (!includeHandoff && isHandoff(slot)) {
      // Copy on the first slot dropped: a list that drops none is kept as it is.
      kept ??= given.slice(0, j);
      continue;
    }
    kept?.push(slot);
    if (sorted && last && compareSlots(last, slot) > 0) sorted = false;
    last = slot;
  }
  // Sorted in place only when a copy was made already.
  const slots: readonly S[] = sorted ? (kept ?? given) : (kept ?? [...given]).sort(compareSlots);
  return { serviceId: s.serviceId, rank: s.rank, ...(s.system !== undefined ? { system: s.system } : {}), slots };
}

/** Another service's listing of a physical slot: that service's id and its own global slot id for it. */
export interface Listing {
  serviceId: string;
  slotId: string;
}

/** A ranked service after claiming: `slots` keeps only the slots it claimed; `all` counts every listing it had. */
export interface ClaimedService<S> extends RankedService<S> {
  /** How many qualifying slots the service lists, shared ones included. */
  all: number;
}

export interface Claimed<S> {
  services: ClaimedService<S>[];
  /** By the claimed listing's slot id: the other services' listings of the same physical slot, in rank order. */
  also: Map<string, Listing[]>;
}

/**
 * Each physical slot claimed by the lowest-ranked service listing it (see the top of this file); the services in the
 * order given. A service none of whose slots carries a native key keeps its list as it is (no copy, no map entry).
 */
export function claimShared<S extends RankableSlot>(services: readonly RankedService<S>[]): Claimed<S> {
  const also = new Map<string, Listing[]>();
  const owner = new Map<string, string>();
  const byRank = services.map((s, i) => ({ s, i })).sort((x, y) => x.s.rank - y.s.rank || x.i - y.i);
  const out: ClaimedService<S>[] = new Array(services.length);
  for (const { s, i } of byRank) {
    let kept: S[] | null = null;
    for (let j = 0; j < s.slots.length; j++) {
      const slot = s.slots[j]!;
      const native = slot.nativeKey;
      if (native == null) {
        kept?.push(slot);
        continue;
      }
      const key = `${s.system ?? ''}\n${native}`;
      const first = owner.get(key);
      if (first === undefined) {
        owner.set(key, slot.id);
        kept?.push(slot);
        continue;
      }
      // Copy on the first listing dropped: a service sharing nothing keeps its own array.
      kept ??= s.slots.slice(0, j);
      const listed = also.get(first);
      if (listed) listed.push({ serviceId: s.serviceId, slotId: slot.id });
      else also.set(first, [{ serviceId: s.serviceId, slotId: slot.id }]);
    }
    out[i] = { ...s, slots: kept ?? s.slots, all: s.slots.length };
  }
  return { services: out, also };
}

/**
 * The top K of ranked services: MERGED, the first K of all by (startMs, rank, id); PER_SERVICE, each service's first
 * K (in the order given). Either way each list is sorted by the keys, which the answer carries; only these K slots
 * are keyed.
 */
export function topK<S extends RankableSlot>(services: readonly RankedService<S>[], k: number, mode: TopSlotsMode): Keyed<S>[] {
  const keyed = (slot: S, rank: number): Keyed<S> => ({ a: startMs(slot), b: rank, c: 0, id: slot.id, slot });
  if (mode === 'PER_SERVICE') return services.flatMap((s) => s.slots.slice(0, k).map((slot) => keyed(slot, s.rank)));
  // Group by group: every slot of a lower group comes first, so each group's merge fills what the earlier left.
  const groups = new Map<number, RankedService<S>[]>();
  for (const s of services) {
    const g = s.group ?? 0;
    const list = groups.get(g);
    if (list) list.push(s);
    else groups.set(g, [s]);
  }
  const out: Keyed<S>[] = [];
  for (const g of [...groups.keys()].sort((x, y) => x - y)) {
    if (out.length >= k) break;
    const cursors = groups.get(g)!.map((s) => ({ list: s.slots, at: 0, rank: s.rank }));
    const merged = mergeCursors(
      cursors,
      (x, y) => {
        const a = x.list[x.at]!;
        const b = y.list[y.at]!;
        return startMs(a) - startMs(b) || x.rank - y.rank || compareCodeUnits(a.id, b.id);
      },
      (c) => keyed(c.list[c.at]!, c.rank),
      k - out.length,
    );
    for (const slot of merged) out.push(slot);
  }
  return out;
}
