/**
 * Request coalescing: identical work started while the same work is already running joins it instead of starting
 * again. A burst of identical cold searches (a campaign link, a retrying client) then costs one fan-out to the
 * suppliers instead of one per request, which is what keeps such a burst inside its deadlines on a small machine.
 * The caller decides what "identical" means (availability.ts keys on the search, the consumer and the slot generations
 * it read, so nobody joins work that started before their own booking). Per process and only while running: nothing is kept once the work settles (reuse after that is AnswerCache's
 * concern), so the map holds at most one entry per distinct request in flight. DataLoader batches within one
 * request only, and no library coalesces across requests without also caching, hence these few lines.
 */
export class InFlight<V> {
  private readonly running = new Map<string, Promise<V>>();

  /** `work()`'s promise, shared with every call for the same key made before it settles (success or failure). */
  run(key: string, work: () => Promise<V>): Promise<V> {
    const joined = this.running.get(key);
    if (joined) return joined;
    const started = work().finally(() => this.running.delete(key));
    this.running.set(key, started);
    return started;
  }

  /** How many distinct pieces of work are running. */
  get size(): number {
    return this.running.size;
  }
}
