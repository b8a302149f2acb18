/**
 * The gateway vouches for what it sends a subgraph: the consumer it authenticated and the trace id ride on every
 * request, and the signature (common/internal-auth.ts) is made last, over the final URL, method, body and
 * those headers, so a captured signature is good for nothing else. Keep this plugin last in the list: no fetch
 * wrapper may change the request after it.
 */
import { identityHeaders, signedHeaders } from '../../common/internal-auth.js';
import type { GatewayPlugin } from './plugin.js';

export function internalSigningPlugin(key: string): GatewayPlugin {
  return {
    name: 'internal-signing',
    subgraphHeaders: (context) => identityHeaders(context.consumer ?? null, context.traceId),
    fetch: (next) => (url, init) => next(url, { ...init, headers: signedHeaders(key, url, init) }),
  };
}
