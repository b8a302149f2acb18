/**
 * The gateway-owned operations (availability, capacity, booking, reading and cancelling appointments) as their own
 * subgraph process, for a deployment whose router is another federation engine (Apollo Router, Hive Gateway or
 * Hive Router) that cannot host them in-process: `tsx gateway/operations/standalone.ts` (OPERATIONS_PORT, default
 * 4005; SUBGRAPH_HOST; the gateway's settings for what the operations need: REDIS_URL, IDEMPOTENCY_SECRET,
 * INTERNAL_AUTH_KEY, the supplier subgraphs' URLs). Our own gateway keeps hosting them in-process.
 *
 * It is a subgraph like the supplier ones (subgraphs/kit/server.ts): it answers only requests carrying a valid,
 * fresh, unused gateway signature (common/internal-auth.ts), and the consumer organisation it acts for is the
 * one that signature vouches for. Everything our gateway does before the operations run (the consumer's JWT, its
 * scopes, query limits, rate limits) is then the router's job: a router signs a consumer only once it has verified
 * that consumer's token and the scopes of every root field asked for (gateway/engines/hive-plugin.ts does so for
 * Hive Gateway). A signed request naming no consumer runs nothing here.
 */
import type { GraphQLFieldResolver } from 'graphql';
import { GraphQLError } from 'graphql';
import { createLogger } from '../../common/logger.js';
import { assertProductionSettings } from '../../common/production.js';
import { loadRegistry } from '../../subgraphs/kit/registry.js';
import { startSubgraph, type RunningSubgraph } from '../../subgraphs/kit/server.js';
import type { SubgraphContext } from '../../common/context.js';
import { OPERATIONS_PRODUCTION_REQUIRED, operationsConfig } from '../config.js';
import { connectRedis } from '../redis.js';
import type { OperationsContext } from './context.js';
import { OPERATIONS_SUBGRAPH } from './index.js';
import { operationsDependencies } from './dependencies.js';
import { createOperationsResolvers } from './resolvers.js';

/** Where the standalone operations subgraph listens. */
export const OPERATIONS_LISTEN = { portEnv: 'OPERATIONS_PORT', defaultPort: 4005 } as const;

type RootResolvers<C> = Record<string, GraphQLFieldResolver<unknown, C>>;

/**
 * The operations' root resolvers behind the subgraph's signed context: the vouched-for consumer becomes the
 * operations' authenticated consumer; no consumer, no operation.
 */
export function withSignedConsumer(resolvers: Record<string, unknown>): Record<string, RootResolvers<SubgraphContext>> {
  const wrap = (fields: RootResolvers<OperationsContext>): RootResolvers<SubgraphContext> =>
    Object.fromEntries(
      Object.entries(fields).map(([name, resolve]) => [
        name,
        (root: unknown, args: Record<string, unknown>, ctx: SubgraphContext, info: Parameters<GraphQLFieldResolver<unknown, OperationsContext>>[3]) => {
          if (!ctx.consumer) {
            throw new GraphQLError(`${name} needs a consumer organisation vouched for by the gateway signature`, { extensions: { code: 'UNAUTHENTICATED' } });
          }
          return resolve(root, args, { consumer: ctx.consumer, authenticated: true, traceId: ctx.traceId }, info);
        },
      ]),
    );
  const out: Record<string, RootResolvers<SubgraphContext>> = {};
  for (const [type, fields] of Object.entries(resolvers)) {
    if (type !== 'Query' && type !== 'Mutation') throw new Error(`the operations resolve ${type}: wrap it for the standalone subgraph`);
    out[type] = wrap(fields as RootResolvers<OperationsContext>);
  }
  return out;
}

export async function startOperationsSubgraph(opts: { port: number; host?: string }): Promise<RunningSubgraph> {
  const logger = createLogger(OPERATIONS_SUBGRAPH);
  assertProductionSettings(OPERATIONS_PRODUCTION_REQUIRED);
  const config = operationsConfig();
  const registry = loadRegistry();
  const redis = config.redis ? connectRedis(config.redis, logger) : undefined;
  if (!redis) logger.warn('REDIS_URL is not set: idempotency records are kept in this process, so run one replica only');
  try {
    // Built as the gateway builds them for its in-process subgraph.
    const resolvers = createOperationsResolvers(operationsDependencies(config, registry, redis, logger));
    return await startSubgraph({
      name: OPERATIONS_SUBGRAPH,
      resolvers: withSignedConsumer(resolvers as Record<string, unknown>),
      port: opts.port,
      ...(opts.host ? { host: opts.host } : {}),
      logger,
      onClose: async () => {
        redis?.disconnect();
      },
    });
  } catch (err) {
    redis?.disconnect();
    throw err;
  }
}

