/**
 * Appointments at one provider (spec §2.4–2.7): book, read and vread, cancel, and the (optional, registry-era)
 * search by NHS number. Version-aware as FHIR STU3 http.html#concurrency: every change makes a new opaque versionId,
 * old versions are kept, ETag is W/"<versionId>" and a cancel must quote it in If-Match.
 *
 * Booking is atomic: the slot is checked and taken in one synchronous step, so two consumers racing for one slot get
 * one 201 and one "slot no longer available". An appointment is visible only to the organisation that booked it.
 */
import { randomUUID } from 'node:crypto';
import type { SandboxResponse } from '../lib/http.js';
import { validateBooking, isObj } from './appointment-validation.js';
import { uuidOf, type DiarySlot } from './diary.js';
import { FhirError } from './errors.js';
import { uuidV5 } from './prng.js';
import { SYSTEM } from './resources.js';
import type { InteractionContext } from './router.js';
import { SlotStore } from './slot-store.js';
import { header } from './ssp-headers.js';
import type { Tenant } from './tenants.js';

type Obj = Record<string, unknown>;

interface Version {
  vid: string;
  resource: Obj;
  lastModifiedMs: number;
}

interface StoredAppointment {
  id: string;
  /** ODS code of the booking organisation: the only one that may read or cancel it. */
  bookedBy: string;
  slot: DiarySlot;
  nhsNumber?: string;
  versions: Version[];
}

/** One stored appointment version as the sandbox control API lists it. */
export interface StoredVersionView {
  tenant: string;
  id: string;
  versionId: string;
  /** Whether this is the appointment's latest version. */
  current: boolean;
  /** ODS code of the organisation that booked it. */
  bookedBy: string;
  lastModified: string;
  resource: Obj;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const CANCELLED_STATUSES = new Set(['cancelled', 'entered-in-error']);

export class AppointmentBook {
  private readonly byId = new Map<string, StoredAppointment>();
  /** X-Request-IDs of requests that changed something: a repeat is refused with 409 (UEC). */
  private readonly seenRequestIds = new Set<string>();

  constructor(
    readonly tenant: Tenant,
    readonly slots: SlotStore,
  ) {}

  book(ctx: InteractionContext): SandboxResponse {
    requireJsonBody(ctx);
    const requestId = this.freshRequestId(ctx);
    const request = validateBooking(parseBody(ctx), ctx.nowMs);

    const slot = this.slots.findSlot(request.slot.scheduleId, request.slot.startMs);
    if (!slot || slot.endMs !== request.slot.endMs || uuidOf(this.tenant.id, slot) !== request.slot.uuid) {
      throw new FhirError(422, {
        code: 'invalid',
        spineCode: 'REFERENCE_NOT_FOUND',
        expression: 'Appointment.contained.Slot',
        diagnostics: 'The contained Slot (schedule, start, end, identifier) is not a slot in this provider\'s diary',
      });
    }
    // A slot this consumer may not see is answered like a taken one: its existence is not theirs to know.
    if (!SlotStore.visibleTo(slot, ctx.consumer.odsCode) || this.slots.statusOf(slot) !== 'free') throw this.slotTaken();

    // Commit. Nothing below awaits, so no other request can interleave between the check above and these writes.
    slot.status = 'busy';
    const id = randomUUID();
    const version = this.newVersion(ctx, { ...request.appointment, id, created: new Date(ctx.nowMs).toISOString() });
    withLocalPatientId(version.resource, request.patient, this.tenant.id, id);
    this.byId.set(id, {
      id,
      bookedBy: ctx.consumer.odsCode,
      slot,
      ...(request.patient.nhsNumber ? { nhsNumber: request.patient.nhsNumber } : {}),
      versions: [version],
    });
    this.seenRequestIds.add(requestId);
    return ctx.respond(201, version.resource, versionHeaders(ctx.baseUrl, id, version));
  }

  read(ctx: InteractionContext): SandboxResponse {
    const appt = this.owned(ctx);
    const version = ctx.vid === undefined ? appt.versions.at(-1)! : appt.versions.find((v) => v.vid === ctx.vid);
    if (!version) throw notFound(`Appointment ${appt.id} has no version ${ctx.vid}`);
    const { location, ...headers } = versionHeaders(ctx.baseUrl, appt.id, version);
    return ctx.respond(200, version.resource, { ...headers, 'content-location': location });
  }

  cancel(ctx: InteractionContext): SandboxResponse {
    requireJsonBody(ctx);
    const requestId = this.freshRequestId(ctx);
    const appt = this.owned(ctx);
    const current = appt.versions.at(-1)!;

    const ifMatch = header(ctx.req.headers, 'If-Match');
    if (!ifMatch) {
      throw new FhirError(412, {
        code: 'not-supported',
        spineCode: 'BAD_REQUEST',
        hl7Code: 'MSG_TRANSACTION_MISSING_ID',
        diagnostics: 'If-Match is required: read the appointment and send its ETag (W/"<versionId>")',
      });
    }
    if (etagValue(ifMatch) !== current.vid) {
      throw new FhirError(409, {
        code: 'conflict',
        spineCode: 'CONFLICTING_VALUES',
        hl7Code: 'MSG_VERSION_AWARE_CONFLICT',
        diagnostics: `If-Match ${ifMatch} is not the current version of Appointment ${appt.id}; read it again`,
      });
    }

    const body = parseBody(ctx);
    if (!isObj(body) || body['resourceType'] !== 'Appointment' || body['id'] !== appt.id) {
      throw new FhirError(400, { code: 'invalid', spineCode: 'BAD_REQUEST', diagnostics: `The body must be Appointment ${appt.id} as read, with status changed` });
    }
    const status = body['status'];
    const currentStatus = current.resource['status'];
    if (typeof status !== 'string' || !CANCELLED_STATUSES.has(status)) {
      throw unprocessable('Appointment.status', 'The only change allowed is status to "cancelled" (or "entered-in-error")');
    }
    // Anything but status (and meta, which the server owns) differing from the stored version is refused.
    if (canonical(withoutServerFields(body)) !== canonical(withoutServerFields(current.resource))) {
      throw unprocessable('Appointment', 'Differences detected: only Appointment.status may change when cancelling');
    }
    if (status === currentStatus) {
      // Already in that state: nothing to change, so no new version (a repeated cancel is harmless).
      this.seenRequestIds.add(requestId);
      return ctx.respond(200, current.resource, versionHeaders(ctx.baseUrl, appt.id, current));
    }
    if (currentStatus !== 'booked') throw unprocessable('Appointment.status', `Appointment ${appt.id} is ${String(currentStatus)} and cannot change`);

    const version = this.newVersion(ctx, { ...current.resource, status });
    appt.versions.push(version);
    if (appt.slot.status === 'busy') appt.slot.status = 'free';
    this.seenRequestIds.add(requestId);
    return ctx.respond(200, version.resource, versionHeaders(ctx.baseUrl, appt.id, version));
  }

  /**
   * `GET /Appointment?identifier=<system>|<value>`, the one search parameter besides `_id` and `version` the
   * CapabilityStatement declares (spec §2.2), read as a FHIR server reads it:
   *   - with the NHS number system, the registry-era patient search (spec §2.7; the NBA page's long parameter name is
   *     accepted too): this organisation's future appointments for that patient, unpaged;
   *   - with any other system, FHIR's own meaning of Appointment `identifier`: appointments carrying that identifier
   *     (a consumer's booking reference, say), this organisation's only.
   * A token without a system, or an NHS number that is not ten digits, is a 400.
   */
  search(ctx: InteractionContext): SandboxResponse {
    const q = ctx.req.query;
    const raw = q.get('identifier') ?? q.get('Appointment.participant.actor:Patient.identifier') ?? q.get('patient:identifier');
    const token = raw ? /^([^|]+)\|(.{1,200})$/.exec(raw) : null;
    const nhs = token && token[1] === SYSTEM.nhsNumber ? /^(\d{10})$/.exec(token[2]!) : null;
    const patientSearch = !!token && token[1] === SYSTEM.nhsNumber;
    if (!token || (patientSearch && !nhs) || (!patientSearch && !q.has('identifier'))) {
      throw new FhirError(400, {
        code: 'invalid',
        spineCode: 'INVALID_PARAMETER',
        expression: 'identifier',
        diagnostics: `Search by identifier=${SYSTEM.nhsNumber}|<NHS number>, or identifier=<system>|<value> of the Appointment`,
      });
    }
    const [, system, value] = token;
    const hits = [...this.byId.values()].filter((a) => {
      if (a.bookedBy !== ctx.consumer.odsCode) return false;
      if (patientSearch) return a.nhsNumber === nhs![1] && a.slot.endMs > ctx.nowMs;
      return identifiersOf(a.versions.at(-1)!.resource).some((i) => i['system'] === system && i['value'] === value);
    });
    const entry = hits.map((a) => {
      const v = a.versions.at(-1)!;
      return { fullUrl: `${ctx.baseUrl}/Appointment/${a.id}/_history/${v.vid}`, resource: v.resource, search: { mode: 'match' } };
    });
    return ctx.respond(200, {
      resourceType: 'Bundle',
      id: randomUUID(),
      meta: { lastUpdated: new Date(ctx.nowMs).toISOString() },
      type: 'searchset',
      total: entry.length,
      link: [{ relation: 'self', url: `${ctx.baseUrl}/Appointment${ctx.req.url.search}` }],
      ...(entry.length > 0 ? { entry } : {}),
    });
  }

  /**
   * Every stored version of every appointment, oldest first, for the sandbox control API (tests check what a
   * consumer's booking actually stored). Not a FHIR interaction: no access control, because it is not the API.
   */
  storedVersions(): StoredVersionView[] {
    return [...this.byId.values()].flatMap((a) =>
      a.versions.map((v, i) => ({
        tenant: this.tenant.id,
        id: a.id,
        versionId: v.vid,
        current: i === a.versions.length - 1,
        bookedBy: a.bookedBy,
        lastModified: new Date(v.lastModifiedMs).toISOString(),
        resource: v.resource,
      })),
    );
  }

  /** The appointment named in the path, if the caller's organisation booked it. */
  private owned(ctx: InteractionContext): StoredAppointment {
    const appt = this.byId.get(ctx.id!);
    if (!appt) throw notFound(`No Appointment ${ctx.id}`);
    if (appt.bookedBy !== ctx.consumer.odsCode) {
      throw new FhirError(403, {
        code: 'forbidden',
        spineCode: 'ACCESS_DENIED',
        diagnostics: `Appointment ${appt.id} was booked by another organisation`,
      });
    }
    return appt;
  }

  /** X-Request-ID is required on POST and PUT (TKW: 400 without) and may not be reused (UEC: 409). */
  private freshRequestId(ctx: InteractionContext): string {
    const id = header(ctx.req.headers, 'X-Request-ID');
    if (!id || !UUID.test(id)) {
      throw new FhirError(400, {
        code: 'invalid',
        spineCode: 'MISSING_OR_INVALID_HEADER',
        expression: 'header:X-Request-ID',
        diagnostics: id ? `X-Request-ID "${id}" is not a UUID` : 'X-Request-ID is required on POST and PUT',
      });
    }
    if (this.seenRequestIds.has(id)) {
      throw new FhirError(409, {
        code: 'duplicate',
        spineCode: 'DUPLICATE_REJECTED',
        diagnostics: `X-Request-ID ${id} has already been processed: this request may already have taken effect`,
      });
    }
    return id;
  }

  private slotTaken(): FhirError {
    return this.tenant.slotTakenStatus === 409
      ? new FhirError(409, { code: 'conflict', spineCode: 'DUPLICATE_REJECTED', diagnostics: 'Slot no longer available' })
      : new FhirError(422, { code: 'processing', spineCode: 'INVALID_RESOURCE', hl7Code: 'MSG_RESOURCE_ID_FAIL', diagnostics: 'Slot no longer available' });
  }

  private newVersion(ctx: InteractionContext, resource: Obj): Version {
    // Opaque version ids (UUIDs, as TKW issues): consumers must not assume integers.
    const vid = randomUUID();
    const meta = isObj(resource['meta']) ? resource['meta'] : {};
    return {
      vid,
      lastModifiedMs: ctx.nowMs,
      resource: { ...resource, meta: { ...meta, versionId: vid, lastUpdated: new Date(ctx.nowMs).toISOString() } },
    };
  }
}

function versionHeaders(baseUrl: string, id: string, v: Version): { location: string; etag: string; 'last-modified': string } {
  return {
    location: `${baseUrl}/Appointment/${id}/_history/${v.vid}`,
    etag: `W/"${v.vid}"`,
    'last-modified': new Date(v.lastModifiedMs).toUTCString(),
  };
}

/** `W/"abc"`, `"abc"` or `abc` → `abc`. */
function etagValue(ifMatch: string): string {
  return ifMatch.trim().replace(/^W\//, '').replace(/^"(.*)"$/, '$1');
}

/** Bodies must be FHIR JSON; XML (TKW: application/xml) or anything else is 415. */
function requireJsonBody(ctx: InteractionContext): void {
  const type = (header(ctx.req.headers, 'Content-Type') ?? '').split(';')[0]!.trim().toLowerCase();
  if (!['application/fhir+json', 'application/json', 'application/json+fhir'].includes(type)) {
    throw new FhirError(415, {
      code: 'not-supported',
      spineCode: 'UNSUPPORTED_MEDIA_TYPE',
      hl7Code: 'MSG_RESOURCE_TYPE_MISMATCH',
      diagnostics: `Content-Type "${type || '(none)'}" is not supported; send application/fhir+json`,
    });
  }
}

function parseBody(ctx: InteractionContext): unknown {
  try {
    return JSON.parse(ctx.req.body);
  } catch {
    throw new FhirError(400, { code: 'structure', spineCode: 'INVALID_REQUEST_MESSAGE', diagnostics: 'The request body is not valid JSON' });
  }
}

/** With no NHS number the provider records its own patient identifier, so later calls can name the patient. */
function withLocalPatientId(appointment: Obj, patient: { containedId: string; nhsNumber?: string }, tenantId: string, appointmentId: string): void {
  if (patient.nhsNumber) return;
  const contained = appointment['contained'] as Obj[];
  appointment['contained'] = contained.map((r) =>
    r['resourceType'] === 'Patient' && r['id'] === patient.containedId
      ? { ...r, identifier: [{ system: `https://${tenantId}.sandbox.invalid/Id/patient`, value: uuidV5(`patient|${appointmentId}`) }] }
      : r,
  );
}

function identifiersOf(r: Obj): Obj[] {
  return Array.isArray(r['identifier']) ? (r['identifier'] as unknown[]).filter(isObj) : [];
}

function withoutServerFields(r: Obj): Obj {
  const { meta: _meta, status: _status, text: _text, ...rest } = r;
  return rest;
}

/** JSON with object keys sorted, so two resources compare equal whatever order their keys were written in. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (isObj(v)) {
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

function notFound(diagnostics: string): FhirError {
  return new FhirError(404, { code: 'not-found', spineCode: 'NO_RECORD_FOUND', hl7Code: 'MSG_NO_MATCH', diagnostics });
}

function unprocessable(expression: string, diagnostics: string): FhirError {
  return new FhirError(422, { code: 'invalid', spineCode: 'INVALID_RESOURCE', hl7Code: 'MSG_VERSION_AWARE_CONFLICT', expression, diagnostics });
}
