/**
 * Which block of test ports a process may hand out (scripts/stack.ts freePort): one no other live process holds,
 * claimed with a lock file created exclusively and naming the pid; a lock whose process has exited is taken over. The
 * search starts at the pid's own block, so a process mostly keeps the block the pid alone would have given it. With
 * every block held, the pid's own block is shared (each port is still checked by listening on it before use).
 * Written by hand: lock files with liveness are a dozen lines, and the npm lock libraries lock one path, not one of
 * many.
 */
import { mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface PortBlockClaim {
  /** Where the lock files live (one per block: `<block>.pid`). */
  dir: string;
  blocks: number;
  pid?: number;
  /** Release the lock when this process exits (default true; tests claim for other pids). */
  releaseOnExit?: boolean;
}

export function claimPortBlock({ dir, blocks, pid = process.pid, releaseOnExit = true }: PortBlockClaim): number {
  const first = pid % blocks;
  mkdirSync(dir, { recursive: true });
  for (let i = 0; i < blocks; i++) {
    const block = (first + i) % blocks;
    const lock = join(dir, `${block}.pid`);
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        writeFileSync(lock, String(pid), { flag: 'wx' });
        if (releaseOnExit) process.once('exit', () => release(lock, pid));
        return block;
      } catch {
        if (!holderGone(lock)) break;
        // Taken over: removed, then created again above (another process may win it first: then the next block).
        release(lock);
      }
    }
  }
  return first;
}

/** Removes a block's lock (only while it still names `pid`, when one is given). */
function release(lock: string, pid?: number): void {
  try {
    if (pid === undefined || readFileSync(lock, 'utf8') === String(pid)) unlinkSync(lock);
  } catch {
    // Already gone: nothing to release.
  }
}

/** Whether the process named in a lock file has exited (an unreadable file counts as held). */
function holderGone(lock: string): boolean {
  let pid: number;
  try {
    pid = Number(readFileSync(lock, 'utf8'));
  } catch {
    return false;
  }
  if (!Number.isInteger(pid) || pid <= 0) return true;
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}
