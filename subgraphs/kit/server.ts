/**
 * Every subgraph starts the same way: its SDL (shared contract + own schema) and resolvers into a federated
 * schema, Apollo Server without inline tracing or a landing page, and a node:http server with health checks.
 */
import type { IncomingMessage, Server } from 'node:http';
import { randomUUID } from 'node:crypto';
import { ApolloServer } from '@apollo/server';
import { compiledSchemaGateway } from '../../common/compiled-execution.js';
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginInlineTraceDisabled, ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/resolverMap.js';
import type { Logger } from 'pino';
import { subgraphTypeDefs } from './schema.js';
import { subgraph } from '../catalog.js';
import { DateTime } from '../../common/scalars.js';
import { CONSUMER_HEADER, decodeConsumer } from '../../common/consumer.js';
import type { SubgraphContext } from '../../common/context.js';
import { createGraphQLHandler, createHttpServer, drain, listen, sendJson, serveGraphQL } from './http-graphql.js';
import { createLogger } from '../../common/logger.js';
import { startTracing, traceHttpRequest } from '../../common/tracing.js';
import { serveMetrics } from '../../common/metrics.js';
import { ReplayGuard, SIGNATURE_HEADER, TRACE_HEADER, internalKeyFromEnv, precheckInternal, verifyInternal } from '../../common/internal-auth.js';
import { connectRedis, redisTargetFromEnv, type RedisConnection } from '../../common/redis.js';
import { idKeyFromEnv } from '../../common/slot-id.js';
import { envString } from '../../common/env.js';
import { SUBGRAPH_PRODUCTION_REQUIRED, assertProductionSettings } from '../../common/production.js';
import { SUPPLIER_STATUS_PATH, supplierStatus } from './supplier-status.js';
import { onStopSignal } from '../../common/stop-process.js';

export { TRACE_HEADER } from '../../common/internal-auth.js';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface SubgraphOptions {
  /** Its name in subgraphs/catalog.ts, which says where its SDL lives. */
  name: string;
  /** Resolver map (the generated Resolvers type is structurally compatible). */
  resolvers: object;
  port: number;
  host?: string;
  logger?: Logger;
  /** Called when the subgraph stops (close upstream pools, caches...). */
  onClose?: () => Promise<void>;
  /**
   * Where the gateway signatures already used are remembered. Default: shared through REDIS_URL when it is set
   * (with this process as the fallback while Redis is away), this process alone otherwise.
   */
  replayGuard?: ReplayGuard;
}

export interface RunningSubgraph {
  url: string;
  port: number;
  server: Server;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 1024 * 1024;

/** Health paths every subgraph serves on its one port (both answer 200 once it listens). */
export const SUBGRAPH_HEALTH = { live: '/health/live', ready: '/health/ready' } as const;

/** The address subgraphs listen on: loopback unless SUBGRAPH_HOST says otherwise (0.0.0.0 in a container). */
export const SUBGRAPH_LISTEN = { hostEnv: 'SUBGRAPH_HOST', defaultHost: '127.0.0.1' } as const;

export async function startSubgraph(opts: SubgraphOptions): Promise<RunningSubgraph> {
  const logger = opts.logger ?? createLogger(opts.name);
  const entry = subgraph(opts.name);
  assertProductionSettings(SUBGRAPH_PRODUCTION_REQUIRED);
  const internalKey = internalKeyFromEnv();
  // Global ids are signed: refuse to start (in production) without a key, rather than on the first slot listed.
  idKeyFromEnv();
  let replayRedis: RedisConnection | undefined;
  let replayGuard = opts.replayGuard;
  if (!replayGuard) {
    const redisTarget = redisTargetFromEnv();
    if (redisTarget) {
      replayRedis = connectRedis(redisTarget, { logger, consequence: 'replayed gateway signatures are caught per replica only' });
      const conn = replayRedis;
      replayGuard = new ReplayGuard({ redis: conn.redis, onRedisError: (err) => conn.outage.report(err) });
    } else {
      replayGuard = new ReplayGuard();
    }
  }
  const guard = replayGuard;
  const refuse = (reason: string) => {
    // Only the gateway may call a subgraph: it authenticated the consumer and signed what it passes on.
    logger.warn({ reason }, 'refused a request not signed by the gateway');
    return { status: 401, body: { errors: [{ message: 'Subgraphs answer only the gateway', extensions: { code: 'UNAUTHENTICATED' } }] } };
  };
  const schema = buildSubgraphSchema([
    { typeDefs: subgraphTypeDefs(entry.dir, entry.includes, entry.parts), resolvers: { DateTime, ...opts.resolvers } as unknown as GraphQLResolverMap<unknown> },
  ]);
  const apollo = new ApolloServer<SubgraphContext>({
    // The schema, executed by compiled operations (common/compiled-execution.ts) rather than graphql-js's interpreter.
    gateway: compiledSchemaGateway(schema),
    // Subgraphs sit behind the gateway on an internal network; the gateway owns client-facing policy.
    introspection: true,
    includeStacktraceInErrorResponses: false,
    // The process owns SIGTERM/SIGINT (runSubgraphProcess: drain, then exit 0). Apollo's own handler would stop and
    // re-raise the signal, killing the process before requests in flight finish (off under NODE_ENV=test only).
    stopOnTerminationSignals: false,
    // No cache hints anywhere (the gateway owns caching): the cache-control plugin's per-field hook only wrapped
    // every resolver, a fifth of a subgraph's CPU on a warm top-K answer (issue 9's profile).
    plugins: [ApolloServerPluginInlineTraceDisabled(), ApolloServerPluginLandingPageDisabled(), ApolloServerPluginCacheControlDisabled()],
    logger: { debug: () => {}, info: () => {}, warn: (m) => logger.warn(String(m)), error: (m) => logger.error(String(m)) },
  });
  await apollo.start();

  const header = (req: IncomingMessage, name: string) => {
    const v = req.headers[name];
    return Array.isArray(v) ? v[0] : v;
  };
  // When each request arrived, for its context (a WeakMap: gone with the request).
  const arrivals = new WeakMap<IncomingMessage, number>();
  const graphql = createGraphQLHandler(apollo, {
    maxBodyBytes: MAX_BODY_BYTES,
    // The signature covers the body, so it is checked once the body has arrived and before anything reads it.
    authorise: async (req, rawBody) => {
      const check = verifyInternal(internalKey, header(req, SIGNATURE_HEADER), {
        method: req.method ?? 'GET',
        path: req.url ?? '/',
        body: rawBody,
        consumer: header(req, CONSUMER_HEADER) ?? '',
        traceId: header(req, TRACE_HEADER) ?? '',
      });
      if (!check.ok) return refuse(check.reason);
      if (!(await guard.firstUse(check.id, check.acceptedUntilMs))) return refuse('replayed gateway signature');
      return null;
    },
    context: async (req) => {
      const header = req.headers[CONSUMER_HEADER];
      const trace = req.headers[TRACE_HEADER];
      return {
        consumer: decodeConsumer(Array.isArray(header) ? header[0] : header),
        // A UUID, because standards that carry it upstream (Ssp-TraceID) require one.
        traceId: typeof trace === 'string' && UUID.test(trace) ? trace.toLowerCase() : randomUUID(),
        loaders: new Map(),
        ...(arrivals.has(req) ? { receivedAtMs: arrivals.get(req)! } : {}),
      };
    },
  });

  const server = createHttpServer((req, res) => {
    arrivals.set(req, performance.now());
    const path = (req.url ?? '/').split('?')[0];
    if (path === SUBGRAPH_HEALTH.live || path === SUBGRAPH_HEALTH.ready) {
      sendJson(res, 200, { status: 'ok', subgraph: opts.name });
      return;
    }
    if (path === '/metrics') {
      serveMetrics(res);
      return;
    }
    if (path === SUPPLIER_STATUS_PATH && req.method === 'GET') {
      // The operator's view of this process's supplier calls, for the gateway only: signed like GraphQL (empty body).
      const pre = precheckInternal(header(req, SIGNATURE_HEADER));
      req.resume();
      const check = pre.ok
        ? verifyInternal(internalKey, header(req, SIGNATURE_HEADER), { method: 'GET', path: req.url ?? '/', body: '', consumer: header(req, CONSUMER_HEADER) ?? '', traceId: header(req, TRACE_HEADER) ?? '' })
        : pre;
      if (!check.ok) {
        const refusal = refuse(check.reason);
        sendJson(res, refusal.status, refusal.body);
        return;
      }
      void guard.firstUse(check.id, check.acceptedUntilMs).then(
        (first) => {
          if (!first) {
            const refusal = refuse('replayed gateway signature');
            sendJson(res, refusal.status, refusal.body);
          } else sendJson(res, 200, supplierStatus.view(), { 'cache-control': 'no-store' });
        },
        () => sendJson(res, 500, { error: 'internal error' }),
      );
      return;
    }
    if (path === '/graphql') {
      // What needs no body first: an unsigned or stale request is refused without reading its body.
      const pre = precheckInternal(header(req, SIGNATURE_HEADER));
      if (!pre.ok) {
        const refusal = refuse(pre.reason);
        req.resume();
        sendJson(res, refusal.status, refusal.body);
        return;
      }
      traceHttpRequest(req, res, 'subgraph operation', { 'graphql.subgraph': opts.name }, () => serveGraphQL(graphql, req, res, logger));
      return;
    }
    sendJson(res, 404, { error: 'not found' });
  });
  const host = opts.host ?? envString(SUBGRAPH_LISTEN.hostEnv, SUBGRAPH_LISTEN.defaultHost);
  const port = await listen(server, opts.port, host);
  const url = `http://${host}:${port}/graphql`;
  return {
    url,
    port,
    server,
    async close() {
      await drain(server, 10_000);
      await apollo.stop();
      await replayRedis?.close();
      await opts.onClose?.();
    },
  };
}

/** Runs a subgraph as its own process: start, log where it listens, stop cleanly on SIGINT/SIGTERM. */
export async function runSubgraphProcess(start: () => Promise<RunningSubgraph>, name: string): Promise<void> {
  const logger = createLogger(name);
  const stopTracing = startTracing(`${name}-subgraph`);
  try {
    const s = await start();
    logger.info({ url: s.url }, `${name} subgraph listening on ${s.url}`);
    onStopSignal(logger, `${name} subgraph`, () => s.close(), stopTracing);
  } catch (err) {
    logger.fatal({ err: (err as Error).message }, `${name} subgraph failed to start`);
    process.exit(1);
  }
}
