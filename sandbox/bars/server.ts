/**
 * The BaRS receiver simulator (API.md): an API-management style front (OAuth 2.0 token endpoint, header checks, rate
 * limit, SEND_/PROXY_ errors) over the receivers of the BaRS services in services.ts (REC_ errors), on the shared
 * sandbox server (request log and fault injection under /_sandbox/).
 *   FHIR base   <origin>/booking-and-referral/FHIR/R4
 *   token URL   <origin>/oauth2/token
 * GET /_sandbox/appointments lists every stored appointment with the organisation that booked it and the messages
 * that made and changed it, so tests can check what the receiver holds, not only what a sender was told.
 */
import { readFileSync } from 'node:fs';
import type { JWK } from 'jose';
import { repoRoot } from '../../common/repo-root.js';
import { startSandboxServer, type SandboxServer } from '../lib/http.js';
import { TokenBuckets, type RateLimitOptions } from '../pas-rest/rate-limit.js';
import { AppointmentBook } from './appointments.js';
import { DiaryStore } from './diary.js';
import { OAuthServer, type RegisteredClient } from './oauth.js';
import { defaultIssueForStatus, operationOutcome } from './outcome.js';
import { createRouter } from './router.js';

export const SANDBOX_CLIENT_ID = 'bars-sandbox-client';
export const DEFAULT_TOKEN_TTL_SECONDS = 599;
export const DEFAULT_RATE_LIMIT_PER_SECOND = 25;

/** The sandbox application's registered public key (config/dev-keys/bars-sandbox.public.jwk.json). */
export function sandboxClient(): RegisteredClient {
  // From the repository root, so the simulator reads the same file whether it runs from source or compiled.
  const file = `${repoRoot}config/dev-keys/bars-sandbox.public.jwk.json`;
  return { clientId: SANDBOX_CLIENT_ID, keys: [JSON.parse(readFileSync(file, 'utf8')) as JWK] };
}

export interface BarsSimulatorOptions {
  port: number;
  host?: string;
  /** Clock for diaries, token expiry, assertion exp and "past" slots; inject to pin a date or to age a token. */
  now?: () => Date;
  /** Registered applications and their public keys (default: the sandbox client with the dev key). */
  clients?: readonly RegisteredClient[];
  /** Bearer token lifetime in seconds (default 599, as API-M). */
  tokenTtlSeconds?: number;
  /** Token bucket per application (default 25 per second, burst 25; env SANDBOX_BARS_RATE_LIMIT). */
  rateLimit?: RateLimitOptions;
  /** Origin clients use, when not the listening address; else each request's Host names it. */
  publicOrigin?: string;
}

export interface BarsSimulator extends SandboxServer {
  book: AppointmentBook;
  diary: DiaryStore;
}

export async function startBarsSimulator(opts: BarsSimulatorOptions): Promise<BarsSimulator> {
  const now = opts.now ?? (() => new Date());
  const publicOrigin = opts.publicOrigin?.replace(/\/+$/, '');
  const diary = new DiaryStore(now);
  const book = new AppointmentBook(diary);
  const oauth = new OAuthServer({ clients: opts.clients ?? [sandboxClient()], now, tokenTtlSeconds: opts.tokenTtlSeconds ?? DEFAULT_TOKEN_TTL_SECONDS });
  const rate = opts.rateLimit ?? { perSecond: envRate() };
  const router = createRouter({
    now,
    oauth,
    rateLimit: new TokenBuckets(rate),
    diary,
    book,
    origin: (req) => publicOrigin ?? `http://${String(req.headers.host ?? `${opts.host ?? '127.0.0.1'}:${opts.port}`)}`,
  });
  const server = await startSandboxServer({
    name: 'bars',
    port: opts.port,
    ...(opts.host ? { host: opts.host } : {}),
    handler: router,
    faultBody: (status) => operationOutcome(defaultIssueForStatus(status), `injected-${status}`),
    controlRoutes: (req) =>
      req.path === '/_sandbox/appointments' && req.method === 'GET' ? { status: 200, body: book.all() } : undefined,
  });
  return Object.assign(server, { book, diary });
}

function envRate(): number {
  const raw = process.env['SANDBOX_BARS_RATE_LIMIT'];
  if (!raw) return DEFAULT_RATE_LIMIT_PER_SECOND;
  const n = Number(raw);
  if (!(n > 0)) throw new Error(`SANDBOX_BARS_RATE_LIMIT must be a positive number of requests per second, got "${raw}"`);
  return n;
}
