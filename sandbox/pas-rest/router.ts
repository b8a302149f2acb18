/**
 * The Oakfield PAS API (API.md) as a request handler: authentication, the rate limit and the requesting organisation
 * first, then the resources. Every answer carries X-Request-Id and the rate-limit headers; every error the vendor's
 * envelope with that request id.
 */
import { createHash, randomBytes } from 'node:crypto';
import { isValidNhsNumber } from '../booking-standard/nhs-number.js';
import type { SandboxHandler, SandboxRequest, SandboxResponse } from '../lib/http.js';
import { addDays, daysBetween, londonDateOf, type LocalDate } from '../lib/london-time.js';
import { BookingStore, CANCELLATION_REASONS, type Booking, type CancellationReason } from './bookings.js';
import { buildClinics, type Clinic } from './clinics.js';
import { vendorError, type VendorError } from './errors.js';
import { HoldStore, MAX_HOLD_SECONDS, type Hold } from './holds.js';
import { pageOf, parsePage } from './paging.js';
import { TokenBuckets, type RateLimitOptions } from './rate-limit.js';
import { parseSessionId, sessionsOn, timeKey, type Session } from './sessions.js';
import { checkBookingRequest } from './validate.js';
import { parseDate, parseTime } from './wall-clock.js';

export const API_PREFIX = '/api/v2';
/** Sessions are released this many days ahead, and stay listed this many days after. */
export const RELEASE_DAYS = 14;
export const HISTORY_DAYS = 7;
const MAX_RANGE_DAYS = 31;
const MAX_BODY_BYTES = 64 * 1024;
const MAX_EXTERNAL_IDS = 50;
const ODS = /^[A-Z0-9]{2,10}$/;
const BOOKING_ID = /^[A-Za-z0-9_-]{1,64}$/;
const HOLD_ID = /^hd_[A-Za-z0-9_-]{1,61}$/;
const CORRELATION_ID = /^[A-Za-z0-9-]{1,64}$/;
const IDEMPOTENCY_KEY = /^[\x20-\x7e]{1,255}$/;

export interface RouterOptions {
  now: () => Date;
  apiKeys: ReadonlySet<string>;
  rateLimit: RateLimitOptions;
  /** Origin for `next` links and Location: fixed, or from the request's Host. */
  origin: (req: SandboxRequest) => string;
}

export interface PasProvider {
  handler: SandboxHandler;
  store: BookingStore;
  holds: HoldStore;
  clinics: readonly Clinic[];
}

interface Call {
  req: SandboxRequest;
  organisation: string;
  apiKey: string;
}

export function createPasProvider(opts: RouterOptions): PasProvider {
  const clinics = buildClinics();
  const clinicById = new Map(clinics.map((c) => [c.id, c]));
  const store = new BookingStore();
  const holds = new HoldStore();
  const buckets = new TokenBuckets(opts.rateLimit);

  const handler: SandboxHandler = (req) => {
    const requestId = `req_${randomBytes(8).toString('hex')}`;
    const extra: Record<string, string> = { 'x-request-id': requestId };
    const correlation = header(req, 'x-correlation-id');
    if (correlation && CORRELATION_ID.test(correlation)) extra['x-correlation-id'] = correlation;
    const res = admitAndRoute(req, extra);
    const body = res.body as { error?: VendorError } | undefined;
    if (body?.error) body.error.requestId = requestId;
    return { ...res, headers: { ...extra, ...res.headers } };
  };

  function admitAndRoute(req: SandboxRequest, extra: Record<string, string>): SandboxResponse {
    if (req.path !== API_PREFIX && !req.path.startsWith(`${API_PREFIX}/`)) return vendorError(404, 'NOT_FOUND', 'No such endpoint');
    const apiKey = header(req, 'x-api-key');
    if (!apiKey || !opts.apiKeys.has(apiKey)) return vendorError(401, 'UNAUTHORISED', 'Missing or unknown API key (X-Api-Key)');
    const admission = buckets.take(apiKey);
    extra['x-ratelimit-limit'] = String(buckets.limit);
    if (!admission.admitted) {
      extra['x-ratelimit-remaining'] = '0';
      return vendorError(429, 'RATE_LIMITED', 'Too many requests for this API key', undefined, { 'retry-after': String(admission.retryAfterSeconds) });
    }
    extra['x-ratelimit-remaining'] = String(admission.remaining);
    const organisation = (header(req, 'x-requesting-organisation') ?? '').trim().toUpperCase();
    if (!ODS.test(organisation)) {
      return vendorError(400, 'ORGANISATION_REQUIRED', 'X-Requesting-Organisation must name the requesting organisation by its ODS code');
    }
    return route({ req, organisation, apiKey });
  }

  function route(call: Call): SandboxResponse {
    const { req } = call;
    let parts: string[];
    try {
      parts = req.path.slice(API_PREFIX.length).split('/').filter(Boolean).map(decodeURIComponent);
    } catch {
      return vendorError(404, 'NOT_FOUND', 'No such endpoint');
    }
    const m = req.method;
    if (parts[0] === 'clinics') {
      if (parts.length === 1) return m === 'GET' ? listClinics(call) : notAllowed();
      if (parts.length === 2) return m === 'GET' ? getClinic(parts[1]!) : notAllowed();
      if (parts.length === 3 && parts[2] === 'sessions') return m === 'GET' ? listSessions(call, parts[1]!) : notAllowed();
    }
    if (parts[0] === 'holds') {
      if (parts.length === 1) return m === 'POST' ? createHold(call) : notAllowed();
      if (parts.length === 2) return m === 'GET' ? getHold(call, parts[1]!) : m === 'DELETE' ? releaseHold(call, parts[1]!) : notAllowed();
    }
    if (parts[0] === 'bookings') {
      if (parts.length === 1) return m === 'POST' ? createBooking(call) : m === 'GET' ? searchBookings(call) : notAllowed();
      if (parts.length === 2) return m === 'GET' ? getBooking(call, parts[1]!) : m === 'DELETE' ? cancelBooking(call, parts[1]!) : notAllowed();
    }
    return vendorError(404, 'NOT_FOUND', 'No such endpoint');
  }

  // ---- clinics and sessions --------------------------------------------------------------------------------------

  function listClinics({ req }: Call): SandboxResponse {
    const wanted = req.query.getAll('externalId');
    if (wanted.length > MAX_EXTERNAL_IDS) return badRequest('externalId', `at most ${MAX_EXTERNAL_IDS} external ids`);
    const bad = wanted.find((w) => !/^[a-z][a-z0-9-]*:.+$/.test(w));
    if (bad !== undefined) return badRequest('externalId', 'must be <system>:<value>, e.g. dos:1402000107');
    const matches = wanted.length === 0 ? clinics : clinics.filter((c) => c.externalIds.some((e) => wanted.includes(`${e.system}:${e.value}`)));
    return page(req, matches.map(clinicView));
  }

  function getClinic(id: string): SandboxResponse {
    const c = clinicById.get(id);
    return c ? { status: 200, body: clinicView(c) } : vendorError(404, 'CLINIC_NOT_FOUND', 'No such clinic');
  }

  function listSessions({ req }: Call, clinicId: string): SandboxResponse {
    const clinic = clinicById.get(clinicId);
    if (!clinic) return vendorError(404, 'CLINIC_NOT_FOUND', 'No such clinic');
    const from = parseDate(req.query.get('from'));
    const to = parseDate(req.query.get('to'));
    if (!from) return badRequest('from', 'required: a date, YYYY-MM-DD');
    if (!to) return badRequest('to', 'required: a date, YYYY-MM-DD');
    const days = daysBetween(from, to);
    if (days < 0) return badRequest('to', 'must not be before from');
    if (days > MAX_RANGE_DAYS) return vendorError(400, 'RANGE_TOO_LARGE', `from and to may be at most ${MAX_RANGE_DAYS} days apart`);
    const sessions: Session[] = [];
    for (let d = from; daysBetween(d, to) >= 0; d = addDays(d, 1)) {
      if (released(d)) sessions.push(...sessionsOn(clinic, d));
    }
    return page(req, sessions.map(sessionView));
  }

  function released(d: LocalDate): boolean {
    const ahead = daysBetween(londonDateOf(opts.now().getTime()), d);
    return ahead >= -HISTORY_DAYS && ahead <= RELEASE_DAYS;
  }

  function sessionById(id: string): Session | undefined {
    const named = parseSessionId(id);
    const clinic = named && clinicById.get(named.clinicId);
    const date = named && parseDate(named.date);
    if (!clinic || !date || !released(date)) return undefined;
    return sessionsOn(clinic, date).find((s) => s.id === id);
  }

  function sessionView(s: Session) {
    const taken = store.takenIn(s.id);
    const booked = s.times.flatMap((t) => {
      const k = timeKey(t.time, t.fold);
      const count = (s.prebooked.get(k) ?? 0) + (taken.get(k) ?? 0);
      return count > 0 ? [{ time: t.time, ...(t.fold ? { fold: 1 } : {}), count }] : [];
    });
    const live = holds.heldIn(s.id, opts.now().getTime());
    const held = s.times.flatMap((t) => {
      const count = live.get(timeKey(t.time, t.fold)) ?? 0;
      return count > 0 ? [{ time: t.time, ...(t.fold ? { fold: 1 } : {}), count }] : [];
    });
    return {
      id: s.id,
      clinicId: s.clinicId,
      date: s.date,
      start: s.start,
      end: s.end,
      slotMinutes: s.slotMinutes,
      capacity: s.capacity,
      mode: s.mode,
      status: s.status,
      label: s.label,
      ...(s.clinician ? { clinician: s.clinician } : {}),
      booked,
      held,
    };
  }

  // ---- bookings ---------------------------------------------------------------------------------------------------

  function createBooking(call: Call): SandboxResponse {
    const { req } = call;
    if (!(header(req, 'content-type') ?? '').toLowerCase().startsWith('application/json')) {
      return vendorError(415, 'UNSUPPORTED_MEDIA_TYPE', 'Send the booking as application/json');
    }
    if (Buffer.byteLength(req.body) > MAX_BODY_BYTES) return vendorError(413, 'PAYLOAD_TOO_LARGE', 'The body is larger than 64 KB');
    const key = header(req, 'idempotency-key');
    if (!key || !IDEMPOTENCY_KEY.test(key) || key.trim() === '') {
      return vendorError(400, 'IDEMPOTENCY_KEY_REQUIRED', 'POST /bookings needs an Idempotency-Key header: 1-255 printable ASCII characters');
    }
    let body: unknown;
    try {
      body = JSON.parse(req.body);
    } catch {
      return vendorError(400, 'MALFORMED_JSON', 'The body is not valid JSON');
    }

    const nowMs = opts.now().getTime();
    const scope = `${sha256(call.apiKey)}|${call.organisation}|${key}`;
    const fingerprint = sha256(canonicalJson(body));
    const earlier = store.replayFor(scope, fingerprint, nowMs);
    if (earlier.kind === 'mismatch') {
      return vendorError(422, 'IDEMPOTENCY_KEY_REUSED', 'This Idempotency-Key was already used with a different request body');
    }
    if (earlier.kind === 'replay') {
      return { status: 200, headers: { 'idempotent-replayed': 'true', location: bookingUrl(req, earlier.booking.id) }, body: { ...earlier.booking } };
    }

    const checked = checkBookingRequest(body, opts.now());
    if (!checked.ok) {
      const message = checked.code === 'PATIENT_INVALID' ? "The patient's details are not valid" : 'The booking request is not valid';
      return vendorError(422, checked.code, message, checked.details);
    }
    const request = checked.request;
    const session = sessionById(request.sessionId);
    if (!session) return vendorError(404, 'SESSION_NOT_FOUND', 'No such session, or not released yet');
    if (session.status !== 'OPEN' || clinicById.get(session.clinicId)?.status !== 'ACTIVE') {
      return vendorError(409, 'SESSION_CLOSED', 'The session is not taking bookings');
    }
    const at = session.times.find((t) => t.time === request.time && t.fold === request.fold);
    if (!at) {
      return vendorError(422, 'TIME_NOT_IN_SESSION', 'Not an appointment time of this session (see API.md section 3 on clock changes)', [
        { field: 'time', message: 'not one of the session\'s appointment times' },
      ]);
    }
    if (at.startMs <= nowMs) return vendorError(422, 'TIME_IN_PAST', 'The appointment time has passed');
    const k = timeKey(at.time, at.fold);
    const taken = (session.prebooked.get(k) ?? 0) + (store.takenIn(session.id).get(k) ?? 0);
    // A held place is booked only with its hold's id, by the organisation holding it (6.5).
    const holdId = (body as { holdId?: unknown }).holdId;
    let hold: Hold | undefined;
    if (holdId !== undefined) {
      if (typeof holdId !== 'string' || !HOLD_ID.test(holdId)) {
        return vendorError(422, 'VALIDATION_FAILED', 'The booking request is not valid', [{ field: 'holdId', message: 'a hold id (hd_...)' }]);
      }
      hold = holds.get(holdId, nowMs);
      if (!hold || hold.heldBy !== call.organisation || hold.status !== 'HELD' || hold.sessionId !== session.id || timeKey(hold.time, hold.fold ?? 0) !== k) {
        return vendorError(409, 'HOLD_INVALID', 'The hold does not exist, has ended, is another organisation\'s, or is for another time');
      }
    }
    const held = (holds.heldIn(session.id, nowMs).get(k) ?? 0) - (hold ? 1 : 0);
    if (taken + held >= session.capacity) {
      return taken >= session.capacity
        ? vendorError(409, 'SLOT_FULL', 'Every place at this time is taken')
        : vendorError(409, 'SLOT_HELD', 'Every free place at this time is held; book it with its holdId, or try again when the hold ends');
    }

    const booking = store.create({ scope, key, fingerprint, organisation: call.organisation, session, at, request, nowMs });
    if (hold) holds.convert(hold.id, booking.id, nowMs);
    return { status: 201, headers: { location: bookingUrl(req, booking.id), etag: etag(booking) }, body: { ...booking } };
  }

  // ---- holds ------------------------------------------------------------------------------------------------------

  function createHold(call: Call): SandboxResponse {
    const { req } = call;
    if (!(header(req, 'content-type') ?? '').toLowerCase().startsWith('application/json')) {
      return vendorError(415, 'UNSUPPORTED_MEDIA_TYPE', 'Send the hold as application/json');
    }
    if (Buffer.byteLength(req.body) > MAX_BODY_BYTES) return vendorError(413, 'PAYLOAD_TOO_LARGE', 'The body is larger than 64 KB');
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(req.body) as Record<string, unknown>;
    } catch {
      return vendorError(400, 'MALFORMED_JSON', 'The body is not valid JSON');
    }
    const details: { field: string; message: string }[] = [];
    if (!body || typeof body !== 'object' || Array.isArray(body)) details.push({ field: '', message: 'the body must be a JSON object' });
    else {
      if (typeof body.sessionId !== 'string' || body.sessionId.length < 1 || body.sessionId.length > 64) details.push({ field: 'sessionId', message: 'required: the session id' });
      if (typeof body.time !== 'string' || parseTime(body.time) === null) details.push({ field: 'time', message: 'required: HH:mm, 24-hour' });
      if (body.fold !== undefined && body.fold !== 0 && body.fold !== 1) details.push({ field: 'fold', message: 'must be 0 or 1 when given' });
      if (!Number.isInteger(body.seconds) || (body.seconds as number) < 1 || (body.seconds as number) > MAX_HOLD_SECONDS) {
        details.push({ field: 'seconds', message: `required: a whole number of seconds from 1 to ${MAX_HOLD_SECONDS}` });
      }
    }
    if (details.length > 0) return vendorError(422, 'VALIDATION_FAILED', 'The hold request is not valid', details);
    const nowMs = opts.now().getTime();
    const session = sessionById(body.sessionId as string);
    if (!session) return vendorError(404, 'SESSION_NOT_FOUND', 'No such session, or not released yet');
    if (session.status !== 'OPEN' || clinicById.get(session.clinicId)?.status !== 'ACTIVE') {
      return vendorError(409, 'SESSION_CLOSED', 'The session is not taking bookings');
    }
    const fold = body.fold === 1 ? 1 : 0;
    const at = session.times.find((t) => t.time === body.time && t.fold === fold);
    if (!at) return vendorError(422, 'TIME_NOT_IN_SESSION', 'Not an appointment time of this session', [{ field: 'time', message: "not one of the session's appointment times" }]);
    if (at.startMs <= nowMs) return vendorError(422, 'TIME_IN_PAST', 'The appointment time has passed');
    const k = timeKey(at.time, at.fold);
    const taken = (session.prebooked.get(k) ?? 0) + (store.takenIn(session.id).get(k) ?? 0);
    if (taken >= session.capacity) return vendorError(409, 'SLOT_FULL', 'Every place at this time is taken');
    if (taken + (holds.heldIn(session.id, nowMs).get(k) ?? 0) >= session.capacity) {
      return vendorError(409, 'SLOT_HELD', 'Every free place at this time is held by someone else');
    }
    const hold = holds.create({ organisation: call.organisation, session, at, seconds: body.seconds as number, nowMs });
    return { status: 201, headers: { location: `${opts.origin(req)}${API_PREFIX}/holds/${hold.id}` }, body: hold };
  }

  /** The hold when it exists and is the caller's; otherwise the error to answer with. */
  function ownHold(call: Call, id: string): Hold | SandboxResponse {
    const h = HOLD_ID.test(id) ? holds.get(id, opts.now().getTime()) : undefined;
    if (!h) return vendorError(404, 'HOLD_NOT_FOUND', 'No such hold');
    if (h.heldBy !== call.organisation) return vendorError(403, 'HOLD_FORBIDDEN', 'This hold was made by another organisation');
    return h;
  }

  function getHold(call: Call, id: string): SandboxResponse {
    const h = ownHold(call, id);
    return 'heldBy' in h ? { status: 200, body: h } : h;
  }

  function releaseHold(call: Call, id: string): SandboxResponse {
    const h = ownHold(call, id);
    return 'heldBy' in h ? { status: 200, body: holds.release(h.id, opts.now().getTime()) } : h;
  }

  /** The booking when it exists and is the caller's; otherwise the error to answer with. */
  function ownBooking(call: Call, id: string): Booking | SandboxResponse {
    const b = BOOKING_ID.test(id) ? store.get(id) : undefined;
    if (!b) return vendorError(404, 'BOOKING_NOT_FOUND', 'No such booking');
    if (b.bookedBy !== call.organisation) return vendorError(403, 'BOOKING_FORBIDDEN', 'This booking was made by another organisation');
    return b;
  }

  function getBooking(call: Call, id: string): SandboxResponse {
    const b = ownBooking(call, id);
    if (!isBooking(b)) return b;
    return { status: 200, headers: { etag: etag(b) }, body: { ...b } };
  }

  function cancelBooking(call: Call, id: string): SandboxResponse {
    const reason = call.req.query.get('reasonCode') ?? 'REFERRER_CANCELLED';
    if (!(CANCELLATION_REASONS as readonly string[]).includes(reason)) return badRequest('reasonCode', `one of ${CANCELLATION_REASONS.join(', ')}`);
    const b = ownBooking(call, id);
    if (!isBooking(b)) return b;
    if (b.status === 'CANCELLED') return { status: 200, headers: { etag: etag(b) }, body: { ...b } };
    const nowMs = opts.now().getTime();
    const at = sessionById(b.sessionId)?.times.find((t) => t.time === b.time && t.fold === (b.fold ?? 0));
    if (b.status !== 'BOOKED' || !at || at.startMs <= nowMs) {
      return vendorError(409, 'BOOKING_NOT_CANCELLABLE', 'The appointment time has passed or the patient attended');
    }
    const cancelled = store.cancel(b.id, reason as CancellationReason, nowMs);
    return { status: 200, headers: { etag: etag(cancelled) }, body: { ...cancelled } };
  }

  function searchBookings(call: Call): SandboxResponse {
    const nhsNumber = call.req.query.get('nhsNumber');
    if (!nhsNumber || !isValidNhsNumber(nhsNumber)) return badRequest('nhsNumber', 'required: 10 digits passing the NHS number check digit');
    return page(call.req, store.forPatient(call.organisation, nhsNumber).map((b) => ({ ...b })));
  }

  // ---- helpers ----------------------------------------------------------------------------------------------------

  function page<T>(req: SandboxRequest, items: readonly T[]): SandboxResponse {
    const p = parsePage(req.query);
    if (!p.ok) return vendorError(400, p.code, p.message, p.code === 'BAD_REQUEST' ? [{ field: 'limit', message: p.message }] : undefined);
    return { status: 200, body: pageOf(items, p.page, req.url, opts.origin(req)) };
  }

  function bookingUrl(req: SandboxRequest, id: string): string {
    return `${opts.origin(req)}${API_PREFIX}/bookings/${id}`;
  }

  return { handler, store, holds, clinics };
}

function clinicView(c: Clinic) {
  const { rota: _rota, ...view } = c;
  return view;
}

function isBooking(v: Booking | SandboxResponse): v is Booking {
  return 'bookedBy' in v;
}

function etag(b: Booking): string {
  return `W/"${b.version}"`;
}

function notAllowed(): SandboxResponse {
  return vendorError(405, 'METHOD_NOT_ALLOWED', 'Method not allowed on this endpoint');
}

function badRequest(field: string, message: string): SandboxResponse {
  return vendorError(400, 'BAD_REQUEST', `Invalid query parameter ${field}`, [{ field, message }]);
}

function header(req: SandboxRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** JSON with object keys sorted at every level: the same value always gives the same text (API.md 6.1). */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
