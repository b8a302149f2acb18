/**
 * Identical query fetches to one subgraph in flight at the same moment share one request, as Hive Gateway
 * (`deduplicateInflightRequests`) and Apollo Router (`traffic_shaping.deduplicate_query`) do: under a burst of the
 * same query each subgraph is asked once, not once per client request.
 *
 * Shared only when everything the subgraph's answer can depend on is the same: the subgraph, URL, method, body
 * (operation, variables, entity representations) and the consumer organisation the request speaks for (answers
 * differ by consumer: ring-fenced slots, holds). The trace id and signature, which differ per request, are left out;
 * the shared fetch carries the first request's. Only query operations are shared, recognised positively: a body
 * that does not start the way the gateway writes a query (a mutation, or a format change in Apollo's request
 * encoding), or headers of a shape not recognised, go on their own; nor does a query join a fetch that began before
 * a mutation through this gateway. Nothing outlives the fetch: an entry is removed when its answer arrives, so the map
 * holds at most the fetches in flight.
 */
import { CONSUMER_HEADER } from '../../common/consumer.js';
import type { GatewayPlugin, SubgraphFetch } from './plugin.js';
import { TextAnswer } from './text-answer.js';

/** How `RemoteGraphQLDataSource` serialises a query operation: `{"query":"query Name…` or `{"query":"{…`. */
export const QUERY_BODY = /^\{"query":"(?:query\b|\{)/;

/** The consumer header ('' for none), or null for headers of a shape not recognised: then nothing is shared. */
function consumerOf(headers: RequestInit['headers']): string | null {
  if (!headers) return '';
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(CONSUMER_HEADER) ?? '';
  if (Array.isArray(headers)) return headers.find((h) => h[0]?.toLowerCase() === CONSUMER_HEADER)?.[1] ?? '';
  if (Object.getPrototypeOf(headers) !== Object.prototype) return null;
  const value = (headers as Record<string, unknown>)[CONSUMER_HEADER];
  return value === undefined ? '' : typeof value === 'string' ? value : null;
}

/**
 * Mutations through this gateway so far. A query sent after a booking's answer must not join a fetch that started
 * before the booking (it would show the booked slot free), so fetches are shared only within one count.
 */
let writes = 0;

/** The key a fetch is shared under, or null when it must go alone. */
export function sharedFetchKey(subgraph: string, url: string, init: RequestInit): string | null {
  const body = init.body;
  if ((init.method ?? 'GET') !== 'POST' || typeof body !== 'string' || !QUERY_BODY.test(body)) return null;
  const consumer = consumerOf(init.headers);
  if (consumer === null) return null;
  return `${subgraph}\n${url}\n${consumer}\n${writes}\n${body}`;
}

export function sharedFetchesPlugin(): GatewayPlugin {
  return {
    name: 'shared-fetches',
    apollo: {
      async requestDidStart() {
        return {
          async didResolveOperation({ operation }) {
            if (operation?.operation === 'mutation') writes++;
          },
        };
      },
    },
    fetch: (next: SubgraphFetch, subgraph: string): SubgraphFetch => {
      const inFlight = new Map<string, Promise<{ res: Response; body: string }>>();
      return async (url, init) => {
        const key = sharedFetchKey(subgraph, url, init);
        if (key === null) return next(url, init);
        let shared = inFlight.get(key);
        if (!shared) {
          shared = next(url, init).then(async (res) => ({ res, body: await res.text() }));
          inFlight.set(key, shared);
          const done = () => inFlight.delete(key);
          shared.then(done, done);
        }
        const { res, body } = await shared;
        // Each request gets its own answer object, over the one body.
        return new TextAnswer(res, body) as unknown as Response;
      };
    },
  };
}
