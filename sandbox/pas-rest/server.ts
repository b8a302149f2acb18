/**
 * The Oakfield PAS REST API simulator (API.md): one tenant at <origin>/api/v2, on the shared sandbox server (request
 * log and fault injection under /_sandbox/). GET /_sandbox/bookings lists every stored booking of every organisation,
 * with the idempotency key that made it, so tests can check what the vendor holds, not only what a client was told.
 */
import { startSandboxServer, type SandboxServer } from '../lib/http.js';
import { codeForStatus } from './errors.js';
import type { RateLimitOptions } from './rate-limit.js';
import { createPasProvider } from './router.js';

export const DEFAULT_API_KEY = 'sandbox-oakfield-key';
export const DEFAULT_RATE_LIMIT_PER_SECOND = 20;

export interface PasRestSimulatorOptions {
  port: number;
  host?: string;
  /** Clock for sessions, "in the past" checks, createdAt and key retention; inject to pin a date (a clock-change week). */
  now?: () => Date;
  /** Accepted API keys (default: env SANDBOX_PAS_API_KEY, else `sandbox-oakfield-key`). */
  apiKeys?: readonly string[];
  /** Token bucket per API key (default: env SANDBOX_PAS_RATE_LIMIT per second, else 20, burst equal to the rate). */
  rateLimit?: RateLimitOptions;
  /** Origin clients use, when not the listening address; else each request's Host names it. */
  publicOrigin?: string;
}

export async function startPasRestSimulator(opts: PasRestSimulatorOptions): Promise<SandboxServer> {
  const now = opts.now ?? (() => new Date());
  const publicOrigin = opts.publicOrigin?.replace(/\/+$/, '');
  const provider = createPasProvider({
    now,
    apiKeys: new Set(opts.apiKeys ?? [process.env['SANDBOX_PAS_API_KEY'] || DEFAULT_API_KEY]),
    rateLimit: opts.rateLimit ?? { perSecond: envRate() },
    origin: (req) => publicOrigin ?? `http://${String(req.headers.host ?? `${opts.host ?? '127.0.0.1'}:${opts.port}`)}`,
  });
  return startSandboxServer({
    name: 'pas-rest',
    port: opts.port,
    ...(opts.host ? { host: opts.host } : {}),
    handler: provider.handler,
    faultBody: (status) => ({ error: { code: codeForStatus(status), message: `Injected fault: HTTP ${status}` } }),
    controlRoutes: (req) =>
      req.path === '/_sandbox/bookings' && req.method === 'GET' ? { status: 200, body: provider.store.all() } : undefined,
  });
}

function envRate(): number {
  const raw = process.env['SANDBOX_PAS_RATE_LIMIT'];
  if (!raw) return DEFAULT_RATE_LIMIT_PER_SECOND;
  const n = Number(raw);
  if (!(n > 0)) throw new Error(`SANDBOX_PAS_RATE_LIMIT must be a positive number of requests per second, got "${raw}"`);
  return n;
}
