/**
 * A real HAProxy (Debian's /usr/sbin/haproxy) in front of replicas, for tests: a configuration generated for free
 * ports, one frontend and backend per balanced process, health checks on the processes' real health paths, and the
 * stats page (CSV) for what each server was sent. Started in the foreground as a child, stopped by its pid; its
 * scratch folder is removed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, stopChild } from '../../scripts/stack.js';

export const HAPROXY_BIN = '/usr/sbin/haproxy';

export interface BalancedServer {
  name: string;
  port: number;
  /** Port the health check is sent to when it is not the traffic port (the gateway's internal port). */
  checkPort?: number;
}

export interface BalancedService {
  /** Backend name, also the stats `pxname`. */
  name: string;
  /** The frontend's port: what clients of this service are told to call. */
  port: number;
  /** GET path answering 200 while a server should take traffic. */
  checkPath: string;
  servers: readonly BalancedServer[];
}

/** The configuration for these services. Pure, so what the test runs is what a reader of this function sees. */
export function haproxyConfig(services: readonly BalancedService[], statsPort: number): string {
  const lines = [
    'global',
    '  maxconn 2000',
    '',
    'defaults',
    '  mode http',
    '  timeout connect 2s',
    '  timeout client 30s',
    // Above the gateway's booking deadline (20 s), so a slow booking is answered by the gateway, never cut here.
    '  timeout server 30s',
    '  timeout http-request 10s',
    // Resend only a request that never reached a server: a refused or failed connection (a replica that just died,
    // before the health check noticed). Such a request cannot have been processed, so resending it to another
    // server is safe even for a GraphQL mutation (a POST that books). Never empty-response, response-timeout or
    // 5xx: by then the replica may have acted (the supplier may have booked), and resending would make a second
    // attempt the client does not know about. That retry belongs to the client, with the same idempotencyKey.
    '  retries 2',
    '  retry-on conn-failure',
    '  option redispatch 1',
    // Short check intervals: a dead replica is out of rotation within about half a second, a restarted one back
    // within a second.
    '  default-server inter 250ms fastinter 250ms downinter 500ms rise 2 fall 2',
    // A dead replica refuses the check's connection at once; a live one on a busy machine may take a while to
    // answer, and must not be taken out for that (without this the check's timeout is `inter`).
    '  timeout check 3s',
    '',
    'frontend stats',
    `  bind 127.0.0.1:${statsPort}`,
    '  stats enable',
    '  stats uri /stats',
    '',
  ];
  for (const s of services) {
    lines.push(
      `frontend ${s.name}-in`,
      `  bind 127.0.0.1:${s.port}`,
      `  default_backend ${s.name}`,
      '',
      `backend ${s.name}`,
      '  balance roundrobin',
      `  option httpchk GET ${s.checkPath}`,
      '  http-check expect status 200',
      ...s.servers.map((v) => `  server ${v.name} 127.0.0.1:${v.port} check${v.checkPort && v.checkPort !== v.port ? ` port ${v.checkPort}` : ''}`),
      '',
    );
  }
  return lines.join('\n');
}

/** One row of HAProxy's stats CSV: a frontend, a backend (svname BACKEND) or a server. */
export type StatRow = Record<string, string>;

export interface Haproxy {
  pid: number;
  statsUrl: string;
  stats(): Promise<StatRow[]>;
  /** A server's row in a backend. */
  server(backend: string, server: string): Promise<StatRow>;
  /** Requests HAProxy sent each server of a backend (cumulative sessions, one per HTTP request). */
  served(backend: string): Promise<Record<string, number>>;
  /** Waits until the server's health check status is `status` (UP, DOWN; not on its way, like `UP 1/2`). */
  waitFor(backend: string, server: string, status: 'UP' | 'DOWN', timeoutMs?: number): Promise<void>;
  output(): string;
  /** Stops HAProxy by its pid and removes its scratch folder. */
  dispose(): Promise<void>;
}

export async function startHaproxy(services: readonly BalancedService[]): Promise<Haproxy> {
  const statsPort = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'haproxy-test-'));
  const cfg = join(dir, 'haproxy.cfg');
  writeFileSync(cfg, haproxyConfig(services, statsPort));
  const out: string[] = [];
  let child: ChildProcess;
  try {
    // -db: stay in the foreground, so the child's pid is HAProxy's and stopping it stops it.
    child = spawn(HAPROXY_BIN, ['-db', '-f', cfg], { stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`haproxy could not start (apt-get install haproxy): ${(err as Error).message}`);
  }
  const onData = (b: Buffer) => out.push(...b.toString('utf8').split('\n').filter(Boolean));
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
  const statsUrl = `http://127.0.0.1:${statsPort}/stats;csv`;

  async function stats(): Promise<StatRow[]> {
    const text = await (await fetch(statsUrl, { signal: AbortSignal.timeout(5000) })).text();
    const [head, ...rows] = text.trim().split('\n');
    const cols = head!.replace(/^# /, '').split(',');
    return rows.map((r) => Object.fromEntries(r.split(',').map((v, i) => [cols[i] ?? String(i), v])));
  }
  async function server(backend: string, name: string): Promise<StatRow> {
    const row = (await stats()).find((r) => r.pxname === backend && r.svname === name);
    if (!row) throw new Error(`no server ${backend}/${name} in HAProxy's stats`);
    return row;
  }
  async function dispose(): Promise<void> {
    await stopChild(child, 3000);
    rmSync(dir, { recursive: true, force: true });
  }

  const until = Date.now() + 20_000;
  for (;;) {
    const failed = await Promise.race([spawnError, new Promise<null>((r) => setTimeout(() => r(null), 50))]);
    if (failed || child.exitCode !== null) {
      await dispose();
      throw new Error(`haproxy did not start: ${failed?.message ?? ''}\n${out.join('\n')}`);
    }
    try {
      await stats();
      break;
    } catch {
      if (Date.now() > until) {
        await dispose();
        throw new Error(`haproxy's stats page did not answer:\n${out.join('\n')}`);
      }
    }
  }

  return {
    pid: child.pid!,
    statsUrl,
    stats,
    server,
    async served(backend) {
      const rows = (await stats()).filter((r) => r.pxname === backend && r.svname !== 'BACKEND' && r.svname !== 'FRONTEND');
      return Object.fromEntries(rows.map((r) => [r.svname!, Number(r.stot)]));
    },
    async waitFor(backend, name, status, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      let last = '';
      while (Date.now() < deadline) {
        last = (await server(backend, name)).status ?? '';
        if (last === status) return;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`${backend}/${name} is ${last}, not ${status}, after ${timeoutMs} ms`);
    },
    output: () => out.join('\n'),
    dispose,
  };
}
