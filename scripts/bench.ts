/**
 * `npm run bench`: starts its own stack (every process on a free port, a real redis-server for the slot cache),
 * warms up, measures, prints one Markdown table with the issue's targets beside the numbers, and stops everything.
 * All traffic stays on 127.0.0.1. Any wrong answer to a measured request (HTTP or GraphQL error, no slots, an
 * availability answer with coverage failures) makes it exit non-zero after the table, listing what failed.
 *
 * Rows:
 *   1. a one-service slot query through our gateway vs the same `_entities` call straight to the booking-standard
 *      subgraph (signed as the gateway signs), c=1 and c=10, with the gateway's CPU per request from /proc;
 *   2. `availability` over 50 services of the three supplier kinds, 7 London days: warm (right after a serial
 *      warm-up), and cold (last; Redis flushed before each round, every supplier simulator delaying each call 200 ms);
 *   3. the upstream calls 100 concurrent identical cold `availability` requests cause, from the simulators' logs;
 *   4. the row 1 slot query through Hive Gateway serving the same supergraph.
 * Rows 3 and cold start on freshly restarted supplier subgraphs, so an earlier row's open circuit is not measured.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { SUBGRAPHS } from '../subgraphs/catalog.js';
import { gatewayHeaders } from '../subgraphs/kit/internal-auth.js';
import { startRedis, type TestRedis } from '../test/redis.js';
import { BENCH_CONSUMER } from '../bench/consumer.js';
import { addDays, londonDate, londonMidnight } from '../bench/days.js';
import { FailureLog, agentFor, once, percentile, rounds, rps, run, type GraphQLAnswer, type Sample, type Target } from '../bench/load.js';
import { withCpu } from '../bench/proc.js';
import { askedServiceDays, clearSandboxLog, countUpstream, sandboxLog } from '../bench/upstream-calls.js';
// Type-only: puts the Hive Gateway entry (spawned below, never imported) under `tsc -p .`.
import type * as _hiveEntry from '../bench/hive-gateway.js';
import { PROCESSES, freePort, freePorts, startStack, stopChild, type Stack } from './stack.js';

const root = fileURLToPath(new URL('../', import.meta.url));
const started = performance.now();
const say = (m: string) => process.stderr.write(`[bench ${((performance.now() - started) / 1000).toFixed(1).padStart(5)} s] ${m}\n`);

// ---- the plan: fixed request counts, so a run is bounded whatever the machine does --------------------------------

const N = {
  warmup: 300,
  gatewayC1: 600,
  gatewayC10: 2000,
  directC1: 1500,
  directC10: 3000,
  availWarmup: 5,
  availColdRoundsC1: 10,
  availColdRoundsC10: 5,
  availWarmC1: 30,
  availWarmC10: 80,
  burst: 100,
};
const SUPPLIER_DELAY_MS = 200;
const WINDOW_DAYS = 7;
const SERVICES = 50;
/** The whole run, start-up included; past it everything is stopped and the bench fails. */
const HARD_LIMIT_MS = 6 * 60_000;

const TARGETS = {
  warmP99C10Ms: 25,
  coldMs: SUPPLIER_DELAY_MS + 50,
  callsPerServiceDay: 1,
};

/** A Harbour (Booking Standard) service with slots every day: St James's Urgent Treatment Centre. */
const SLOT_SERVICE = { id: '1402000102', system: 'harbour-uec' };
const SLOT_QUERY = /* GraphQL */ `query Slots($id: ID!) { service(id: $id) { ... on BookingStandardService { slots { nodes { id start } } } } }`;
const ENTITIES_QUERY = /* GraphQL */ `query Slots($reps: [_Any!]!) { _entities(representations: $reps) { ... on BookingStandardService { slots { nodes { id start } } } } }`;
const AVAILABILITY = /* GraphQL */ `
  query Availability($s: AvailabilitySearch!) {
    availability(search: $s) {
      totalCount
      coverage { servicesAsked servicesAnswered failures { serviceId supplierSystem reason } }
      edges { node { distanceKm slot { id start end serviceId source bookable } service { id name supplierSystem } } }
    }
  }
`;

// ---- processes ----------------------------------------------------------------------------------------------------

let redis: TestRedis | undefined;
let stack: Stack | undefined;
let hive: ChildProcess | undefined;

async function stopHive(): Promise<void> {
  const child = hive;
  hive = undefined;
  if (child) await stopChild(child);
}

async function cleanup(): Promise<void> {
  await stopHive();
  await stack?.stopAll();
  await redis?.dispose();
}

class HiveCannotLoad extends Error {}

/**
 * Hive Gateway as its own process (bench/hive-gateway.ts). It loads the supergraph on the first request, so the
 * probe is a query; a supergraph it refuses is reported as HiveCannotLoad with its reason.
 */
async function startHive(s: Stack, requiresOnly?: string): Promise<{ url: string; pid: number }> {
  const port = await freePort();
  const urls = Object.fromEntries(SUBGRAPHS.filter((g) => g.remote).map((g) => [g.name, s.url(g.name)]));
  const output: string[] = [];
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/hive-gateway.ts'], {
    cwd: root,
    env: {
      ...process.env,
      NO_COLOR: '1',
      HIVE_PORT: String(port),
      HIVE_SUBGRAPH_URLS: JSON.stringify(urls),
      ...(requiresOnly ? { HIVE_REQUIRES_ONLY: requiresOnly } : {}),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  hive = child;
  const keep = (c: Buffer) => {
    output.push(c.toString('utf8'));
    if (output.length > 200) output.shift();
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const url = `http://127.0.0.1:${port}/graphql`;
  const until = Date.now() + 60_000;
  const agent = agentFor(1);
  try {
    while (Date.now() < until) {
      if (child.exitCode !== null) throw new Error(`Hive Gateway exited with code ${child.exitCode}:\n${output.join('')}`);
      const r = await once(agent, { url, body: () => JSON.stringify({ query: '{ __typename }' }) });
      if (r.error === undefined) return { url, pid: child.pid! };
      const refused = /Multiple canonical definitions for \\?"(\w+)/.exec(output.join(''));
      if (refused) {
        await stopHive();
        throw new HiveCannotLoad(`Multiple canonical definitions for "${refused[1]}"`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  } finally {
    agent.destroy();
  }
  throw new Error(`Hive Gateway did not answer within 60 s:\n${output.join('').slice(-3000)}`);
}

async function injectDelay(base: string, delayMs: number): Promise<void> {
  const res = await fetch(`${base}/_sandbox/faults`, { method: 'POST', body: JSON.stringify({ delayMs }) });
  if (!res.ok) throw new Error(`could not inject a delay into ${base}: ${res.status}`);
}

// ---- the cases ----------------------------------------------------------------------------------------------------

function slotsCheck(slots: { nodes?: unknown[] } | null | undefined): string | null {
  if (!slots) return 'slots is null (the supplier did not answer)';
  if (!Array.isArray(slots.nodes) || slots.nodes.length === 0) return 'no slots in the answer (the bench would measure an empty answer)';
  return null;
}

/** Signed as the gateway signs: per request, over its URL and body (a subgraph refuses a signature used twice). */
function signedHeaders(url: string, body: string): () => Record<string, string> {
  return () => gatewayHeaders(BENCH_CONSUMER, { url, body }, randomUUID());
}

interface Row {
  row: string;
  case: string;
  c: number | '';
  n: number | '';
  failed?: number | '';
  rps?: number;
  p50?: number;
  p99?: number;
  cpu?: number;
  target: string;
  met: string;
}

const fmt = (v: number | undefined, digits = 0) => (v === undefined || Number.isNaN(v) ? '' : v.toFixed(digits));
const yes = (ok: boolean) => (ok ? 'met' : '**not met**');

function sampleRow(row: string, name: string, s: Sample, extra: Partial<Row> = {}): Row {
  return {
    row,
    case: name,
    c: s.concurrency,
    n: s.requests,
    failed: s.errors,
    rps: rps(s),
    p50: percentile(s.latencies, 50),
    p99: percentile(s.latencies, 99),
    target: '',
    met: '',
    ...extra,
  };
}

function table(rows: Row[]): string {
  const head = ['#', 'case', 'c', 'requests', 'failed', 'req/s', 'p50 ms', 'p99 ms', 'gateway CPU ms/req', 'target (issue)', 'result'];
  const body = rows.map((r) => [r.row, r.case, String(r.c), String(r.n), String(r.failed ?? ''), fmt(r.rps), fmt(r.p50, 1), fmt(r.p99, 1), fmt(r.cpu, 2), r.target, r.met]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...body.map(line)].join('\n');
}

// ---- the run ------------------------------------------------------------------------------------------------------

async function main(): Promise<number> {
  const failures = new FailureLog();
  const rows: Row[] = [];
  const notes: string[] = [];

  const loadBefore = loadavg()[0]!;
  say(`machine: ${cpus().length} CPUs, load average ${loadBefore.toFixed(2)} (1 min) before the run`);
  say('starting redis-server and the stack (free ports, 127.0.0.1)');
  redis = await startRedis();
  const s = (stack = await startStack({
    ports: await freePorts(),
    // The per-consumer rate limit (600/min by default) would refuse a benchmark's traffic: raised, nothing else.
    env: { LOG_LEVEL: 'warn', REDIS_URL: redis.url, RATE_LIMIT_PER_MINUTE: '1000000', COST_LIMIT_PER_MINUTE: '100000000', CONCURRENT_PER_CONSUMER: '10000' },
    readyTimeoutMs: 60_000,
    // Every warning the processes log is counted after the run (what went wrong inside, not only what answered).
    keepAllOutput: true,
  }));
  const gatewayPid = s.pid('gateway');
  if (!gatewayPid) throw new Error('no gateway process id');
  const flush = async () => {
    await redis!.client().flushall();
  };

  // ---- 1: one service's slots, through the gateway and straight to the subgraph -----------------------------------
  const viaGateway: Target = {
    url: s.gatewayUrl,
    body: () => JSON.stringify({ query: SLOT_QUERY, variables: { id: SLOT_SERVICE.id } }),
    check: (j) => slotsCheck(j.data?.service?.slots),
  };
  const directBody = JSON.stringify({
    query: ENTITIES_QUERY,
    variables: { reps: [{ __typename: 'BookingStandardService', id: SLOT_SERVICE.id, supplier: { id: SLOT_SERVICE.system } }] },
  });
  const direct: Target = {
    url: s.url('booking-standard'),
    body: () => directBody,
    headers: signedHeaders(s.url('booking-standard'), directBody),
    check: (j) => slotsCheck(j.data?._entities?.[0]?.slots),
  };

  say('row 1: warm-up');
  await run('1 warm-up (gateway)', viaGateway, { requests: N.warmup, concurrency: 10 }, failures);
  await run('1 warm-up (direct)', direct, { requests: N.warmup, concurrency: 10 }, failures);
  say('row 1: gateway, c=1 and c=10');
  const g1 = await withCpu(gatewayPid, () => run('1 gateway c=1', viaGateway, { requests: N.gatewayC1, concurrency: 1 }, failures));
  const g10 = await withCpu(gatewayPid, () => run('1 gateway c=10', viaGateway, { requests: N.gatewayC10, concurrency: 10 }, failures));
  say('row 1: subgraph direct, c=1 and c=10');
  const d1 = await run('1 direct c=1', direct, { requests: N.directC1, concurrency: 1 }, failures);
  const d10 = await run('1 direct c=10', direct, { requests: N.directC10, concurrency: 10 }, failures);

  // ---- 4: the same slot query through Hive Gateway ----------------------------------------------------------------
  say('row 4: starting Hive Gateway on the same supergraph');
  let hiveGw: { url: string; pid: number };
  let hiveLabel = 'slot query, Hive Gateway 2.15.1, same supergraph';
  try {
    hiveGw = await startHive(s);
  } catch (err) {
    if (!(err instanceof HiveCannotLoad)) throw err;
    say(`  Hive Gateway refuses schema/supergraph.graphql (${err.message}); retrying with @requires kept on booking-standard only`);
    notes.push(
      `Hive Gateway 2.15.1 cannot load schema/supergraph.graphql: ${err.message} (its stitching marks the shared Slot type canonical in every ` +
        'subgraph whose @requires fields return it). Row 4 serves it the same supergraph with the @requires of pas-rest and smart-links ' +
        'dropped; the measured query only reaches directory and booking-standard, whose plan is unchanged.',
    );
    hiveLabel = 'slot query, Hive Gateway 2.15.1, supergraph with @requires on booking-standard only (note)';
    hiveGw = await startHive(s, 'booking-standard');
  }
  const viaHive: Target = { ...viaGateway, url: hiveGw.url };
  say('row 4: Hive Gateway warm-up, c=1 and c=10');
  await run('4 warm-up (Hive)', viaHive, { requests: N.warmup, concurrency: 10 }, failures);
  const h1 = await withCpu(hiveGw.pid, () => run('4 Hive c=1', viaHive, { requests: N.gatewayC1, concurrency: 1 }, failures));
  const h10 = await withCpu(hiveGw.pid, () => run('4 Hive c=10', viaHive, { requests: N.gatewayC10, concurrency: 10 }, failures));
  await stopHive();

  // ---- 2 and 3: availability over 50 services ---------------------------------------------------------------------
  say('rows 2-3: choosing 50 services across the three supplier kinds');
  const all = (await (
    await fetch(s.gatewayUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ services(first: 100) { nodes { __typename id supplier { id kind } } } }' }),
    })
  ).json()) as GraphQLAnswer;
  type Listed = { __typename: string; id: string; supplier: { id: string; kind: string } | null };
  const nodes = (all.data?.services?.nodes ?? []) as Listed[];
  // Every service a Booking Standard or PAS system books, then feed services, taking from each feed in turn.
  const chosen = nodes.filter((n) => n.__typename === 'BookingStandardService' || n.__typename === 'PasRestService');
  const feeds = new Map<string, Listed[]>();
  for (const n of nodes.filter((x) => x.__typename === 'SmartLinksService')) feeds.set(n.supplier!.id, [...(feeds.get(n.supplier!.id) ?? []), n]);
  const queues = [...feeds.values()].map((q) => [...q]);
  while (chosen.length < SERVICES && queues.some((q) => q.length > 0)) {
    for (const q of queues) if (q.length > 0 && chosen.length < SERVICES) chosen.push(q.shift()!);
  }
  const ids = chosen.map((n) => n.id);
  const bySystem = new Map<string, number>();
  for (const n of chosen) bySystem.set(n.supplier!.id, (bySystem.get(n.supplier!.id) ?? 0) + 1);
  const mix = [...bySystem].map(([k, v]) => `${k} ${v}`).join(', ');
  say(`  ${ids.length} services: ${mix}`);
  if (ids.length !== SERVICES) notes.push(`only ${ids.length} services could be chosen, not ${SERVICES}`);

  const firstDay = addDays(londonDate(Date.now()), 1);
  const from = new Date(londonMidnight(firstDay)).toISOString();
  const to = new Date(londonMidnight(addDays(firstDay, WINDOW_DAYS)) - 1000).toISOString();
  const search = { serviceIds: ids, from, to, first: 100 };
  const availability: Target = {
    url: s.gatewayUrl,
    body: () => JSON.stringify({ query: AVAILABILITY, variables: { s: search } }),
    check: (j) => {
      const a = j.data?.availability;
      if (!a) return 'no availability in the answer';
      const failed = a.coverage.failures as { supplierSystem: string; reason: string }[];
      if (failed.length > 0) {
        const why = [...new Set(failed.map((f) => `${f.supplierSystem} ${f.reason}`))].sort().join(', ');
        return `incomplete: ${failed.length} of ${a.coverage.servicesAsked} services failed (${why})`;
      }
      if (a.coverage.servicesAsked !== ids.length) return `coverage: ${a.coverage.servicesAsked} services asked, not ${ids.length}`;
      if (!(a.totalCount > 0)) return 'no slots at all in the window';
      return null;
    },
  };
  const simulators = {
    bookingStandard: s.url('sandbox-booking-standard'),
    pas: s.url('sandbox-pas-rest'),
    feeds: s.url('sandbox-feeds'),
  };
  const label2 = `availability, ${ids.length} services × ${WINDOW_DAYS} days`;

  // Warm first, right after a serial warm-up fills the cache (measured within the buckets' 30 s freshness where
  // the machine allows); then 3, with the suppliers still healthy (one failing, or its circuit open, makes fewer
  // calls); cold last.
  say('rows 2-3: warm-up, one request at a time (suppliers answering at their own pace)');
  await run('2-3 warm-up (availability)', availability, { requests: N.availWarmup, concurrency: 1 }, failures);
  say('row 2: warm, c=1 and c=10');
  const warm1 = await withCpu(gatewayPid, () => run('2 warm c=1', availability, { requests: N.availWarmC1, concurrency: 1 }, failures));
  const warm10 = await withCpu(gatewayPid, () => run('2 warm c=10', availability, { requests: N.availWarmC10, concurrency: 10 }, failures));

  // Each of the next rows starts from freshly started supplier subgraphs (circuit breakers closed, in-process state
  // empty), so what an earlier row left behind (an open circuit) is not what it measures; two unmeasured requests at
  // the simulators' own pace warm their code first.
  const suppliers = SUBGRAPHS.filter((g) => g.remote && g.books).map((g) => g.name);
  const freshSuppliers = async (label: string) => {
    for (const name of suppliers) await s.stop(name);
    await Promise.all(suppliers.map((name) => s.start(name)));
    await run(label, availability, { requests: 2, concurrency: 1 }, failures);
  };
  say('row 3: restarting the supplier subgraphs, warm-up');
  await freshSuppliers('3 warm-up');
  say(`row 3: ${N.burst} concurrent identical availability requests on a cold cache`);
  await flush();
  for (const base of Object.values(simulators)) await clearSandboxLog(base);
  const burst = await rounds('3 burst', availability, { rounds: 1, concurrency: N.burst, reset: async () => {} }, failures);
  // Anything the burst started in the background (a refresh, a feed poll) has its moment to reach the logs.
  await new Promise((r) => setTimeout(r, 500));
  const logs = {
    bookingStandard: await sandboxLog(simulators.bookingStandard),
    pas: await sandboxLog(simulators.pas),
    feeds: await sandboxLog(simulators.feeds),
  };
  const clinicService = await oakfieldClinics(simulators.pas, chosen.filter((n) => n.__typename === 'PasRestService').map((n) => n.id));
  const counted = countUpstream(logs, clinicService);
  const slotServices = chosen.filter((n) => n.__typename !== 'SmartLinksService').map((n) => n.id);
  const asked = askedServiceDays(slotServices, firstDay, WINDOW_DAYS);
  const perDay = asked.map((k) => counted.perServiceDay.get(k) ?? 0);
  const maxPerDay = Math.max(0, ...perDay);
  const over = asked.filter((k) => (counted.perServiceDay.get(k) ?? 0) > TARGETS.callsPerServiceDay);
  const uncovered = asked.filter((k) => !counted.perServiceDay.get(k));
  const perService = slotServices.map((id) => counted.perService.get(id) ?? 0);
  const kinds = [...counted.byKind].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${v} ${k}`).join('; ');
  const feedCalls = [...counted.byKind].filter(([k]) => k.startsWith('feed')).reduce((n, [, v]) => n + v, 0);
  const searches = perService.reduce((a, b) => a + b, 0);

  // Cold last: a supplier that times out here opens its circuit for the rest of the run.
  say('row 2: restarting the supplier subgraphs, warm-up');
  await freshSuppliers('2 warm-up (cold)');
  say(`row 2: every supplier simulator now answers each call in ${SUPPLIER_DELAY_MS} ms`);
  for (const base of Object.values(simulators)) await injectDelay(base, SUPPLIER_DELAY_MS);
  say('row 2: cold, c=1 (Redis flushed before every request)');
  const cold1 = await rounds('2 cold c=1', availability, { rounds: N.availColdRoundsC1, concurrency: 1, reset: flush }, failures);
  say('row 2: cold, c=10 (Redis flushed before every round of 10 identical requests)');
  const cold10 = await rounds('2 cold c=10', availability, { rounds: N.availColdRoundsC10, concurrency: 10, reset: flush }, failures);

  // ---- the table ---------------------------------------------------------------------------------------------------
  const cpuPer = (x: { result: Sample; cpuMs: number }) => x.cpuMs / x.result.requests;
  rows.push(sampleRow('1', 'slot query, our gateway', g1.result, { cpu: cpuPer(g1) }));
  rows.push(sampleRow('1', 'slot query, our gateway', g10.result, { cpu: cpuPer(g10) }));
  rows.push(sampleRow('1', 'same `_entities`, booking-standard subgraph direct', d1));
  rows.push(sampleRow('1', 'same `_entities`, booking-standard subgraph direct', d10));
  rows.push({
    row: '1',
    case: `gateway ÷ direct, req/s: c=1 ${fmt(rps(g1.result) / rps(d1), 2)}, c=10 ${fmt(rps(g10.result) / rps(d10), 2)}`,
    c: '',
    n: '',
    target: '',
    met: '',
  });
  const coldTarget = `p99 ≤ ${TARGETS.coldMs} ms (slowest supplier ${SUPPLIER_DELAY_MS} + 50)`;
  const coldMet = (x: Sample) => yes(percentile(x.latencies, 99) <= TARGETS.coldMs && x.errors === 0);
  rows.push(sampleRow('2', `${label2}, cold, suppliers ${SUPPLIER_DELAY_MS} ms per call`, cold1, { target: coldTarget, met: coldMet(cold1) }));
  rows.push(sampleRow('2', `${label2}, cold, suppliers ${SUPPLIER_DELAY_MS} ms per call`, cold10, { target: coldTarget, met: coldMet(cold10) }));
  rows.push(sampleRow('2', `${label2}, warm`, warm1.result, { cpu: cpuPer(warm1) }));
  rows.push(
    sampleRow('2', `${label2}, warm`, warm10.result, {
      cpu: cpuPer(warm10),
      target: `p99 ≤ ${TARGETS.warmP99C10Ms} ms`,
      met: yes(percentile(warm10.result.latencies, 99) <= TARGETS.warmP99C10Ms && warm10.result.errors === 0),
    }),
  );
  rows.push(
    sampleRow('3', `${label2}, ${N.burst} concurrent identical, cold`, burst, {
      target: `≤ ${TARGETS.callsPerServiceDay} upstream call per service and day`,
      // Calls are only evidence when every service was asked: an open circuit or a failed look-up makes fewer.
      met:
        uncovered.length > 0
          ? `not measurable: ${uncovered.length} service-days never asked upstream`
          : `${yes(maxPerDay <= TARGETS.callsPerServiceDay)}: max ${maxPerDay}; ${counted.total} calls in all`,
    }),
  );
  const ours = [rps(g1.result), rps(g10.result)];
  const hive4 = [h1, h10];
  hive4.forEach((h, i) =>
    rows.push(
      sampleRow('4', hiveLabel, h.result, {
        cpu: cpuPer(h),
        target: 'ours ≥ Hive, req/s',
        met: `${yes(ours[i]! >= rps(h.result))} (ours ${fmt(ours[i])})`,
      }),
    ),
  );

  const seconds = (performance.now() - started) / 1000;
  const out = (l = '') => process.stdout.write(`${l}\n`);
  out();
  out(table(rows));
  out();
  out(
    `Row 3, upstream calls (${counted.total}): ${kinds || 'none'}${counted.failed ? `; ${counted.failed} answered with an error status` : ''}. ` +
      `Slot searches per service (${slotServices.length} Booking Standard and Oakfield services, ${searches} searches): min ${Math.min(...perService)}, max ${Math.max(...perService)}; ` +
      `per service and day (${asked.length} asked): max ${maxPerDay}, ${over.length} searched more than once, ${uncovered.length} not searched. ` +
      `The ${ids.length - slotServices.length} feed services are answered from each feed's in-process snapshot: ${feedCalls} feed call(s), counted per feed.` +
      (over.length > 0 ? ` More than once: ${over.slice(0, 8).join(', ')}${over.length > 8 ? ', ...' : ''}.` : '') +
      (uncovered.length > 0 ? ` Not searched: ${uncovered.slice(0, 8).join(', ')}${uncovered.length > 8 ? ', ...' : ''}.` : ''),
  );
  out(
    `Rows 2-3: ${mix}; window ${from} to ${to} (${WINDOW_DAYS} London days); rows 3 and cold start on freshly restarted supplier subgraphs; the cold rows run last, ` +
      `flushing Redis before each round, with every supplier simulator delaying each call by ${SUPPLIER_DELAY_MS} ms; rows 1, 3, 4 and warm run with the simulators at their own pace (warm right after a serial warm-up). ` +
      `failed: wrong answers (HTTP or GraphQL error, no slots, or an availability answer with coverage failures); their latency is included. ` +
      `CPU: /proc utime+stime of the gateway (row 4: Hive) process over the measured requests.`,
  );
  for (const n of notes) out(`Note: ${n}`);
  out(
    `Run time ${seconds.toFixed(0)} s on ${cpus().length} CPUs; 1-minute load average ${loadBefore.toFixed(2)} before, ${loadavg()[0]!.toFixed(2)} at the end ` +
      '(anything else running on the machine competes with the stack and skews every row).',
  );

  for (const [label, e] of failures.byCase) out(`Wrong answers, ${label}: ${e.count}, e.g. ${e.examples.join(' | ')}`);
  for (const line of warnings(s)) out(line);
  const measured = [...failures.byCase].filter(([label]) => !label.includes('warm-up')).reduce((n, [, e]) => n + e.count, 0);
  if (measured > 0) {
    process.stderr.write(`\nFAILED: ${measured} measured request(s) got a wrong answer (listed above); the rows they are in do not measure what they say.\n`);
    return 1;
  }
  return 0;
}

/** What each process logged at warn or above during the run, by message (pino JSON lines), most frequent first. */
function warnings(s: Stack): string[] {
  const out: string[] = [];
  for (const p of PROCESSES) {
    const counts = new Map<string, number>();
    for (const line of s.output(p.name).split('\n')) {
      if (!line.startsWith('{')) continue;
      try {
        const entry = JSON.parse(line) as { level?: number; msg?: string; reason?: string; system?: string };
        if ((entry.level ?? 0) < 40) continue;
        const key = [entry.msg, entry.system, entry.reason?.slice(0, 40)].filter(Boolean).join(', ');
        counts.set(key, (counts.get(key) ?? 0) + 1);
      } catch {
        // not a log line
      }
    }
    if (counts.size === 0) continue;
    const top = [...counts].sort((a, b) => b[1] - a[1]).slice(0, 6);
    out.push(`Logged by ${p.name} (warn+): ${top.map(([m, n]) => `${n} × ${m}`).join('; ')}${counts.size > 6 ? '; ...' : ''}`);
  }
  return out;
}

/** Oakfield clinic id → DoS service id, from the PAS simulator (asked after its log was read, so never counted). */
async function oakfieldClinics(base: string, serviceIds: readonly string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  if (serviceIds.length === 0) return out;
  const q = new URLSearchParams();
  for (const id of serviceIds) q.append('externalId', `dos:${id}`);
  q.append('limit', '100');
  const res = await fetch(`${base}/api/v2/clinics?${q.toString()}`, {
    headers: { 'x-api-key': 'sandbox-oakfield-key', 'x-requesting-organisation': BENCH_CONSUMER.odsCode },
  });
  const body = (await res.json()) as { data?: { id: string; externalIds: { system: string; value: string }[] }[] };
  for (const c of body.data ?? []) {
    const dosId = c.externalIds.find((e) => e.system === 'dos')?.value;
    if (dosId) out.set(c.id, dosId);
  }
  return out;
}

const watchdog = setTimeout(() => {
  say(`still running after ${HARD_LIMIT_MS / 1000} s: stopping everything`);
  void cleanup().finally(() => process.exit(2));
}, HARD_LIMIT_MS);
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    void cleanup().finally(() => process.exit(130));
  });
}

let code = 1;
try {
  code = await main();
} catch (err) {
  process.stderr.write(`\nbench failed: ${(err as Error).stack ?? String(err)}\n`);
  if (stack) for (const name of ['gateway', 'booking-standard']) process.stderr.write(`--- ${name} output ---\n${stack.output(name).slice(-3000)}\n`);
  code = 1;
} finally {
  await cleanup();
  clearTimeout(watchdog);
}
process.exit(code);
