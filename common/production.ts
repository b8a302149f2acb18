/**
 * Settings a process refuses to start without in production (NODE_ENV=production). Each process declares its list
 * once, checks it at start-up from that list, and the deployment test (test/deploy-manifests.test.ts) reads the
 * same list to check that every Kubernetes Deployment provides them.
 */

/** One setting production must have: an environment variable's name, or a list of names of which any one will do. */
export type RequiredSetting = string | readonly string[];

/** What every subgraph process needs in production (besides its own supplier credentials, named by the registry). */
export const SUBGRAPH_PRODUCTION_REQUIRED: readonly RequiredSetting[] = ['INTERNAL_AUTH_KEY'];

/**
 * Shared state: unset, idempotency records, the slot cache, rate limits, replay guards and feed snapshots are kept
 * per process, which is right for one replica only. Any process run as more than one replica needs it.
 */
export const REPLICATED_REQUIRED: readonly RequiredSetting[] = [['REDIS_URL', 'REDIS_CLUSTER_NODES']];

/** How a setting is named in messages: `A` or `A or B`. */
export function settingName(s: RequiredSetting): string {
  return typeof s === 'string' ? s : s.join(' or ');
}

/** The settings in `required` that `env` lacks (an empty value counts as missing), named as in messages. */
export function missingSettings(required: readonly RequiredSetting[], env: NodeJS.ProcessEnv): string[] {
  return required.filter((s) => (typeof s === 'string' ? [s] : s).every((n) => !env[n])).map(settingName);
}

/** In production, stops start-up naming everything missing at once (a deployment is fixed in one go). */
export function assertProductionSettings(required: readonly RequiredSetting[], env: NodeJS.ProcessEnv = process.env): void {
  if (env.NODE_ENV !== 'production') return;
  const missing = missingSettings(required, env);
  if (missing.length) throw new Error(`in production these must be set: ${missing.join(', ')}`);
}
