/**
 * The BaRS API (R4), typed, nothing GraphQL. Every call carries the bearer token (token.ts), X-Request-Id and
 * X-Correlation-Id (UUIDs), NHSD-Target-Identifier (the receiver's DoS service id), NHSD-End-User-Organisation (the
 * consumer organisation), NHSD-Requesting-Software and `Accept: application/fhir+json; version=1.0.0`; a message
 * also `use-context`. HTTP goes through kit/supplier-http.ts (undici): one deadline per call, GETs retried once, a POST
 * never. A 401 drops the token and the call is sent once more with a new one: the front refused it before any
 * receiver saw it, so nothing was processed. Answers are returned uninterpreted (status, parsed body, the
 * OperationOutcome's code) for the flows; only transport failures, 429 and 5xx throw.
 */
import { randomUUID } from 'node:crypto';
import type { ConsumerOrganisation } from '../../common/consumer.js';
import { isBundle, matches, nextPage, type BundleEntryLike, type BundleLike } from '../kit/fhir/bundle.js';
import { fhirInstant, NHS_NUMBER_SYSTEM } from '../kit/fhir/identifiers.js';
import { parseOperationOutcome, type ParsedOutcome } from '../kit/fhir/operation-outcome.js';
import type { Appointment, Bundle } from '../kit/fhir/r4.js';
import { supplierHttp } from '../kit/supplier-http.js';
import { UpstreamError, type UpstreamResponse } from '../../common/upstream.js';
import { correlationId, endUserOrganisation, requestingSoftware, targetIdentifier } from './headers.js';
import type { BarsSystem } from './system.js';
import type { BarsTokens } from './token.js';

export interface CallContext {
  consumer: ConsumerOrganisation;
  traceId: string;
}

export interface Answer {
  status: number;
  /** The parsed body (JSON), undefined when there was none or it was not JSON. */
  body?: unknown;
  /** The OperationOutcome of an error answer. */
  outcome: ParsedOutcome;
}

export interface SlotSearch {
  serviceId: string;
  from: Date;
  to: Date;
}

/** The includes the spec requires (Slot:schedule, Schedule:actor:HealthcareService) and those that name the clinician. */
export const SLOT_INCLUDES = [
  'Slot:schedule',
  'Schedule:actor:HealthcareService',
  'Schedule:actor:Practitioner',
  'Schedule:actor:PractitionerRole',
  'HealthcareService:providedBy',
  'HealthcareService:location',
];
/** A cap over the pages of one search, so a receiver whose `next` links loop cannot hold a request forever. */
const MAX_PAGES = 20;
const ACCEPT = 'application/fhir+json; version=1.0.0';

export function slotSearchQuery(s: SlotSearch): URLSearchParams {
  const q = new URLSearchParams();
  q.append('status', 'free');
  q.append('start', `ge${fhirInstant(s.from)}`);
  q.append('start', `le${fhirInstant(s.to)}`);
  q.append('Schedule.actor:HealthcareService', s.serviceId);
  for (const inc of SLOT_INCLUDES) q.append('_include', inc);
  return q;
}

export class BarsClient {
  constructor(private readonly tokens: BarsTokens) {}

  /** Every entry of every page of one slot search (the spec caps a search at 14 days, as our windows are). */
  async searchSlots(system: BarsSystem, s: SlotSearch, ctx: CallContext): Promise<{ entries: BundleEntryLike[]; fetchedAt: Date }> {
    const fetchedAt = new Date();
    const all: BundleEntryLike[] = [];
    let url: string | undefined = `${system.baseUrl}/Slot?${slotSearchQuery(s).toString()}`;
    for (let page = 0; url; page++) {
      if (page >= MAX_PAGES) throw new UpstreamError(system.id, 'INVALID_RESPONSE', undefined, `slot search paged beyond ${MAX_PAGES} pages`);
      const a = await this.call(system, s.serviceId, ctx, { url });
      if (a.status !== 200 || !isBundle(a.body)) {
        throw new UpstreamError(system.id, a.status === 200 ? 'INVALID_RESPONSE' : 'REJECTED', a.status, `slot search: ${a.outcome.code ?? 'not a Bundle'}`);
      }
      all.push(...(a.body.entry ?? []));
      url = nextPage(a.body, { system: system.id, baseUrl: system.baseUrl });
    }
    return { entries: all, fetchedAt };
  }

  /** POST /$process-message with this X-Request-Id. */
  processMessage(system: BarsSystem, serviceId: string, message: Bundle, requestId: string, ctx: CallContext): Promise<Answer> {
    return this.call(system, serviceId, ctx, {
      url: `${system.baseUrl}/$process-message`,
      method: 'POST',
      body: JSON.stringify(message),
      requestId,
      extra: { 'content-type': 'application/fhir+json', 'use-context': system.useContext },
    });
  }

  readAppointment(system: BarsSystem, serviceId: string, id: string, ctx: CallContext): Promise<Answer> {
    return this.call(system, serviceId, ctx, { url: `${system.baseUrl}/Appointment/${encodeURIComponent(id)}` });
  }

  /** The patient's appointments at one receiver booked by the consumer organisation (GET /Appointment?patient:identifier). */
  async patientAppointments(system: BarsSystem, serviceId: string, nhsNumber: string, ctx: CallContext): Promise<{ status: number; appointments?: Appointment[]; outcome: ParsedOutcome }> {
    const q = new URLSearchParams({ 'patient:identifier': `${NHS_NUMBER_SYSTEM}|${nhsNumber}` });
    const a = await this.call(system, serviceId, ctx, { url: `${system.baseUrl}/Appointment?${q.toString()}` });
    if (a.status !== 200) return { status: a.status, outcome: a.outcome };
    if (!isBundle(a.body)) throw new UpstreamError(system.id, 'INVALID_RESPONSE', 200, 'appointment search: not a Bundle');
    return { status: 200, appointments: matches(a.body as BundleLike, 'Appointment') as unknown as Appointment[], outcome: a.outcome };
  }

  private async call(
    system: BarsSystem,
    serviceId: string,
    ctx: CallContext,
    r: { url: string; method?: 'GET' | 'POST'; body?: string; requestId?: string; extra?: Record<string, string> },
  ): Promise<Answer> {
    const headers = {
      accept: ACCEPT,
      'x-request-id': r.requestId ?? randomUUID(),
      'x-correlation-id': correlationId(ctx.traceId),
      'nhsd-target-identifier': targetIdentifier(serviceId),
      'nhsd-end-user-organisation': endUserOrganisation(ctx.consumer),
      'nhsd-requesting-software': requestingSoftware(system),
      ...r.extra,
    };
    const send = async (token: string) =>
      supplierHttp({
        system: system.id,
        url: r.url,
        method: r.method ?? 'GET',
        headers: { ...headers, authorization: `Bearer ${token}` },
        ...(r.body !== undefined ? { body: r.body } : {}),
        deadlineMs: system.deadlineMs,
      });
    let token = await this.tokens.token(system);
    let res = await send(token);
    if (res.status === 401) {
      // Expired or revoked: the front answered, no receiver saw it. One more, with a new token.
      this.tokens.invalidate(system, token);
      token = await this.tokens.token(system);
      res = await send(token);
    }
    return answer(res);
  }
}

function answer(res: UpstreamResponse): Answer {
  let body: unknown;
  try {
    body = res.text ? JSON.parse(res.text) : undefined;
  } catch {
    body = undefined;
  }
  return { status: res.status, ...(body !== undefined ? { body } : {}), outcome: parseOperationOutcome(body) };
}
