/**
 * The consumer limits (limits.ts) as a gateway plugin. It wraps authentication: an address with too many failed
 * token attempts is refused before its token is even checked, and each failure is counted; once the consumer is
 * known, its request rate and operations in flight are checked. The cost of each operation is charged by the
 * limits plugin through `chargeCost`, once the operation is measured.
 */
import { GraphQLError } from 'graphql';
import type { GatewayContext } from '../../context.js';
import type { GatewayPlugin } from '../plugin.js';
import type { ConsumerLimits } from './limits.js';

function rateLimited(retryAfterSeconds: number, what: string): GraphQLError {
  return new GraphQLError(`${what}; retry after ${retryAfterSeconds} s`, {
    extensions: { code: 'RATE_LIMITED', http: { status: 429, headers: new Map([['retry-after', String(retryAfterSeconds)]]) } },
  });
}

export interface RateLimitPlugin extends GatewayPlugin {
  chargeCost(context: GatewayContext, cost: number): Promise<void>;
}

export function rateLimitPlugin(limits: ConsumerLimits): RateLimitPlugin {
  return {
    name: 'rate-limit',
    async onRequest({ req, res, context }, next) {
      const address = req.socket.remoteAddress ?? 'unknown';
      const hasToken = Boolean(req.headers.authorization);
      if (hasToken) {
        const attempts = await limits.authAllowed(address);
        if (!attempts.allowed) throw rateLimited(attempts.retryAfterSeconds, 'Too many failed authentications from this address');
      }
      try {
        await next();
      } catch (err) {
        if (hasToken && err instanceof GraphQLError && err.extensions.code === 'UNAUTHENTICATED') await limits.authFailed(address);
        throw err;
      }
      const limitKey = context.authenticated ? `org:${context.consumer!.odsCode}` : `anon:${address}`;
      context.limitKey = limitKey;
      const decision = await limits.request(limitKey);
      if (!decision.allowed) throw rateLimited(decision.retryAfterSeconds, 'Too many requests from this consumer');
      // One consumer's load must not starve another's: a bounded number of its operations run at once here.
      const release = limits.enter(limitKey);
      if (!release) throw rateLimited(1, 'Too many operations in flight for this consumer');
      if (res) res.once('close', release);
      else release();
    },
    async chargeCost(context, cost) {
      const decision = await limits.cost(context.limitKey, cost);
      if (!decision.allowed) {
        throw rateLimited(decision.retryAfterSeconds, 'This consumer has used its supplier budget for now (services times window days)');
      }
    },
  };
}
