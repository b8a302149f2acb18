/**
 * Prometheus metrics, one registry per process, served at /metrics by the gateway and every subgraph.
 * Labels are bounded sets (system ids, subgraph names, codes), never ids of services, slots or patients.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export const registry = new Registry();
collectDefaultMetrics({ register: registry });

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10];

/** Every call to a supplier system (and the DoS), by outcome: ok, a status class, or the failure reason. */
export const supplierRequestDuration = new Histogram({
  name: 'supplier_request_duration_seconds',
  help: 'Duration of calls to supplier systems, retries included',
  labelNames: ['system', 'method', 'outcome'] as const,
  buckets: LATENCY_BUCKETS,
  registers: [registry],
});

export const supplierErrors = new Counter({
  name: 'supplier_errors_total',
  help: 'Failed calls to supplier systems, by reason',
  labelNames: ['system', 'reason'] as const,
  registers: [registry],
});

/**
 * Calls held by our own per-supplier throttle (kit/supplier-throttle.ts): `waited` went out after waiting for a token,
 * `refused` could not have one within its deadline (RATE_LIMITED, never sent). Calls that went straight out are not
 * counted. `store` says whose budget applied: `shared` (Redis, every replica) or `replica` (Redis away).
 */
export const supplierThrottle = new Counter({
  name: 'supplier_throttle_total',
  help: 'Supplier calls held by our own rate limit, by outcome',
  labelNames: ['system', 'outcome', 'store'] as const,
  registers: [registry],
});

/** Slot cache lookups by result (hit, stale, miss, negative: a recent failure answered from the cache), per system. */
export const slotCacheLookups = new Counter({
  name: 'slot_cache_lookups_total',
  help: 'Slot cache lookups by result',
  labelNames: ['system', 'result'] as const,
  registers: [registry],
});

/** Background refreshes not queued because their system's lane was full (subgraphs/kit/slot-cache.ts). */
export const slotCacheRefreshesDropped = new Counter({
  name: 'slot_cache_refreshes_dropped_total',
  help: 'Stale slot buckets whose background refresh was not queued: their system already had the most refreshes waiting',
  labelNames: ['system'] as const,
  registers: [registry],
});

/** Circuit breaker state per supplier system: 0 closed, 1 half-open, 2 open. */
export const circuitState = new Gauge({
  name: 'supplier_circuit_state',
  help: 'Circuit breaker state per supplier system (0 closed, 1 half-open, 2 open)',
  labelNames: ['system'] as const,
  registers: [registry],
});

export async function metricsText(): Promise<{ contentType: string; body: string }> {
  return { contentType: registry.contentType, body: await registry.metrics() };
}

// ---- gateway ---------------------------------------------------------------------------------------------------

export const graphqlRequests = new Histogram({
  name: 'graphql_request_duration_seconds',
  help: 'GraphQL requests through the gateway, by operation type and HTTP status',
  labelNames: ['type', 'status'] as const,
  buckets: LATENCY_BUCKETS,
  registers: [registry],
});

export const graphqlErrors = new Counter({
  name: 'graphql_errors_total',
  help: 'Errors returned to clients, by code',
  labelNames: ['code'] as const,
  registers: [registry],
});

/**
 * `availability` answers by how they were made, each counted once: fetched from the suppliers (once per fan-out,
 * however many identical searches joined it), reused while fresh, reused past their ttl while refreshed (stale), or
 * reused and handed back already executed (executed_reused, fresh or stale).
 */
export const availabilityAnswers = new Counter({
  name: 'availability_answers_total',
  help: 'availability answers by how they were made (fetched, reused, stale, executed_reused)',
  labelNames: ['how'] as const,
  registers: [registry],
});

export const subgraphFetchDuration = new Histogram({
  name: 'subgraph_fetch_duration_seconds',
  help: 'Fetches from the gateway to each subgraph, by outcome',
  labelNames: ['subgraph', 'outcome'] as const,
  buckets: LATENCY_BUCKETS,
  registers: [registry],
});

/** Answers a /metrics request in the Prometheus text format. */
export function serveMetrics(res: import('node:http').ServerResponse): void {
  void metricsText().then(({ contentType, body }) => {
    res.writeHead(200, { 'content-type': contentType });
    res.end(body);
  });
}
