/**
 * A real redis-server for tests: started on a free port with nothing persisted, stopped by the pid it wrote.
 * Tests that need Redis gone mid-run call stop() and start() again on the same port.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { freePort } from '../scripts/stack.js';
import { stopPid } from './support/stop-pid.js';

const run = promisify(execFile);

export interface TestRedis {
  url: string;
  port: number;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Stops the server and removes its scratch folder. */
  dispose(): Promise<void>;
  /** A client for assertions (scanning keys and values); closed by stop(). */
  client(): Redis;
}

export async function startRedis(): Promise<TestRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'redis-test-'));
  const pidfile = join(dir, 'redis.pid');
  let client: Redis | undefined;

  async function start(): Promise<void> {
    try {
      await run('redis-server', [
        '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
        '--daemonize', 'yes', '--pidfile', pidfile, '--dir', dir, '--logfile', join(dir, 'redis.log'),
      ]);
    } catch (err) {
      throw new Error(`redis-server could not start (is it installed? .ci/run installs it): ${(err as Error).message}`);
    }
    const until = Date.now() + 10_000;
    for (;;) {
      const probe = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      try {
        await probe.connect();
        if ((await probe.ping()) === 'PONG') return;
      } catch {
        if (Date.now() > until) throw new Error(`redis-server did not answer on port ${port}`);
        await new Promise((r) => setTimeout(r, 50));
      } finally {
        probe.disconnect();
      }
    }
  }

  async function stop(): Promise<void> {
    client?.disconnect();
    client = undefined;
    let pid: number;
    try {
      pid = Number(readFileSync(pidfile, 'utf8').trim());
    } catch {
      return;
    }
    await stopPid(pid);
  }

  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    start,
    async stop() {
      await stop();
    },
    async dispose() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
    client() {
      client ??= new Redis({ port, host: '127.0.0.1' });
      return client;
    },
  };
}


/**
 * Commands the server ran since its last `CONFIG RESETSTAT`, by name (a script's own calls counted under theirs),
 * without the INFO and CONFIG that measuring takes: what a piece of code sent, to assert it went as one command.
 */
export async function commandCalls(client: Redis): Promise<Record<string, number>> {
  const stats = await client.info('commandstats');
  return Object.fromEntries([...stats.matchAll(/cmdstat_(\w+):calls=(\d+)/g)].filter(([, n]) => n !== 'info' && n !== 'config').map(([, n, c]) => [n, Number(c)]));
}
