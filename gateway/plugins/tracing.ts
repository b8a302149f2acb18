/**
 * Each fetch of the query plan as a CLIENT span under the gateway request's span (common/tracing.ts), with the trace
 * carried to the subgraph as W3C `traceparent`. Sits before the signing plugin, which signs what this one sends.
 */
import { SpanKind, inSpan, traceHeaders } from '../../common/tracing.js';
import type { GatewayPlugin } from './plugin.js';

export const tracingPlugin: GatewayPlugin = {
  name: 'tracing',
  fetch: (next, subgraph) => (url, init) =>
    inSpan('subgraph fetch', SpanKind.CLIENT, { 'graphql.subgraph': subgraph }, async (span) => {
      const headers = new Headers(init.headers);
      for (const [k, v] of Object.entries(traceHeaders())) headers.set(k, v);
      const res = await next(url, { ...init, headers });
      span.setAttribute('http.response.status_code', res.status);
      return res;
    }),
};
