/**
 * How long one service's day buckets count as fresh: a share of its system's TTL between 1 − FRESH_SPREAD and 1,
 * fixed per system and service. Buckets filled in one moment (a cold start, one search of fifty services, Redis
 * emptied) would otherwise all go stale in one moment, and their background refreshes land together on the
 * suppliers and on the subgraph's CPU, which the warm searches of that moment then wait behind (measured with the
 * bench's mix at c=10: the p99 of the five seconds holding the 30-second mark was twice the rest's, and was not with a
 * 300-second TTL). Spread over a fifth of the TTL (6 s of the sandbox's 30), they go stale a few services at a time.
 *
 * Per service, not per day: a service's days are fetched in one run, and so go stale and are refreshed together, in
 * one run. A hash rather than a random draw, so every replica and the in-process copy judge a bucket alike. Never
 * more than the TTL: what a client was promised of freshness holds; when a bucket stops being servable (ttl + stale)
 * is unchanged.
 */
export const FRESH_SPREAD = 0.2;

export function freshMs(ttlMs: number, system: string, serviceId: string): number {
  return Math.floor(ttlMs * (1 - FRESH_SPREAD * unitHash(system, serviceId)));
}

/** FNV-1a (32-bit) of the two strings, as a fraction in [0, 1): cheap and stable everywhere; nothing depends on it being hard to guess. */
function unitHash(a: string, b: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < a.length; i++) h = Math.imul(h ^ a.charCodeAt(i), 0x01000193);
  h = Math.imul(h ^ 0x0a, 0x01000193);
  for (let i = 0; i < b.length; i++) h = Math.imul(h ^ b.charCodeAt(i), 0x01000193);
  return (h >>> 0) / 2 ** 32;
}
