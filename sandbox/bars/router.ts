/**
 * The request pipeline, in the order a real call meets the checks (API.md §3):
 *   route (404 NOT_FOUND / 405 SEND_METHOD_NOT_ALLOWED) → bearer token (401 SEND_UNAUTHORIZED / 403 SEND_FORBIDDEN)
 *   → rate limit (429 SEND_TOO_MANY_REQUESTS) → X-Request-Id / X-Correlation-Id (400 SEND_BAD_REQUEST)
 *   → NHSD-Target-Identifier (400 PROXY_BAD_REQUEST / 404 PROXY_NOT_FOUND) → identity headers (400 SEND_BAD_REQUEST)
 *   → Accept (406 SEND_NOT_ACCEPTABLE) → the receiver (REC_*).
 * POST /oauth2/token stands beside it, as API-M's token endpoint does.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { SandboxHandler, SandboxRequest, SandboxResponse } from '../lib/http.js';
import type { TokenBuckets } from '../pas-rest/rate-limit.js';
import { AppointmentBook, appointmentResource, NHS_NUMBER_SYSTEM } from './appointments.js';
import { proxyCapability, receiverCapability } from './capability.js';
import { barsInstant, type DiaryStore } from './diary.js';
import { checkAccept, checkCorrelation, header, requester, targetIdentifier, type Requester } from './headers.js';
import { messageDefinitions } from './message-definitions.js';
import { OAuthError, type OAuthServer, type TokenGrant } from './oauth.js';
import { BarsError, barsError, operationOutcome } from './outcome.js';
import { BARS_SERVICE_BY_ID } from './services.js';
import { parseSlotSearch, searchSlots } from './slot-search.js';

export const FHIR_BASE_PATH = '/booking-and-referral/FHIR/R4';
export const TOKEN_PATH = '/oauth2/token';
const FHIR_JSON = 'application/fhir+json';
/** How long a (target, X-Request-Id) answer is kept for replay. */
const IDEMPOTENCY_RETENTION_MS = 24 * 3_600_000;

export interface RouterOptions {
  now: () => Date;
  oauth: OAuthServer;
  rateLimit: TokenBuckets;
  diary: DiaryStore;
  book: AppointmentBook;
  /** Scheme, host and port as clients call this server (the token `aud`, fullUrls, links). */
  origin: (req: SandboxRequest) => string;
}

interface Ctx {
  req: SandboxRequest;
  grant: TokenGrant;
  requestId: string;
  serviceId: string | undefined;
  who: Requester;
  baseUrl: string;
  nowMs: number;
}

type Route = { allow: string[]; handle: (ctx: Ctx) => SandboxResponse; targetRequired: boolean; id?: string };

interface Remembered {
  hash: string;
  response: SandboxResponse;
  atMs: number;
}

export function createRouter(opts: RouterOptions): SandboxHandler {
  const remembered = new Map<string, Remembered>();

  return async (req) => {
    if (req.path === TOKEN_PATH) return tokenEndpoint(req);
    const mirror: Record<string, string> = {};
    for (const h of ['X-Request-Id', 'X-Correlation-Id']) {
      const v = header(req.headers, h);
      if (v) mirror[h.toLowerCase()] = v;
    }
    try {
      const route = resolve(req);
      if (!route.allow.includes(req.method)) {
        throw barsError(405, 'SEND_METHOD_NOT_ALLOWED', 'not-supported', `using the wrong http verb: ${req.method} (allowed: ${route.allow.join(', ')}).`).withHeader('allow', route.allow.join(', '));
      }
      const grant = opts.oauth.authenticate(header(req.headers, 'Authorization'));
      const admission = opts.rateLimit.take(grant.clientId);
      if (!admission.admitted) {
        throw barsError(429, 'SEND_TOO_MANY_REQUESTS', 'throttled', 'when rate limiting is applied.').withHeader('retry-after', String(admission.retryAfterSeconds));
      }
      const { requestId } = checkCorrelation(req.headers);
      const serviceId = targetIdentifier(req.headers, route.targetRequired);
      if (serviceId !== undefined && !BARS_SERVICE_BY_ID.has(serviceId)) {
        throw barsError(404, 'PROXY_NOT_FOUND', 'not-found', 'The target endpoint does not exist in the Endpoint Catalogue.');
      }
      const who = requester(req.headers);
      checkAccept(req.headers);
      const ctx: Ctx = { req, grant, requestId, serviceId, who, baseUrl: `${opts.origin(req)}${FHIR_BASE_PATH}`, nowMs: opts.now().getTime() };
      return withHeaders(route.handle(ctx), mirror);
    } catch (err) {
      if (err instanceof BarsError) {
        return { status: err.issue.status, headers: { 'content-type': FHIR_JSON, ...err.headers, ...mirror }, body: operationOutcome(err.issue, randomUUID()) };
      }
      console.error('[bars] unexpected error', err);
      return {
        status: 500,
        headers: { 'content-type': FHIR_JSON, ...mirror },
        body: operationOutcome({ status: 500, errorCode: 'REC_SERVER_ERROR', issueCode: 'exception', diagnostics: 'unhandled exception.' }, randomUUID()),
      };
    }
  };

  async function tokenEndpoint(req: SandboxRequest): Promise<SandboxResponse> {
    const headers = { 'content-type': 'application/json', 'cache-control': 'no-store' };
    if (req.method !== 'POST') return { status: 405, headers: { ...headers, allow: 'POST' }, body: { error: 'invalid_request', error_description: 'The token endpoint takes POST only' } };
    const type = (header(req.headers, 'Content-Type') ?? '').split(';')[0]!.trim().toLowerCase();
    if (type !== 'application/x-www-form-urlencoded') {
      return { status: 400, headers, body: { error: 'invalid_request', error_description: 'Content-Type must be application/x-www-form-urlencoded' } };
    }
    try {
      return { status: 200, headers, body: await opts.oauth.token(new URLSearchParams(req.body), `${opts.origin(req)}${TOKEN_PATH}`) };
    } catch (err) {
      if (err instanceof OAuthError) return { status: err.status, headers, body: { error: err.error, error_description: err.description } };
      throw err;
    }
  }

  function resolve(req: SandboxRequest): Route {
    let path: string;
    try {
      path = decodeURIComponent(req.path);
    } catch {
      path = req.path;
    }
    if (!path.startsWith(`${FHIR_BASE_PATH}/`)) throw proxyNotFound();
    const rest = path.slice(FHIR_BASE_PATH.length).replace(/\/+$/, '');
    if (rest === '/metadata') return { allow: ['GET'], targetRequired: false, handle: metadata };
    if (rest === '/MessageDefinition') return { allow: ['GET'], targetRequired: true, handle: messageDefinition };
    if (rest === '/Slot') return { allow: ['GET'], targetRequired: true, handle: slots };
    if (rest === '/$process-message') return { allow: ['POST'], targetRequired: true, handle: processMessage };
    if (rest === '/Appointment') return { allow: ['GET'], targetRequired: true, handle: appointmentSearch };
    const m = /^\/Appointment\/([A-Za-z0-9\-.]{1,64})$/.exec(rest);
    if (m) return { allow: ['GET'], targetRequired: true, handle: (c) => appointmentRead(c, m[1]!) };
    if (rest === '/ServiceRequest' || rest.startsWith('/ServiceRequest/')) {
      return {
        allow: ['GET'],
        targetRequired: true,
        handle: () => {
          throw barsError(501, 'REC_NOT_IMPLEMENTED', 'not-supported', 'The receiver has not yet implemented that endpoint or functionality: referrals (ServiceRequest).');
        },
      };
    }
    throw proxyNotFound();
  }

  function metadata(ctx: Ctx): SandboxResponse {
    return fhir(200, ctx.serviceId ? receiverCapability(ctx.baseUrl, ctx.serviceId) : proxyCapability(ctx.baseUrl));
  }

  function messageDefinition(ctx: Ctx): SandboxResponse {
    const raw = ctx.req.query.get('context') ?? ctx.req.query.get('useContext:identifier');
    if (!raw) throw barsError(400, 'REC_BAD_REQUEST', 'required', 'The parameter value was not included in the request: context.', { expression: 'context' });
    const value = raw.includes('|') ? raw.slice(raw.lastIndexOf('|') + 1) : raw;
    if (!/^\d{1,12}$/.test(value)) throw barsError(400, 'REC_BAD_REQUEST', 'invalid', 'the context parameter value was invalid (format)', { expression: 'context' });
    const defs = value === ctx.serviceId ? messageDefinitions(value) : [];
    return fhir(200, {
      resourceType: 'Bundle',
      id: randomUUID(),
      meta: { lastUpdated: barsInstant(ctx.nowMs), profile: ['https://fhir.hl7.org.uk/StructureDefinition/UKCore-Bundle'] },
      type: 'searchset',
      total: defs.length,
      timestamp: barsInstant(ctx.nowMs),
      link: [{ relation: 'self', url: `${ctx.baseUrl}/MessageDefinition?context=${encodeURIComponent(raw)}` }],
      entry: defs.map((resource) => ({ resource, search: { mode: 'match' } })),
    });
  }

  function slots(ctx: Ctx): SandboxResponse {
    const search = parseSlotSearch(ctx.req.query, ctx.serviceId!);
    // A receiver knows only its own service: another service id finds nothing here.
    const scoped = search.serviceId === ctx.serviceId ? search : { ...search, serviceId: '' };
    return fhir(200, searchSlots(scoped, opts.diary, ctx.baseUrl, randomUUID(), barsInstant(ctx.nowMs)));
  }

  function processMessage(ctx: Ctx): SandboxResponse {
    if (!header(ctx.req.headers, 'use-context')) {
      throw barsError(400, 'SEND_BAD_REQUEST', 'required', 'The use-context header is required on $process-message.');
    }
    const key = `${ctx.grant.clientId}|${ctx.serviceId}|${ctx.requestId}`;
    const hash = createHash('sha256').update(canonical(ctx.req.body)).digest('hex');
    forgetOld(ctx.nowMs);
    const seen = remembered.get(key);
    if (seen) {
      if (seen.hash === hash) return seen.response;
      throw barsError(422, 'REC_UNPROCESSABLE_ENTITY', 'processing', 'Message was not malformed but deemed unprocessable: this X-Request-Id was already used for a different message.');
    }
    let response: SandboxResponse;
    try {
      let bundle: unknown;
      try {
        bundle = JSON.parse(ctx.req.body);
      } catch {
        throw barsError(400, 'REC_BAD_REQUEST', 'invalid', 'The body is not JSON.');
      }
      const body = opts.book.process(bundle, {
        serviceId: ctx.serviceId!,
        bookingOds: ctx.who.odsCode,
        clientId: ctx.grant.clientId,
        requestId: ctx.requestId,
        nowMs: ctx.nowMs,
      });
      response = fhir(200, body);
    } catch (err) {
      if (!(err instanceof BarsError) || err.issue.status >= 500) throw err;
      response = {
        status: err.issue.status,
        headers: { 'content-type': FHIR_JSON, ...err.headers },
        body: operationOutcome(err.issue, randomUUID()),
      };
    }
    // Settled answers (2xx, 4xx) are kept: the same X-Request-Id with the same message gets this answer again.
    remembered.set(key, { hash, response, atMs: ctx.nowMs });
    return response;
  }

  function appointmentRead(ctx: Ctx, id: string): SandboxResponse {
    return fhir(200, opts.book.read(id, ctx.serviceId!, ctx.who.odsCode));
  }

  function appointmentSearch(ctx: Ctx): SandboxResponse {
    const raw = ctx.req.query.get('patient:identifier');
    if (!raw) throw barsError(400, 'REC_BAD_REQUEST', 'required', 'The parameter value was not included in the request: patient:identifier.', { expression: 'patient:identifier' });
    const bar = raw.lastIndexOf('|');
    const system = bar >= 0 ? raw.slice(0, bar) : NHS_NUMBER_SYSTEM;
    const value = bar >= 0 ? raw.slice(bar + 1) : raw;
    if (system !== NHS_NUMBER_SYSTEM || !/^\d{10}$/.test(value)) {
      throw barsError(400, 'REC_BAD_REQUEST', 'value', 'the identifier was in the incorrect format.', { expression: 'patient:identifier' });
    }
    const found = opts.book.search(value, ctx.serviceId!, ctx.who.odsCode);
    return fhir(200, {
      resourceType: 'Bundle',
      id: randomUUID(),
      meta: { lastUpdated: barsInstant(ctx.nowMs) },
      type: 'searchset',
      total: found.length,
      link: [{ relation: 'self', url: `${ctx.baseUrl}/Appointment?patient:identifier=${encodeURIComponent(`${system}|${value}`)}` }],
      entry: found.map((a) => ({ fullUrl: `${ctx.baseUrl}/Appointment/${a.id}`, resource: appointmentResource(a), search: { mode: 'match' } })),
    });
  }

  function forgetOld(nowMs: number): void {
    if (remembered.size < 5000) return;
    for (const [k, v] of remembered) if (nowMs - v.atMs > IDEMPOTENCY_RETENTION_MS) remembered.delete(k);
  }
}

/** The body as sorted-key JSON, so a resend that only re-serialises the same message counts as the same message. */
function canonical(body: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return body;
  }
  const sort = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(sort)
      : v !== null && typeof v === 'object'
        ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, sort((v as Record<string, unknown>)[k])]))
        : v;
  return JSON.stringify(sort(parsed));
}

function fhir(status: number, body: unknown): SandboxResponse {
  return { status, headers: { 'content-type': FHIR_JSON }, body };
}

function withHeaders(r: SandboxResponse, extra: Record<string, string>): SandboxResponse {
  return { ...r, headers: { ...(r.headers ?? {}), ...extra } };
}

function proxyNotFound(): BarsError {
  // examples/OperationOutcome/PROXY-NONE/404-NOT_FOUND-not-found.json
  return barsError(404, 'NOT_FOUND', 'not-found', 'Endpoint on the API does not exist.');
}
