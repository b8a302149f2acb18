/** CPU time of a process from /proc (Linux): user + system, all its threads, in milliseconds. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

let ticksPerSecond: number | undefined;

function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/** utime + stime of `pid` in ms (resolution: one clock tick, 10 ms on Linux). */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may hold spaces and parentheses: fields are counted after its closing ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state); utime and stime are fields 14 and 15.
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) throw new Error(`unreadable /proc/${pid}/stat`);
  return ((utime + stime) * 1000) / clockTicks();
}

/** Runs `work` and returns its result with the CPU `pid` spent meanwhile. */
export async function withCpu<T>(pid: number, work: () => Promise<T>): Promise<{ result: T; cpuMs: number }> {
  const before = cpuMs(pid);
  const result = await work();
  return { result, cpuMs: cpuMs(pid) - before };
}

/** CPU so far of each named process (ms); a process gone since its start is left out. */
export function cpuSnapshot(pids: ReadonlyMap<string, number>): Map<string, number> {
  const out = new Map<string, number>();
  for (const [name, pid] of pids) {
    try {
      out.set(name, cpuMs(pid));
    } catch {
      // exited (a restarted subgraph has a new pid): not measured
    }
  }
  return out;
}

/**
 * Runs `work` and says what each process spent on it per request, largest first: where a row's time goes across
 * the stack (the gateway's own CPU is only part of it when subgraphs, simulators and Redis share the machine).
 */
export async function withCpuByProcess<T>(pids: ReadonlyMap<string, number>, requests: number, work: () => Promise<T>): Promise<{ result: T; perRequest: [string, number][] }> {
  const before = cpuSnapshot(pids);
  const result = await work();
  const after = cpuSnapshot(pids);
  const perRequest: [string, number][] = [];
  for (const [name, ms] of after) {
    const was = before.get(name);
    if (was !== undefined) perRequest.push([name, (ms - was) / Math.max(1, requests)]);
  }
  perRequest.sort((a, b) => b[1] - a[1]);
  return { result, perRequest };
}

/** `booking-standard 877, gateway 52, …; all 1,590` (ms per request; processes under 0.5 ms left out). */
export function cpuLine(perRequest: readonly [string, number][]): string {
  const shown = perRequest.filter(([, ms]) => ms >= 0.5);
  const all = perRequest.reduce((n, [, ms]) => n + ms, 0);
  const fmt = (ms: number) => (ms >= 100 ? ms.toFixed(0) : ms.toFixed(1));
  return `${shown.map(([name, ms]) => `${name} ${fmt(ms)}`).join(', ')}; all ${fmt(all)}`;
}
