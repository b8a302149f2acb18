/**
 * A DoS-style directory API over the sandbox seed, modelled on the DoS REST API
 * (`/app/controllers/api/v1.0/services/...`, HTTP Basic auth with a DoS account, JSON `success`/`error` envelopes):
 *
 *   GET /app/controllers/api/v1.0/services/byServiceId/{id}   one service (serviceCount 0 when unknown)
 *   GET /app/controllers/api/v1.0/services/search?...         by type, ids and distance, paginated
 *
 * The search endpoint is the sandbox's stand-in for byServiceType/byClinicalTerm, with two additions a gateway
 * needs and the real API lacks: an `ids` filter (one call resolves a batch of services) and page-based paging.
 * Distances are kilometres (the real API reports miles).
 */
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import { startSandboxServer, type SandboxRequest, type SandboxResponse, type SandboxServer } from '../lib/http.js';
import { SEED_SERVICES } from '../seed/services.js';
import { toDosRecord, type DosServiceRecord } from './records.js';
import { parseSearchQuery, runSearch } from './search.js';

export const DOS_API_BASE = '/app/controllers/api/v1.0/services';
export const DEFAULT_DOS_USER = 'dos-sandbox';
export const DEFAULT_DOS_PASSWORD = 'sandbox-password';

export interface DirectorySimulatorOptions {
  port: number;
  host?: string;
  /** The clock: capacity statuses age and reset against it. Seed times are relative to its value at start. */
  now?: () => Date;
  /** DoS account accepted; defaults to SANDBOX_DOS_USER / SANDBOX_DOS_PASSWORD, then the sandbox account. */
  credentials?: { user: string; password: string };
}

export function startDirectorySimulator(opts: DirectorySimulatorOptions): Promise<SandboxServer> {
  const now = opts.now ?? (() => new Date());
  const startedAt = now();
  const credentials = opts.credentials ?? {
    user: process.env.SANDBOX_DOS_USER || DEFAULT_DOS_USER,
    password: process.env.SANDBOX_DOS_PASSWORD || DEFAULT_DOS_PASSWORD,
  };
  const authorised = basicAuthCheck(credentials.user, credentials.password);

  // Records are rebuilt per request: they are cheap, and capacity depends on the time of the request.
  const records = (): DosServiceRecord[] => {
    const at = now();
    return SEED_SERVICES.map((s) => toDosRecord(s, startedAt, at));
  };

  const handler = (req: SandboxRequest): SandboxResponse => {
    if (!authorised(req.headers.authorization)) {
      return {
        status: 401,
        headers: { 'www-authenticate': 'Basic realm="DoS", charset="UTF-8"' },
        body: dosError(401, 'Unauthorized: You are not authorized to access this resource.'),
      };
    }
    if (req.method !== 'GET') return { status: 405, headers: { allow: 'GET' }, body: dosError(405, 'Method Not Allowed') };

    const byId = new RegExp(`^${DOS_API_BASE}/byServiceId/([^/]+)/?$`).exec(req.path);
    if (byId) {
      const raw = decodeURIComponent(byId[1]!);
      if (!/^\d{1,15}$/.test(raw)) return { status: 400, body: dosError(400, 'Bad Request: Service ID must be numeric') };
      const found = records().find((r) => r.id === Number(raw));
      // The DoS answers an unknown id with an empty result, not an HTTP error.
      return ok({ serviceCount: found ? 1 : 0, services: found ? [found] : [] });
    }

    if (req.path === `${DOS_API_BASE}/search` || req.path === `${DOS_API_BASE}/search/`) {
      const parsed = parseSearchQuery(req.query);
      if (!parsed.ok) return { status: 400, body: dosError(400, parsed.message) };
      const q = parsed.value;
      const page = runSearch(records(), q);
      return ok({
        page: q.page,
        pageSize: q.pageSize,
        totalCount: page.totalCount,
        serviceCount: page.services.length,
        origin: q.origin && {
          postcode: q.origin.postcode,
          latitude: q.origin.lat,
          longitude: q.origin.lon,
          precision: q.origin.precision,
        },
        services: page.services,
      });
    }

    return { status: 404, body: dosError(404, 'Not Found: no such endpoint') };
  };

  return startSandboxServer({
    name: 'directory',
    port: opts.port,
    host: opts.host,
    handler,
    faultBody: (status) => dosError(status, `Injected fault ${status}`),
  });
}

function ok(body: Record<string, unknown>): SandboxResponse {
  return { status: 200, body: { success: { code: 200, transactionId: randomUUID(), ...body } } };
}

function dosError(code: number, message: string): { error: { code: number; message: string } } {
  return { error: { code, message } };
}

/** Constant-time check of an `Authorization: Basic` header against one account. */
function basicAuthCheck(user: string, password: string): (header: string | undefined) => boolean {
  const digest = (s: string) => createHash('sha256').update(s).digest();
  const expected = digest(`${user}:${password}`);
  return (header) => {
    const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? '');
    if (!m) return false;
    return timingSafeEqual(digest(Buffer.from(m[1]!, 'base64').toString('utf8')), expected);
  };
}
