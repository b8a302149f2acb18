/** The gateway's plugins, in the order they run (plugin.ts says what each hook does and how order matters). */
import type { Logger } from 'pino';
import { authPlugin, type AuthConfig } from './auth.js';
import { deadlinesPlugin } from './deadlines.js';
import { errorMaskingPlugin } from './error-masking.js';
import { internalSigningPlugin } from './internal-signing.js';
import { limitsPlugin, type Limits } from './limits.js';
import { persistedQueriesPlugin, type RedisApqCache } from './persisted-queries.js';
import type { GatewayPlugin } from './plugin.js';
import { rateLimitPlugin } from './rate-limit/plugin.js';
import type { ConsumerLimits } from './rate-limit/limits.js';
import { requestLogPlugin } from './request-log.js';
import { sharedFetchesPlugin } from './shared-fetches.js';
import { dateTimeValidationPlugin } from './scalar-validation.js';
import { tracingPlugin } from './tracing.js';

export interface GatewayPluginOptions {
  auth: AuthConfig;
  consumerLimits: ConsumerLimits;
  limits: Limits;
  /** Shared persisted queries (Redis); absent: Apollo Server's in-memory cache. */
  apqCache?: RedisApqCache;
  /** Deadline for one subgraph fetch. */
  subgraphTimeoutMs: number;
  /** Signs requests to subgraphs (INTERNAL_AUTH_KEY). */
  internalKey: string;
  logger: Logger;
}

export function gatewayPlugins(o: GatewayPluginOptions): GatewayPlugin[] {
  const rateLimit = rateLimitPlugin(o.consumerLimits);
  return [
    // Around authentication: failed attempts per address before it, the consumer's rate and concurrency after.
    rateLimit,
    authPlugin(o.auth),
    // Before the limits: a cost is only meaningful for dates that are valid in the first place.
    dateTimeValidationPlugin,
    limitsPlugin(o.limits, rateLimit.chargeCost),
    persistedQueriesPlugin(o.apqCache),
    requestLogPlugin(o.logger),
    errorMaskingPlugin(o.logger),
    // Outside the deadline, tracing and signing: a shared fetch is one fetch, with one deadline, span and signature.
    sharedFetchesPlugin(),
    // A span per plan fetch, timed inside its deadline; the trace headers it adds are sent, and signed, after it.
    deadlinesPlugin(o.subgraphTimeoutMs),
    tracingPlugin,
    // Last: it signs exactly what is sent.
    internalSigningPlugin(o.internalKey),
  ];
}
