/**
 * "The first K free slots of these services in this window": the internal root field every supplier subgraph
 * answers for the gateway's `availability` and `capacity` (schema/supplier-slots.graphql, `<prefix>TopSlots`), so a
 * supplier system sends at most K slots however many services it holds, and the gateway k-way merges a handful of
 * sorted lists instead of sorting every slot of every service.
 *
 * The slots come from the same loading as the `slots` fields (slot-windows.ts: the per-request DataLoader, the slot
 * cache, the circuit breaker); this module ranks them. Sort keys are computed once per slot (epoch ms of its start);
 * no comparator parses a date.
 *
 * Orders (a total order, so pages are exact and repeat nothing):
 *   MERGED       (startMs, rank, slot id): sort by start. `rank` is the service's position in the gateway's order
 *                of services (distance, then id), so "equal start, nearer first" is decided here exactly as the
 *                gateway would, and the first K here are the first K of the full merge.
 *   PER_SERVICE  each service's first K by (startMs, slot id): sort by distance. Distance is the gateway's concern
 *                (the directory knows it); with services ordered by distance first, a page can need K slots from one
 *                service, so each sends its own first K and the gateway merges by (distance, startMs, rank, id).
 *
 * Counts stay exact: every service reports how many free slots it has in the window (hand-offs excluded when
 * asked), not how many were sent.
 */
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
  return x.a - y.a || x.b - y.b || x.c - y.c || (x.id < y.id ? -1 : x.id > y.id ? 1 : 0);
}

/**
 * The first `limit` items of several lists, each already sorted by `cmp`, in `cmp` order: a binary heap over the
 * lists' heads, O(limit · log lists). Lists are not modified.
 */
export function kWayMerge<T>(lists: readonly (readonly T[])[], cmp: (x: T, y: T) => number, limit = Infinity): T[] {
  const heap: { list: readonly T[]; at: number }[] = [];
  const less = (i: number, j: number) => cmp(heap[i]!.list[heap[i]!.at]!, heap[j]!.list[heap[j]!.at]!) < 0;
  const swap = (i: number, j: number) => {
    const t = heap[i]!;
    heap[i] = heap[j]!;
    heap[j] = t;
  };
  const down = (i: number) => {
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < heap.length && less(l, m)) m = l;
      if (r < heap.length && less(r, m)) m = r;
      if (m === i) return;
      swap(i, m);
      i = m;
    }
  };
  for (const list of lists) if (list.length > 0) heap.push({ list, at: 0 });
  for (let i = (heap.length >> 1) - 1; i >= 0; i--) down(i);
  const out: T[] = [];
  while (heap.length > 0 && out.length < limit) {
    const top = heap[0]!;
    out.push(top.list[top.at]!);
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
}

/** A slot booked on the provider's own site (feeds): excluded when the search says `includeHandoff: false`. */
export function isHandoff(slot: RankableSlot): boolean {
  return !slot.bookable && !!slot.bookingLink;
}

/** One service's slots in the window as loaded (earliest first), with its rank. */
export interface ServiceSlots<S extends RankableSlot> {
  serviceId: string;
  rank: number;
  slots: readonly S[];
}

export interface RankedService<S> {
  serviceId: string;
  rank: number;
  /** Every qualifying slot of the service, keyed (startMs, rank, 0, id), sorted. */
  keyed: Keyed<S>[];
}

/** Keys each slot once (startMs, rank) and drops hand-offs when asked; sorts only if the list came unsorted. */
export function rankService<S extends RankableSlot>(s: ServiceSlots<S>, includeHandoff: boolean): RankedService<S> {
  const keyed: Keyed<S>[] = [];
  let sorted = true;
  for (const slot of s.slots) {
    if (!includeHandoff && isHandoff(slot)) continue;
    const k: Keyed<S> = { a: Date.parse(slot.start), b: s.rank, c: 0, id: slot.id, slot };
    const last = keyed.at(-1);
    if (last && compareKeyed(last, k) > 0) sorted = false;
    keyed.push(k);
  }
  if (!sorted) keyed.sort(compareKeyed);
  return { serviceId: s.serviceId, rank: s.rank, keyed };
}

/**
 * The top K of ranked services: MERGED, the first K of all by (startMs, rank, id); PER_SERVICE, each service's first
 * K (in the order given). Either way each list is sorted by the keys, which the answer carries.
 */
export function topK<S>(services: readonly RankedService<S>[], k: number, mode: TopSlotsMode): Keyed<S>[] {
  if (mode === 'PER_SERVICE') return services.flatMap((s) => s.keyed.slice(0, k));
  return kWayMerge(
    services.map((s) => s.keyed),
    compareKeyed,
    k,
  );
}
