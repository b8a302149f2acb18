/**
 * Request pipeline for both tenants, in the order a real request meets the checks:
 *   tenant and route (404 / 405, as the SSP or web server would answer before the application sees anything)
 *   → Ssp-* headers (400 / 403) → JWT (403, or 401 by tenant configuration) → format (501 for XML) → interaction.
 */
import type { SandboxHandler, SandboxRequest, SandboxResponse } from '../lib/http.js';
import { AppointmentBook } from './appointments.js';
import { capabilityStatement } from './capability.js';
import { buildCatalogue, type Catalogue } from './catalogue.js';
import { FhirError } from './errors.js';
import { errorResponse, fhirResponse, JsonText, type ResponseOptions } from './http-edge.js';
import { verifyAccessToken, type ConsumerIdentity } from './jwt.js';
import { acceptsGzip, requireJson } from './negotiation.js';
import { staticResources, type FhirResource } from './resources.js';
import { parseSlotSearch } from './search-params.js';
import { bundleJson, searchSlots } from './slot-search.js';
import { SlotStore } from './slot-store.js';
import { checkSspHeaders, header } from './ssp-headers.js';
import { matchTenant, SCOPE_FOR, type Interaction, type Tenant } from './tenants.js';

/** One simulated provider system: its configuration, its static resources, its live diary and its bookings. */
export interface Provider {
  tenant: Tenant;
  catalogue: Catalogue;
  statics: ReadonlyMap<string, FhirResource>;
  slots: SlotStore;
  appointments: AppointmentBook;
}

export function createProvider(tenant: Tenant, now: () => Date): Provider {
  const catalogue = buildCatalogue(tenant.id);
  const slots = new SlotStore(catalogue, now);
  return { tenant, catalogue, statics: staticResources(catalogue), slots, appointments: new AppointmentBook(tenant, slots) };
}

/** What an interaction handler gets: the request, who is calling, and where. */
export interface InteractionContext {
  req: SandboxRequest;
  provider: Provider;
  /** The tenant's FHIR base URL, absolute, no trailing slash. */
  baseUrl: string;
  consumer: ConsumerIdentity;
  nowMs: number;
  /** Path parameters: appointment id and version id. */
  id?: string;
  vid?: string;
  respond: (status: number, body: unknown, headers?: Record<string, string>) => SandboxResponse;
}

interface Route {
  interaction: Interaction;
  handle: (ctx: InteractionContext) => SandboxResponse | Promise<SandboxResponse>;
  id?: string;
  vid?: string;
}

export interface RouterOptions {
  providers: readonly Provider[];
  /** Scheme, host and port clients use to reach this server (the tenants' base URLs hang off it). */
  origin: () => string;
  now: () => Date;
}

export function createRouter(opts: RouterOptions): SandboxHandler {
  const tenants = opts.providers.map((p) => p.tenant);
  return async (req) => {
    const out: ResponseOptions = { gzip: acceptsGzip(header(req.headers, 'Accept-Encoding')) };
    const correlationId = header(req.headers, 'X-Request-ID');
    if (correlationId) out.correlationId = correlationId;
    try {
      const match = matchTenant(tenants, req.path);
      if (!match) throw notFound(`No FHIR endpoint at ${req.path}`);
      const provider = opts.providers.find((p) => p.tenant === match.tenant)!;
      const route = resolveRoute(req.method, match.rest);
      const baseUrl = `${opts.origin()}${provider.tenant.path}`;
      const nowMs = opts.now().getTime();

      checkSspHeaders(req.headers, provider.tenant, route.interaction);
      const consumer = verifyAccessToken(header(req.headers, 'Authorization'), {
        audience: baseUrl,
        scope: SCOPE_FOR[route.interaction],
        nowMs,
        failureStatus: provider.tenant.authFailureStatus,
      });
      requireJson(req.query, header(req.headers, 'Accept'));

      return await route.handle({
        req,
        provider,
        baseUrl,
        consumer,
        nowMs,
        ...(route.id !== undefined ? { id: route.id } : {}),
        ...(route.vid !== undefined ? { vid: route.vid } : {}),
        respond: (status, body, headers) => fhirResponse(status, body, out, headers),
      });
    } catch (err) {
      if (err instanceof FhirError) return errorResponse(err, out);
      console.error('[booking-standard] unexpected error', err);
      return errorResponse(
        new FhirError(500, { code: 'exception', spineCode: 'INTERNAL_SERVER_ERROR', diagnostics: 'Unexpected error in the provider system' }),
        out,
      );
    }
  };
}

const ID = '[A-Za-z0-9\\-.]{1,64}';

function resolveRoute(method: string, rest: string): Route {
  const path = rest.length > 1 ? rest.replace(/\/$/, '') : rest;
  if (path === '/metadata') {
    return only(method, ['GET'], { interaction: 'metadata', handle: metadata });
  }
  if (path === '/Slot') {
    // TKW: POST /Slot gives 405. Slots are searched, never created, changed or deleted through the API.
    return only(method, ['GET'], { interaction: 'searchSlot', handle: slotSearch });
  }
  if (path.startsWith('/Slot/')) throw methodNotAllowed(method, [], 'Slots support search only ([base]/Slot?...)');
  if (path === '/Appointment') {
    if (method === 'POST') return { interaction: 'createAppointment', handle: (c) => c.provider.appointments.book(c) };
    if (method === 'GET') return { interaction: 'searchAppointment', handle: (c) => c.provider.appointments.search(c) };
    throw methodNotAllowed(method, ['GET', 'POST']);
  }
  const m = new RegExp(`^/Appointment/(${ID})(?:/_history/(${ID}))?$`).exec(path);
  if (m) {
    const [, id, vid] = m as unknown as [string, string, string | undefined];
    if (vid !== undefined) {
      return only(method, ['GET'], { interaction: 'readAppointment', id, vid, handle: (c) => c.provider.appointments.read(c) });
    }
    if (method === 'GET') return { interaction: 'readAppointment', id, handle: (c) => c.provider.appointments.read(c) };
    if (method === 'PUT') return { interaction: 'updateAppointment', id, handle: (c) => c.provider.appointments.cancel(c) };
    throw methodNotAllowed(method, ['GET', 'PUT']);
  }
  const type = path.split('/')[1] ?? '';
  throw notFound(`This provider does not serve resource type "${type}" (only Slot, Appointment and metadata)`, 'not-supported');
}

function only(method: string, allowed: string[], route: Route): Route {
  if (!allowed.includes(method)) throw methodNotAllowed(method, allowed);
  return route;
}

function methodNotAllowed(method: string, allowed: string[], why?: string): FhirError {
  return new FhirError(
    405,
    {
      code: 'not-supported',
      spineCode: 'BAD_REQUEST',
      hl7Code: 'MSG_UNKNOWN_OPERATION',
      diagnostics: why ?? `${method} is not supported here; allowed: ${allowed.join(', ')}`,
    },
    { allow: allowed.join(', ') },
  );
}

function notFound(diagnostics: string, code: 'not-found' | 'not-supported' = 'not-found'): FhirError {
  return new FhirError(404, { code, spineCode: 'NO_RECORD_FOUND', hl7Code: 'MSG_NO_MATCH', diagnostics });
}

function metadata(ctx: InteractionContext): SandboxResponse {
  return ctx.respond(200, capabilityStatement(ctx.provider.tenant, ctx.baseUrl));
}

function slotSearch(ctx: InteractionContext): SandboxResponse {
  const search = parseSlotSearch(ctx.req.query, ctx.nowMs);
  const bundle = searchSlots(search, {
    store: ctx.provider.slots,
    statics: ctx.provider.statics,
    baseUrl: ctx.baseUrl,
    consumerOds: ctx.consumer.odsCode,
    nowMs: ctx.nowMs,
    query: ctx.req.query,
    selfUrl: `${ctx.baseUrl}/Slot${ctx.req.url.search}`,
  });
  return ctx.respond(200, new JsonText(bundleJson(bundle)));
}
