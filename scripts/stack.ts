/**
 * Starts the whole stack as separate processes (sandbox upstreams, every remote subgraph in the catalog, the
 * gateway), waits until each answers its health check, and stops them all. `npm start` uses it with the documented
 * ports; end-to-end tests use it with free ports, and stop or restart single processes to produce real outages.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ADAPTERS } from '../subgraphs/adapters.js';
import { SUBGRAPHS } from '../subgraphs/catalog.js';
import { claimPortBlock, listenOn } from './port-blocks.js';
import type { SupplierAdapter } from '../subgraphs/kit/adapter.js';

const root = fileURLToPath(new URL('../', import.meta.url));

/** Each supplier adapter's simulator, as its descriptor names it (by path and port: production never imports sandbox/). */
const simulators = (ADAPTERS as readonly SupplierAdapter[]).flatMap((a) => (a.simulator ? [a.simulator] : []));

/** The sandbox upstreams: where each listens, and the variable telling its clients where to find it. */
export const SANDBOXES = [
  { name: 'sandbox-directory', entry: 'sandbox/directory/main.ts', portEnv: 'SANDBOX_DIRECTORY_PORT', defaultPort: 4101, urlEnv: 'DOS_API_URL', label: 'sandbox DoS directory API' },
  ...simulators.map(({ name, entry, portEnv, defaultPort, urlEnv, label }) => ({ name, entry, portEnv, defaultPort, urlEnv, label })),
];

export const GATEWAY = { name: 'gateway', entry: 'gateway/index.ts', portEnv: 'GATEWAY_PORT', defaultPort: 4000 } as const;

/** Ports a process opens besides its main one: the gateway's operational port (/metrics, /health/ready). */
export const EXTRA_PORTS = [{ name: 'gateway-internal', portEnv: 'GATEWAY_INTERNAL_PORT', defaultPort: 4090 }] as const;

/** Sandbox-only secrets, the same on both sides of each sandbox connection (from the simulators' descriptors). */
const SANDBOX_SECRETS: Record<string, string> = Object.assign({}, ...simulators.map((s) => s.env ?? {}));

export type ProcessName = string;

interface ProcessSpec {
  name: ProcessName;
  entry: string;
  portEnv: string;
  defaultPort: number;
  /** Path answering 200 when the process is ready. */
  health: string;
  label: string;
  /** What other processes call it by (the gateway's subgraph URL, a simulator's base URL). */
  urlEnv?: string;
  urlPath: string;
  /** V8 flags the process always runs with (a subgraph's `v8Flags`), before any the caller adds. */
  v8Flags?: readonly string[];
}

/** Every process, in start order: upstreams, subgraphs, gateway. */
export const PROCESSES: readonly ProcessSpec[] = [
  ...SANDBOXES.map((s) => ({ ...s, health: '/_sandbox/health', urlPath: '' })),
  ...SUBGRAPHS.flatMap((s) =>
    s.remote
      ? [{ name: s.name, entry: `${s.dir}/index.ts`, portEnv: s.remote.portEnv, defaultPort: s.remote.defaultPort, urlEnv: s.remote.urlEnv, health: '/health/live', urlPath: '/graphql', label: `${s.name} subgraph`, ...(s.remote.v8Flags ? { v8Flags: s.remote.v8Flags } : {}) }]
      : [],
  ),
  { ...GATEWAY, health: '/health/live', urlPath: '/graphql', label: 'gateway (GraphQL)' },
];

export type StackPorts = Record<ProcessName, number>;

export interface Stack {
  ports: StackPorts;
  gatewayUrl: string;
  /** A process's URL as its clients use it (a subgraph's /graphql, a simulator's base). */
  url(name: ProcessName): string;
  port(name: ProcessName): number;
  /** The OS process id of a running process (for CPU measurements). */
  pid(name: ProcessName): number | undefined;
  /** Recent output of each process, for test failure messages. */
  output(name: ProcessName): string;
  stop(name: ProcessName): Promise<void>;
  start(name: ProcessName): Promise<void>;
  stopAll(): Promise<void>;
}

export interface StackOptions {
  ports?: Partial<StackPorts>;
  /** Extra environment for every process. */
  env?: Record<string, string>;
  /** Print each process's output with a name prefix (npm start); otherwise keep it for failure messages. */
  inheritOutput?: boolean;
  /** Node options for the stack's own processes, not the simulators (`--cpu-prof`, which NODE_OPTIONS refuses). */
  nodeArgs?: readonly string[];
  readyTimeoutMs?: number;
  /** Keep every output line of every process (for tests that scan all logs); default the last 200. */
  keepAllOutput?: boolean;
  /** Run every process from this compiled tree (`entryProgram`) rather than from source through tsx. */
  compiledDir?: string;
  /** Called when a process exits that nobody asked to stop. */
  onUnexpectedExit?: (name: ProcessName, code: number | null, signal: string | null) => void;
}

/**
 * The node arguments that run one of the repository's entry points (the gateway, a subgraph, a simulator): from the
 * compiled tree when one is given or named by STACK_COMPILED_DIR, as the end-to-end tests do (it starts in about
 * half the CPU of tsx's loader), else from source through tsx.
 */
export function entryProgram(entry: string, compiledDir: string | undefined = process.env.STACK_COMPILED_DIR): string[] {
  if (!compiledDir) return ['--import', 'tsx', entry];
  // tsc never deletes what it emitted: a compiled entry whose source is gone would run stale code.
  if (!existsSync(resolve(root, entry))) throw new Error(`no entry point ${entry}`);
  const compiled = resolve(root, compiledDir, entry.replace(/\.ts$/, '.js'));
  if (!existsSync(compiled)) throw new Error(`${entry} is not compiled into ${compiledDir}/: add it to tsconfig.stack.json`);
  return [compiled];
}

/**
 * How a process of the stack is started: the V8 flags it always runs with, any the caller adds (a profiler's), then
 * its entry point (entryProgram).
 */
export function processProgram(name: ProcessName, opts: { compiledDir?: string; nodeArgs?: readonly string[] } = {}): string[] {
  const spec = PROCESSES.find((p) => p.name === name);
  if (!spec) throw new Error(`no process named ${name}`);
  return [...(spec.v8Flags ?? []), ...(opts.nodeArgs ?? []), ...entryProgram(spec.entry, opts.compiledDir)];
}

/** SIGTERM, so the process drains; SIGKILL if it has not exited after `graceMs`. */
export async function stopChild(child: ChildProcess, graceMs = 5000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/**
 * Ports for test and bench processes come from below Linux's ephemeral range (32768-60999 by default), never port 0:
 * a port the kernel hands out for listening is also one it hands out to outgoing connections, so between "free" and
 * the child's listen, any of the many client sockets a test run opens can take it (EADDRINUSE at start-up). Each
 * process walks its own block of the range from a random point, in order, so a port it handed out comes round again
 * only after the whole block, and checks each port by listening on it.
 *
 * A block is this process's own while it runs (scripts/port-blocks.ts: held by listening on its first port, which is
 * never handed out). Chosen by pid alone, two test workers whose pids fell in the same block could hand out the same
 * port in the same second (a CI run: a simulator's EADDRINUSE on a port just handed out). With every block held, the
 * pid's own block is shared, as before.
 */
const PORT_RANGE = { from: 20_000, to: 32_000 };
const PORT_BLOCK = 1000;
let nextPort = -1;
let ownBlock: Promise<number> | undefined;

function portBlock(): Promise<number> {
  ownBlock ??= claimPortBlock({ from: PORT_RANGE.from, size: PORT_BLOCK, blocks: (PORT_RANGE.to - PORT_RANGE.from) / PORT_BLOCK }).then((c) => c.block);
  return ownBlock;
}

/** Whether the port is free: listened on, then let go at once. */
async function listens(port: number): Promise<boolean> {
  const s = await listenOn(port);
  if (!s) return false;
  await new Promise((r) => s.close(r));
  return true;
}

export async function freePort(): Promise<number> {
  const base = PORT_RANGE.from + (await portBlock()) * PORT_BLOCK;
  if (nextPort < 0) nextPort = Math.floor(Math.random() * PORT_BLOCK);
  for (let tries = 0; tries < PORT_BLOCK; tries++) {
    const offset = nextPort++ % PORT_BLOCK;
    // The block's first port is its sentinel (port-blocks.ts), held by whoever owns the block.
    if (offset === 0) continue;
    const port = base + offset;
    if (await listens(port)) return port;
  }
  throw new Error(`no free port left in ${base}-${base + PORT_BLOCK - 1}`);
}

export async function freePorts(): Promise<StackPorts> {
  const ports: StackPorts = {};
  for (const p of [...PROCESSES, ...EXTRA_PORTS]) ports[p.name] = await freePort();
  return ports;
}

/** The documented ports, each overridable by its environment variable. */
export function configuredPorts(env: NodeJS.ProcessEnv = process.env): StackPorts {
  const ports: StackPorts = {};
  for (const p of [...PROCESSES, ...EXTRA_PORTS]) {
    const v = env[p.portEnv];
    const n = v ? Number(v) : p.defaultPort;
    if (!Number.isInteger(n) || n <= 0 || n > 65535) throw new Error(`${p.portEnv} must be a port number, got "${v}"`);
    ports[p.name] = n;
  }
  return ports;
}

export async function startStack(opts: StackOptions = {}): Promise<Stack> {
  const ports: StackPorts = { ...configuredPorts({}) };
  for (const [k, v] of Object.entries(opts.ports ?? {})) if (v !== undefined) ports[k] = v;
  const base = (name: string) => `http://127.0.0.1:${ports[name]}`;
  const urls: Record<ProcessName, string> = Object.fromEntries(PROCESSES.map((p) => [p.name, `${base(p.name)}${p.urlPath}`]));
  const env: Record<string, string> = { ...SANDBOX_SECRETS };
  for (const p of PROCESSES) {
    env[p.portEnv] = String(ports[p.name]);
    if (p.urlEnv) env[p.urlEnv] = urls[p.name]!;
  }
  for (const p of EXTRA_PORTS) env[p.portEnv] = String(ports[p.name]);
  Object.assign(env, opts.env);

  const children = new Map<ProcessName, ChildProcess>();
  const logs = new Map<ProcessName, string[]>();
  // Generous: on a loaded machine a cold tsx start of one of a dozen processes starting at once can take most of it.
  const timeout = opts.readyTimeoutMs ?? 60_000;
  let started = false;

  async function start(name: ProcessName): Promise<void> {
    const spec = PROCESSES.find((s) => s.name === name);
    if (!spec) throw new Error(`no process named ${name}`);
    const own = !SANDBOXES.some((x) => x.name === name);
    const program = processProgram(name, { compiledDir: opts.compiledDir, ...(own && opts.nodeArgs ? { nodeArgs: opts.nodeArgs } : {}) });
    const child = spawn(process.execPath, program, {
      cwd: root,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.set(name, child);
    const lines = logs.get(name) ?? [];
    logs.set(name, lines);
    const onData = (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (!line) continue;
        if (opts.inheritOutput) process.stdout.write(`[${name}] ${line}\n`);
        lines.push(line);
        if (!opts.keepAllOutput && lines.length > 200) lines.shift();
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code, signal) => {
      // stop() removes the child from the map first, so only crashes get here with it still present.
      if (children.get(name) === child) {
        children.delete(name);
        // During start-up, waitHealthy reports the exit with the process's output instead.
        if (started) opts.onUnexpectedExit?.(name, code, signal);
      }
    });
    await waitHealthy(name, `${base(name)}${spec.health}`, child, timeout, () => lines.join('\n'));
  }

  async function stop(name: ProcessName): Promise<void> {
    const child = children.get(name);
    children.delete(name);
    if (child) await stopChild(child);
  }

  async function stopAll(): Promise<void> {
    await Promise.all([...children.keys()].reverse().map((n) => stop(n)));
  }

  try {
    // Upstreams first, then subgraphs, then the gateway: each layer needs the one below at request time only,
    // but starting in order gives clean logs and a ready stack when this resolves.
    await Promise.all(SANDBOXES.map((s) => start(s.name)));
    await Promise.all(PROCESSES.filter((p) => p.urlPath === '/graphql' && p.name !== GATEWAY.name).map((p) => start(p.name)));
    await start(GATEWAY.name);
    started = true;
  } catch (err) {
    await stopAll();
    throw err;
  }

  const known = <T>(map: Record<string, T>, name: string): T => {
    const v = map[name];
    if (v === undefined) throw new Error(`no process named ${name}`);
    return v;
  };
  return {
    ports,
    gatewayUrl: urls[GATEWAY.name]!,
    url: (name) => known(urls, name),
    port: (name) => known(ports, name),
    pid: (name) => children.get(name)?.pid,
    output: (name) => (logs.get(name) ?? []).join('\n'),
    stop,
    start,
    stopAll,
  };
}

async function waitHealthy(name: string, url: string, child: ChildProcess, timeoutMs: number, output: () => string): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`${name} exited with code ${child.exitCode}:\n${output()}`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  throw new Error(`${name} did not become healthy within ${timeoutMs} ms:\n${output()}`);
}
