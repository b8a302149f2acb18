/**
 * The gateway: Apollo Server 5 + @apollo/gateway over the committed static supergraph, on a node:http server that
 * also answers liveness (public) and metrics and readiness (internal port). Everything cross-cutting (auth, limits,
 * rate limits, deadlines, signing, persisted queries, logging, error masking) is a plugin from gateway/plugins/.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { ApolloGateway, LocalGraphQLDataSource, RemoteGraphQLDataSource } from '@apollo/gateway';
import { GraphQLError, type GraphQLSchema } from 'graphql';
import type { Logger } from 'pino';
import { createGraphQLHandler, createHttpServer, drain, listen, sendJson, serveGraphQL } from '../subgraphs/kit/http-graphql.js';
import { repoRoot } from '../common/repo-root.js';
import { serveMetrics } from '../common/metrics.js';
import { traceHttpRequest } from '../common/tracing.js';
import type { GatewayContext } from './context.js';
import { GATEWAY_HEALTH, checkReadiness } from './health.js';
import { localFirstGateway } from './local-first.js';
import { OPERATIONS_SUBGRAPH } from './operations/index.js';
import { keptBytes, stringifyResult, type AnswerRenders } from './operations/answer-renders.js';
import { runRequestHooks, serverOptions, subgraphFetch, type GatewayPlugin, type RequestScope } from './plugins/plugin.js';
import { posterFetch } from './plugins/poster-fetch.js';
import { HttpPoster } from './operations/http-post.js';
import { cachedReadiness } from './readiness-cache.js';
import type { SupplierStatusReport } from './operations/supplier-status.js';
import { STATUS_PATHS, serveStatusJson, serveStatusPage } from './status-page.js';

export type { GatewayContext } from './context.js';

export interface GatewayOptions {
  port: number;
  host?: string;
  /** Subgraph name → URL; the supergraph's own URLs are only defaults. */
  subgraphUrls: Record<string, string>;
  /** The cross-cutting concerns, in order (gateway/plugins/index.ts assembles them). */
  plugins: readonly GatewayPlugin[];
  /** Key for signing readiness probes to subgraphs (INTERNAL_AUTH_KEY). */
  internalKey: string;
  /** Port for /metrics and /health/ready, apart from the public one (0: any free port). */
  internalPort: number;
  /** The gateway-owned operations, served in-process. */
  operations: GraphQLSchema;
  /** Results of identical warm searches, kept beside their reused answers (operations/answer-renders.ts). */
  renders?: AnswerRenders;
  maxBodyBytes: number;
  introspection: boolean;
  /** How long shutdown waits for requests in flight before cutting connections. */
  shutdownGraceMs?: number;
  /** The operator's view (operations/supplier-status.ts) for /status and /status.json on the internal port. */
  supplierStatus?: () => Promise<SupplierStatusReport>;
  /** Serves the self-hosted GraphQL IDE under /graphiql (see gateway/ide.ts); absent: no IDE. */
  ide?: (req: IncomingMessage, res: ServerResponse) => void;
  logger: Logger;
  supergraphPath?: string;
}

export interface RunningGateway {
  url: string;
  port: number;
  server: Server;
  internalPort: number;
  close(): Promise<void>;
}

type Fetcher = NonNullable<ConstructorParameters<typeof RemoteGraphQLDataSource>[0]>['fetcher'];

export async function startGateway(opts: GatewayOptions): Promise<RunningGateway> {
  const supergraphSdl = readFileSync(opts.supergraphPath ?? `${repoRoot}schema/supergraph.graphql`, 'utf8');
  const plugins = opts.plugins;
  const headerPlugins = plugins.filter((p) => p.subgraphHeaders);
  /** The planned path's sockets to the subgraphs, kept alive between calls; closed with the gateway. */
  const poster = new HttpPoster();

  // @apollo/gateway otherwise exports usage metrics to Apollo's servers from every gateway it runs in (this variable is
  // its only switch): nothing leaves an NHS deployment for a vendor unasked.
  process.env.APOLLO_TELEMETRY_DISABLED = 'true';
  const gateway = new ApolloGateway({
    supergraphSdl,
    // Query plans are internal: never returned, whatever header a client sends.
    __exposeQueryPlanExperimental: false,
    buildService: ({ name, url }) => {
      if (name === OPERATIONS_SUBGRAPH) return new LocalGraphQLDataSource(opts.operations);
      const target = opts.subgraphUrls[name] ?? url;
      if (!target) throw new Error(`no URL for subgraph ${name}`);
      return new RemoteGraphQLDataSource<GatewayContext>({
        url: target,
        // Over node:http with keep-alive (plugins/poster-fetch.ts), wrapped by the plugins.
        fetcher: subgraphFetch(plugins, name, posterFetch(poster)) as unknown as Fetcher,
        willSendRequest({ request, context }) {
          if (!request.http) return;
          for (const p of headerPlugins) for (const [k, v] of Object.entries(p.subgraphHeaders!(context as GatewayContext))) request.http.headers.set(k, v);
        },
      });
    },
  });

  const apollo = new ApolloServer<GatewayContext>({
    // Operations the gateway owns outright are executed once, against its own subgraph (local-first.ts).
    gateway: localFirstGateway(gateway, opts.operations, opts.renders),
    introspection: opts.introspection,
    // "Did you mean …?" would map the schema field by field while introspection is off.
    hideSchemaDetailsFromClientErrors: !opts.introspection,
    includeStacktraceInErrorResponses: false,
    // Identical warm searches: the kept result's data is serialised once (operations/answer-renders.ts).
    stringifyResult,
    // The process owns SIGTERM/SIGINT (drain, then exit 0). Apollo's own handler would stop and re-raise the signal,
    // killing the process before requests in flight finish (it is off under NODE_ENV=test, so only tests escaped it).
    stopOnTerminationSignals: false,
    ...serverOptions(plugins),
    plugins: [ApolloServerPluginLandingPageDisabled(), ...plugins.flatMap((p) => (p.apollo ? [p.apollo] : []))],
    logger: {
      debug: () => {},
      info: () => {},
      warn: (m) => opts.logger.warn(String(m)),
      error: (m) => opts.logger.error(String(m)),
    },
  });
  await apollo.start();

  const traceIds = new WeakMap<IncomingMessage, string>();
  const responses = new WeakMap<IncomingMessage, ServerResponse>();
  const graphql = createGraphQLHandler(apollo, {
    maxBodyBytes: opts.maxBodyBytes,
    encodedBody: keptBytes,
    context: async (req) => {
      const scope: RequestScope = { req, res: responses.get(req), context: { traceId: traceIds.get(req) ?? randomUUID() } };
      try {
        await runRequestHooks(plugins, scope);
        return scope.context as GatewayContext;
      } catch (err) {
        // Refused before any Apollo plugin runs, so the refusal is logged here (code only).
        const code = err instanceof GraphQLError ? err.extensions.code : 'INTERNAL_SERVER_ERROR';
        opts.logger.info({ traceId: scope.context.traceId, code }, 'graphql request refused');
        throw err;
      }
    },
  });

  // Operational endpoints on their own port, never the public one: metrics and readiness name internals, and each
  // readiness answer (cached briefly) costs a request to every subgraph.
  let draining = false;
  const readiness = cachedReadiness(() => checkReadiness(opts.subgraphUrls, opts.internalKey));
  const internal = createHttpServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === GATEWAY_HEALTH.live) sendJson(res, 200, { status: 'live' });
    else if (path === '/metrics') serveMetrics(res);
    else if (opts.supplierStatus && path === STATUS_PATHS.page) serveStatusPage(res);
    else if (opts.supplierStatus && path === STATUS_PATHS.json) serveStatusJson(res, opts.supplierStatus);
    else if (path === GATEWAY_HEALTH.ready) {
      // Draining: out of the load balancer first, while requests in flight finish.
      if (draining) sendJson(res, 503, { ready: false, draining: true });
      else void readiness().then((r) => sendJson(res, 200, r));
    }
    else sendJson(res, 404, { error: 'not found' });
  });

  const server = createHttpServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === GATEWAY_HEALTH.live) {
      sendJson(res, 200, { status: 'live' });
      return;
    }
    if (path === '/graphql') {
      // One trace id per request: returned to the client, logged everywhere, sent to subgraphs and suppliers.
      const traceId = randomUUID();
      traceIds.set(req, traceId);
      responses.set(req, res);
      res.setHeader('x-trace-id', traceId);
      traceHttpRequest(req, res, 'gateway request', {}, () => serveGraphQL(graphql, req, res, opts.logger));
      return;
    }
    if (opts.ide && (path === '/graphiql' || path?.startsWith('/graphiql/'))) {
      opts.ide(req, res);
      return;
    }
    sendJson(res, 404, { error: 'not found' });
  });
  const port = await listen(server, opts.port, opts.host ?? '127.0.0.1');
  const internalPort = await listen(internal, opts.internalPort, opts.host ?? '127.0.0.1');
  return {
    url: `http://${opts.host ?? '127.0.0.1'}:${port}/graphql`,
    port,
    server,
    internalPort,
    async close() {
      draining = true;
      try {
        await drain(server, opts.shutdownGraceMs ?? 10_000);
        await drain(internal, 1000);
        await apollo.stop();
      } finally {
        poster.close();
      }
    },
  };
}
