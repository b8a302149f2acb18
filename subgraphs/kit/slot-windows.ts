/**
 * The slot fields every supplier adapter serves (`slots` and `nextAvailable` on its HealthcareService type), with
 * the same window rules and the same batching, so a client sees one behaviour whichever supplier holds the service.
 *
 * The planner sends one batched _entities call with every service of the adapter's type in the answer. A
 * per-request DataLoader collects all their `slots` and `nextAvailable` windows, and every field gets its own window
 * back out of a shared answer. Where that answer comes from:
 *
 *   with a slot cache (slot-cache.ts)   each window is the London days it touches; the cache answers each day's
 *                                       bucket and hands the missing ones back as runs of contiguous days, which the
 *                                       adapter fetches (one search per run) through the circuit breaker.
 *   without                             each service's windows become as few searches as possible (their union
 *                                       while that stays within the two-week cap), through the circuit breaker.
 *
 * So the order is: cache, then breaker, then the supplier. The breaker (circuit-breaker.ts) only ever sees calls
 * the cache could not answer, and a stale bucket keeps answering while the breaker is open.
 *
 * Holds (common/holds.ts): after loading, and never inside the shared buckets, slots another consumer holds are taken
 * out of what this consumer is served (held-slots.ts), and counts and places are made from what is left; one batched
 * read of the live holds of every service in the request.
 */
import DataLoader from 'dataloader';
import type { CircuitBreakers, Permit } from './circuit-breaker.js';
import { supplierStatus } from './supplier-status.js';
import type { ConsumerOrganisation } from '../../common/consumer.js';
import type { SubgraphContext } from '../../common/context.js';
import { forbiddenError, supplierError, userInputError } from '../../common/errors.js';
import type { Logger } from 'pino';
import { dayEnd, dayStart, daysCovering } from '../../common/london-day.js';
import { UpstreamError } from '../../common/upstream.js';
import { DAY_MS, MAX_WINDOW_DAYS, readInstant, readWindow } from '../../common/window-input.js';
import type { Registry } from './registry.js';
import type { CacheableSlot, DaySlots, SlotCache } from './slot-cache.js';
import { MAX_PASSED_HOLDS, MAX_PASSED_HOLDS_CHARS, MAX_PASSED_HOLD_SYSTEMS, pairKey, passedHold, type LiveHold } from '../../common/holds.js';
import { encodeSlotId } from '../../common/slot-id.js';
import { heldByOthers, withoutHeld } from './held-slots.js';
import { MAX_TOP_K, MAX_TOP_SERVICES, claimShared, rankService, startMs, topK, type Listing, type RankableSlot, type RankedService, type TopSlotsMode } from '../../common/top-slots.js';

export { DAY_MS, MAX_WINDOW_DAYS } from '../../common/window-input.js';
export const MAX_FIRST = 500;

/** One field's question: slots of one service at one supplier system starting in [from, to]. */
export interface SlotWindow {
  system: string;
  serviceId: string;
  from: Date;
  to: Date;
  /** The client's `maxAge` (seconds): cached answers older than this are not served (slot-cache.ts floors it). */
  maxAgeSeconds?: number | null;
}

/** An adapter's answer for a window: its slots, earliest first, and when the supplier gave them. */
export interface WindowSlots<S> {
  slots: S[];
  fetchedAt: string;
  /**
   * True when these are the last good data but not current: the supplier has failed since, or (feeds) the last
   * publication could not be read. The slots are still returned, labelled `CACHE` with their true `fetchedAt`;
   * the gateway reports the service as `STALE` in coverage.
   */
  stale?: boolean;
}

/** What the kit needs of a slot: its start (RFC 3339 with an offset), and for a session its end. */
export interface TimedSlot {
  start: string;
  end?: string;
  kind?: 'APPOINTMENT' | 'SESSION';
}

/**
 * Fetches the given spans (already merged: at most one per service unless its windows are too far apart), one
 * promise per span, in order. Receiving them all at once lets an adapter do batch-level work first (one lookup of
 * every service's native id, say) before its per-span searches, which run in parallel.
 */
export type FetchSpans<S> = (spans: readonly SlotWindow[], consumer: ConsumerOrganisation, traceId: string) => Promise<WindowSlots<S>>[];

export interface SlotFieldsOptions<S extends TimedSlot> {
  /** Per-request loader key, unique per adapter (several adapters never share a process today, but may). */
  name: string;
  now: () => Date;
  fetchSpans: FetchSpans<S>;
  /** Turns a failed span into the GraphQL error every field of that span gets (kit/errors supplierError...). */
  toError: (system: string, err: unknown) => Error;
  /** Day buckets shared across requests and replicas; absent: every window is fetched. Needs the freshness fields. */
  cache?: [S] extends [CacheableSlot] ? SlotCache : never;
  /**
   * Whose view a slot answer is (slot-cache.ts): for suppliers that filter slots by the consumer organisation, a key
   * naming it. Absent: the supplier answers every consumer alike, and all share one bucket.
   */
  audience?: (consumer: ConsumerOrganisation) => string;
  /** One circuit breaker per supplier system around every search; absent: none. */
  breakers?: CircuitBreakers;
  /** Live slot holds (common/holds.ts HoldStore); absent: no holds are kept (no Redis), nothing is hidden. */
  holds?: HoldReader;
  /** For a failed holds read (Redis away): slots are then served unfiltered. */
  onHoldsError?: (err: unknown) => void;
  /**
   * A supplier system's deadline (its registry `deadlineMs`). The top-K operation asks for the services of every
   * system the subgraph serves at once and answers each system's within its own deadline, reporting TIMEOUT for a
   * system that misses it; absent: each system's load is awaited however long it takes.
   */
  deadlineMs?: (system: string) => number | undefined;
}

/** `deadlineMs` for an adapter's slot fields: each system's own, from the supplier registry. */
export function registryDeadlines(registry: Pick<Registry, 'system'>): (system: string) => number | undefined {
  return (system) => registry.system(system)?.deadlineMs;
}

/** What the slot fields read of the hold store. */
export interface HoldReader {
  live(pairs: readonly { system: string; serviceId: string }[]): Promise<Map<string, LiveHold[]>>;
}

/** The audience of suppliers whose slot answers do not depend on who asks. */
export const SHARED_AUDIENCE = 'everyone';

interface EntityRef {
  id: string;
  supplier?: { id?: string | null } | null;
}

interface SlotsArgs {
  from?: string | null;
  to?: string | null;
  first: number;
  maxAge?: number | null;
}

interface NextAvailableArgs {
  from?: string | null;
  withinDays: number;
}

/**
 * The two field resolvers, ready to put on the adapter's service type. The parent is the entity representation
 * with `supplier { id }` (part of each adapter's entity key), which names the registry system holding the service.
 */
export function slotFields<S extends TimedSlot>(opts: SlotFieldsOptions<S>) {
  /** The request's window loader; `system` gives one of its own, so that system's windows load as their own batch. */
  function loader(ctx: SubgraphContext, system?: string): DataLoader<SlotWindow, WindowSlots<S>, string> {
    const name = system === undefined ? opts.name : `${opts.name}:system:${system}`;
    let l = ctx.loaders.get(name) as DataLoader<SlotWindow, WindowSlots<S>, string> | undefined;
    if (!l) {
      l = new DataLoader((keys) => loadWindows(keys, ctx), {
        cacheKeyFn: (k) => `${k.system}|${k.serviceId}|${k.from.toISOString()}|${k.to.toISOString()}|${k.maxAgeSeconds ?? ''}`,
      });
      ctx.loaders.set(name, l);
    }
    return l;
  }

  /**
   * The windows of each supplier system as a batch of its own, under that system's deadline (opts.deadlineMs): a
   * system that misses it is reported TIMEOUT for its services while the others answer, so one slow system in a
   * subgraph never holds up or fails another's. Its load goes on behind (and fills the cache); nothing is counted
   * against its circuit here (a timed-out supplier call already is, inside the load).
   */
  async function loadBySystem(ctx: SubgraphContext, windows: readonly SlotWindow[]): Promise<(WindowSlots<S> | Error)[]> {
    const bySystem = new Map<string, number[]>();
    windows.forEach((w, i) => {
      const at = bySystem.get(w.system);
      if (at) at.push(i);
      else bySystem.set(w.system, [i]);
    });
    const out: (WindowSlots<S> | Error)[] = new Array(windows.length);
    await Promise.all(
      [...bySystem].map(async ([system, at]) => {
        const own = at.map((i) => windows[i]!);
        const load = loader(ctx, system)
          .loadMany(own)
          .then((found) => Promise.all(found.map((f, j) => (f instanceof Error ? f : visible(ctx, own[j]!, f)))));
        const deadline = opts.deadlineMs?.(system);
        const found = deadline === undefined ? await load : await withinDeadline(load, deadline, () => own.map(() => supplierError(system, 'TIMEOUT')));
        at.forEach((i, j) => (out[i] = found[j]!));
      }),
    );
    return out;
  }

  /**
   * The system's live holds as the gateway read them just before asking (input.liveHolds), when it did and the slots
   * came within PASSED_HOLDS_FOR_MS of the question's arrival: after a longer wait (a supplier fetch, a backlog) they
   * are read again, as they always were, so a hold taken meanwhile is not shown.
   */
  function passedFor(ctx: SubgraphContext, system: string): LiveHold[] | undefined {
    const passed = ctx.loaders.get(passedHoldsKey) as PassedHolds | undefined;
    return passed && performance.now() <= passed.untilMs ? passed.holds.get(system) : undefined;
  }

  /** Every live hold of the services this request asks about, read once per request tick (batched). */
  function holdsLoader(ctx: SubgraphContext, reader: HoldReader): DataLoader<string, LiveHold[]> {
    const name = `${opts.name}:holds`;
    let l = ctx.loaders.get(name) as DataLoader<string, LiveHold[]> | undefined;
    if (!l) {
      l = new DataLoader(async (pairs) => {
        const found = await reader.live(pairs.map((p) => ({ system: p.split('\n')[0]!, serviceId: p.split('\n')[1]! })));
        return pairs.map((p) => found.get(p) ?? []);
      });
      ctx.loaders.set(name, l);
    }
    return l;
  }

  /** A window's slots without those another consumer holds; unchanged without holds, or while they cannot be read. */
  async function visible(ctx: SubgraphContext, w: SlotWindow, found: WindowSlots<S>): Promise<WindowSlots<S>> {
    if (!opts.holds || !ctx.consumer || found.slots.length === 0) return found;
    let holds: LiveHold[];
    try {
      holds = passedFor(ctx, w.system) ?? (await holdsLoader(ctx, opts.holds).load(pairKey(w.system, w.serviceId)));
    } catch (err) {
      opts.onHoldsError?.(err);
      return found;
    }
    // The system's holds, whichever service's listing they were taken through. Only a slot of a shared diary
    // (`nativeKey`) is listed under several services, so only then are other services' holds re-addressed to this
    // service's ids (a MAC each); otherwise they cannot match and are left out.
    const shared = (found.slots as readonly { nativeKey?: string | null }[]).some((s) => s.nativeKey);
    const here = shared ? holds : holds.filter((h) => h.serviceId === w.serviceId);
    const held = heldByOthers(here, ctx.consumer.odsCode, (h) =>
      h.serviceId === w.serviceId ? h.slotId : encodeSlotId({ system: w.system, serviceId: w.serviceId, ref: h.ref }),
    );
    return held.size === 0 ? found : { ...found, slots: withoutHeld(found.slots as unknown as (S & { id: string })[], held) };
  }

  async function loadVisible(ctx: SubgraphContext, w: SlotWindow): Promise<WindowSlots<S>> {
    return visible(ctx, w, await loader(ctx).load(w));
  }

  async function loadWindows(keys: readonly SlotWindow[], ctx: SubgraphContext): Promise<(WindowSlots<S> | Error)[]> {
    const consumer = ctx.consumer;
    if (!consumer) return keys.map(() => forbiddenError('No consumer organisation: call through the gateway'));
    if (opts.cache) return loadThroughCache(keys, opts.cache as SlotCache, consumer, ctx.traceId);
    const groups = new Map<string, SlotWindow[]>();
    for (const k of keys) {
      const g = `${k.system}|${k.serviceId}`;
      groups.set(g, [...(groups.get(g) ?? []), k]);
    }
    const merged = [...groups.values()].flatMap((windows) => spans(windows));
    const promises = fetchGuarded(merged.map((s) => s.window), consumer, ctx.traceId);
    const fetched = new Map<SlotWindow, Promise<WindowSlots<S>>>();
    merged.forEach((span, i) => {
      for (const w of span.members) fetched.set(w, promises[i]!);
    });
    return Promise.all(
      keys.map(async (k) => {
        try {
          const all = await fetched.get(k)!;
          return { slots: all.slots.filter((s) => inWindow(s, k)), fetchedAt: all.fetchedAt, ...(all.stale ? { stale: true } : {}) };
        } catch (err) {
          return opts.toError(k.system, err);
        }
      }),
    );
  }

  /**
   * Each window as the buckets of the days it touches. The cache merges a day asked for by several windows (the
   * strictest maxAge wins) and fetches what it lacks as runs of days, through fetchGuarded.
   */
  async function loadThroughCache(
    keys: readonly SlotWindow[],
    cache: SlotCache,
    consumer: ConsumerOrganisation,
    traceId: string,
  ): Promise<(WindowSlots<S> | Error)[]> {
    const audience = opts.audience?.(consumer) ?? SHARED_AUDIENCE;
    const days = keys.map((k) => daysCovering(k.from, k.to));
    const queries = keys.flatMap((k, i) =>
      days[i]!.map((day) => ({ system: k.system, serviceId: k.serviceId, day, audience, maxAgeSeconds: k.maxAgeSeconds ?? null })),
    );
    const fetchRuns = (runs: readonly SlotWindow[]) => fetchGuarded(runs, consumer, traceId) as Promise<WindowSlots<S & CacheableSlot>>[];
    const answers = await cache.load(queries, fetchRuns);
    let next = 0;
    return keys.map((k, i) => {
      const parts = answers.slice(next, (next += days[i]!.length));
      const failed = parts.find((p): p is Error => p instanceof Error);
      if (failed) return opts.toError(k.system, failed);
      const found = parts as DaySlots<S>[];
      // Days in order, each earliest first: the concatenation is earliest first. A day the window wholly covers
      // (every day but its first and last, mostly) is taken whole once its earliest and latest slots say so too.
      const slots: S[] = [];
      found.forEach((d, j) => {
        const list = d.slots;
        const day = days[i]![j]!;
        const whole = list.length > 0 && dayStart(day) >= k.from.getTime() && dayEnd(day) <= k.to.getTime() && inWindow(list[0]!, k) && inWindow(list.at(-1)!, k);
        if (whole) for (const s of list) slots.push(s);
        else for (const s of list) if (inWindow(s, k)) slots.push(s);
      });
      return {
        slots,
        fetchedAt: oldest(found.map((d) => d.fetchedAt)),
        ...(found.some((d) => d.stale) ? { stale: true } : {}),
      };
    });
  }

  /**
   * The adapter's fetchSpans behind each system's circuit breaker: a span whose system's circuit is open fails at
   * once with CIRCUIT_OPEN and is never handed to the adapter; the others are, together, as before.
   */
  function fetchGuarded(spans: readonly SlotWindow[], consumer: ConsumerOrganisation, traceId: string): Promise<WindowSlots<S>>[] {
    const permits: (Permit | Error | null)[] = spans.map((w) => {
      if (!opts.breakers) return null;
      try {
        return opts.breakers.for(w.system).admit();
      } catch (err) {
        return err as Error;
      }
    });
    const admitted = spans.filter((_, i) => !(permits[i] instanceof Error));
    const started = admitted.length > 0 ? opts.fetchSpans(admitted, consumer, traceId) : [];
    let next = 0;
    return spans.map((_, i) => {
      const permit = permits[i];
      if (permit instanceof Error) return Promise.reject(permit);
      const p = started[next++]!;
      p.then(
        () => permit?.settle(),
        (err: unknown) => {
          permit?.settle(err);
          // An answer the adapter could not read came back from the HTTP call as a success: count it as a failure
          // (unless the HTTP call itself refused the body, and counted it then).
          if ((err as { reason?: string } | null)?.reason === 'INVALID_RESPONSE') supplierStatus.recordLateFailure(spans[i]!.system, 'INVALID_RESPONSE', err);
        },
      );
      return p;
    });
  }

  function windowFor(parent: EntityRef, from: Date, to: Date, maxAgeSeconds?: number | null): SlotWindow {
    const systemId = parent.supplier?.id;
    if (!systemId) throw supplierError('unknown', 'REJECTED');
    return { system: systemId, serviceId: parent.id, from, to, ...(maxAgeSeconds != null ? { maxAgeSeconds } : {}) };
  }

  return {
    async slots(parent: EntityRef, args: SlotsArgs, ctx: SubgraphContext) {
      const { from, to } = readWindow(args, opts.now());
      if (!Number.isInteger(args.first) || args.first < 1 || args.first > MAX_FIRST) {
        throw userInputError(`first must be from 1 to ${MAX_FIRST}`, 'first');
      }
      if (args.maxAge != null && (!Number.isInteger(args.maxAge) || args.maxAge < 0)) {
        throw userInputError('maxAge must be a whole number of seconds, 0 or more', 'maxAge');
      }
      const found = await loadVisible(ctx, windowFor(parent, from, to, args.maxAge));
      return {
        nodes: found.slots.slice(0, args.first),
        totalCount: found.slots.length,
        hasMore: found.slots.length > args.first,
        fetchedAt: found.fetchedAt,
      };
    },
    /** For DoS integrations: the same answer as `slots`, summarised; places, not rows (session slots hold several). */
    async capacity(parent: EntityRef, args: CapacityArgs, ctx: SubgraphContext) {
      const { from, to } = readWindow(args, opts.now());
      if (args.maxAge != null && (!Number.isInteger(args.maxAge) || args.maxAge < 0)) {
        throw userInputError('maxAge must be a whole number of seconds, 0 or more', 'maxAge');
      }
      const found = await loadVisible(ctx, windowFor(parent, from, to, args.maxAge));
      return {
        freeSlots: found.slots.reduce((n, s) => n + placesIn(s), 0),
        nextAvailableStart: found.slots[0]?.start ?? null,
        fetchedAt: found.fetchedAt,
        evidenceAgeSeconds: Math.max(0, Math.round((opts.now().getTime() - Date.parse(found.fetchedAt)) / 1000)),
      };
    },
    /**
     * `<prefix>TopSlots` (schema/supplier-slots.graphql; the ranking in top-slots.ts): every service's window through
     * the same loader as the fields above, then the first K. A service that fails is reported with its typed
     * reason; the others still answer.
     */
    async topSlots(input: TopSlotsInput, ctx: SubgraphContext): Promise<TopSlotsAnswer<S>> {
      if (!Array.isArray(input.services) || input.services.length < 1 || input.services.length > MAX_TOP_SERVICES) {
        throw userInputError(`input.services takes 1 to ${MAX_TOP_SERVICES} services`, 'input.services');
      }
      if (new Set(input.services.map((s) => s.id)).size !== input.services.length) {
        throw userInputError('input.services names a service twice', 'input.services');
      }
      for (const s of input.services) {
        if (typeof s.id !== 'string' || s.id.length < 1 || s.id.length > 200) throw userInputError('input.services.id must be 1 to 200 characters', 'input.services.id');
        if (!Number.isInteger(s.rank) || s.rank < 0 || s.rank > 10_000) throw userInputError('input.services.rank must be a whole number from 0 to 10000', 'input.services.rank');
        if (s.group != null && (!Number.isInteger(s.group) || s.group < 0 || s.group > 10_000)) {
          throw userInputError('input.services.group must be a whole number from 0 to 10000', 'input.services.group');
        }
      }
      if (!Number.isInteger(input.first) || input.first < 1 || input.first > MAX_TOP_K) {
        throw userInputError(`input.first must be from 1 to ${MAX_TOP_K}`, 'input.first');
      }
      if (input.maxAge != null && (!Number.isInteger(input.maxAge) || input.maxAge < 0)) {
        throw userInputError('input.maxAge must be a whole number of seconds, 0 or more', 'input.maxAge');
      }
      const { from, to } = readWindow(input, opts.now(), 'input.');
      const passed = readPassedHolds(input.liveHolds);
      // Counted from the request's arrival: its body, signature and parsing are part of the wait.
      if (passed.size > 0) ctx.loaders.set(passedHoldsKey, { holds: passed, untilMs: (ctx.receivedAtMs ?? performance.now()) + PASSED_HOLDS_FOR_MS });
      const windows = input.services.map((s) => windowFor({ id: s.id, supplier: { id: s.system } }, from, to, input.maxAge));
      const loaded = await loadBySystem(ctx, windows);
      const ranked: RankedService<RankableSlot>[] = [];
      /** Input position to position in `ranked`: the services that answered. */
      const rankedAt = new Map<number, number>();
      input.services.forEach((s, i) => {
        const found = loaded[i]!;
        if (found instanceof Error) return;
        rankedAt.set(i, ranked.length);
        const r = rankService({ serviceId: s.id, rank: s.rank, system: s.system, slots: found.slots as unknown as readonly RankableSlot[] }, input.includeHandoff);
        ranked.push(s.group != null ? { ...r, group: s.group } : r);
      });
      // One physical slot listed under several services is sent once, under the service that claims it
      // (top-slots.ts claimShared); each service's counts say both every listing and the ones it claimed.
      const claimed = claimShared(ranked);
      const services = input.services.map((s, i): TopSlotsService => {
        const found = loaded[i]!;
        if (found instanceof Error) {
          return { serviceId: s.id, totalCount: null, places: null, distinctCount: null, distinctPlaces: null, firstStart: null, fetchedAt: null, stale: false, failure: failureReason(found) };
        }
        const j = rankedAt.get(i)!;
        const r = claimed.services[j]!;
        const distinctPlaces = placesOf(r.slots);
        // Places of every listing: the claimed ones, unless some were claimed elsewhere (then all, from `ranked`).
        const places = r.all === r.slots.length ? distinctPlaces : placesOf(ranked[j]!.slots);
        const firstStart = ranked[j]!.slots[0]?.start ?? null;
        return { serviceId: s.id, totalCount: r.all, places, distinctCount: r.slots.length, distinctPlaces, firstStart, fetchedAt: found.fetchedAt, stale: !!found.stale, failure: null };
      });
      const top = topK(claimed.services, input.first, input.mode);
      return {
        slots: top.map((k) => ({ startMs: k.a, rank: k.b, slot: k.slot as unknown as S, alsoListedAs: claimed.also.get(k.id) ?? [] })),
        services,
      };
    },
    async nextAvailable(parent: EntityRef, args: NextAvailableArgs, ctx: SubgraphContext) {
      if (!Number.isInteger(args.withinDays) || args.withinDays < 1 || args.withinDays > MAX_WINDOW_DAYS) {
        throw userInputError(`withinDays must be from 1 to ${MAX_WINDOW_DAYS}`, 'withinDays');
      }
      const now = opts.now();
      const from = args.from ? readInstant(args.from, 'from', now) : now;
      const to = new Date(from.getTime() + args.withinDays * DAY_MS);
      const found = await loadVisible(ctx, windowFor(parent, from, to));
      return found.slots[0] ?? null;
    },
  };
}

export interface TopSlotsInput {
  services: readonly { id: string; system: string; rank: number; group?: number | null }[];
  from: string;
  to: string;
  first: number;
  maxAge?: number | null;
  mode: TopSlotsMode;
  includeHandoff: boolean;
  /** Live holds the gateway read just before asking, per system (schema/supplier-slots.graphql). */
  liveHolds?: readonly { system: string; members: readonly string[] }[] | null;
}

/** How long after the question arrived the holds it carried stand in for the subgraph's own read (see passedFor). */
export const PASSED_HOLDS_FOR_MS = 250;

interface PassedHolds {
  holds: ReadonlyMap<string, LiveHold[]>;
  untilMs: number;
}
/** Where a request's passed holds are kept (its context's per-request map, beside its loaders). */
const passedHoldsKey = 'slot-windows:passed-holds';

/** `input.liveHolds`, checked and parsed: each system's holds, by system. */
export function readPassedHolds(given: TopSlotsInput['liveHolds']): Map<string, LiveHold[]> {
  const out = new Map<string, LiveHold[]>();
  if (given == null) return out;
  let chars = 0;
  if (!Array.isArray(given) || given.length > MAX_PASSED_HOLD_SYSTEMS) {
    throw userInputError(`input.liveHolds takes at most ${MAX_PASSED_HOLD_SYSTEMS} systems`, 'input.liveHolds');
  }
  for (const { system, members } of given) {
    if (typeof system !== 'string' || system.length < 1 || system.length > 200 || out.has(system)) {
      throw userInputError('input.liveHolds.system must name each system once, in 1 to 200 characters', 'input.liveHolds.system');
    }
    if (!Array.isArray(members) || members.length > MAX_PASSED_HOLDS) {
      throw userInputError(`input.liveHolds.members takes at most ${MAX_PASSED_HOLDS} holds`, 'input.liveHolds.members');
    }
    chars += members.reduce((n, m) => n + (typeof m === 'string' ? m.length : 0), 0);
    if (chars > MAX_PASSED_HOLDS_CHARS) throw userInputError(`input.liveHolds holds at most ${MAX_PASSED_HOLDS_CHARS} characters in all`, 'input.liveHolds');
    const holds = members.map(passedHold);
    if (holds.some((h) => h === null)) throw userInputError('input.liveHolds.members holds something that is not a hold', 'input.liveHolds.members');
    out.set(system, holds as LiveHold[]);
  }
  return out;
}

export interface TopSlotsService {
  serviceId: string;
  totalCount: number | null;
  places: number | null;
  /** Of totalCount and places, those this service claimed (top-slots.ts claimShared): summed, each slot once. */
  distinctCount: number | null;
  distinctPlaces: number | null;
  /** The earliest start among all the service's listings (shared ones included), as the supplier wrote it. */
  firstStart: string | null;
  fetchedAt: string | null;
  stale: boolean;
  failure: string | null;
}

export interface TopSlotsAnswer<S> {
  slots: { startMs: number; rank: number; slot: S; alsoListedAs: Listing[] }[];
  services: TopSlotsService[];
}

/** `work`'s result, or `late()`'s once `ms` have passed first; `work` is not stopped (it has no way to be). */
async function withinDeadline<T>(work: Promise<T>, ms: number, late: () => T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<T>((resolve) => {
    timer = setTimeout(() => resolve(late()), ms);
  });
  try {
    return await Promise.race([work, expired]);
  } finally {
    clearTimeout(timer);
  }
}

/** A failed window's typed reason: the supplier error's, else an unreadable answer. */
function failureReason(err: Error): string {
  const ext = (err as { extensions?: { reason?: unknown; code?: unknown } }).extensions;
  if (typeof ext?.reason === 'string') return ext.reason;
  if (err instanceof UpstreamError) return err.reason;
  if (ext?.code === 'FORBIDDEN') throw err;
  return 'INVALID_RESPONSE';
}

interface CapacityArgs {
  from?: string | null;
  to?: string | null;
  maxAge?: number | null;
}

/** The places of a list of slots (placesIn each). */
function placesOf(slots: readonly object[]): number {
  let n = 0;
  for (const s of slots) n += placesIn(s);
  return n;
}

/** Places a slot offers: its capacity when the supplier says (sessions, feeds), else one. */
export function placesIn(slot: object): number {
  const c = (slot as { capacity?: number | null }).capacity;
  return typeof c === 'number' && c >= 0 ? c : 1;
}

/** The earliest of several RFC 3339 instants (the oldest answer behind a list). */
function oldest(instants: readonly string[]): string {
  return instants.reduce((a, b) => (Date.parse(b) < Date.parse(a) ? b : a));
}

/**
 * Starting in the window, inclusive at both ends, as the `slots` field documents; or a session (Slot.kind) that
 * started before the window and is still running at its start: a walk-in session stays bookable until it closes.
 * Such a session sorts by its start, so it comes first, and stays first on every page that includes it.
 */
export function inWindow(s: TimedSlot, w: Pick<SlotWindow, 'from' | 'to'>): boolean {
  const t = startMs(s);
  if (t >= w.from.getTime()) return t <= w.to.getTime();
  return s.kind === 'SESSION' && s.end !== undefined && Date.parse(s.end) > w.from.getTime();
}

/**
 * Groups one service's windows into as few searches as possible: windows are merged while the merged span stays
 * within the two-week cap. Windows are few per request, so a simple sweep is enough.
 */
export function spans<W extends SlotWindow>(windows: readonly W[]): { window: W; members: W[] }[] {
  const sorted = [...windows].sort((a, b) => a.from.getTime() - b.from.getTime());
  const out: { window: W; members: W[] }[] = [];
  for (const w of sorted) {
    const last = out.at(-1);
    if (last) {
      const to = new Date(Math.max(last.window.to.getTime(), w.to.getTime()));
      if (to.getTime() - last.window.from.getTime() <= MAX_WINDOW_DAYS * DAY_MS) {
        last.window = { ...last.window, to };
        last.members.push(w);
        continue;
      }
    }
    out.push({ window: { ...w }, members: [w] });
  }
  return out;
}

/**
 * The usual `toError`: a supplier failure becomes the typed supplier error (its reason, never its URL), logged with
 * the upstream detail (for operators only); anything already a GraphQL error passes; a bug reads as an unreadable
 * answer. `what` names the call in the log ("slot search", "session search", "feed read").
 */
export function slotFetchError(logger: Logger, what: string): (systemId: string, err: unknown) => Error {
  return (systemId, err) => {
    if (err instanceof UpstreamError) {
      logger.warn({ system: systemId, reason: err.reason, status: err.status, detail: err.detail }, `${what} failed`);
      return supplierError(systemId, err.reason);
    }
    if (err instanceof Error && 'extensions' in err) return err;
    logger.error({ system: systemId, err: (err as Error).message }, `${what} failed unexpectedly`);
    return supplierError(systemId, 'INVALID_RESPONSE');
  };
}
