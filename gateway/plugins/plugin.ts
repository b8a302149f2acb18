/**
 * The gateway's cross-cutting concerns as plugins, the way Hive Gateway assembles its own: each module under
 * gateway/plugins/ owns its options and returns one `GatewayPlugin`, and the gateway runs the list it is given
 * (gateway/plugins/index.ts builds it). A plugin uses any of four hooks:
 *
 *   onRequest   builds (or refuses) the request context, before anything is parsed; middleware-style, so a plugin
 *               can act before and after the ones after it (the rate limit wraps authentication)
 *   apollo      Apollo Server's own hooks: parse, validate, resolve the operation, execute, respond
 *   server      Apollo Server options the plugin owns (persisted queries, parse options, error formatting)
 *   fetch       wraps every fetch to a subgraph (deadline, signing); the first plugin in the list is outermost
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ApolloServerOptions, ApolloServerPlugin } from '@apollo/server';
import type { GatewayContext } from '../context.js';

export interface RequestScope {
  req: IncomingMessage;
  res: ServerResponse | undefined;
  /** Filled in by the plugins, complete once every onRequest has run. */
  context: Partial<GatewayContext> & Pick<GatewayContext, 'traceId'>;
}

export type SubgraphFetch = (url: string, init: RequestInit) => Promise<Response>;

export interface GatewayPlugin {
  name: string;
  onRequest?(scope: RequestScope, next: () => Promise<void>): Promise<void>;
  apollo?: ApolloServerPlugin<GatewayContext>;
  server?: Partial<Pick<ApolloServerOptions<GatewayContext>, 'persistedQueries' | 'parseOptions' | 'formatError'>>;
  /** Headers a subgraph request carries from the context (set before any fetch wrapper runs). */
  subgraphHeaders?(context: GatewayContext): Record<string, string>;
  fetch?(next: SubgraphFetch, subgraph: string): SubgraphFetch;
}

/** Runs every onRequest in list order, each around the rest. */
export function runRequestHooks(plugins: readonly GatewayPlugin[], scope: RequestScope): Promise<void> {
  const hooks = plugins.flatMap((p) => (p.onRequest ? [p.onRequest.bind(p)] : []));
  const step = (i: number): Promise<void> => (i < hooks.length ? hooks[i]!(scope, () => step(i + 1)) : Promise.resolve());
  return step(0);
}

/** The subgraph fetch, wrapped by every plugin's fetch hook; the first plugin in the list is outermost. */
export function subgraphFetch(plugins: readonly GatewayPlugin[], subgraph: string, base: SubgraphFetch = (url, init) => fetch(url, init)): SubgraphFetch {
  return plugins.reduceRight<SubgraphFetch>((next, p) => (p.fetch ? p.fetch(next, subgraph) : next), base);
}

/** Apollo Server options from every plugin; two plugins owning the same option is a programming error. */
export function serverOptions(plugins: readonly GatewayPlugin[]): NonNullable<GatewayPlugin['server']> {
  const out: NonNullable<GatewayPlugin['server']> = {};
  for (const p of plugins) {
    for (const [k, v] of Object.entries(p.server ?? {})) {
      if (k in out) throw new Error(`two gateway plugins set Apollo Server's ${k}`);
      (out as Record<string, unknown>)[k] = v;
    }
  }
  return out;
}
