/** The bench's pure parts: the search sets, row statistics, targets, the `--json` shape and the arguments. No stack. */
import { describe, expect, it } from 'vitest';
import { countUpstream } from './upstream-calls.js';
import { haversineKm } from '../sandbox/directory/geo.js';
import { SEED_POSTCODES, SEED_SERVICES, type ServiceTypeCode } from '../sandbox/seed/services.js';
import { pooled, type Sample } from './load.js';
import { ROW_IDS, TARGETS, burst, jsonRow, parseArgs, rowStats, slowFeedWith, slowFeedWithout, table, toJson, warmVariedC1, type BenchRow } from './rows.js';
import { MAX_VARIANTS, interleave, searchKey, slowFeedSearches, variantOf, variedSearches, type ListedService, type ServiceTypeName } from './searches.js';

const FIRST_DAY = '2026-03-27'; // the Friday before the spring clock change: windows cross it

const listed: ListedService[] = [
  ...SEED_SERVICES.map((s) => ({
    __typename: s.endpoint === null ? 'ReferralOnlyService' : s.endpoint.supplierSystem === 'oakfield-pas' ? 'PasRestService' : 'BookingStandardService',
    id: s.id,
    supplier: s.endpoint ? { id: s.endpoint.supplierSystem, kind: s.endpoint.format === 'FHIR' ? 'BOOKING_STANDARD' : 'PAS_REST' } : null,
  })),
  ...Array.from({ length: 9 }, (_, i) => ({ __typename: 'SmartLinksService', id: `smart:smart-vaccines:${i}:VAC`, supplier: { id: 'smart-vaccines', kind: 'SMART_LINKS' } })),
  ...Array.from({ length: 15 }, (_, i) => ({ __typename: 'SmartLinksService', id: `smart:smart-urgent-care:${i}:UTC`, supplier: { id: 'smart-urgent-care', kind: 'SMART_LINKS' } })),
];
const benchSet = listed.filter((s) => s.supplier).slice(0, 50).map((s) => s.id);

const TYPE: Record<ServiceTypeCode, ServiceTypeName> = {
  ED: 'EMERGENCY_DEPARTMENT',
  UTC: 'URGENT_TREATMENT_CENTRE',
  MIU: 'MINOR_INJURY_UNIT',
  GP_OOH: 'GP_OUT_OF_HOURS',
  DENTAL: 'URGENT_DENTAL',
  PHARMACY: 'PHARMACY',
};
/** Seeded at its provider with nothing released (sandbox/seed). */
const NO_SLOTS = new Set(['1404000305']);

function sample(latencies: number[], extra: Partial<Sample> = {}): Sample {
  return { requests: latencies.length, concurrency: 1, errors: 0, wallMs: 1000, latencies: [...latencies].sort((a, b) => a - b), ...extra };
}

describe('bench searches', () => {
  const varied = variedSearches(FIRST_DAY, listed, benchSet);

  it('has at least 20 distinct searches, every postcode of the seed among them', () => {
    expect(varied.length).toBeGreaterThanOrEqual(20);
    expect(new Set(varied.map((s) => searchKey(s.input))).size).toBe(varied.length);
    expect(new Set(varied.map((s) => s.name)).size).toBe(varied.length);
    const postcodes = new Set(varied.flatMap((s) => (s.input.near ? [s.input.near.postcode] : [])));
    expect([...postcodes].sort()).toEqual(Object.keys(SEED_POSTCODES).sort());
    // Varied in every dimension, not only in the postcode.
    expect(new Set(varied.map((s) => JSON.stringify(s.input.types ?? null))).size).toBeGreaterThanOrEqual(4);
    expect(new Set(varied.map((s) => `${s.input.from} ${s.input.to}`)).size).toBeGreaterThanOrEqual(5);
  });

  it('has 20 distinct postcode searches even when the directory lists no service', () => {
    const alone = variedSearches(FIRST_DAY, [], []);
    expect(new Set(alone.map((s) => searchKey(s.input))).size).toBeGreaterThanOrEqual(20);
  });

  it('gives every search a window the API accepts (1 to 14 London days, from before to)', () => {
    for (const s of varied) {
      const span = Date.parse(s.input.to) - Date.parse(s.input.from);
      expect(span, s.name).toBeGreaterThan(0);
      expect(span, s.name).toBeLessThanOrEqual(14 * 86_400_000);
      expect(s.input.first).toBeGreaterThanOrEqual(1);
      expect(s.input.first).toBeLessThanOrEqual(200);
      expect(s.input.serviceIds?.length ?? 1).toBeLessThanOrEqual(100);
    }
  });

  it('reaches a Booking Standard service with slots every day from every postcode search (a complete answer has slots)', () => {
    for (const s of varied.filter((x) => x.input.near)) {
      const at = SEED_POSTCODES[s.input.near!.postcode]!;
      const types = s.input.types ? new Set(s.input.types) : null;
      const reached = SEED_SERVICES.filter(
        (x) =>
          x.endpoint !== null &&
          x.endpoint.format === 'FHIR' &&
          !NO_SLOTS.has(x.id) &&
          (!types || types.has(TYPE[x.type])) &&
          haversineKm(at, x) <= s.input.radiusKm!,
      );
      expect(reached.length, s.name).toBeGreaterThan(0);
      // Well under the gateway's 100-service limit.
      expect(SEED_SERVICES.filter((x) => haversineKm(at, x) <= s.input.radiusKm!).length).toBeLessThan(100);
    }
  });

  it('says which feeds a search may include', () => {
    for (const s of varied) {
      if (s.input.near) expect(s.feedSystems).toEqual([]);
      const fromIds = new Set((s.input.serviceIds ?? []).filter((id) => id.startsWith('smart:')).map((id) => id.split(':')[1]));
      if (s.input.serviceIds) expect(s.feedSystems).toEqual([...fromIds].sort());
    }
  });

  it('splits the slow-feed searches into those without the slow feed and those of only its services', () => {
    const sf = slowFeedSearches(varied, FIRST_DAY, listed, 'smart-vaccines');
    expect(sf.without.length).toBeGreaterThanOrEqual(20);
    for (const s of sf.without) expect(s.input.serviceIds?.some((id) => id.startsWith('smart:smart-vaccines:')) ?? false).toBe(false);
    expect(sf.with.length).toBe(2);
    for (const s of sf.with) expect(s.input.serviceIds!.every((id) => id.startsWith('smart:smart-vaccines:'))).toBe(true);
    expect(slowFeedSearches(varied, FIRST_DAY, listed, 'no-such-feed').with).toEqual([]);
  });

  it('makes variants of a search that differ from it and from each other but cover the same whole minutes', () => {
    const base = varied[0]!.input;
    expect(variantOf(base, 0)).toBe(base);
    expect(variantOf(base, MAX_VARIANTS)).toBe(base);
    const keys = new Set<string>([searchKey(base)]);
    for (const k of [1, 2, 999, MAX_VARIANTS - 1]) {
      const v = variantOf(base, k);
      keys.add(searchKey(v));
      expect(v.from).toBe(base.from);
      expect(Date.parse(base.to) - Date.parse(v.to)).toBe(k);
      // Same last whole minute: a slot starting on a minute is inside one exactly when it is inside the other.
      expect(Math.floor(Date.parse(v.to) / 60_000)).toBe(Math.floor(Date.parse(base.to) / 60_000));
    }
    expect(keys.size).toBe(5);
    for (const s of varied) expect(new Date(s.input.to).getUTCSeconds(), s.name).toBe(59);
  });

  it('interleaves three without to one with, and keeps at least one with', () => {
    const mixed = interleave(['a', 'b', 'c', 'd', 'e', 'f', 'g'], ['X', 'Y']);
    expect(mixed.map((m) => m.item).join('')).toBe('abcXdefYg');
    expect(interleave(['a'], ['X']).map((m) => m.group)).toEqual(['without', 'with']);
    expect(interleave(['a', 'b'], []).every((m) => m.group === 'without')).toBe(true);
  });
});

describe('bench rows', () => {
  it('computes nearest-rank percentiles, req/s and CPU per request', () => {
    const lat = Array.from({ length: 100 }, (_, i) => i + 1); // 1..100 ms
    const st = rowStats(sample(lat, { errors: 3, wallMs: 2000 }), 250);
    expect(st).toEqual({ requests: 100, failed: 3, rps: 50, p50Ms: 50, p99Ms: 99, cpuMsPerReq: 2.5 });
    const empty = rowStats(sample([]));
    expect(Number.isNaN(empty.p99Ms)).toBe(true);
    expect(Number.isNaN(empty.cpuMsPerReq)).toBe(true);
  });

  it('writes exactly the issue-9 keys per row, numbers or null, and a variant only where given', () => {
    const rows: BenchRow[] = [
      { id: 'slot-gateway', label: 'x', sample: sample([1, 2, 3], { concurrency: 10 }), cpuMs: 3 },
      { id: 'slot-direct', label: 'y', sample: sample([]) },
      { id: 'availability-slow-feed', variant: 'slow-publisher-with', label: 'z', sample: sample([5.123456]) },
    ];
    const parsed = JSON.parse(toJson(rows)) as Record<string, unknown>[];
    expect(Array.isArray(parsed)).toBe(true);
    const keys = ['id', 'c', 'requests', 'failed', 'rps', 'p50Ms', 'p99Ms', 'cpuMsPerReq'];
    expect(Object.keys(parsed[0]!).sort()).toEqual([...keys].sort());
    expect(parsed[0]).toEqual({ id: 'slot-gateway', c: 10, requests: 3, failed: 0, rps: 3, p50Ms: 2, p99Ms: 3, cpuMsPerReq: 1 });
    expect(parsed[1]).toMatchObject({ rps: 0, p50Ms: null, p99Ms: null, cpuMsPerReq: null });
    expect(Object.keys(parsed[2]!).sort()).toEqual([...keys, 'variant'].sort());
    expect(parsed[2]).toMatchObject({ p50Ms: 5.12, variant: 'slow-publisher-with' });
    expect(jsonRow(rows[0]!)).toEqual(parsed[0]);
  });

  it('names the eight rows of issue 9', () => {
    expect([...ROW_IDS]).toEqual([
      'slot-gateway',
      'slot-direct',
      'slot-hive',
      'availability-warm-varied',
      'availability-warm-same',
      'availability-cold',
      'availability-burst',
      'availability-slow-feed',
    ]);
  });

  it('judges targets without treating a wrong answer or a missing measurement as met', () => {
    const fast = sample(Array.from({ length: 100 }, () => 100));
    expect(slowFeedWithout(sample(Array.from({ length: 100 }, () => 119)), fast, 3).met).toBe(true);
    expect(slowFeedWithout(sample(Array.from({ length: 100 }, () => 121)), fast, 3).met).toBe(false);
    expect(slowFeedWithout(sample(Array.from({ length: 100 }, () => 100), { errors: 1 }), fast, 3).met).toBe(false);
    expect(slowFeedWithout(fast, fast, 0).met).toBeNull();
    expect(slowFeedWith(sample([10]), 2).met).toBe(true);
    expect(slowFeedWith(sample([10], { errors: 1 }), 2).met).toBe(false);
    expect(warmVariedC1(sample([10, 12]), 2 * TARGETS.warmVariedC1CpuMs).met).toBe(true);
    expect(warmVariedC1(sample([10, 12]), 2 * (TARGETS.warmVariedC1CpuMs + 1)).met).toBe(false);
    const b = sample(Array.from({ length: 100 }, () => 1), { errors: 5, concurrency: 100 });
    expect(burst(b, { maxPerServiceDay: 1, uncovered: 0, total: 200 }).met).toBe(true);
    expect(burst({ ...b, errors: 6 }, { maxPerServiceDay: 1, uncovered: 0, total: 200 }).met).toBe(false);
    expect(burst(b, { maxPerServiceDay: 2, uncovered: 0, total: 200 }).met).toBe(false);
    expect(burst(b, { maxPerServiceDay: 1, uncovered: 3, total: 200 }).met).toBeNull();
  });

  it('prints one Markdown table with the target and its verdict beside each row', () => {
    const text = table([
      { id: 'availability-warm-same', label: 'same', sample: sample([30]), verdict: { target: 'p99 ≤ 25 ms', met: false } },
      { note: 'a ratio' },
    ]);
    const lines = text.split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[2]).toContain('availability-warm-same');
    expect(lines[2]).toContain('**not met**');
    expect(new Set(lines.map((l) => l.length)).size).toBe(1);
  });

  it('reads --quick, --json FILE and --profile DIR, and refuses anything else', () => {
    expect(parseArgs([])).toEqual({ quick: false });
    expect(parseArgs(['--quick', '--json', 'out.json'])).toEqual({ quick: true, json: 'out.json' });
    expect(parseArgs(['--json=rows.json'])).toEqual({ quick: false, json: 'rows.json' });
    expect(() => parseArgs(['--json'])).toThrow(/file/);
    expect(() => parseArgs(['--json', '--quick'])).toThrow(/file/);
    expect(parseArgs(['--profile', 'prof'])).toEqual({ quick: false, profile: 'prof' });
    expect(() => parseArgs(['--profile'])).toThrow(/directory/);
    expect(() => parseArgs(['--fast'])).toThrow(/unknown/);
  });
});

describe('pooled blocks', () => {
  const block = (requests: number, errors: number, wallMs: number, latencies: number[]): Sample => ({ requests, concurrency: 10, errors, wallMs, latencies });

  it('adds counts and wall time per group, and sorts the latencies together', () => {
    const one = new Map([['without', block(3, 0, 1000, [5, 9, 30])], ['with', block(1, 1, 1000, [7])]]);
    const two = new Map([['without', block(2, 1, 500, [1, 12])]]);
    const p = pooled([one, two]);
    expect(p.get('without')).toEqual({ requests: 5, concurrency: 10, errors: 1, wallMs: 1500, latencies: [1, 5, 9, 12, 30] });
    expect(p.get('with')).toEqual({ requests: 1, concurrency: 10, errors: 1, wallMs: 1000, latencies: [7] });
    // The blocks themselves are left as they were.
    expect(one.get('without')!.latencies).toEqual([5, 9, 30]);
  });

  it('refuses to pool runs of one group at different concurrency', () => {
    expect(() => pooled([new Map([['a', block(1, 0, 1, [1])]]), new Map([['a', { ...block(1, 0, 1, [1]), concurrency: 1 }]])])).toThrow(/c=10 and c=1/);
  });
});

describe('upstream calls per service-day', () => {
  const search = (from: string, to: string, page?: string) => ({
    method: 'GET',
    path: '/harbour/STU3/Slot',
    query: { 'schedule.actor:healthcareservice': ['1402000101'], start: [`ge${from}`, `le${to}`], ...(page ? { _page: [page] } : {}) },
    status: 200,
  });

  it('counts a window cut into disjoint slices once, and a refetch of any instant twice', () => {
    const sliced = countUpstream({ bookingStandard: [search('2026-12-02T00:00:00Z', '2026-12-02T11:59:59Z'), search('2026-12-02T12:00:00Z', '2026-12-02T23:59:59Z')], pas: [], feeds: [] }, new Map());
    expect(sliced.perServiceDay.get('1402000101 2026-12-02')).toBe(1);
    expect(sliced.perService.get('1402000101')).toBe(2);
    const twice = countUpstream({ bookingStandard: [search('2026-12-02T00:00:00Z', '2026-12-02T23:59:59Z'), search('2026-12-02T10:00:00Z', '2026-12-02T11:00:00Z')], pas: [], feeds: [] }, new Map());
    expect(twice.perServiceDay.get('1402000101 2026-12-02')).toBe(2);
    const paged = countUpstream({ bookingStandard: [search('2026-12-02T00:00:00Z', '2026-12-02T23:59:59Z'), search('2026-12-02T00:00:00Z', '2026-12-02T23:59:59Z', 'c1')], pas: [], feeds: [] }, new Map());
    expect(paged.perServiceDay.get('1402000101 2026-12-02')).toBe(1);
  });
});
