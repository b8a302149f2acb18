/**
 * Readiness answers reused for a moment: a probe every second from each of several load balancers must not become
 * a request to every subgraph each time. Concurrent callers share the check in flight.
 */
export function cachedReadiness<T>(check: () => Promise<T>, ttlMs = 2000, now: () => number = Date.now): () => Promise<T> {
  let last: { at: number; value: Promise<T> } | null = null;
  return () => {
    if (last && now() - last.at < ttlMs) return last.value;
    const value = check();
    last = { at: now(), value };
    // A failed check is not kept: the next probe asks again.
    value.catch(() => {
      if (last?.value === value) last = null;
    });
    return value;
  };
}
