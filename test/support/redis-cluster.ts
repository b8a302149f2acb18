/**
 * A real Redis Cluster for tests, from the redis-server the tests already need: three masters and three replicas on
 * free loopback ports (each with its own bus port), joined by `redis-cli --cluster create`, ready once every node says
 * `cluster_state:ok` and every replica's link to its master is up. Nothing is persisted. Nodes are stopped by the pid
 * each wrote; dispose() stops them all and removes the scratch folder.
 *
 * cluster-node-timeout is short (2 s) so a failover test sees a replica promoted within seconds;
 * cluster-require-full-coverage is off, as the README recommends, so the other masters keep serving their slots
 * while one is being replaced.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Cluster, Redis } from 'ioredis';
import { freePort } from '../../scripts/stack.js';
import { stopPid } from './stop-pid.js';

const run = promisify(execFile);

export const CLUSTER_NODE_TIMEOUT_MS = 2000;

export interface ClusterNodeProcess {
  port: number;
  pid: number;
}

export interface TestRedisCluster {
  /** REDIS_CLUSTER_NODES for the processes under test: every node (any one would do as a seed). */
  nodesSetting: string;
  nodes: readonly ClusterNodeProcess[];
  /** A cluster client for assertions, closed by dispose(). */
  client(): Cluster;
  /** The node serving `key`'s slot as master now (asked of a live node). */
  masterOf(key: string): Promise<ClusterNodeProcess>;
  /** `key`'s value as a replica of its master holds it now (READONLY), without waiting for replication. */
  readOnReplica(key: string): Promise<string | null>;
  /** Every key matching `pattern` on each live master, by port (KEYS: test data only). */
  keysOnMasters(pattern: string): Promise<Map<number, string[]>>;
  /** Sends `signal` to the node's pid and waits until the process is gone. */
  kill(node: ClusterNodeProcess, signal: NodeJS.Signals): Promise<void>;
  /**
   * Polls until every live node says cluster_state:ok, three live masters serve every slot and every live replica is
   * in sync; with `replicas`, also until every slot range has a replica (at start; not after a master was lost).
   */
  waitHealthy(opts?: { timeoutMs?: number; replicas?: boolean }): Promise<void>;
  dispose(): Promise<void>;
}

export async function startRedisCluster(): Promise<TestRedisCluster> {
  const taken = new Set<number>();
  const port = async () => {
    for (;;) {
      const p = await freePort();
      if (!taken.has(p)) {
        taken.add(p);
        return p;
      }
    }
  };
  const dir = mkdtempSync(join(tmpdir(), 'redis-cluster-test-'));
  const nodes: ClusterNodeProcess[] = [];
  const dead = new Set<number>();
  let client: Cluster | undefined;

  const dispose = async () => {
    client?.disconnect();
    await Promise.all(nodes.filter((n) => !dead.has(n.port)).map((n) => stopPid(n.pid, 'SIGTERM', 10_000)));
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    for (let i = 0; i < 6; i++) {
      const p = await port();
      const busPort = await port();
      const nodeDir = join(dir, String(p));
      mkdirSync(nodeDir);
      const pidfile = join(nodeDir, 'redis.pid');
      try {
        await run('redis-server', [
          '--port', String(p), '--bind', '127.0.0.1', '--cluster-enabled', 'yes', '--cluster-port', String(busPort),
          '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', String(CLUSTER_NODE_TIMEOUT_MS),
          '--cluster-require-full-coverage', 'no', '--cluster-replica-validity-factor', '0',
          '--save', '', '--appendonly', 'no', '--daemonize', 'yes', '--pidfile', pidfile, '--dir', nodeDir,
          '--logfile', join(nodeDir, 'redis.log'),
        ]);
      } catch (err) {
        throw new Error(`redis-server could not start (is it installed? .ci/run installs it): ${(err as Error).message}`);
      }
      nodes.push({ port: p, pid: await readPid(pidfile) });
    }
    await Promise.all(nodes.map((n) => waitForPing(n.port)));
    await run('redis-cli', ['--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', '1', '--cluster-yes'], {
      timeout: 60_000,
    });
  } catch (err) {
    await dispose();
    throw err;
  }

  const live = () => nodes.filter((n) => !dead.has(n.port));

  async function clusterNodes(): Promise<{ port: number; master: boolean; failed: boolean; slots: boolean; link: string }[]> {
    let lastErr: unknown;
    for (const n of live()) {
      try {
        const text = await onNode(n.port, (r) => r.call('CLUSTER', 'NODES') as Promise<string>);
        return text
          .trim()
          .split('\n')
          .map((line) => {
            const f = line.split(' ');
            return {
              port: Number(f[1]!.split('@')[0]!.split(':')[1]),
              master: f[2]!.includes('master'),
              failed: /fail/.test(f[2]!),
              slots: f.length > 8,
              link: f[7]!,
            };
          });
      } catch (err) {
        lastErr = err;
      }
    }
    throw new Error(`no cluster node answered: ${String(lastErr)}`);
  }

  async function healthyNow(replicas: boolean): Promise<boolean> {
    for (const n of live()) {
      const info = await onNode(n.port, (r) => r.call('CLUSTER', 'INFO') as Promise<string>);
      if (!/cluster_state:ok/.test(info) || !/cluster_slots_ok:16384/.test(info)) return false;
      if (replicas) {
        // Every node knows a replica for every slot range (gossip has spread the roles).
        const slots = await onNode(n.port, (r) => r.call('CLUSTER', 'SLOTS') as Promise<unknown[][]>);
        if (slots.length === 0 || slots.some((range) => range.length < 4)) return false;
      }
    }
    const view = await clusterNodes();
    const liveMasters = view.filter((v) => v.master && v.slots && !v.failed && !dead.has(v.port));
    if (liveMasters.length !== 3) return false;
    // Every live replica is synchronised with its master, so a later failover has the data to promote.
    for (const n of live()) {
      const repl = await onNode(n.port, (r) => r.info('replication'));
      if (/role:slave/.test(repl) && !/master_link_status:up/.test(repl)) return false;
    }
    return true;
  }

  const cluster: TestRedisCluster = {
    nodesSetting: nodes.map((n) => `127.0.0.1:${n.port}`).join(','),
    nodes,
    client() {
      client ??= new Cluster(
        live().map((n) => ({ host: '127.0.0.1', port: n.port })),
        { redisOptions: { connectTimeout: 2000 }, retryDelayOnFailover: 200, retryDelayOnClusterDown: 200, maxRedirections: 50 },
      );
      return client;
    },
    async masterOf(key) {
      const slot = Number(await onNode(live()[0]!.port, (r) => r.call('CLUSTER', 'KEYSLOT', key) as Promise<number>));
      for (const n of live()) {
        const slots = (await onNode(n.port, (r) => r.call('CLUSTER', 'SLOTS') as Promise<[number, number, [string, number, string]][]>));
        for (const [from, to, [, masterPort]] of slots) {
          if (slot >= from && slot <= to) {
            const node = nodes.find((x) => x.port === Number(masterPort));
            if (node) return node;
          }
        }
      }
      throw new Error(`no master found for slot ${slot}`);
    },
    async readOnReplica(key) {
      const slot = Number(await onNode(live()[0]!.port, (r) => r.call('CLUSTER', 'KEYSLOT', key) as Promise<number>));
      const slots = await onNode(live()[0]!.port, (r) => r.call('CLUSTER', 'SLOTS') as Promise<[number, number, ...[string, number, string][]][]>);
      const range = slots.find(([from, to]) => slot >= from && slot <= to);
      const replica = range?.[3];
      if (!replica) throw new Error(`no replica serves slot ${slot}`);
      return onNode(Number(replica[1]), async (r) => {
        await r.call('READONLY');
        return r.get(key);
      });
    },
    async keysOnMasters(pattern) {
      const out = new Map<number, string[]>();
      for (const v of await clusterNodes()) {
        if (!v.master || !v.slots || v.failed || dead.has(v.port)) continue;
        out.set(v.port, await onNode(v.port, (r) => r.keys(pattern)));
      }
      return out;
    },
    async kill(node, signal) {
      dead.add(node.port);
      await stopPid(node.pid, signal, 10_000);
    },
    async waitHealthy({ timeoutMs = 60_000, replicas = false } = {}) {
      const until = Date.now() + timeoutMs;
      let last: unknown = 'not yet ok';
      for (;;) {
        try {
          if (await healthyNow(replicas)) return;
        } catch (err) {
          last = err;
        }
        if (Date.now() > until) throw new Error(`redis cluster not healthy after ${timeoutMs} ms: ${String(last)}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    },
    dispose,
  };
  try {
    await cluster.waitHealthy({ replicas: true });
  } catch (err) {
    await dispose();
    throw err;
  }
  return cluster;
}

/** `f` on a short-lived connection to one node (not following redirections). */
export async function onNode<T>(port: number, f: (r: Redis) => Promise<T>): Promise<T> {
  const r = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 2000 });
  r.on('error', () => {});
  try {
    await r.connect();
    return await f(r);
  } finally {
    r.disconnect();
  }
}

async function waitForPing(port: number): Promise<void> {
  const until = Date.now() + 20_000;
  for (;;) {
    try {
      if ((await onNode(port, (r) => r.ping())) === 'PONG') return;
    } catch {
      // not listening yet
    }
    if (Date.now() > until) throw new Error(`redis-server did not answer on port ${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function readPid(pidfile: string): Promise<number> {
  const until = Date.now() + 20_000;
  for (;;) {
    try {
      const pid = Number(readFileSync(pidfile, 'utf8').trim());
      if (pid > 0) return pid;
    } catch {
      // not written yet
    }
    if (Date.now() > until) throw new Error(`redis-server wrote no pid file (${pidfile})`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

