/** Gateway configuration from the environment, with the defaults `npm start` documents. */
import { SUBGRAPHS, defaultSubgraphUrl } from '../subgraphs/catalog.js';
import { envInt, envPort, envString, envUrl } from '../common/env.js';
import type { ConsumerOrganisation } from '../common/consumer.js';
import { repoRoot } from '../common/repo-root.js';
import { DEFAULT_LIMITS, type Limits } from './plugins/limits.js';
import type { ConsumerLimitOptions } from './plugins/rate-limit/limits.js';
import { DEFAULT_MAX_TOKEN_LIFETIME_SECONDS } from './plugins/auth.js';
import { internalKeyFromEnv } from '../common/internal-auth.js';
import { assertProductionSettings, type RequiredSetting } from '../common/production.js';
import { redisTargetFromEnv, type RedisTarget } from '../common/redis.js';
import { DEFAULT_HOLDS_PER_CONSUMER } from '../common/holds.js';

/**
 * What the gateway-owned operations need, in the gateway or run standalone (gateway/operations/standalone.ts): the
 * same settings, read the same way, in both.
 */
export interface OperationsConfig {
  subgraphUrls: Record<string, string>;
  /** Deadline for one booking call to a supplier subgraph: above the adapter's worst case (retry + reconcile). */
  bookingTimeoutMs: number;
  /** How long the directory's answer to a search is reused (0: never). */
  directoryCacheMs: number;
  /** How long an identical search's merged answer may be reused, generation-checked (0: never; needs REDIS_URL). */
  answerCacheMs: number;
  /** The most live holds one consumer organisation may have at one supplier system. */
  holdsPerConsumer: number;
  /**
   * REDIS_URL, or the cluster of REDIS_CLUSTER_NODES (which wins). Unset: idempotency records are kept in process
   * (one replica only), and start-up says so.
   */
  redis?: RedisTarget;
  idempotencySecret: string;
  /** Signs what the operations send subgraphs (and, standalone, checks what they receive). */
  internalKey: string;
}

export interface GatewayConfig extends OperationsConfig {
  port: number;
  host: string;
  production: boolean;
  subgraphTimeoutMs: number;
  maxBodyBytes: number;
  introspection: boolean;
  limits: Limits;
  consumerLimits: ConsumerLimitOptions;
  /** Operational endpoints (/metrics, /health/ready) listen here, apart from the public port. */
  internalPort: number;
  auth: {
    maxLifetimeSeconds: number;
    issuer: string;
    audience: string;
    publicKeyFile?: string;
    jwksUrl?: string;
    /** The organisation anonymous requests read slots as; null in production. */
    anonymousConsumer: ConsumerOrganisation | null;
  };
}

/** What the gateway refuses to start without in production (the deployment test checks the manifests against it). */
export const PRODUCTION_REQUIRED: readonly RequiredSetting[] = [
  'AUTH_ISSUER',
  'AUTH_AUDIENCE',
  'IDEMPOTENCY_SECRET',
  'INTERNAL_AUTH_KEY',
  ['AUTH_PUBLIC_KEY_FILE', 'AUTH_JWKS_URL'],
];

/** Where the gateway listens: the public port (GraphQL, /health/live) and the internal one (/metrics, /health/ready). */
export const GATEWAY_LISTEN = {
  hostEnv: 'GATEWAY_HOST',
  defaultHost: '127.0.0.1',
  port: { env: 'GATEWAY_PORT', default: 4000 },
  internalPort: { env: 'GATEWAY_INTERNAL_PORT', default: 4090 },
} as const;

export const DEV_ISSUER = 'https://auth.sandbox.nhs-booking-gateway.invalid';
export const DEV_AUDIENCE = 'nhs-booking-gateway';
export const DEV_PUBLIC_KEY = `${repoRoot}config/dev-keys/sandbox.public.jwk.json`;
const DEV_IDEMPOTENCY_SECRET = 'sandbox-only-idempotency-secret';

/** What the standalone operations subgraph refuses to start without in production. */
export const OPERATIONS_PRODUCTION_REQUIRED: readonly RequiredSetting[] = ['IDEMPOTENCY_SECRET', 'INTERNAL_AUTH_KEY'];

export function operationsConfig(env: NodeJS.ProcessEnv = process.env): OperationsConfig {
  const production = env.NODE_ENV === 'production';
  const idempotencySecret = env.IDEMPOTENCY_SECRET || (production ? undefined : DEV_IDEMPOTENCY_SECRET);
  if (!idempotencySecret) throw new Error('IDEMPOTENCY_SECRET must be set in production');
  const redis = redisTargetFromEnv(env);
  return {
    subgraphUrls: Object.fromEntries(
      SUBGRAPHS.flatMap((s) => (s.remote ? [[s.name, envUrl(s.remote.urlEnv, defaultSubgraphUrl(s))]] : [])),
    ),
    bookingTimeoutMs: envInt('GATEWAY_BOOKING_TIMEOUT_MS', 20_000, 1000, 120_000),
    directoryCacheMs: envInt('DIRECTORY_CACHE_SECONDS', 30, 0, 300) * 1000,
    answerCacheMs: envInt('ANSWER_CACHE_SECONDS', 3, 0, 10) * 1000,
    holdsPerConsumer: envInt('HOLDS_PER_CONSUMER', DEFAULT_HOLDS_PER_CONSUMER, 1, 1000),
    ...(redis ? { redis } : {}),
    idempotencySecret,
    internalKey: internalKeyFromEnv(env),
  };
}

export function gatewayConfig(env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  const production = env.NODE_ENV === 'production';
  // Say everything that is missing at once: a deployment is fixed in one go, not one restart per setting.
  assertProductionSettings(PRODUCTION_REQUIRED, env);
  const required = (name: string, devDefault: string): string => {
    const v = env[name];
    if (v) return v;
    if (production) throw new Error(`${name} must be set in production`);
    return devDefault;
  };
  const jwksUrl = env.AUTH_JWKS_URL || undefined;
  const publicKeyFile = jwksUrl ? undefined : required('AUTH_PUBLIC_KEY_FILE', DEV_PUBLIC_KEY);
  const anonymous = !production && envString('AUTH_ANONYMOUS_READS', 'true') !== 'false';
  return {
    port: envPort(GATEWAY_LISTEN.port.env, GATEWAY_LISTEN.port.default),
    host: envString(GATEWAY_LISTEN.hostEnv, GATEWAY_LISTEN.defaultHost),
    production,
    ...operationsConfig(env),
    // Above the suppliers' own 2 s deadlines, so a slow supplier surfaces as its own typed error first.
    subgraphTimeoutMs: envInt('GATEWAY_SUBGRAPH_TIMEOUT_MS', 3000, 100, 60_000),
    maxBodyBytes: envInt('GATEWAY_MAX_BODY_BYTES', 100_000, 1_000, 10_000_000),
    introspection: !production,
    limits: {
      maxDepth: envInt('GATEWAY_MAX_DEPTH', DEFAULT_LIMITS.maxDepth, 2, 100),
      maxAliases: envInt('GATEWAY_MAX_ALIASES', DEFAULT_LIMITS.maxAliases, 0, 1000),
      maxCost: envInt('GATEWAY_MAX_COST', DEFAULT_LIMITS.maxCost, 1, 1_000_000),
      maxDirectives: envInt('GATEWAY_MAX_DIRECTIVES', DEFAULT_LIMITS.maxDirectives, 0, 1000),
      maxTokens: envInt('GATEWAY_MAX_TOKENS', DEFAULT_LIMITS.maxTokens, 100, 100_000),
    },
    consumerLimits: {
      requestsPerMinute: envInt('RATE_LIMIT_PER_MINUTE', 600, 1, 1_000_000),
      // The request limit's worth of one-day searches (100 services each), or 40 of the largest searches a minute.
      costPerMinute: envInt('COST_LIMIT_PER_MINUTE', 60_000, 1, 100_000_000),
      failedAuthPerMinute: envInt('FAILED_AUTH_PER_MINUTE', 30, 1, 1_000_000),
      concurrentPerConsumer: envInt('CONCURRENT_PER_CONSUMER', 64, 1, 10_000),
    },
    internalPort: envPort(GATEWAY_LISTEN.internalPort.env, GATEWAY_LISTEN.internalPort.default),
    auth: {
      maxLifetimeSeconds: envInt('AUTH_MAX_TOKEN_LIFETIME_SECONDS', DEFAULT_MAX_TOKEN_LIFETIME_SECONDS, 60, 30 * 24 * 3600),
      issuer: required('AUTH_ISSUER', DEV_ISSUER),
      audience: required('AUTH_AUDIENCE', DEV_AUDIENCE),
      ...(publicKeyFile ? { publicKeyFile } : {}),
      ...(jwksUrl ? { jwksUrl } : {}),
      anonymousConsumer: anonymous
        ? {
            // The sandbox's NHS 111 organisation; some sandbox slots are released to it only.
            odsCode: envString('DEV_CONSUMER_ODS', 'RX8'),
            name: envString('DEV_CONSUMER_NAME', 'Yorkshire Ambulance Service NHS 111'),
          }
        : null,
    },
  };
}
