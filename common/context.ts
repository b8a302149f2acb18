import type { ConsumerOrganisation } from './consumer.js';

/** What every subgraph resolver receives: who is asking (as the gateway vouched for it) and a per-request scope. */
export interface SubgraphContext {
  /** Null when the gateway sent none (a direct call): supplier adapters then refuse, the directory does not care. */
  consumer: ConsumerOrganisation | null;
  /** Trace id for this request, from the gateway; sent upstream where a standard asks for one. */
  traceId: string;
  /** Per-request memo (DataLoaders live here, so batching never crosses requests or consumers). */
  loaders: Map<string, unknown>;
  /** performance.now() when the request arrived, before its body was read; unset outside an HTTP request. */
  receivedAtMs?: number;
}
