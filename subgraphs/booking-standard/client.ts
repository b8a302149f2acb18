/**
 * The Booking Standard STU3 provider API, typed, nothing GraphQL. Every request carries the four Ssp-* headers,
 * a fresh unsigned JWT and an X-Request-ID (spec 3.1–3.3), goes through the Spine Secure Proxy when one is
 * configured, and has a deadline. Slot search follows the provider's `next` links to the end.
 */
import { randomUUID } from 'node:crypto';
import type { ConsumerOrganisation } from '../kit/consumer.js';
import type { BookingStandardSystem, Registry } from '../kit/registry.js';
import { UpstreamError, parseJson, upstreamFetch, type UpstreamResponse } from '../kit/upstream.js';
import { consumerJwt, type RequestedScope } from './jwt.js';

// ---- the native payloads (only what we read) -------------------------------------------------------------

export interface FhirReference { reference?: string; display?: string }
export interface FhirCoding { system?: string; code?: string; display?: string }
export interface FhirIdentifier { system?: string; value?: string }
export interface FhirExtension { url: string; valueCode?: string; valueCodeableConcept?: { coding?: FhirCoding[] } }

export interface FhirResource {
  resourceType: string;
  id?: string;
  meta?: { versionId?: string; profile?: string[] };
  [key: string]: unknown;
}
export interface FhirSlot extends FhirResource {
  resourceType: 'Slot';
  identifier?: FhirIdentifier[];
  schedule?: FhirReference;
  status?: string;
  start?: string;
  end?: string;
  extension?: FhirExtension[];
}
export interface FhirSchedule extends FhirResource { resourceType: 'Schedule'; actor?: FhirReference[] }
export interface FhirPractitioner extends FhirResource {
  resourceType: 'Practitioner';
  name?: { family?: string; given?: string[]; prefix?: string[]; text?: string }[];
}
export interface FhirPractitionerRole extends FhirResource {
  resourceType: 'PractitionerRole';
  practitioner?: FhirReference;
  code?: { coding?: FhirCoding[]; text?: string }[];
}
export interface FhirBundle {
  resourceType: 'Bundle';
  type?: string;
  total?: number;
  link?: { relation: string; url: string }[];
  entry?: { fullUrl?: string; resource?: FhirResource; search?: { mode?: string } }[];
}
export interface OperationOutcome {
  resourceType: 'OperationOutcome';
  issue?: { severity?: string; code?: string; diagnostics?: string; details?: { coding?: FhirCoding[] } }[];
}

export const INTERACTIONS = {
  readMetadata: 'urn:nhs:names:services:careconnect:fhir:rest:read:metadata',
} as const;

// The related resources a slot search asks for. Plain `_include` is what TKW, the Postman collection and 1.x
// providers send; STU3 servers must ignore includes they do not support, so asking costs nothing.
const INCLUDES = [
  'Slot:schedule',
  'Schedule:actor:Practitioner',
  'Schedule:actor:PractitionerRole',
  'Schedule:actor:HealthcareService',
  'HealthcareService:location',
  'HealthcareService:providedBy',
];

/** A page cap, so a provider whose `next` links loop cannot hold a request forever. */
const MAX_PAGES = 40;

export interface SlotSearch {
  serviceId: string;
  /** Inclusive bounds on slot start, as instants. */
  from: Date;
  to: Date;
}

export interface SlotSearchResult {
  /** Every resource from every page (slots and includes), deduplicated by type and id. */
  resources: FhirResource[];
  fetchedAt: Date;
}

export interface CallContext {
  consumer: ConsumerOrganisation;
  traceId: string;
}

/** FHIR instant in UTC with an explicit +00:00 offset (spec 3.6 and 11: send UTC). */
export function fhirInstant(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, '+00:00');
}

export function slotSearchQuery(search: SlotSearch): URLSearchParams {
  const q = new URLSearchParams();
  q.append('schedule.actor:healthcareservice', search.serviceId);
  q.append('status', 'free');
  q.append('start', `ge${fhirInstant(search.from)}`);
  q.append('start', `le${fhirInstant(search.to)}`);
  for (const inc of INCLUDES) q.append('_include', inc);
  q.append('_format', 'json');
  return q;
}

export class BookingStandardClient {
  constructor(
    private readonly registry: Registry,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** A provider URL as we call it: prefixed by the SSP when configured, with exactly one slash at the join. */
  viaSsp(providerUrl: string): string {
    return this.registry.sspUrl ? `${this.registry.sspUrl}/${providerUrl}` : providerUrl;
  }

  headers(system: BookingStandardSystem, interaction: string, scope: RequestedScope, ctx: CallContext): Record<string, string> {
    return {
      accept: 'application/fhir+json',
      'ssp-traceid': randomUUID(),
      'ssp-from': this.registry.consumerSystem.asid,
      'ssp-to': system.asid,
      'ssp-interactionid': interaction,
      'x-request-id': randomUUID(),
      'x-correlation-id': ctx.traceId,
      authorization: `Bearer ${consumerJwt({
        issuer: this.registry.consumerSystem.endpoint,
        audience: system.baseUrl,
        consumerAsid: this.registry.consumerSystem.asid,
        consumer: ctx.consumer,
        scope,
        nowSeconds: Math.floor(this.now().getTime() / 1000),
      })}`,
    };
  }

  async searchSlots(system: BookingStandardSystem, search: SlotSearch, ctx: CallContext): Promise<SlotSearchResult> {
    const deadline = Date.now() + system.deadlineMs;
    const byKey = new Map<string, FhirResource>();
    let next: string | undefined = `${system.baseUrl}/Slot?${slotSearchQuery(search).toString()}`;
    let pages = 0;

    while (next) {
      if (++pages > MAX_PAGES) throw new UpstreamError(system.id, 'INVALID_RESPONSE', undefined, `more than ${MAX_PAGES} pages`);
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new UpstreamError(system.id, 'TIMEOUT');
      const res = await upstreamFetch(this.viaSsp(next), {
        system: system.id,
        deadlineMs: remaining,
        retries: 1,
        // A retried request is a new HTTP request: new trace id, request id and token (spec 3.1).
        perAttempt: () => this.headers(system, system.interactions.searchSlot, 'organization/slot.read', ctx),
      });
      const bundle = readBundle(system.id, res);
      for (const e of bundle.entry ?? []) {
        const r = e.resource;
        if (r?.resourceType && r.id) byKey.set(`${r.resourceType}/${r.id}`, r);
      }
      next = nextPage(system, bundle);
    }
    return { resources: [...byKey.values()], fetchedAt: this.now() };
  }
}

/** 200 must be a searchset Bundle; any other status is a failure with a reason, never a silent empty list. */
function readBundle(systemId: string, res: UpstreamResponse): FhirBundle {
  if (res.status === 200) {
    const body = parseJson<Partial<FhirBundle>>(systemId, res);
    if (body?.resourceType !== 'Bundle') throw new UpstreamError(systemId, 'INVALID_RESPONSE', 200, `expected a Bundle, got ${String(body?.resourceType)}`);
    return body as FhirBundle;
  }
  // 400: our query is wrong; 401/403: our JWT or headers; 404: the provider does not know the DoS service id
  // (directory/provider configuration drift). None of these is fixed by retrying.
  throw new UpstreamError(systemId, 'REJECTED', res.status, outcomeText(res.text));
}

/**
 * The next page link, only when it points back at the same provider: following a link elsewhere would send our
 * JWT and headers to a host the registry never named.
 */
function nextPage(system: BookingStandardSystem, bundle: FhirBundle): string | undefined {
  const href = bundle.link?.find((l) => l.relation === 'next')?.url;
  if (!href) return undefined;
  let target: URL;
  try {
    target = new URL(href, system.baseUrl);
  } catch {
    throw new UpstreamError(system.id, 'INVALID_RESPONSE', 200, 'unreadable next link');
  }
  const base = new URL(system.baseUrl);
  if (target.origin !== base.origin) throw new UpstreamError(system.id, 'INVALID_RESPONSE', 200, 'next link leaves the provider');
  return target.toString();
}

export function outcomeText(text: string): string {
  try {
    const oo = JSON.parse(text) as OperationOutcome;
    const issue = oo.issue?.[0];
    if (issue) return [issue.code, issue.details?.coding?.[0]?.code, issue.diagnostics].filter(Boolean).join(': ');
  } catch {
    // not JSON: fall through
  }
  return text.slice(0, 200);
}
