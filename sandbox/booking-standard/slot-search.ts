/**
 * Executes a parsed Slot search against a provider's diary and builds the searchset Bundle (spec §2.3): slots of the
 * service in the window, filtered by status and by what the requesting organisation may see, paged, with only the
 * related resources that were asked for.
 */
import { uuidV5 } from './prng.js';
import { FhirError } from './errors.js';
import { resolveIncludes } from './includes.js';
import { slotResource, type FhirResource } from './resources.js';
import { encodeCursor, PAGE_PARAM, type SlotSearch } from './search-params.js';
import { bySlotOrder, SlotStore } from './slot-store.js';
import type { DiarySlot, SlotStatus } from './diary.js';

export interface SearchContext {
  store: SlotStore;
  statics: ReadonlyMap<string, FhirResource>;
  baseUrl: string;
  /** ODS code of the requesting organisation (from the JWT). */
  consumerOds: string;
  nowMs: number;
  /** The query as received, continued (with a page token) in the next link. */
  query: URLSearchParams;
  /** The request URL, absolute, as the self link. */
  selfUrl: string;
}

export interface Bundle {
  resourceType: 'Bundle';
  id: string;
  meta: { lastUpdated: string };
  type: 'searchset';
  total: number;
  link: Array<{ relation: string; url: string }>;
  entry?: Array<{ fullUrl: string; resource: FhirResource; search: { mode: 'match' | 'include' } }>;
}

export function searchSlots(search: SlotSearch, ctx: SearchContext): Bundle {
  const { store } = ctx;
  if (!store.catalogue.services.has(search.serviceId)) {
    // UEC: the service id is not mapped to any schedule here (DoS/provider configuration drift).
    throw new FhirError(404, {
      code: 'not-found',
      spineCode: 'NO_RECORD_FOUND',
      hl7Code: 'MSG_NO_MATCH',
      diagnostics: `No schedule is mapped to HealthcareService ${search.serviceId} at this provider`,
    });
  }

  const matches = store
    .slotsForService(search.serviceId, search.window)
    .filter((s) => SlotStore.visibleTo(s, ctx.consumerOds) && (!search.statuses || search.statuses.has(SlotStore.statusAt(s, ctx.nowMs))));

  const from = search.after ? firstAfter(matches, search.after) : 0;
  const page = matches.slice(from, from + search.count);
  const more = search.count > 0 && from + page.length < matches.length;

  const link = [{ relation: 'self', url: ctx.selfUrl }];
  if (more) link.push({ relation: 'next', url: nextUrl(ctx, page[page.length - 1]!) });

  const entry: NonNullable<Bundle['entry']> = page.map((s) => slotEntry(s, SlotStore.statusAt(s, ctx.nowMs), ctx.baseUrl, store));
  for (const key of resolveIncludes(page, search.includes, store.catalogue)) {
    entry.push({ fullUrl: `${ctx.baseUrl}/${key}`, resource: ctx.statics.get(key)!, search: { mode: 'include' } });
  }

  return {
    resourceType: 'Bundle',
    // Derived, not random: the same search at the same moment gives the same bundle in every instance.
    id: uuidV5(`bundle|${ctx.selfUrl}|${ctx.nowMs}`),
    meta: { lastUpdated: new Date(ctx.nowMs).toISOString() },
    type: 'searchset',
    total: matches.length,
    link,
    ...(entry.length > 0 ? { entry } : {}),
  };
}

type Entry = NonNullable<Bundle['entry']>[number];

/**
 * A slot's entry as listed, kept on the slot while its status and the base URL stay the same (frozen: every search
 * that lists the slot shares it), and its JSON text once written (bundleJson). Building and serialising the same
 * entries on every search was a seventh of this simulator's CPU on a cold search; real providers' CPU is not on the
 * machine of the stack under test, this simulator's is.
 */
const entryTexts = new WeakMap<Entry, string>();

function slotEntry(slot: DiarySlot, status: SlotStatus, baseUrl: string, store: SlotStore): Entry {
  const kept = slot.listed as { status: SlotStatus; baseUrl: string; entry: Entry } | undefined;
  if (kept && kept.status === status && kept.baseUrl === baseUrl) return kept.entry;
  const entry = deepFreeze({ fullUrl: `${baseUrl}/Slot/${slot.id}`, resource: slotResource(store.catalogue.tenantId, slot, status), search: { mode: 'match' as const } });
  slot.listed = { status, baseUrl, entry };
  return entry;
}

/**
 * A searchSlots bundle's JSON text, character for character what JSON.stringify writes, with each kept entry written
 * once. It relies on what searchSlots builds: `entry` last, after fields that are never empty.
 */
export function bundleJson(bundle: Bundle): string {
  const { entry, ...head } = bundle;
  const text = JSON.stringify(head);
  if (!entry) return text;
  const entries = entry.map((e) => {
    let t = entryTexts.get(e);
    if (t === undefined) {
      t = JSON.stringify(e);
      if (Object.isFrozen(e)) entryTexts.set(e, t);
    }
    return t;
  });
  return `${text.slice(0, -1)},"entry":[${entries.join(',')}]}`;
}

function deepFreeze<T>(v: T): T {
  if (typeof v === 'object' && v !== null && !Object.isFrozen(v)) {
    for (const x of Object.values(v)) deepFreeze(x);
    Object.freeze(v);
  }
  return v;
}

/** Index of the first slot after the cursor. Keyset paging: a slot booked between pages shifts nothing. */
function firstAfter(slots: readonly DiarySlot[], after: { startMs: number; id: string }): number {
  const i = slots.findIndex((s) => bySlotOrder(s, after) > 0);
  return i < 0 ? slots.length : i;
}

function nextUrl(ctx: SearchContext, last: DiarySlot): string {
  const q = new URLSearchParams(ctx.query);
  q.delete(PAGE_PARAM);
  q.append(PAGE_PARAM, encodeCursor({ startMs: last.startMs, id: last.id }));
  return `${ctx.baseUrl}/Slot?${q.toString()}`;
}
