/**
 * The Booking Standard STU3 provider API, typed, nothing GraphQL. Every request carries the four Ssp-* headers,
 * a fresh unsigned JWT and an X-Request-ID (spec 3.1–3.3), goes through the Spine Secure Proxy when one is
 * configured, and has a deadline (the system's deadlineMs per HTTP call; a slot search's pages share one). A slot
 * search is one search per service and window, cut into parts sent at once where it will page (by day for a service
 * not seen before, by its learnt density after); when the provider pages anyway, the rest of the window is searched
 * in parallel parts (planParts), each following its `next` links to the end, only ever back to the same provider.
 * Appointment calls return the provider's answer (status, version headers, resource or OperationOutcome) for the
 * flows to interpret; only transport failures, 429 and 5xx throw (common/upstream.ts, which retries GETs once and never
 * a POST).
 */
import { randomUUID } from 'node:crypto';
import type { Received, r3 } from '../kit/fhir/stu3.js';
import type { ConsumerOrganisation } from '../../common/consumer.js';
import type { BookingStandardSystem, Registry } from '../kit/registry.js';
import { upstreamFetch } from '../kit/supplier-http.js';
import { UpstreamError, jsonOrUndefined, parseJson, type UpstreamResponse } from '../../common/upstream.js';
import { nextPage } from '../kit/fhir/bundle.js';
import { parseOperationOutcome } from '../kit/fhir/operation-outcome.js';
import type { LinkScope } from '../kit/supplier-link.js';
import { consumerJwt, type RequestedScope } from './jwt.js';

// ---- the native payloads (only what we read) -------------------------------------------------------------

export type FhirReference = Received<r3.Reference>;
export type FhirCoding = Received<r3.Coding>;
export type FhirIdentifier = Received<r3.Identifier>;
export type FhirExtension = Received<r3.Extension> & { url: string };

/** Any resource of a searchset or a `contained` list: its type, id and version, and whatever else it holds. */
export interface FhirResource {
  resourceType: string;
  id?: string;
  meta?: Received<r3.Meta>;
  [key: string]: unknown;
}
export type FhirSlot = Received<r3.Slot> & { resourceType: 'Slot' };
export type FhirSchedule = Received<r3.Schedule> & { resourceType: 'Schedule' };
export type FhirPractitioner = Received<r3.Practitioner> & { resourceType: 'Practitioner' };
export type FhirPractitionerRole = Received<r3.PractitionerRole> & { resourceType: 'PractitionerRole' };
export type FhirBundle = Omit<Received<r3.Bundle>, 'entry' | 'link'> & {
  resourceType: 'Bundle';
  link?: { relation: string; url: string }[];
  entry?: { fullUrl?: string; resource?: FhirResource; search?: { mode?: string } }[];
};
export type OperationOutcome = Received<r3.OperationOutcome> & { resourceType: 'OperationOutcome' };
export type OutcomeIssue = NonNullable<OperationOutcome['issue']>[number];

/** Registry-style search entries point at the real appointment with a `urn:ietf:rfc:3986` identifier (spec 2.7). */
export type FhirAppointment = Omit<Received<r3.Appointment>, 'contained'> & { resourceType: 'Appointment'; contained?: FhirResource[] };

const IA = 'urn:nhs:names:services:careconnect:fhir:rest';

/**
 * Interaction ids (spec 2.1). Only slot search varies between providers (the registry says which); the appointment
 * interactions are the same in every source.
 */
export const INTERACTIONS = {
  readMetadata: `${IA}:read:metadata`,
  createAppointment: `${IA}:create:appointment`,
  readAppointment: `${IA}:read:appointment`,
  updateAppointment: `${IA}:update:appointment`,
  searchAppointment: `${IA}:search:appointment`,
} as const;

export const NHS_NUMBER_SYSTEM = 'https://fhir.nhs.uk/Id/nhs-number';
const FHIR_JSON = 'application/fhir+json';

/** A provider's answer to an appointment interaction, uninterpreted. */
export interface AppointmentAnswer {
  status: number;
  /** The ETag header exactly as sent, for If-Match (spec 11: keep the raw ETag). */
  etag?: string;
  /** Location (create, update) or Content-Location (read). */
  location?: string;
  /** The body, when it is an Appointment. A 2xx to a write without one still means the write happened. */
  appointment?: FhirAppointment;
  /** The first OperationOutcome issue of an error answer (what classification looks at). */
  issue?: OutcomeIssue;
  /**
   * Every issue's diagnostics, sanitised (kit supplier-diagnostics.ts); none for a body that is not an
   * OperationOutcome. Developer text that may echo the request (patient details): returned to the caller, never logged.
   */
  diagnostics?: string;
}

export interface SearchAnswer {
  status: number;
  /** The searchset, on 200. */
  bundle?: FhirBundle;
  issue?: OutcomeIssue;
  diagnostics?: string;
}

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

/** A page cap over every page of one search, so a provider whose `next` links loop cannot hold a request forever. */
const MAX_PAGES = 40;
/** The page size we ask for (`_count`). */
const SEARCH_COUNT = 100;
/** At most this many searches at once for the rest of a paged window (the supplier throttle still paces them). */
export const MAX_PARTS = 16;
/**
 * Twice as many parts as the pages the provider's `total` says are left, so each part averages half a page and one
 * where slots are denser than average (evenings, weekends at an out-of-hours service) still fits one page rather
 * than paging on its own: measured on the sandbox's 20 services over 7 days, 1.25 left 4 services needing a third
 * round trip, 2 none, for 156 calls against 170 with one search per day.
 */
const PART_SLACK = 2;

/** One slot search with everything it has fetched so far. */
interface SearchRun {
  system: BookingStandardSystem;
  ctx: CallContext;
  deadline: number;
  pages: number;
  byKey: Map<string, FhirResource>;
  /** The most slots a page with a next link held: the provider's page size; 0 until one is seen. */
  pageSize: number;
}

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
  // Standard FHIR paging: ask for larger pages (providers may cap or ignore it) so fewer round trips run in a row.
  q.append('_count', String(SEARCH_COUNT));
  q.append('_format', 'json');
  return q;
}

function slotSearchUrl(system: BookingStandardSystem, search: SlotSearch): string {
  return `${system.baseUrl}/Slot?${slotSearchQuery(search).toString()}`;
}

/**
 * The rest of a paged search, as searches to send at once; null to follow `next` links instead.
 *
 * Booking Standard providers page with `next` links whose page token is opaque (the sandbox's names the last slot of
 * the page before, keyset paging), so page k + 1's URL is unknown until page k has arrived: following them is one
 * round trip per page, in a row. What any provider does support is the search itself over a narrower `start` range.
 * So once the first page shows the window pages (a `next` link), the whole window is split by start time into as
 * many equal parts as the Bundle's `total` says pages are needed (times PART_SLACK), at most MAX_PARTS, and every part
 * is searched at once, each following its own `next` links to the end in the rare case it pages too. Parts are
 * disjoint whole-second ranges (`ge` its start, `le` one second before the next part's), together exactly the
 * window; slots are kept once by id, the first page's included. Nothing is lost whatever order the provider lists
 * slots in, since the parts do not rely on the first page's contents, only on its `total`.
 *
 * Without a usable `total` (it is optional in FHIR), one part per day of the window. A window too short to split
 * follows the `next` links.
 *
 * The client remembers each service's density (slots per second of window, and the provider's page size) from its
 * last complete search, so the next search of a window that will page is cut up front (planFromDensity): one round
 * trip; a service never searched before is cut by 24 hours, a week's parts at most (planByDay). Only what the provider offers in general is kept, a
 * number per service; never a slot or anything of a patient.
 */
export function planParts(search: SlotSearch, first: FhirBundle, nowMs = Date.now()): SlotSearch[] | null {
  const matches = (first.entry ?? []).filter((e) => e.resource?.resourceType === 'Slot').length;
  const wanted =
    typeof first.total === 'number' && Number.isFinite(first.total) && first.total > matches && matches > 0
      ? Math.ceil((first.total * PART_SLACK) / matches)
      : Math.ceil((search.to.getTime() - search.from.getTime()) / 86_400_000);
  return cutWindow(search, wanted, nowMs);
}

/** What one service's last complete search taught: how many free slots per second of window, on pages of what size. */
export interface SlotDensity {
  perSecond: number;
  pageSize: number;
}

/**
 * Parts to send at once without a first page, when the service's last search says this window will page: then the
 * answer takes one round trip instead of two. Null when it is expected to fit one page (four fifths of one, to be
 * safe), or nothing is known: the search goes out whole, and planParts follows if it pages after all.
 */
export function planFromDensity(search: SlotSearch, learnt: SlotDensity | undefined, nowMs = Date.now()): SlotSearch[] | null {
  if (!learnt || !(learnt.pageSize > 0)) return null;
  const expected = (learnt.perSecond * (search.to.getTime() - search.from.getTime())) / 1000;
  if (!(expected > 0.8 * learnt.pageSize)) return null;
  return cutWindow(search, Math.ceil((expected * PART_SLACK) / learnt.pageSize), nowMs);
}

/**
 * A window of more than a day, of a service this client has never searched: a part per 24 hours (at most
 * FIRST_SIGHT_PARTS), sent at once: one round trip, and each instant fetched once (a first page of the whole window
 * would overlap the parts that follow it). It costs more calls than one search only for a service sparse enough to
 * fit a page, and only until one search of it has taught its density (planFromDensity); the cap keeps a first
 * search of many services after a restart within what a supplier's rate allows. Null for a window of a day or less:
 * searched whole, planParts after.
 */
export function planByDay(search: SlotSearch, nowMs = Date.now()): SlotSearch[] | null {
  const days = Math.ceil((search.to.getTime() - search.from.getTime()) / 86_400_000);
  return cutWindow(search, Math.min(FIRST_SIGHT_PARTS, days), nowMs);
}

/** A week's searches at most for a service not seen before: a two-week window is cut into two-day parts. */
export const FIRST_SIGHT_PARTS = 7;

/**
 * The window as `wanted` (at most MAX_PARTS) contiguous, disjoint parts of whole seconds; null when fewer than two.
 * Providers refuse a search whose bounds are both in the past (400), so the cut starts a minute from now at the
 * earliest and the first part covers the window's past too.
 */
function cutWindow(search: SlotSearch, wanted: number, nowMs: number): SlotSearch[] | null {
  const fromSec = Math.max(Math.ceil(search.from.getTime() / 1000), Math.ceil(nowMs / 1000) + 60);
  const toSec = Math.floor(search.to.getTime() / 1000);
  const seconds = toSec - fromSec + 1;
  const k = Math.min(MAX_PARTS, wanted, seconds);
  if (!(k >= 2)) return null;
  const parts: SlotSearch[] = [];
  for (let i = 0; i < k; i++) {
    const lo = fromSec + Math.floor((i * seconds) / k);
    const hi = i === k - 1 ? null : fromSec + Math.floor(((i + 1) * seconds) / k) - 1;
    parts.push({
      serviceId: search.serviceId,
      // The first part starts where the window does, to the millisecond, and the last ends there.
      from: i === 0 ? search.from : new Date(lo * 1000),
      to: hi === null ? search.to : new Date(hi * 1000),
    });
  }
  return parts;
}

/** How many services' densities a client remembers (the oldest learnt goes first). */
const DENSITY_LIMIT = 20_000;

export class BookingStandardClient {
  /** By system and service: what the last complete search taught about how the next one pages. */
  private readonly densities = new Map<string, SlotDensity>();

  constructor(
    private readonly registry: Registry,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** A provider URL as we call it: prefixed by the SSP when configured, with exactly one slash at the join. */
  viaSsp(providerUrl: string): string {
    return this.registry.sspUrl ? `${this.registry.sspUrl}/${providerUrl}` : providerUrl;
  }

  /**
   * The headers of one HTTP request: a new trace id and token every time. `requestId` is the X-Request-ID, fresh
   * unless given: a booking passes its own so the provider recognises a repeat (spec 3.3, 11).
   */
  headers(system: BookingStandardSystem, interaction: string, scope: RequestedScope, ctx: CallContext, requestId?: string): Record<string, string> {
    return {
      accept: FHIR_JSON,
      // The gateway request's trace id: the spec requires it unique per case at least, and one id across every
      // call a request makes lets the provider's logs and ours be joined. X-Request-ID stays unique per attempt.
      'ssp-traceid': ctx.traceId,
      'ssp-from': this.registry.consumerSystem.asid,
      'ssp-to': system.asid,
      'ssp-interactionid': interaction,
      'x-request-id': requestId ?? randomUUID(),
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

  /**
   * Every free slot of one service in one window, with its includes: the whole window cut up front when this
   * service's last search says it will page (planFromDensity) or nothing is known of it yet (planByDay); otherwise one
   * search, and when the provider pages after all, the rest of the window in parallel (planParts). All pages share
   * one deadline (the system's) and one page cap.
   */
  async searchSlots(system: BookingStandardSystem, search: SlotSearch, ctx: CallContext): Promise<SlotSearchResult> {
    const run: SearchRun = { system, ctx, deadline: Date.now() + system.deadlineMs, pages: 0, byKey: new Map(), pageSize: 0 };
    const key = `${system.id}|${search.serviceId}`;
    const learnt = this.densities.get(key);
    const upfront = learnt ? planFromDensity(search, learnt) : planByDay(search);
    if (upfront) {
      const settled = await Promise.allSettled(upfront.map((part) => this.walk(run, slotSearchUrl(system, part)).then(() => part)));
      const failed = settled.find((p) => p.status === 'rejected');
      if (failed) {
        // The parts that arrived still teach the density, so the next search is cut by it: a first search that our
        // own throttle cut short would otherwise be cut by day, and throttled, again.
        if (!learnt) this.learnFromParts(key, settled.flatMap((p) => (p.status === 'fulfilled' ? [p.value] : [])), run);
        throw failed.reason;
      }
    } else {
      const first = await this.searchPage(run, slotSearchUrl(system, search));
      const next = nextPage(first, linkScope(system));
      if (next) {
        const parts = planParts(search, first);
        if (parts) await Promise.all(parts.map((part) => this.walk(run, slotSearchUrl(system, part))));
        else await this.walk(run, next);
      }
    }
    this.learn(key, search, run, learnt);
    return { resources: [...run.byKey.values()], fetchedAt: this.now() };
  }

  private learn(key: string, search: SlotSearch, run: SearchRun, before: SlotDensity | undefined): void {
    const seconds = (search.to.getTime() - search.from.getTime()) / 1000;
    if (!(seconds > 0)) return;
    let slots = 0;
    for (const r of run.byKey.values()) if (r.resourceType === 'Slot') slots++;
    this.remember(key, { perSecond: slots / seconds, pageSize: run.pageSize || before?.pageSize || SEARCH_COUNT });
  }

  /** Keeps a service's density, newest last (the oldest learnt goes first past DENSITY_LIMIT). */
  private remember(key: string, density: SlotDensity): void {
    this.densities.delete(key);
    this.densities.set(key, density);
    if (this.densities.size > DENSITY_LIMIT) this.densities.delete(this.densities.keys().next().value!);
  }

  /** Density from the parts of a run that completed: their slots over their seconds. */
  private learnFromParts(key: string, done: readonly SlotSearch[], run: SearchRun): void {
    let seconds = 0;
    let slots = 0;
    for (const part of done) seconds += (part.to.getTime() - part.from.getTime()) / 1000;
    if (!(seconds > 0)) return;
    for (const r of run.byKey.values()) {
      if (r.resourceType !== 'Slot') continue;
      const start = Date.parse(String((r as FhirSlot).start));
      if (done.some((p) => start >= p.from.getTime() && start <= p.to.getTime())) slots++;
    }
    this.remember(key, { perSecond: slots / seconds, pageSize: run.pageSize || SEARCH_COUNT });
  }

  /** One search to its end, following `next` links one after another (each names the page before's last slot). */
  private async walk(run: SearchRun, url: string): Promise<void> {
    for (let next: string | undefined = url; next; ) next = nextPage(await this.searchPage(run, next), linkScope(run.system));
  }

  /** One page: fetched within what is left of the run's deadline, its resources kept once by type and id. */
  private async searchPage(run: SearchRun, url: string): Promise<FhirBundle> {
    const { system, ctx } = run;
    if (++run.pages > MAX_PAGES) throw new UpstreamError(system.id, 'INVALID_RESPONSE', undefined, `more than ${MAX_PAGES} pages`);
    const remaining = run.deadline - Date.now();
    if (remaining <= 0) throw new UpstreamError(system.id, 'TIMEOUT');
    const res = await upstreamFetch(this.viaSsp(url), {
      system: system.id,
      deadlineMs: remaining,
      retries: 1,
      // A retried request is a new HTTP request: new trace id, request id and token (spec 3.1).
      perAttempt: () => this.headers(system, system.interactions.searchSlot, 'organization/slot.read', ctx),
    });
    const bundle = readBundle(system.id, res);
    let matches = 0;
    for (const e of bundle.entry ?? []) {
      const r = e.resource;
      if (r?.resourceType === 'Slot') matches++;
      if (r?.resourceType && r.id) run.byKey.set(`${r.resourceType}/${r.id}`, r);
    }
    // A page with a next link is a full one: the provider's page size (it may cap the _count we ask for).
    if (matches > 0 && bundle.link?.some((l) => l.relation === 'next')) run.pageSize = Math.max(run.pageSize, matches);
    return bundle;
  }

  /**
   * Book: POST the Appointment (spec 2.4) with X-Request-ID = `requestId`. Never retried here (upstreamFetch does
   * not retry POST); the booking flow decides whether and how to try again.
   */
  async book(system: BookingStandardSystem, appointment: object, requestId: string, ctx: CallContext): Promise<AppointmentAnswer> {
    const res = await upstreamFetch(this.viaSsp(`${system.baseUrl}/Appointment`), {
      system: system.id,
      method: 'POST',
      body: JSON.stringify(appointment),
      deadlineMs: system.deadlineMs,
      perAttempt: () => this.writeHeaders(system, INTERACTIONS.createAppointment, requestId, ctx),
    });
    return appointmentAnswer(res, { write: true });
  }

  /** Read (spec 2.5): the current version and its ETag. Retried once on a network error or 5xx, as GETs are. */
  async read(system: BookingStandardSystem, appointmentId: string, ctx: CallContext): Promise<AppointmentAnswer> {
    const res = await upstreamFetch(this.viaSsp(`${system.baseUrl}/Appointment/${encodeURIComponent(appointmentId)}`), {
      system: system.id,
      deadlineMs: system.deadlineMs,
      retries: 1,
      perAttempt: () => this.headers(system, INTERACTIONS.readAppointment, 'patient/appointment.read', ctx),
    });
    return appointmentAnswer(res, { write: false, systemId: system.id });
  }

  /**
   * Cancel (spec 2.6): PUT the appointment as read with only its status changed, quoting the version read in
   * If-Match. Not retried here: a PUT that timed out is settled by reading again, never by sending it blind.
   */
  async cancel(system: BookingStandardSystem, appointment: FhirAppointment, ifMatch: string, requestId: string, ctx: CallContext): Promise<AppointmentAnswer> {
    const res = await upstreamFetch(this.viaSsp(`${system.baseUrl}/Appointment/${encodeURIComponent(appointment.id ?? '')}`), {
      system: system.id,
      method: 'PUT',
      body: JSON.stringify(appointment),
      deadlineMs: system.deadlineMs,
      perAttempt: () => ({ ...this.writeHeaders(system, INTERACTIONS.updateAppointment, requestId, ctx), 'if-match': ifMatch }),
    });
    return appointmentAnswer(res, { write: true });
  }

  /**
   * A patient's appointments by NHS number (spec 2.7), with the search parameter the CapabilityStatement template
   * declares (`identifier`). Registry-era and optional: callers must expect providers to refuse it.
   */
  async searchPatientAppointments(system: BookingStandardSystem, nhsNumber: string, ctx: CallContext): Promise<SearchAnswer> {
    return this.searchAppointments(system, `${NHS_NUMBER_SYSTEM}|${nhsNumber}`, ctx);
  }

  /**
   * Appointments by one of their own identifiers (`identifier=<system>|<value>`, the search parameter the
   * CapabilityStatement declares, spec 2.2): how a booking is found again by the reference we gave it.
   */
  async searchAppointmentsByIdentifier(system: BookingStandardSystem, identifierSystem: string, value: string, ctx: CallContext): Promise<SearchAnswer> {
    return this.searchAppointments(system, `${identifierSystem}|${value}`, ctx);
  }

  private async searchAppointments(system: BookingStandardSystem, identifier: string, ctx: CallContext): Promise<SearchAnswer> {
    const q = new URLSearchParams({ identifier, _format: 'json' });
    const res = await upstreamFetch(this.viaSsp(`${system.baseUrl}/Appointment?${q.toString()}`), {
      system: system.id,
      deadlineMs: system.deadlineMs,
      retries: 1,
      perAttempt: () => this.headers(system, INTERACTIONS.searchAppointment, 'patient/appointment.read', ctx),
    });
    if (res.status === 200) return { status: 200, bundle: readBundle(system.id, res) };
    return { status: res.status, ...errorBody(res.text) };
  }

  private writeHeaders(system: BookingStandardSystem, interaction: string, requestId: string, ctx: CallContext): Record<string, string> {
    return {
      ...this.headers(system, interaction, 'patient/appointment.write', ctx, requestId),
      'content-type': `${FHIR_JSON}; charset=utf-8`,
    };
  }
}

/**
 * Reads an appointment interaction's answer. A 2xx body that is not an Appointment is an unreadable answer for a
 * read (INVALID_RESPONSE), but not for a write: the write happened, and the flow must not lose that fact.
 */
function appointmentAnswer(res: UpstreamResponse, opts: { write: true } | { write: false; systemId: string }): AppointmentAnswer {
  const etag = res.headers.get('etag') ?? undefined;
  const location = res.headers.get('location') ?? res.headers.get('content-location') ?? undefined;
  const head = { status: res.status, ...(etag ? { etag } : {}), ...(location ? { location } : {}) };
  if (res.status >= 200 && res.status < 300) {
    const body = jsonOrUndefined(res.text) as Partial<FhirAppointment> | undefined;
    if (body?.resourceType === 'Appointment') return { ...head, appointment: body as FhirAppointment };
    if (!opts.write) throw new UpstreamError(opts.systemId, 'INVALID_RESPONSE', res.status, 'expected an Appointment');
    return head;
  }
  return { ...head, ...errorBody(res.text) };
}

/** The first issue (for classification) and the diagnostics made safe to show; a body not an OperationOutcome gives none. */
function errorBody(text: string): { issue?: OutcomeIssue; diagnostics?: string } {
  const o = parseOperationOutcome(jsonOrUndefined(text));
  return { ...(o.issue ? { issue: o.issue as OutcomeIssue } : {}), ...(o.diagnostics ? { diagnostics: o.diagnostics } : {}) };
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

/** Links a provider gives are followed only back to the same provider (kit/supplier-link.ts). */
function linkScope(system: BookingStandardSystem): LinkScope {
  return { system: system.id, baseUrl: system.baseUrl };
}

export function outcomeText(text: string): string {
  const o = parseOperationOutcome(jsonOrUndefined(text));
  if (o.issue) return [o.issue.code, o.code, o.issue.diagnostics].filter(Boolean).join(': ');
  return text.slice(0, 200);
}
