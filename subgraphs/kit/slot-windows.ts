/**
 * The slot fields every supplier adapter serves (`slots` and `nextAvailable` on its HealthcareService type), with
 * the same window rules and the same batching, so a client sees one behaviour whichever supplier holds the service.
 *
 * The planner sends one batched _entities call with every service of the adapter's type in the answer. A
 * per-request DataLoader collects all their `slots` and `nextAvailable` windows; the adapter fetches each service's
 * windows as few upstream searches as possible (the union of its windows while that stays within the two-week cap),
 * and every field gets its own window back out of the shared answer.
 */
import DataLoader from 'dataloader';
import type { ConsumerOrganisation } from './consumer.js';
import type { SubgraphContext } from './context.js';
import { forbiddenError, supplierError, userInputError } from './errors.js';

export const DAY_MS = 24 * 60 * 60 * 1000;
/** GP Connect's consumer rule, which providers size for: never ask for more than two weeks at once. */
export const MAX_WINDOW_DAYS = 14;
export const MAX_FIRST = 500;

/** One field's question: slots of one service at one supplier system starting in [from, to]. */
export interface SlotWindow {
  system: string;
  serviceId: string;
  from: Date;
  to: Date;
}

/** An adapter's answer for a window: its slots, earliest first, and when the supplier gave them. */
export interface WindowSlots<S> {
  slots: S[];
  fetchedAt: string;
}

/** What the kit needs of a slot: its start, RFC 3339 with an offset. */
export interface TimedSlot {
  start: string;
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
}

interface EntityRef {
  id: string;
  supplier?: { id?: string | null } | null;
}

interface SlotsArgs {
  from?: string | null;
  to?: string | null;
  first: number;
}

interface NextAvailableArgs {
  from?: string | null;
  withinDays: number;
}

/**
 * The two field resolvers, ready to put on the adapter's service type. The parent is the entity representation
 * with `supplier { id }` (the fields' @requires), which names the registry system holding the service.
 */
export function slotFields<S extends TimedSlot>(opts: SlotFieldsOptions<S>) {
  function loader(ctx: SubgraphContext): DataLoader<SlotWindow, WindowSlots<S>, string> {
    let l = ctx.loaders.get(opts.name) as DataLoader<SlotWindow, WindowSlots<S>, string> | undefined;
    if (!l) {
      l = new DataLoader((keys) => loadWindows(keys, ctx), {
        cacheKeyFn: (k) => `${k.system}|${k.serviceId}|${k.from.toISOString()}|${k.to.toISOString()}`,
      });
      ctx.loaders.set(opts.name, l);
    }
    return l;
  }

  async function loadWindows(keys: readonly SlotWindow[], ctx: SubgraphContext): Promise<(WindowSlots<S> | Error)[]> {
    const consumer = ctx.consumer;
    if (!consumer) return keys.map(() => forbiddenError('No consumer organisation: call through the gateway'));
    const groups = new Map<string, SlotWindow[]>();
    for (const k of keys) {
      const g = `${k.system}|${k.serviceId}`;
      groups.set(g, [...(groups.get(g) ?? []), k]);
    }
    const merged = [...groups.values()].flatMap((windows) => spans(windows));
    const promises = opts.fetchSpans(merged.map((s) => s.window), consumer, ctx.traceId);
    const fetched = new Map<SlotWindow, Promise<WindowSlots<S>>>();
    merged.forEach((span, i) => {
      for (const w of span.members) fetched.set(w, promises[i]!);
    });
    return Promise.all(
      keys.map(async (k) => {
        try {
          const all = await fetched.get(k)!;
          return { slots: all.slots.filter((s) => inWindow(s, k)), fetchedAt: all.fetchedAt };
        } catch (err) {
          return opts.toError(k.system, err);
        }
      }),
    );
  }

  function windowFor(parent: EntityRef, from: Date, to: Date): SlotWindow {
    const systemId = parent.supplier?.id;
    if (!systemId) throw supplierError('unknown', 'REJECTED');
    return { system: systemId, serviceId: parent.id, from, to };
  }

  return {
    async slots(parent: EntityRef, args: SlotsArgs, ctx: SubgraphContext) {
      const from = args.from ? new Date(args.from) : opts.now();
      const to = args.to ? new Date(args.to) : new Date(from.getTime() + DAY_MS);
      checkWindow(from, to);
      if (!Number.isInteger(args.first) || args.first < 1 || args.first > MAX_FIRST) {
        throw userInputError(`first must be from 1 to ${MAX_FIRST}`, 'first');
      }
      const found = await loader(ctx).load(windowFor(parent, from, to));
      return {
        nodes: found.slots.slice(0, args.first),
        totalCount: found.slots.length,
        hasMore: found.slots.length > args.first,
        fetchedAt: found.fetchedAt,
      };
    },
    async nextAvailable(parent: EntityRef, args: NextAvailableArgs, ctx: SubgraphContext) {
      if (!Number.isInteger(args.withinDays) || args.withinDays < 1 || args.withinDays > MAX_WINDOW_DAYS) {
        throw userInputError(`withinDays must be from 1 to ${MAX_WINDOW_DAYS}`, 'withinDays');
      }
      const from = args.from ? new Date(args.from) : opts.now();
      const to = new Date(from.getTime() + args.withinDays * DAY_MS);
      const found = await loader(ctx).load(windowFor(parent, from, to));
      return found.slots[0] ?? null;
    },
  };
}

export function checkWindow(from: Date, to: Date): void {
  if (to.getTime() <= from.getTime()) throw userInputError('to must be after from', 'to');
  if (to.getTime() - from.getTime() > MAX_WINDOW_DAYS * DAY_MS) {
    throw userInputError(`The window may span at most ${MAX_WINDOW_DAYS} days`, 'to');
  }
}

/** Inclusive at both ends, as the `slots` field documents. */
export function inWindow(s: TimedSlot, w: Pick<SlotWindow, 'from' | 'to'>): boolean {
  const t = Date.parse(s.start);
  return t >= w.from.getTime() && t <= w.to.getTime();
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
