/**
 * A small closed-loop load generator: a fixed number of POSTs, at most `concurrency` in flight, over keep-alive
 * node:http connections (cheaper per request than fetch, leaving more of the shared CPU to the servers measured).
 * Every response is checked (HTTP 200, JSON, no `errors`, and the caller's own check); failures are counted and
 * remembered for the bench's correctness guard. The latency of a wrong answer still counts (a supplier timing out
 * makes a slow, incomplete answer: leaving it out would flatter the percentiles); a request nobody answered has none.
 */
import { Agent, request } from 'node:http';

export interface Target {
  url: string;
  /** The JSON body of one request (called per request, so variables may change). */
  body: () => string;
  /** Extra headers of one request. */
  headers?: () => Record<string, string>;
  /** What makes a 200 answer wrong for this case: a message, or null when it is right. */
  check?: (json: GraphQLAnswer) => string | null;
}

export interface GraphQLAnswer {
  data?: Record<string, any> | null;
  errors?: { message: string; extensions?: Record<string, unknown> }[];
}

export interface Sample {
  requests: number;
  concurrency: number;
  errors: number;
  /** Wall time of the measured requests (for cold rounds: the sum of the rounds, not the resets between them). */
  wallMs: number;
  /** Latencies of every request that was answered (a wrong answer too: its time is part of the picture), ms, ascending. */
  latencies: number[];
}

/** Every failed request of the run, by case, for the correctness guard. */
export class FailureLog {
  readonly byCase = new Map<string, { count: number; examples: string[] }>();

  record(label: string, message: string): void {
    const entry = this.byCase.get(label) ?? { count: 0, examples: [] };
    entry.count += 1;
    if (entry.examples.length < 3 && !entry.examples.includes(message)) entry.examples.push(message);
    this.byCase.set(label, entry);
  }

  get total(): number {
    let n = 0;
    for (const e of this.byCase.values()) n += e.count;
    return n;
  }
}

export function agentFor(concurrency: number): Agent {
  return new Agent({ keepAlive: true, maxSockets: concurrency, maxFreeSockets: concurrency });
}

function post(agent: Agent, url: URL, body: string, headers: Record<string, string>): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        agent,
        host: url.hostname,
        port: url.port,
        path: url.pathname + url.search,
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), ...headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.setTimeout(30_000, () => req.destroy(new Error('no answer within 30 s')));
    req.on('error', reject);
    req.end(body);
  });
}

export type Outcome = { ms: number; error?: undefined } | { ms: number | undefined; error: string };

/** One request: its latency in ms (undefined when nothing was answered) and, when it failed, why. */
export async function once(agent: Agent, target: Target): Promise<Outcome> {
  const url = new URL(target.url);
  const started = performance.now();
  try {
    const res = await post(agent, url, target.body(), target.headers?.() ?? {});
    const ms = performance.now() - started;
    if (res.status !== 200) return { ms, error: `HTTP ${res.status}: ${res.text.slice(0, 200)}` };
    let json: GraphQLAnswer;
    try {
      json = JSON.parse(res.text) as GraphQLAnswer;
    } catch {
      return { ms, error: `not JSON: ${res.text.slice(0, 200)}` };
    }
    if (json.errors?.length) {
      const e = json.errors[0]!;
      return { ms, error: `GraphQL error ${String(e.extensions?.code ?? '')}: ${e.message.slice(0, 200)}` };
    }
    const wrong = target.check?.(json);
    if (wrong) return { ms, error: wrong };
    return { ms };
  } catch (err) {
    return { ms: undefined, error: `request failed: ${(err as Error).message}` };
  }
}

/** `requests` requests with at most `concurrency` in flight; failures go to `failures` under `label`. */
export async function run(
  label: string,
  target: Target,
  opts: { requests: number; concurrency: number },
  failures: FailureLog,
): Promise<Sample> {
  const agent = agentFor(opts.concurrency);
  const latencies: number[] = [];
  let errors = 0;
  let next = 0;
  const started = performance.now();
  const worker = async () => {
    while (next < opts.requests) {
      next += 1;
      const r = await once(agent, target);
      if (r.ms !== undefined) latencies.push(r.ms);
      if (r.error !== undefined) {
        errors += 1;
        failures.record(label, r.error);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(opts.concurrency, opts.requests) }, worker));
  const wallMs = performance.now() - started;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  return { requests: opts.requests, concurrency: opts.concurrency, errors, wallMs, latencies };
}

/**
 * Cold rounds: before each round `reset()` (not timed), then `concurrency` identical requests at once. Latency per
 * request; req/s over the rounds' own wall time.
 */
export async function rounds(
  label: string,
  target: Target,
  opts: { rounds: number; concurrency: number; reset: () => Promise<void> },
  failures: FailureLog,
): Promise<Sample> {
  const latencies: number[] = [];
  let errors = 0;
  let wallMs = 0;
  for (let i = 0; i < opts.rounds; i++) {
    await opts.reset();
    // A fresh agent per round: the connection set-up is part of a cold request too, and of every round alike.
    const agent = agentFor(opts.concurrency);
    const started = performance.now();
    const results = await Promise.all(Array.from({ length: opts.concurrency }, () => once(agent, target)));
    wallMs += performance.now() - started;
    agent.destroy();
    for (const r of results) {
      if (r.ms !== undefined) latencies.push(r.ms);
      if (r.error !== undefined) {
        errors += 1;
        failures.record(label, r.error);
      }
    }
  }
  latencies.sort((a, b) => a - b);
  return { requests: opts.rounds * opts.concurrency, concurrency: opts.concurrency, errors, wallMs, latencies };
}

/** Nearest-rank percentile of ascending values; NaN when there are none. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

/** Requests answered per second (failed answers included: the `failed` count says how many were wrong). */
export function rps(s: Sample): number {
  return s.wallMs > 0 ? (s.latencies.length / s.wallMs) * 1000 : Number.NaN;
}

export interface MixItem {
  /** Which sample the request's outcome goes to. */
  group: string;
  target: Target;
}

/**
 * Closed loop over a mix: at most `concurrency` in flight, each request the next item of `items` (cycled), for
 * `durationMs` (no request starts after it) or `maxRequests`, whichever comes first. One sample per group; each
 * group's wall time is the whole run's (its req/s is its share of the run).
 */
export async function runMix(
  label: string,
  items: readonly MixItem[],
  opts: { concurrency: number; durationMs: number; maxRequests?: number },
  failures: FailureLog,
): Promise<Map<string, Sample>> {
  if (items.length === 0) throw new Error(`${label}: nothing to run`);
  const agent = agentFor(opts.concurrency);
  const groups = new Map<string, { requests: number; errors: number; latencies: number[] }>();
  for (const it of items) if (!groups.has(it.group)) groups.set(it.group, { requests: 0, errors: 0, latencies: [] });
  let next = 0;
  const started = performance.now();
  const more = () => performance.now() - started < opts.durationMs && (opts.maxRequests === undefined || next < opts.maxRequests);
  const worker = async () => {
    while (more()) {
      const item = items[next % items.length]!;
      next += 1;
      const g = groups.get(item.group)!;
      g.requests += 1;
      const r = await once(agent, item.target);
      if (r.ms !== undefined) g.latencies.push(r.ms);
      if (r.error !== undefined) {
        g.errors += 1;
        failures.record(`${label}, ${item.group}`, r.error);
      }
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency }, worker));
  const wallMs = performance.now() - started;
  agent.destroy();
  const out = new Map<string, Sample>();
  for (const [name, g] of groups) {
    g.latencies.sort((a, b) => a - b);
    out.set(name, { requests: g.requests, concurrency: opts.concurrency, errors: g.errors, wallMs, latencies: g.latencies });
  }
  return out;
}

/**
 * Several runs of one mix pooled into one sample per group: requests, errors and latencies together (ascending), wall
 * time the sum of the runs' (so req/s is over the time measured, not the pauses between runs).
 */
export function pooled(runs: readonly Map<string, Sample>[]): Map<string, Sample> {
  const out = new Map<string, Sample>();
  for (const run of runs) {
    for (const [group, s] of run) {
      const acc = out.get(group);
      if (!acc) {
        out.set(group, { ...s, latencies: [...s.latencies] });
        continue;
      }
      if (acc.concurrency !== s.concurrency) throw new Error(`pooled: group ${group} ran at c=${acc.concurrency} and c=${s.concurrency}`);
      acc.requests += s.requests;
      acc.errors += s.errors;
      acc.wallMs += s.wallMs;
      acc.latencies.push(...s.latencies);
    }
  }
  for (const s of out.values()) s.latencies.sort((a, b) => a - b);
  return out;
}
