/**
 * The bench's rows: statistics of a sample, the targets judged beside them, the printed table and the
 * `--json FILE` output. Pure (no I/O), so bench/bench.test.ts checks it without a stack.
 */
import { percentile, rps, type Sample } from './load.js';

export const ROW_IDS = [
  'slot-gateway',
  'slot-direct',
  'slot-hive',
  'availability-warm-varied',
  'availability-warm-same',
  'availability-cold',
  'availability-burst',
  'availability-slow-feed',
] as const;
export type RowId = (typeof ROW_IDS)[number];

/** What `--json` writes per row (`variant` only on rows sharing an id and c: the slow-feed row's parts). */
export interface JsonRow {
  id: RowId;
  c: number;
  requests: number;
  failed: number;
  rps: number | null;
  p50Ms: number | null;
  p99Ms: number | null;
  cpuMsPerReq: number | null;
  variant?: string;
}

export interface Verdict {
  /** The target as the issue words it. */
  target: string;
  /** True met, false not met, null when the run cannot say (e.g. nothing was measured). */
  met: boolean | null;
  /** What was compared, when the row's own numbers do not show it. */
  detail?: string;
}

export interface BenchRow {
  id: RowId;
  variant?: string;
  /** Human label for the table. */
  label: string;
  sample: Sample;
  /** CPU the measured process spent over the sample, ms (undefined: not measured). */
  cpuMs?: number;
  verdict?: Verdict;
}

export interface RowStats {
  requests: number;
  failed: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  cpuMsPerReq: number;
}

export function rowStats(sample: Sample, cpuMs?: number): RowStats {
  return {
    requests: sample.requests,
    failed: sample.errors,
    rps: rps(sample),
    p50Ms: percentile(sample.latencies, 50),
    p99Ms: percentile(sample.latencies, 99),
    cpuMsPerReq: cpuMs === undefined || sample.requests === 0 ? Number.NaN : cpuMs / sample.requests,
  };
}

const num = (v: number, digits: number): number | null => (Number.isFinite(v) ? Number(v.toFixed(digits)) : null);

export function jsonRow(r: BenchRow): JsonRow {
  const s = rowStats(r.sample, r.cpuMs);
  return {
    id: r.id,
    c: r.sample.concurrency,
    requests: s.requests,
    failed: s.failed,
    rps: num(s.rps, 1),
    p50Ms: num(s.p50Ms, 2),
    p99Ms: num(s.p99Ms, 2),
    cpuMsPerReq: num(s.cpuMsPerReq, 2),
    ...(r.variant ? { variant: r.variant } : {}),
  };
}

export function toJson(rows: readonly BenchRow[]): string {
  return `${JSON.stringify(rows.map(jsonRow), null, 2)}\n`;
}

// ---- targets (issue 9): judged and printed, never a reason to exit non-zero on their own --------------------------

export const TARGETS = {
  gatewayOverDirectC10: 0.35,
  oursOverHiveC10: 1.0,
  warmVariedC1P50Ms: 15,
  warmVariedC1CpuMs: 8,
  warmVariedC10P99Ms: 100,
  warmSameC10P99Ms: 25,
  coldC1P99Ms: 300,
  coldC10P99Ms: 450,
  burstCallsPerServiceDay: 1,
  burstCompleteShare: 0.95,
  slowFeedP99Ratio: 1.2,
} as const;

const within = (v: number, max: number) => Number.isFinite(v) && v <= max;
const atLeast = (v: number, min: number) => Number.isFinite(v) && v >= min;
const f = (v: number, d = 0) => (Number.isFinite(v) ? v.toFixed(d) : 'n/a');

export function gatewayOverDirect(gateway: Sample, direct: Sample): Verdict {
  const ratio = rps(gateway) / rps(direct);
  return { target: `gateway ÷ direct req/s ≥ ${TARGETS.gatewayOverDirectC10}`, met: atLeast(ratio, TARGETS.gatewayOverDirectC10), detail: `ratio ${f(ratio, 2)}` };
}

export function oursOverHive(ours: Sample, hive: Sample): Verdict {
  const ratio = rps(ours) / rps(hive);
  return { target: `ours ≥ ${TARGETS.oursOverHiveC10.toFixed(1)}× Hive req/s`, met: atLeast(ratio, TARGETS.oursOverHiveC10), detail: `ours ${f(rps(ours))} req/s, ${f(ratio, 2)}×` };
}

export function warmVariedC1(s: Sample, cpuMs: number): Verdict {
  const st = rowStats(s, cpuMs);
  return {
    target: `p50 ≤ ${TARGETS.warmVariedC1P50Ms} ms, gateway CPU ≤ ${TARGETS.warmVariedC1CpuMs} ms/req`,
    met: within(st.p50Ms, TARGETS.warmVariedC1P50Ms) && within(st.cpuMsPerReq, TARGETS.warmVariedC1CpuMs) && st.failed === 0,
  };
}

export function p99Within(s: Sample, maxMs: number, label = `p99 ≤ ${maxMs} ms, 0 incomplete`): Verdict {
  return { target: label, met: within(percentile(s.latencies, 99), maxMs) && s.errors === 0 };
}

export function burst(s: Sample, calls: { maxPerServiceDay: number; uncovered: number; total: number }): Verdict {
  const complete = s.requests - s.errors;
  const target = `≤ ${TARGETS.burstCallsPerServiceDay} upstream call per service-day, ≥ ${TARGETS.burstCompleteShare * 100}% complete`;
  const answers = `${complete} of ${s.requests} complete`;
  // Calls are only evidence when every service-day was asked: an open circuit or a failed look-up makes fewer.
  if (calls.uncovered > 0) return { target, met: null, detail: `not measurable: ${calls.uncovered} service-days never asked upstream; ${answers}` };
  return {
    target,
    met: calls.maxPerServiceDay <= TARGETS.burstCallsPerServiceDay && complete >= Math.ceil(TARGETS.burstCompleteShare * s.requests),
    detail: `max ${calls.maxPerServiceDay} per service-day, ${calls.total} calls; ${answers}`,
  };
}

/** Searches without the slow publisher's services: p99 within 20% of the same searches against a fast publisher. */
export function slowFeedWithout(slow: Sample, fast: Sample, publisherAsked: number): Verdict {
  const ratio = percentile(slow.latencies, 99) / percentile(fast.latencies, 99);
  const target = `p99 ≤ ${TARGETS.slowFeedP99Ratio}× fast publisher's, 0 incomplete`;
  if (publisherAsked === 0) return { target, met: null, detail: 'not measurable: the slow publisher was not asked during the run' };
  return { target, met: atLeast(TARGETS.slowFeedP99Ratio, ratio) && slow.errors === 0, detail: `${f(ratio, 2)}× (fast p99 ${f(percentile(fast.latencies, 99), 1)} ms)` };
}

/** Searches of the slow publisher's services: every answer complete, from its last snapshot (`CACHE`). */
export function slowFeedWith(slow: Sample, publisherAsked: number): Verdict {
  const target = 'every answer complete, its slots CACHE';
  if (publisherAsked === 0) return { target, met: null, detail: 'not measurable: the slow publisher was not asked during the run' };
  return { target, met: slow.errors === 0 && slow.requests > 0 };
}

export function verdictText(v: Verdict | undefined): string {
  if (!v) return '';
  const word = v.met === null ? 'cannot say' : v.met ? 'met' : '**not met**';
  return v.detail ? `${word} (${v.detail})` : word;
}

// ---- the table ----------------------------------------------------------------------------------------------------

const fmt = (v: number, digits = 0) => (Number.isFinite(v) ? v.toFixed(digits) : '');

/** One Markdown table; `notes` are extra lines with only a label (a ratio, say). */
export function table(rows: readonly (BenchRow | { note: string })[]): string {
  const head = ['id', 'case', 'c', 'requests', 'failed', 'req/s', 'p50 ms', 'p99 ms', 'CPU ms/req', 'target (issue 9)', 'result'];
  const body = rows.map((r) => {
    if ('note' in r) return ['', r.note, '', '', '', '', '', '', '', '', ''];
    const s = rowStats(r.sample, r.cpuMs);
    return [r.id, r.label, String(r.sample.concurrency), String(s.requests), String(s.failed), fmt(s.rps), fmt(s.p50Ms, 1), fmt(s.p99Ms, 1), fmt(s.cpuMsPerReq, 2), r.verdict?.target ?? '', verdictText(r.verdict)];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...body.map(line)].join('\n');
}

// ---- command line -------------------------------------------------------------------------------------------------

export interface BenchArgs {
  /** Where to write the rows as JSON. */
  json?: string;
  /** Few requests per row: checks the bench works, measures nothing worth keeping. */
  quick: boolean;
  /** Where the stack's own processes write V8 CPU profiles (`--cpu-prof`) when they stop. */
  profile?: string;
}

export function parseArgs(argv: readonly string[]): BenchArgs {
  const out: BenchArgs = { quick: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--quick') out.quick = true;
    else if (a === '--json') {
      const file = argv[++i];
      if (!file || file.startsWith('--')) throw new Error('--json needs a file name: npm run bench -- --json FILE');
      out.json = file;
    } else if (a.startsWith('--json=') && a.length > '--json='.length) out.json = a.slice('--json='.length);
    else if (a === '--profile') {
      const dir = argv[++i];
      if (!dir || dir.startsWith('--')) throw new Error('--profile needs a directory: npm run bench -- --profile DIR');
      out.profile = dir;
    } else throw new Error(`unknown argument ${a} (npm run bench [-- --quick] [-- --json FILE] [-- --profile DIR])`);
  }
  return out;
}
