/**
 * The searchset's text: entries kept per slot and written once must read exactly as a bundle built afresh, and
 * follow the slot when its status changes (a booking, or its start passing).
 */
import { describe, expect, it } from 'vitest';
import { createProvider } from './router.js';
import { parseSlotSearch } from './search-params.js';
import { bundleJson, searchSlots, type Bundle } from './slot-search.js';
import { buildTenants } from './tenants.js';

const NOW = Date.parse('2026-06-01T09:00:00Z'); // Monday, 10:00 BST
const BASE = 'http://provider.test/harbour/STU3';

function search(provider: ReturnType<typeof createProvider>, params: [string, string][], nowMs = NOW): Bundle {
  const query = new URLSearchParams([['schedule.actor:healthcareservice', 'HealthcareService/1402000102'], ...params]);
  return searchSlots(parseSlotSearch(query, nowMs), {
    store: provider.slots,
    statics: provider.statics,
    baseUrl: BASE,
    consumerOds: 'X26',
    nowMs,
    query,
    selfUrl: `${BASE}/Slot?${query}`,
  });
}

/** The bundle as plain JSON would write it: a deep copy, so nothing kept can be reused. */
const fresh = (b: Bundle): string => JSON.stringify(structuredClone(b));

describe('bundleJson', () => {
  const provider = createProvider(buildTenants()[0]!, () => new Date(NOW));
  const window: [string, string][] = [['start', 'ge2026-06-01T10:00:00+01:00'], ['start', 'le2026-06-02T10:00:00+01:00']];
  const includes: [string, string][] = [['_include', 'Slot:schedule'], ['_include:recurse', 'Schedule:actor:Practitioner']];

  it('writes what JSON.stringify writes, the first time and when every entry is kept', () => {
    for (let round = 0; round < 2; round++) {
      const b = search(provider, [...window, ...includes, ['_count', '100']]);
      expect(b.entry?.length).toBeGreaterThan(20);
      expect(bundleJson(b)).toBe(fresh(b));
      expect(JSON.parse(bundleJson(b))).toEqual(JSON.parse(fresh(b)));
    }
  });

  it('writes an empty searchset without entries', () => {
    const b = search(provider, [['start', 'ge2026-06-01T10:01:00+01:00'], ['start', 'le2026-06-01T10:02:00+01:00']]);
    expect(b.entry).toBeUndefined();
    expect(bundleJson(b)).toBe(fresh(b));
  });

  it('lists a slot with its status now, not the status its kept entry was written with', () => {
    const before = JSON.parse(bundleJson(search(provider, [...window, ['status', 'free,busy']])));
    const first = before.entry.find((e: any) => e.resource.status === 'free').resource;
    const slot = provider.slots.findSlot(first.schedule.reference.replace('Schedule/', ''), Date.parse(first.start), first.id)!;
    slot.status = 'busy';
    try {
      const after = JSON.parse(bundleJson(search(provider, [...window, ['status', 'free,busy']])));
      expect(after.entry.find((e: any) => e.resource.id === first.id).resource.status).toBe('busy');
    } finally {
      slot.status = 'free';
    }
    // Its start passed: the same kept slot reads busy at a later instant.
    const later = Date.parse(first.start);
    const past = JSON.parse(bundleJson(search(provider, [['start', 'ge2026-06-01T00:00:00+01:00'], ['start', 'le2026-06-02T10:00:00+01:00'], ['status', 'free,busy']], later)));
    expect(past.entry.find((e: any) => e.resource.id === first.id).resource.status).toBe('busy');
    const again = JSON.parse(bundleJson(search(provider, [...window, ['status', 'free']]))).entry.find((e: any) => e.resource.id === first.id);
    expect(again.resource.status).toBe('free');
  });

  it('writes each entry under the base URL of the search that lists it', () => {
    const other = 'http://elsewhere.test/harbour/STU3';
    const query = new URLSearchParams([['schedule.actor:healthcareservice', 'HealthcareService/1402000102'], ...window]);
    for (const base of [BASE, other, BASE]) {
      const b = searchSlots(parseSlotSearch(query, NOW), { store: provider.slots, statics: provider.statics, baseUrl: base, consumerOds: 'X26', nowMs: NOW, query, selfUrl: `${base}/Slot?${query}` });
      const entries = JSON.parse(bundleJson(b)).entry as { fullUrl: string }[];
      expect(entries.length).toBeGreaterThan(0);
      for (const e of entries) expect(e.fullUrl.startsWith(`${base}/`)).toBe(true);
    }
  });
});

describe('the diary a provider holds', () => {
  it('drops the days that fall out of its horizon as time passes, keeping those within it', () => {
    let now = NOW;
    const provider = createProvider(buildTenants()[0]!, () => new Date(now));
    const everything: [string, string][] = [['status', 'free,busy']];
    search(provider, everything, now);
    const held = provider.slots.heldDays;
    expect(held).toBeGreaterThan(10);
    now += 30 * 86_400_000;
    const later = search(provider, everything, now);
    expect(later.total).toBeGreaterThan(0);
    // Only the horizon's days (yesterday to 14 days ahead) are left: none of the month before.
    expect(provider.slots.heldDays).toBeLessThanOrEqual(16);
    expect(provider.slots.heldDays).toBeGreaterThan(10);
  });
});
