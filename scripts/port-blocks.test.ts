import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { claimPortBlock } from './port-blocks.js';

const BLOCKS = 12;
const own = process.pid % BLOCKS;
let dir: string;
const fresh = () => (dir = mkdtempSync(join(tmpdir(), 'port-blocks-')));
afterEach(() => rmSync(dir, { recursive: true, force: true }));
const claim = () => claimPortBlock({ dir, blocks: BLOCKS, releaseOnExit: false });
const holder = (block: number) => readFileSync(join(dir, `${block}.pid`), 'utf8');

/** The pid of a process that has exited. */
function exitedPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(child.stdout);
}

describe('claimPortBlock', () => {
  it("claims the pid's own block first, and the next free one while a live process holds it", () => {
    fresh();
    expect(claim()).toBe(own);
    expect(holder(own)).toBe(String(process.pid));
    // The same block asked for again while its holder (this process) lives: the next one.
    expect(claim()).toBe((own + 1) % BLOCKS);
    expect(claim()).toBe((own + 2) % BLOCKS);
  });

  it('takes over a block whose holder has exited, or whose lock names no process', () => {
    fresh();
    writeFileSync(join(dir, `${own}.pid`), String(exitedPid()));
    expect(claim()).toBe(own);
    expect(holder(own)).toBe(String(process.pid));
    writeFileSync(join(dir, `${(own + 1) % BLOCKS}.pid`), 'not a pid');
    expect(claim()).toBe((own + 1) % BLOCKS);
  });

  it("shares the pid's own block when every block is held", () => {
    fresh();
    for (let b = 0; b < BLOCKS; b++) writeFileSync(join(dir, `${b}.pid`), String(process.ppid));
    expect(claim()).toBe(own);
    expect(holder(own)).toBe(String(process.ppid));
  });
});
