/**
 * The gateway: Apollo Server 5 + @apollo/gateway over the committed static supergraph, on a node:http server
 * that also answers health checks. Subgraph calls use native fetch (keep-alive, and cheaper per request than the
 * default fetcher) with a deadline, and carry the consumer organisation and a trace id.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { ApolloGateway, LocalGraphQLDataSource, RemoteGraphQLDataSource } from '@apollo/gateway';
import { GraphQLError, type GraphQLSchema } from 'graphql';
import type { Logger } from 'pino';
import type { ConsumerOrganisation } from '../subgraphs/kit/consumer.js';
import { identityHeaders, signedHeaders } from '../subgraphs/kit/internal-auth.js';
import { createGraphQLHandler, createHttpServer, drain, listen, sendJson, serveGraphQL } from '../subgraphs/kit/http-graphql.js';
import { repoRoot } from '../subgraphs/kit/schema.js';
import { serveMetrics, subgraphFetchDuration } from '../subgraphs/kit/metrics.js';
import { SubgraphUnavailableError, collapseErrorsPlugin, maskError, redactQuoted } from './errors.js';
import { dateTimeValidationPlugin } from './plugins/scalar-validation.js';
import { checkReadiness } from './health.js';
import { authenticate, authorisationPlugin, type AuthConfig, type Principal } from './plugins/auth.js';
import { OPERATIONS_SUBGRAPH } from './operations/index.js';
import { limitsPlugin, type Limits } from './plugins/limits.js';
import { requestLogPlugin } from './plugins/request-log.js';
import type { RedisApqCache } from './plugins/persisted-queries.js';
import type { ConsumerLimits } from './plugins/rate-limit/limits.js';
import { cachedReadiness } from './readiness-cache.js';

export interface GatewayContext {
  principal: Principal;
  /** The consumer organisation requests are made for (from the token, or the dev consumer for anonymous reads). */
  consumer: ConsumerOrganisation;
  authenticated: boolean;
  traceId: string;
  /** Who the consumer limits count this request against: `org:<ODS>` or `anon:<address>`. */
  limitKey: string;
}

export interface GatewayOptions {
  port: number;
  host?: string;
  /** Subgraph name → URL; the supergraph's own URLs are only defaults. */
  subgraphUrls: Record<string, string>;
  /** Deadline for one subgraph fetch. */
  subgraphTimeoutMs: number;
  auth: AuthConfig;
  /** Key for signing requests to subgraphs (INTERNAL_AUTH_KEY). */
  internalKey: string;
  limits: Limits;
  consumerLimits: ConsumerLimits;
  /** Port for /metrics and /health/ready, apart from the public one (0: any free port). */
  internalPort: number;
  /** Where automatic persisted queries are kept (Redis when configured); Apollo's in-memory cache otherwise. */
  apqCache?: RedisApqCache;
  /** The gateway-owned operations, served in-process. */
  operations: GraphQLSchema;
  maxBodyBytes: number;
  introspection: boolean;
  /** How long shutdown waits for requests in flight before cutting connections. */
  shutdownGraceMs?: number;
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

function rateLimited(retryAfterSeconds: number, what = 'Too many requests from this consumer'): GraphQLError {
  return new GraphQLError(`${what}; retry after ${retryAfterSeconds} s`, {
    extensions: { code: 'RATE_LIMITED', http: { status: 429, headers: new Map([['retry-after', String(retryAfterSeconds)]]) } },
  });
}

export async function startGateway(opts: GatewayOptions): Promise<RunningGateway> {
  const supergraphSdl = readFileSync(opts.supergraphPath ?? `${repoRoot}schema/supergraph.graphql`, 'utf8');
  // Native fetch with a deadline; a failure is re-thrown as a typed error naming the subgraph (the gateway's own
  // error for it is a bare "fetch failed", or worse, the internal URL).
  const deadlineFetch = (subgraph: string) =>
    (async (url: string, init: RequestInit) => {
      const end = subgraphFetchDuration.startTimer({ subgraph });
      try {
        // Signed here, over the final URL, method and body bytes: a captured signature is good for nothing else.
        const headers = signedHeaders(opts.internalKey, url, init);
        const res = await fetch(url, { ...init, headers, signal: AbortSignal.timeout(opts.subgraphTimeoutMs) });
        end({ outcome: String(res.status) });
        return res;
      } catch (err) {
        const timedOut = err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
        end({ outcome: timedOut ? 'TIMEOUT' : 'UNAVAILABLE' });
        throw new SubgraphUnavailableError(subgraph, timedOut ? 'TIMEOUT' : 'UNAVAILABLE');
      }
    }) as unknown as NonNullable<ConstructorParameters<typeof RemoteGraphQLDataSource>[0]>['fetcher'];

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
        fetcher: deadlineFetch(name),
        willSendRequest({ request, context }) {
          if (!request.http) return;
          // The gateway vouches for the consumer it authenticated (signed in the fetcher, so subgraphs refuse anything else).
          for (const [k, v] of Object.entries(identityHeaders(context.consumer ?? null, context.traceId))) {
            request.http.headers.set(k, v);
          }
        },
      });
    },
  });

  const apollo = new ApolloServer<GatewayContext>({
    gateway,
    introspection: opts.introspection,
    // "Did you mean …?" would map the schema field by field while introspection is off.
    hideSchemaDetailsFromClientErrors: !opts.introspection,
    // Token count is checked while parsing, so an oversized document costs no more than reading it.
    parseOptions: { maxTokens: opts.limits.maxTokens },
    includeStacktraceInErrorResponses: false,
    ...(opts.apqCache ? { persistedQueries: { cache: opts.apqCache, ttl: 24 * 3600 } } : {}),
    formatError: (formatted, error) => {
      const masked = maskError(formatted, error);
      if (masked.extensions?.code === 'INTERNAL_SERVER_ERROR') {
        // What was hidden, for operators; quoted values are dropped because messages can echo client input.
        opts.logger.error({ path: formatted.path, original: redactQuoted(formatted.message) }, 'masked an internal error');
      }
      return masked;
    },
    plugins: [
      ApolloServerPluginLandingPageDisabled(),
      authorisationPlugin(),
      // Before the limits: a cost is only meaningful for dates that are valid in the first place.
      dateTimeValidationPlugin,
      limitsPlugin(opts.limits, async (cost, { contextValue }) => {
        const decision = await opts.consumerLimits.cost(contextValue.limitKey, cost);
        if (!decision.allowed) throw rateLimited(decision.retryAfterSeconds, 'This consumer has used its supplier budget for now (services times window days)');
      }),
      requestLogPlugin(opts.logger),
      collapseErrorsPlugin,
    ],
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
  const limits = opts.consumerLimits;
  const graphql = createGraphQLHandler(apollo, {
    maxBodyBytes: opts.maxBodyBytes,
    context: async (req) => {
      const traceId = traceIds.get(req) ?? randomUUID();
      try {
        const address = req.socket.remoteAddress ?? 'unknown';
        if (req.headers.authorization) {
          const attempts = await limits.authAllowed(address);
          if (!attempts.allowed) throw rateLimited(attempts.retryAfterSeconds, 'Too many failed authentications from this address');
        }
        const principal = await authenticate(req.headers.authorization, opts.auth).catch(async (err: unknown) => {
          if (err instanceof GraphQLError && err.extensions.code === 'UNAUTHENTICATED' && req.headers.authorization) await limits.authFailed(address);
          throw err;
        });
        const limitKey = principal.authenticated ? `org:${principal.consumer.odsCode}` : `anon:${address}`;
        const decision = await limits.request(limitKey);
        if (!decision.allowed) throw rateLimited(decision.retryAfterSeconds);
        // One consumer's load must not starve another's: a bounded number of its operations run at once here.
        const release = limits.enter(limitKey);
        if (!release) throw rateLimited(1, 'Too many operations in flight for this consumer');
        responses.get(req)?.once('close', release);
        return { principal, consumer: principal.consumer, authenticated: principal.authenticated, traceId, limitKey };
      } catch (err) {
        // Refused before any plugin runs, so the refusal is logged here (code only).
        const code = err instanceof GraphQLError ? err.extensions.code : 'INTERNAL_SERVER_ERROR';
        opts.logger.info({ traceId, code }, 'graphql request refused');
        throw err;
      }
    },
  });

  // Operational endpoints on their own port, never the public one: metrics and readiness name internals, and each
  // readiness answer (cached briefly) costs a request to every subgraph.
  const readiness = cachedReadiness(() => checkReadiness(opts.subgraphUrls, opts.internalKey));
  const internal = createHttpServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/health/live') sendJson(res, 200, { status: 'live' });
    else if (path === '/metrics') serveMetrics(res);
    else if (path === '/health/ready') void readiness().then((r) => sendJson(res, r.ready ? 200 : 503, r));
    else sendJson(res, 404, { error: 'not found' });
  });

  const server = createHttpServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/health/live') {
      sendJson(res, 200, { status: 'live' });
      return;
    }
    if (path === '/graphql') {
      // One trace id per request: returned to the client, logged everywhere, sent to subgraphs and suppliers.
      const traceId = randomUUID();
      traceIds.set(req, traceId);
      responses.set(req, res);
      res.setHeader('x-trace-id', traceId);
      serveGraphQL(graphql, req, res, opts.logger);
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
      await drain(server, opts.shutdownGraceMs ?? 10_000);
      await drain(internal, 1000);
      await apollo.stop();
    },
  };
}
