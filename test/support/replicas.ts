/**
 * Several replicas of the stack's processes, for tests of scale-out: each replica is the same entry point as
 * `scripts/stack.ts` runs (PROCESSES), on its own free port, started and stopped by its own pid. startStack runs
 * one process per name; here the caller decides how many of each and what they call (a load balancer's address).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { EXTRA_PORTS, GATEWAY, PROCESSES, freePort, processProgram, stopChild } from '../../scripts/stack.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

export interface ReplicaOptions {
  /** A process name from PROCESSES (a sandbox, a subgraph or the gateway). */
  process: string;
  /** Label in failure messages, e.g. `gateway-2`. */
  name: string;
  /** Environment on top of this process's: everything the process reads (URLs, Redis, limits). */
  env: Record<string, string>;
  readyTimeoutMs?: number;
}

export interface Replica {
  name: string;
  process: string;
  /** Its main port (GraphQL, or a simulator's API). */
  port: number;
  /** The gateway's operational port (/metrics, /health/ready); the main port for everything else. */
  internalPort: number;
  /** Its own address, as its clients would use it without a load balancer. */
  url: string;
  pid(): number | undefined;
  output(): string;
  /** Starts it (again, on the same ports) and waits for its liveness path. `env` adds to or replaces settings. */
  start(env?: Record<string, string>): Promise<void>;
  /** SIGTERM (it drains), SIGKILL after a grace period. */
  stop(): Promise<void>;
  /** SIGKILL by pid, at once: a crash, not a shutdown. Resolves once the process is gone. */
  kill(): Promise<void>;
}

/** Chooses free ports for a replica without starting it, so a load balancer's configuration can name it first. */
export async function defineReplica(opts: ReplicaOptions): Promise<Replica> {
  const spec = PROCESSES.find((p) => p.name === opts.process);
  if (!spec) throw new Error(`no process named ${opts.process}`);
  const isGateway = spec.name === GATEWAY.name;
  const port = await freePort();
  const internalPort = isGateway ? await freePort() : port;
  const portEnv: Record<string, string> = { [spec.portEnv]: String(port) };
  if (isGateway) {
    const internal = EXTRA_PORTS.find((p) => p.name === 'gateway-internal');
    if (!internal) throw new Error('scripts/stack.ts names no gateway-internal port');
    portEnv[internal.portEnv] = String(internalPort);
  }
  let env = { ...opts.env };
  let child: ChildProcess | undefined;
  const lines: string[] = [];

  async function start(extra: Record<string, string> = {}): Promise<void> {
    if (child) throw new Error(`${opts.name} is already running`);
    env = { ...env, ...extra };
    const c = spawn(process.execPath, processProgram(spec!.name), {
      cwd: root,
      env: { ...process.env, ...env, ...portEnv },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = c;
    const onData = (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (!line) continue;
        lines.push(line);
        if (lines.length > 200) lines.shift();
      }
    };
    c.stdout?.on('data', onData);
    c.stderr?.on('data', onData);
    c.once('exit', () => {
      if (child === c) child = undefined;
    });
    const until = Date.now() + (opts.readyTimeoutMs ?? 120_000);
    const health = `http://127.0.0.1:${port}${spec!.health}`;
    while (Date.now() < until) {
      if (c.exitCode !== null || c.signalCode !== null) throw new Error(`${opts.name} exited (${c.exitCode ?? c.signalCode}):\n${lines.join('\n')}`);
      try {
        if ((await fetch(health, { signal: AbortSignal.timeout(1000) })).ok) return;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    c.kill('SIGKILL');
    throw new Error(`${opts.name} did not answer ${spec!.health} within ${opts.readyTimeoutMs ?? 120_000} ms:\n${lines.join('\n')}`);
  }

  async function stop(): Promise<void> {
    const c = child;
    child = undefined;
    if (c) await stopChild(c);
  }

  async function kill(): Promise<void> {
    const c = child;
    child = undefined;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const gone = new Promise<void>((resolve) => c.once('exit', () => resolve()));
    process.kill(c.pid!, 'SIGKILL');
    await gone;
  }

  return {
    name: opts.name,
    process: spec.name,
    port,
    internalPort,
    url: `http://127.0.0.1:${port}${spec.urlPath}`,
    pid: () => child?.pid,
    output: () => lines.join('\n'),
    start,
    stop,
    kill,
  };
}
