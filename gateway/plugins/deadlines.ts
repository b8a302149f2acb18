/**
 * A deadline on every subgraph fetch, timed into the subgraph fetch metric. A failure becomes a typed error naming
 * the subgraph: the gateway's own error for it is a bare "fetch failed", or worse, the internal URL.
 */
import { subgraphFetchDuration } from '../../common/metrics.js';
import { SubgraphUnavailableError } from '../errors.js';
import type { GatewayPlugin } from './plugin.js';

export function deadlinesPlugin(subgraphTimeoutMs: number): GatewayPlugin {
  return {
    name: 'deadlines',
    fetch: (next, subgraph) => async (url, init) => {
      const end = subgraphFetchDuration.startTimer({ subgraph });
      try {
        const res = await next(url, { ...init, signal: AbortSignal.timeout(subgraphTimeoutMs) });
        end({ outcome: String(res.status) });
        return res;
      } catch (err) {
        const timedOut = err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
        end({ outcome: timedOut ? 'TIMEOUT' : 'UNAVAILABLE' });
        throw new SubgraphUnavailableError(subgraph, timedOut ? 'TIMEOUT' : 'UNAVAILABLE');
      }
    },
  };
}
