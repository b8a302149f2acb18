/**
 * Which block of test ports a process may hand out (scripts/stack.ts freePort): one no other live process or thread
 * holds. A block is held by listening on its first port, its sentinel, for as long as the holder lives: the kernel
 * refuses a second listener (EADDRINUSE) and frees the port when the holder ends, however it ends (a test worker is
 * stopped with SIGTERM, which runs no exit handler). Nothing is written anywhere, so nothing is left behind to take
 * over. The search starts at the pid's own block; with every block held, that block is shared (each port is still
 * checked by listening on it before use).
 */
import { createServer, type Server } from 'node:net';

export interface PortBlocks {
  /** The first port of block 0. */
  from: number;
  size: number;
  blocks: number;
  pid?: number;
}

export interface ClaimedBlock {
  block: number;
  /** Whether this process holds it alone (false: every block was held, and this one is shared). */
  own: boolean;
  /** Lets the block go (tests; a process that ends lets it go anyway). */
  release(): Promise<void>;
}

export async function claimPortBlock({ from, size, blocks, pid = process.pid }: PortBlocks): Promise<ClaimedBlock> {
  const first = pid % blocks;
  for (let i = 0; i < blocks; i++) {
    const block = (first + i) % blocks;
    const sentinel = await listenOn(from + block * size);
    if (sentinel) {
      // Held without keeping the process alive.
      sentinel.unref();
      return { block, own: true, release: () => new Promise((r) => sentinel.close(() => r())) };
    }
  }
  return { block: first, own: false, release: async () => {} };
}

/** A server listening on the port (127.0.0.1), or null when anything else already does. */
export function listenOn(port: number): Promise<Server | null> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(null));
    s.listen(port, '127.0.0.1', () => resolve(s));
  });
}
