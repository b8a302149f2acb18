import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { claimPortBlock, type ClaimedBlock } from './port-blocks.js';

// A small range of its own, below the stack's (20000-31999) and the kernel's ephemeral ports.
const RANGE = { from: 19_000, size: 10, blocks: 5 };
const own = process.pid % RANGE.blocks;
const sentinel = (block: number) => RANGE.from + block * RANGE.size;
const held: ClaimedBlock[] = [];
const others: Server[] = [];
afterEach(async () => {
  await Promise.all(held.splice(0).map((c) => c.release()));
  await Promise.all(others.splice(0).map((s) => new Promise((r) => s.close(r))));
});
const claim = async () => {
  const c = await claimPortBlock(RANGE);
  held.push(c);
  return c;
};
/** Something else listening on a block's sentinel, as another test process holding that block would. */
const occupy = (block: number) =>
  new Promise<void>((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(sentinel(block), '127.0.0.1', () => {
      others.push(s);
      resolve();
    });
  });

describe('claimPortBlock', () => {
  it("holds the pid's own block first, then the next free one for another claimant, until let go", async () => {
    const first = await claim();
    expect(first).toMatchObject({ block: own, own: true });
    const second = await claim();
    expect(second).toMatchObject({ block: (own + 1) % RANGE.blocks, own: true });
    await first.release();
    expect((await claim()).block).toBe(own);
  });

  it('skips a block whose sentinel another listener holds', async () => {
    await occupy(own);
    expect(await claim()).toMatchObject({ block: (own + 1) % RANGE.blocks, own: true });
  });

  it("shares the pid's own block when every block is held", async () => {
    for (let b = 0; b < RANGE.blocks; b++) await occupy(b);
    expect(await claim()).toMatchObject({ block: own, own: false });
  });
});
