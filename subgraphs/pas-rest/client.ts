/**
 * The Oakfield PAS REST API (sandbox/pas-rest/API.md), typed, nothing GraphQL. Every request carries the system's
 * API key and the consumer organisation's ODS code (which scopes bookings at the supplier), goes through
 * common/upstream.ts with the system's deadline, and never puts the key or patient data in an error message.
 *
 * Lists follow the supplier's `next` links to the end (page cap, and only links back to the registered API), asking
 * for the largest page the API allows so a two-week session search is normally one request. GETs are retried once
 * on a network error, 5xx or 429, honouring Retry-After within the deadline (kit). Booking calls return the
 * supplier's answer for the flows to interpret; only transport failures, 429 and 5xx throw, and a POST is never
 * retried here.
 */
import type { ConsumerOrganisation } from '../../common/consumer.js';
import { credential, type PasRestSystem, type Registry } from '../kit/registry.js';
import { errorEnvelopeDiagnostics } from '../../common/supplier-diagnostics.js';
import { upstreamFetch } from '../kit/supplier-http.js';
import { supplierLink } from '../kit/supplier-link.js';
import { UpstreamError, jsonOrUndefined, type UpstreamResponse } from '../../common/upstream.js';

// ---- the native payloads (only what we read or send) -----------------------------------------------------------

export interface PasExternalId {
  system?: string;
  value?: string;
}

export interface PasClinic {
  id: string;
  name?: string;
  status?: string;
  externalIds?: PasExternalId[];
}

export interface PasBookedTime {
  time?: string;
  fold?: number;
  count?: number;
}

export interface PasSession {
  id?: string;
  clinicId?: string;
  date?: string;
  start?: string;
  end?: string;
  slotMinutes?: number;
  capacity?: number;
  mode?: string;
  status?: string;
  label?: string;
  clinician?: { name?: string; role?: string };
  booked?: PasBookedTime[];
  /** Places under a live hold, any organisation's (API.md 6.5). */
  held?: PasBookedTime[];
}

export interface PasPatient {
  nhsNumber?: string;
  title?: string;
  familyName: string;
  givenNames: string[];
  dateOfBirth: string;
  /** NHS Data Dictionary Person Stated Gender Code. */
  gender: '1' | '2' | '9' | 'X';
  address: { lines: string[]; town?: string; postcode: string };
  contactNumber?: string;
}

export interface PasReferral {
  referrerOdsCode: string;
  reportId: string;
  reportType: { code: string; display: string };
  summary: string;
}

/** POST /bookings body. */
export interface PasBookingRequest {
  sessionId: string;
  time: string;
  /** Sent only as 1 (the second pass through the repeated hour); absent means 0. */
  fold?: 1;
  patient: PasPatient;
  referral: PasReferral;
  notes?: string;
  /** A live hold of ours on this very time (API.md 6.5): books the place it keeps. */
  holdId?: string;
}

/** POST /holds body (API.md 6.5). */
export interface PasHoldRequest {
  sessionId: string;
  time: string;
  fold?: 1;
  seconds: number;
}

/** A hold as the supplier shows it; read loosely. */
export interface PasHold {
  id?: string;
  status?: string;
  expiresAt?: string;
}

/** The supplier's answer to a hold call, uninterpreted. */
export interface HoldAnswer {
  status: number;
  hold?: PasHold;
  error?: PasError;
}

/** Hold ids: `hd_` and up to 61 characters from this alphabet (API.md 6.5); nothing else reaches a URL. */
export const HOLD_ID = /^hd_[A-Za-z0-9_-]{1,61}$/;

/** A booking as the supplier shows it; read loosely, since a supplier may add fields or values. */
export interface PasBooking {
  id?: string;
  status?: string;
  clinicId?: string;
  sessionId?: string;
  date?: string;
  time?: string;
  fold?: number;
  durationMinutes?: number;
  patient?: Partial<PasPatient>;
  referral?: Partial<PasReferral>;
  notes?: string;
  bookedBy?: string;
  createdAt?: string;
  cancelledAt?: string | null;
  version?: number;
}

export interface PasError {
  code?: string;
  message?: string;
  details?: { field?: string; message?: string }[];
}

export const CANCEL_REASONS = ['PATIENT_CANCELLED', 'REFERRER_CANCELLED', 'CLINIC_CANCELLED', 'DUPLICATE', 'OTHER'] as const;
export type CancelReason = (typeof CANCEL_REASONS)[number];

/** The supplier's answer to a booking call, uninterpreted. */
export interface BookingAnswer {
  status: number;
  /** The booking, when a 2xx body was one. A 2xx to a POST without one still means the booking stands. */
  booking?: PasBooking;
  /** 200 with Idempotent-Replayed: the answer to an earlier request with the same key. */
  replayed: boolean;
  /** Location of a created booking. */
  location?: string;
  /** The vendor error of a 4xx. */
  error?: PasError;
  /**
   * The error's message and details, sanitised (kit supplier-diagnostics.ts); none for a body that was not the
   * vendor's envelope. Developer text that may echo the request: returned to the caller, never logged.
   */
  diagnostics?: string;
}

export interface ListAnswer<T> {
  status: number;
  items?: T[];
  error?: PasError;
  diagnostics?: string;
}

export interface CallContext {
  consumer: ConsumerOrganisation;
  traceId: string;
}

/** Oakfield's page size limit (API.md section 2): the fewest pages for a search. */
export const MAX_PAGE_SIZE = 100;
/** A page cap, so a supplier whose `next` links loop cannot hold a request forever. */
const MAX_PAGES = 20;
/** The whole clinic list (clinics.ts) may be longer: up to 10,000 clinics at the largest page size. */
const MAX_CLINIC_LIST_PAGES = 100;
/**
 * And takes longer than one call's deadline when long: it is loaded once per process and then in the background, so
 * it may use up to this much (a request waiting on the first load gives up at its own deadline; the load goes on).
 */
const CLINIC_LIST_DEADLINE_MS = 10_000;
/** At most this many `externalId` filters per clinic lookup (API.md section 4). */
const MAX_EXTERNAL_IDS = 50;
/** Booking ids are opaque, up to 64 characters from this alphabet (API.md section 6): nothing else reaches a URL. */
export const BOOKING_ID = /^[A-Za-z0-9_-]{1,64}$/;
const CORRELATION_ID = /^[A-Za-z0-9-]{1,64}$/;

export interface ClientOptions {
  /** Items per page (1–100); lower only to exercise paging in tests. */
  pageSize?: number;
  now?: () => Date;
}

export class PasRestClient {
  private readonly pageSize: number;
  private readonly now: () => Date;

  /** `keys`: the API key of each PAS system, by registry id. */
  constructor(
    private readonly keys: ReadonlyMap<string, string>,
    opts: ClientOptions = {},
  ) {
    this.pageSize = Math.min(MAX_PAGE_SIZE, Math.max(1, opts.pageSize ?? MAX_PAGE_SIZE));
    this.now = opts.now ?? (() => new Date());
  }

  /**
   * A client for every PAS REST system in the registry, with each API key read now: a missing key stops start-up
   * with a message naming the system and the variable (kit/registry.ts credential()), not the first booking.
   */
  static forRegistry(registry: Registry, env: NodeJS.ProcessEnv = process.env, opts: ClientOptions = {}): PasRestClient {
    const keys = new Map<string, string>();
    for (const s of registry.systems) if (s.kind === 'PAS_REST') keys.set(s.id, credential(s, env));
    return new PasRestClient(keys, opts);
  }

  /** The clinics carrying any of these DoS service ids as an external reference (one request per 50 ids). */
  async clinicsForServices(system: PasRestSystem, serviceIds: readonly string[], ctx: CallContext): Promise<PasClinic[]> {
    const out: PasClinic[] = [];
    for (let i = 0; i < serviceIds.length; i += MAX_EXTERNAL_IDS) {
      const q = new URLSearchParams();
      for (const id of serviceIds.slice(i, i + MAX_EXTERNAL_IDS)) q.append('externalId', `dos:${id}`);
      out.push(...(await this.listOrThrow<PasClinic>(system, `/clinics?${q.toString()}`, ctx, isClinic)));
    }
    return out;
  }

  /**
   * Every clinic of the tenant (`GET /clinics`, no filter, in id order), every page within one deadline: the list
   * clinics.ts keeps and refreshes in the background, so a slot search needs no look-up first.
   */
  async allClinics(system: PasRestSystem, ctx: CallContext): Promise<PasClinic[]> {
    return this.listOrThrow<PasClinic>(system, '/clinics', ctx, isClinic, MAX_CLINIC_LIST_PAGES, Math.max(system.deadlineMs, CLINIC_LIST_DEADLINE_MS));
  }

  /** One clinic; null when the supplier has none by that id. */
  async clinic(system: PasRestSystem, clinicId: string, ctx: CallContext): Promise<PasClinic | null> {
    const res = await this.get(system, `/clinics/${encodeURIComponent(clinicId)}`, ctx, system.deadlineMs);
    if (res.status === 404) return null;
    if (res.status !== 200) throw rejected(system.id, res);
    const body = jsonOrUndefined(res.text);
    if (!isClinic(body)) throw new UpstreamError(system.id, 'INVALID_RESPONSE', 200, 'expected a clinic');
    return body;
  }

  /** A clinic's sessions on local dates `from`–`to` (inclusive, `YYYY-MM-DD`), every page, in one deadline. */
  async sessions(system: PasRestSystem, clinicId: string, from: string, to: string, ctx: CallContext): Promise<{ sessions: PasSession[]; fetchedAt: Date }> {
    const q = new URLSearchParams({ from, to });
    const sessions = await this.listOrThrow<PasSession>(system, `/clinics/${encodeURIComponent(clinicId)}/sessions?${q.toString()}`, ctx, isObject);
    return { sessions, fetchedAt: this.now() };
  }

  /**
   * Book (API.md 6.1) with `Idempotency-Key: <idempotencyKey>`. Not retried here (kit never retries a POST): the
   * booking flow decides when re-sending the same request with the same key is safe.
   */
  async book(system: PasRestSystem, body: PasBookingRequest, idempotencyKey: string, ctx: CallContext): Promise<BookingAnswer> {
    const res = await upstreamFetch(this.url(system, '/bookings'), {
      system: system.id,
      method: 'POST',
      body: JSON.stringify(body),
      deadlineMs: system.deadlineMs,
      headers: { ...this.headers(system, ctx), 'content-type': 'application/json', 'idempotency-key': idempotencyKey },
    });
    return bookingAnswer(system.id, res, true);
  }

  /** Hold a place (API.md 6.5). A POST: never retried here (a repeat could hold a second place). */
  async hold(system: PasRestSystem, body: PasHoldRequest, ctx: CallContext): Promise<HoldAnswer> {
    const res = await upstreamFetch(this.url(system, '/holds'), {
      system: system.id,
      method: 'POST',
      body: JSON.stringify(body),
      deadlineMs: system.deadlineMs,
      headers: { ...this.headers(system, ctx), 'content-type': 'application/json' },
    });
    return holdAnswer(res);
  }

  /** Release a hold (API.md 6.5); DELETE is idempotent at Oakfield. */
  async releaseHold(system: PasRestSystem, holdId: string, ctx: CallContext): Promise<HoldAnswer> {
    const res = await upstreamFetch(this.url(system, `/holds/${encodeURIComponent(holdId)}`), {
      system: system.id,
      method: 'DELETE',
      deadlineMs: system.deadlineMs,
      headers: this.headers(system, ctx),
    });
    return holdAnswer(res);
  }

  /** Read one booking (API.md 6.2); retried once like every GET. */
  async booking(system: PasRestSystem, bookingId: string, ctx: CallContext): Promise<BookingAnswer> {
    const res = await this.get(system, `/bookings/${encodeURIComponent(bookingId)}`, ctx, system.deadlineMs);
    return bookingAnswer(system.id, res, false);
  }

  /** Cancel (API.md 6.3). DELETE is idempotent at Oakfield, but the kit retries reads only: the flow re-sends. */
  async cancel(system: PasRestSystem, bookingId: string, reason: CancelReason, ctx: CallContext): Promise<BookingAnswer> {
    const q = new URLSearchParams({ reasonCode: reason });
    const res = await upstreamFetch(this.url(system, `/bookings/${encodeURIComponent(bookingId)}?${q.toString()}`), {
      system: system.id,
      method: 'DELETE',
      deadlineMs: system.deadlineMs,
      headers: this.headers(system, ctx),
    });
    return bookingAnswer(system.id, res, true);
  }

  /** The bookings this organisation made for a patient (API.md 6.4), every page; a refusal is returned, not thrown. */
  async patientBookings(system: PasRestSystem, nhsNumber: string, ctx: CallContext): Promise<ListAnswer<PasBooking>> {
    return this.list<PasBooking>(system, `/bookings?${new URLSearchParams({ nhsNumber }).toString()}`, ctx, isObject);
  }

  // ---- plumbing ---------------------------------------------------------------------------------------------------

  private headers(system: PasRestSystem, ctx: CallContext): Record<string, string> {
    const key = this.keys.get(system.id);
    // forRegistry reads every PAS system's key at start-up; a system added to the registry since is a bug here.
    if (!key) throw new UpstreamError(system.id, 'REJECTED', undefined, 'no API key loaded for this system');
    return {
      accept: 'application/json',
      'x-api-key': key,
      'x-requesting-organisation': ctx.consumer.odsCode,
      ...(CORRELATION_ID.test(ctx.traceId) ? { 'x-correlation-id': ctx.traceId } : {}),
    };
  }

  private url(system: PasRestSystem, path: string): string {
    return `${system.baseUrl}${path}`;
  }

  private get(system: PasRestSystem, pathOrUrl: string, ctx: CallContext, deadlineMs: number): Promise<UpstreamResponse> {
    return upstreamFetch(pathOrUrl.startsWith('/') ? this.url(system, pathOrUrl) : pathOrUrl, {
      system: system.id,
      deadlineMs,
      retries: 1,
      headers: this.headers(system, ctx),
    });
  }

  /** Every page of a list, within one deadline. A refusal of the first page is returned; a later one throws. */
  private async list<T>(
    system: PasRestSystem,
    path: string,
    ctx: CallContext,
    accept: (item: unknown) => item is T,
    maxPages = MAX_PAGES,
    deadlineMs = system.deadlineMs,
  ): Promise<ListAnswer<T>> {
    const deadline = Date.now() + deadlineMs;
    const sep = path.includes('?') ? '&' : '?';
    let next: string | undefined = this.url(system, `${path}${sep}limit=${this.pageSize}`);
    const items: T[] = [];
    for (let pages = 0; next; pages++) {
      if (pages >= maxPages) throw new UpstreamError(system.id, 'INVALID_RESPONSE', 200, `more than ${maxPages} pages`);
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new UpstreamError(system.id, 'TIMEOUT');
      const res = await this.get(system, next, ctx, remaining);
      if (res.status !== 200) {
        // A later page refused means the supplier broke its own cursor: not something the caller can act on.
        if (pages > 0) throw new UpstreamError(system.id, 'INVALID_RESPONSE', res.status, 'a later page was refused');
        return { status: res.status, ...errorBody(res.text) };
      }
      const page = jsonOrUndefined(res.text) as { data?: unknown; next?: unknown } | undefined;
      if (!page || !Array.isArray(page.data) || (page.next !== null && page.next !== undefined && typeof page.next !== 'string')) {
        throw new UpstreamError(system.id, 'INVALID_RESPONSE', 200, 'expected { data: [...], next }');
      }
      if (!page.data.every(accept)) throw new UpstreamError(system.id, 'INVALID_RESPONSE', 200, 'a list item has the wrong shape');
      items.push(...page.data);
      next = page.next ? nextPage(system, page.next) : undefined;
    }
    return { status: 200, items };
  }

  private async listOrThrow<T>(
    system: PasRestSystem,
    path: string,
    ctx: CallContext,
    accept: (item: unknown) => item is T,
    maxPages = MAX_PAGES,
    deadlineMs = system.deadlineMs,
  ): Promise<T[]> {
    const answer = await this.list(system, path, ctx, accept, maxPages, deadlineMs);
    if (answer.items) return answer.items;
    // 400: our query is wrong; 401: our key; 404: no such clinic (registry or supplier configuration drift). None
    // is fixed by asking again.
    throw new UpstreamError(system.id, 'REJECTED', answer.status, [answer.error?.code, answer.error?.message].filter(Boolean).join(': '));
  }
}

/**
 * The next page, only when it points back into the registered API: following a link elsewhere, even on the same
 * host, would send our API key to something the registry never named.
 */
export function nextPage(system: Pick<PasRestSystem, 'id' | 'baseUrl'>, href: string): string {
  return supplierLink({ system: system.id, baseUrl: system.baseUrl, withinPath: true }, href);
}

function bookingAnswer(systemId: string, res: UpstreamResponse, write: boolean): BookingAnswer {
  const location = res.headers.get('location') ?? undefined;
  const head = { status: res.status, replayed: res.headers.get('idempotent-replayed') === 'true', ...(location ? { location } : {}) };
  if (res.status >= 200 && res.status < 300) {
    const body = jsonOrUndefined(res.text);
    if (isObject(body) && typeof body.id === 'string') return { ...head, booking: body as PasBooking };
    if (!write) throw new UpstreamError(systemId, 'INVALID_RESPONSE', res.status, 'expected a booking');
    return head;
  }
  return { ...head, ...errorBody(res.text) };
}

function holdAnswer(res: UpstreamResponse): HoldAnswer {
  if (res.status >= 200 && res.status < 300) {
    const body = jsonOrUndefined(res.text);
    return { status: res.status, ...(isObject(body) ? { hold: body as PasHold } : {}) };
  }
  const { error } = errorBody(res.text);
  return { status: res.status, ...(error ? { error } : {}) };
}

/**
 * The vendor's error envelope, with its message and details as diagnostics made safe to show (kit
 * supplier-diagnostics.ts); a body in another shape (an HTML error page, a stack trace) gives no diagnostics at all.
 */
export function errorBody(text: string): { error?: PasError; diagnostics?: string } {
  const body = jsonOrUndefined(text) as { error?: unknown } | undefined;
  if (isObject(body) && isObject(body.error)) {
    const e = body.error as PasError;
    const error: PasError = {
      ...(typeof e.code === 'string' ? { code: e.code } : {}),
      ...(typeof e.message === 'string' ? { message: e.message } : {}),
      ...(Array.isArray(e.details) ? { details: e.details.filter(isObject) } : {}),
    };
    const diagnostics = errorEnvelopeDiagnostics(body);
    return { error, ...(diagnostics ? { diagnostics } : {}) };
  }
  return {};
}

function rejected(systemId: string, res: UpstreamResponse): UpstreamError {
  const { error } = errorBody(res.text);
  return new UpstreamError(systemId, 'REJECTED', res.status, [error?.code, error?.message].filter(Boolean).join(': '));
}

function isObject(v: unknown): v is Record<string, unknown> {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}

function isClinic(v: unknown): v is PasClinic {
  return isObject(v) && typeof v.id === 'string';
}
