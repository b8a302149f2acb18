/**
 * Single-flight across processes: two Node processes, each the Booking Standard adapter with its own Redis
 * connection, resolve 100 identical slot fields at once between them against the Booking Standard simulator. The
 * simulator's request log must show exactly one search per service and day.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startBookingStandardSimulator } from '../../sandbox/booking-standard/server.js';
import type { RecordedRequest, SandboxServer } from '../../sandbox/lib/http.js';
import { startRedis, type TestRedis } from '../../test/redis.js';
import { dayStart, londonDay, addDays } from '../../common/london-day.js';
import { repoRoot } from './schema.js';

let redis: TestRedis;
let sim: SandboxServer;
const children: ChildProcess[] = [];

beforeAll(async () => {
  redis = await startRedis();
  sim = await startBookingStandardSimulator({ port: 0 });
});
afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  await sim?.close();
  await redis?.dispose();
});

interface WorkerReport {
  answered: number;
  failed: number;
  live: number;
  slotIds: string[];
}

function worker(env: Record<string, string>): { child: ChildProcess; ready: Promise<void>; report: Promise<WorkerReport> } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/slot-cache.worker.ts'], {
    cwd: repoRoot,
    env: { ...process.env, LOG_LEVEL: 'silent', ...env },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  children.push(child);
  const lines = createInterface({ input: child.stdout! });
  let onReady!: () => void;
  const ready = new Promise<void>((r) => (onReady = r));
  const report = new Promise<WorkerReport>((resolve, reject) => {
    lines.on('line', (line) => {
      if (line === 'ready') onReady();
      else if (line.startsWith('{')) resolve(JSON.parse(line) as WorkerReport);
    });
    child.once('exit', (code) => reject(new Error(`worker exited with ${code}`)));
  });
  return { child, ready, report };
}

it('100 concurrent identical misses from two processes: one search per service and day', async () => {
  // Tomorrow, London time, 10:00 to 16:00: one day bucket per service.
  const tomorrow = addDays(londonDay(Date.now()), 1);
  const from = new Date(dayStart(tomorrow) + 10 * 3_600_000).toISOString();
  const to = new Date(dayStart(tomorrow) + 16 * 3_600_000).toISOString();
  const services = ['1402000102', '1402000105'];
  await fetch(`${sim.url}/_sandbox/requests`, { method: 'DELETE' });
  // A slow provider, so every request arrives while the first search is still out.
  await fetch(`${sim.url}/_sandbox/faults`, { method: 'POST', body: JSON.stringify({ pathPrefix: '/harbour/STU3/Slot', delayMs: 300 }) });

  const env = { REDIS_URL: redis.url, SANDBOX_BOOKING_STANDARD_URL: sim.url, SERVICES: services.join(','), FROM: from, TO: to, REQUESTS: '50' };
  const workers = [worker(env), worker(env)];
  await Promise.all(workers.map((w) => w.ready));
  for (const w of workers) w.child.stdin!.write('go\n');
  const reports = await Promise.all(workers.map((w) => w.report));

  for (const r of reports) expect(r).toMatchObject({ answered: 50, failed: 0 });
  // Both processes saw the same slots, and both had some.
  expect(reports[0]!.slotIds.length).toBeGreaterThan(0);
  expect(reports[1]!.slotIds).toEqual(reports[0]!.slotIds);

  const log = (await (await fetch(`${sim.url}/_sandbox/requests`)).json()) as RecordedRequest[];
  const searches = log.filter((r) => r.path.endsWith('/Slot') && !r.query['_page']);
  expect(searches.map((r) => r.query['schedule.actor:healthcareservice']![0]).sort()).toEqual(services);
  // Each covered the whole London day.
  for (const s of searches) expect(s.query['start']).toEqual([`ge${new Date(dayStart(tomorrow)).toISOString().replace('.000Z', '+00:00')}`, expect.stringMatching(/^le/)]);
}, 60_000);
