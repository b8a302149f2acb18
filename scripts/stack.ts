/**
 * Starts the whole stack as separate processes (sandbox upstreams, every subgraph, the gateway), waits until
 * each answers its health check, and stops them all. `npm start` uses it with the documented ports; end-to-end
 * tests use it with free ports, and stop or restart single processes to produce real outages.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../', import.meta.url));

export type ProcessName =
  | 'sandbox-directory'
  | 'sandbox-booking-standard'
  | 'directory'
  | 'booking-standard'
  | 'gateway';

export interface StackPorts {
  gateway: number;
  directory: number;
  bookingStandard: number;
  sandboxDirectory: number;
  sandboxBookingStandard: number;
}

export const DEFAULT_PORTS: StackPorts = {
  gateway: 4000,
  directory: 4001,
  bookingStandard: 4002,
  sandboxDirectory: 4101,
  sandboxBookingStandard: 4102,
};

interface ProcessSpec {
  name: ProcessName;
  entry: string;
  health: string;
}

export interface Stack {
  ports: StackPorts;
  gatewayUrl: string;
  urls: Record<ProcessName, string>;
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
  readyTimeoutMs?: number;
  /** Called when a process exits that nobody asked to stop. */
  onUnexpectedExit?: (name: ProcessName, code: number | null, signal: string | null) => void;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export async function freePorts(): Promise<StackPorts> {
  return {
    gateway: await freePort(),
    directory: await freePort(),
    bookingStandard: await freePort(),
    sandboxDirectory: await freePort(),
    sandboxBookingStandard: await freePort(),
  };
}

export async function startStack(opts: StackOptions = {}): Promise<Stack> {
  const ports: StackPorts = { ...DEFAULT_PORTS, ...opts.ports };
  const local = (p: number) => `http://127.0.0.1:${p}`;
  const env: Record<string, string> = {
    SANDBOX_DIRECTORY_PORT: String(ports.sandboxDirectory),
    SANDBOX_BOOKING_STANDARD_PORT: String(ports.sandboxBookingStandard),
    DOS_API_URL: local(ports.sandboxDirectory),
    SANDBOX_BOOKING_STANDARD_URL: local(ports.sandboxBookingStandard),
    DIRECTORY_PORT: String(ports.directory),
    BOOKING_STANDARD_PORT: String(ports.bookingStandard),
    DIRECTORY_SUBGRAPH_URL: `${local(ports.directory)}/graphql`,
    BOOKING_STANDARD_SUBGRAPH_URL: `${local(ports.bookingStandard)}/graphql`,
    GATEWAY_PORT: String(ports.gateway),
    ...opts.env,
  };
  const specs: ProcessSpec[] = [
    { name: 'sandbox-directory', entry: 'sandbox/directory/main.ts', health: `${local(ports.sandboxDirectory)}/_sandbox/health` },
    { name: 'sandbox-booking-standard', entry: 'sandbox/booking-standard/main.ts', health: `${local(ports.sandboxBookingStandard)}/_sandbox/health` },
    { name: 'directory', entry: 'subgraphs/directory/index.ts', health: `${local(ports.directory)}/health/live` },
    { name: 'booking-standard', entry: 'subgraphs/booking-standard/index.ts', health: `${local(ports.bookingStandard)}/health/live` },
    { name: 'gateway', entry: 'gateway/index.ts', health: `${local(ports.gateway)}/health/live` },
  ];
  const urls: Record<ProcessName, string> = {
    'sandbox-directory': local(ports.sandboxDirectory),
    'sandbox-booking-standard': local(ports.sandboxBookingStandard),
    directory: `${local(ports.directory)}/graphql`,
    'booking-standard': `${local(ports.bookingStandard)}/graphql`,
    gateway: `${local(ports.gateway)}/graphql`,
  };

  const children = new Map<ProcessName, ChildProcess>();
  const logs = new Map<ProcessName, string[]>();
  const timeout = opts.readyTimeoutMs ?? 30_000;
  let started = false;

  async function start(name: ProcessName): Promise<void> {
    const spec = specs.find((s) => s.name === name)!;
    const child = spawn(process.execPath, ['--import', 'tsx', spec.entry], {
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
        if (lines.length > 200) lines.shift();
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
    await waitHealthy(spec, child, timeout, () => lines.join('\n'));
  }

  async function stop(name: ProcessName): Promise<void> {
    const child = children.get(name);
    children.delete(name);
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      const kill = setTimeout(() => child.kill('SIGKILL'), 5000);
      child.once('exit', () => {
        clearTimeout(kill);
        resolve();
      });
      child.kill('SIGTERM');
    });
  }

  async function stopAll(): Promise<void> {
    await Promise.all([...children.keys()].reverse().map((n) => stop(n)));
  }

  try {
    // Upstreams first, then subgraphs, then the gateway: each layer needs the one below at request time only,
    // but starting in order gives clean logs and a ready stack when this resolves.
    await Promise.all([start('sandbox-directory'), start('sandbox-booking-standard')]);
    await Promise.all([start('directory'), start('booking-standard')]);
    await start('gateway');
    started = true;
  } catch (err) {
    await stopAll();
    throw err;
  }

  return {
    ports,
    gatewayUrl: urls.gateway,
    urls,
    output: (name) => (logs.get(name) ?? []).join('\n'),
    stop,
    start,
    stopAll,
  };
}

async function waitHealthy(spec: ProcessSpec, child: ChildProcess, timeoutMs: number, output: () => string): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`${spec.name} exited with code ${child.exitCode}:\n${output()}`);
    try {
      const res = await fetch(spec.health, { signal: AbortSignal.timeout(1000) });
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  throw new Error(`${spec.name} did not become healthy within ${timeoutMs} ms:\n${output()}`);
}
