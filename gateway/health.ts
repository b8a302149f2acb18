/**
 * Readiness: this gateway takes traffic unless it is draining. Subgraph outages do not make it unready: they hit every
 * replica alike, and a gateway that is up answers them as typed, partial results (coverage, SUBGRAPH_UNAVAILABLE),
 * where a load balancer with no ready replica would answer nothing at all. The body says which subgraphs answer a
 * trivial query (`degraded` when any does not), for operators and alerts. Names only, never URLs.
 */
import { gatewayHeaders } from '../common/internal-auth.js';

export interface Readiness {
  ready: boolean;
  degraded: boolean;
  subgraphs: Record<string, 'up' | 'down'>;
}

/**
 * Health paths: liveness on both the public and the internal port; readiness on the internal port only (each
 * answer costs a request to every subgraph, so consumers must not be able to call it).
 */
export const GATEWAY_HEALTH = {
  live: '/health/live',
  ready: '/health/ready',
} as const;

const PROBE_TIMEOUT_MS = 1500;

export async function checkReadiness(subgraphUrls: Record<string, string>, internalKey: string): Promise<Readiness> {
  const entries = await Promise.all(
    Object.entries(subgraphUrls).map(async ([name, url]) => [name, (await probe(url, internalKey)) ? 'up' : 'down'] as const),
  );
  return { ready: true, degraded: entries.some(([, s]) => s !== 'up'), subgraphs: Object.fromEntries(entries) };
}

async function probe(url: string, internalKey: string): Promise<boolean> {
  try {
    const query = JSON.stringify({ query: '{ __typename }' });
    const res = await fetch(url, {
      method: 'POST',
      // Signed like any gateway request: a subgraph that refuses us is not ready for us.
      headers: { 'content-type': 'application/json', ...gatewayHeaders(null, { method: 'POST', url, body: query }, undefined, internalKey) },
      body: query,
      signal: AbortSignal.timeout(PROBE_TIMEOUT_MS),
    });
    if (!res.ok) return false;
    const body = (await res.json()) as { data?: { __typename?: string } };
    return body.data?.__typename === 'Query';
  } catch {
    return false;
  }
}
