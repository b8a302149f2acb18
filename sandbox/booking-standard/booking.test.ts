/**
 * Book, read and cancel over HTTP (spec §2.4–2.7), against slots found by a real search.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SandboxServer } from '../lib/http.js';
import { startBookingStandardSimulator } from './server.js';

// ---- test client (kept here on purpose: the adapter mints its own tokens) ----------------------------------------

const IA = 'urn:nhs:names:services:careconnect:fhir:rest';
const TENANTS = {
  harbour: { path: '/harbour/STU3', asid: '200000000101', searchSlot: `${IA}:search:slot` },
  meridian: { path: '/meridian/fhir/STU3', asid: '200000000202', searchSlot: `${IA}:read:slot` },
};
type TenantKey = keyof typeof TENANTS;
const NOW = new Date('2026-06-01T09:00:00Z');

type Interaction = 'searchSlot' | 'create' | 'read' | 'update' | 'search';
const SCOPES: Record<Interaction, string> = {
  searchSlot: 'organization/slot.read',
  create: 'patient/appointment.write',
  read: 'patient/appointment.read',
  update: 'patient/appointment.write',
  search: 'patient/appointment.read',
};

interface Call {
  tenant?: TenantKey;
  ods?: string;
  method?: string;
  body?: unknown;
  headers?: Record<string, string | null>;
  scope?: string;
}

let server: SandboxServer;

async function call(interaction: Interaction, pathAndQuery: string, o: Call = {}) {
  const t = TENANTS[o.tenant ?? 'harbour'];
  const base = `${server.url}${t.path}`;
  const iat = Math.floor(NOW.getTime() / 1000);
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const token = `${b64({ alg: 'none', typ: 'JWT' })}.${b64({
    iss: 'https://booking-gateway.test/fhir', sub: 'user-1', aud: base, iat, exp: iat + 300,
    reason_for_request: 'directcare', requested_scope: o.scope ?? SCOPES[interaction],
    requesting_device: { resourceType: 'Device', identifier: [{ system: 'https://booking-gateway.test/device', value: 'gw' }] },
    requesting_organization: { resourceType: 'Organization', identifier: [{ system: 'https://fhir.nhs.uk/Id/ods-organization-code', value: o.ods ?? 'RX8' }] },
  })}.`;
  const interactionId = interaction === 'searchSlot' ? t.searchSlot : `${IA}:${interaction}:appointment`;
  const headers: Record<string, string | null> = {
    'Ssp-TraceID': randomUUID(), 'Ssp-From': '918999198738', 'Ssp-To': t.asid, 'Ssp-InteractionID': interactionId,
    Authorization: `Bearer ${token}`, Accept: 'application/fhir+json',
    ...(o.body !== undefined ? { 'Content-Type': 'application/fhir+json', 'X-Request-ID': randomUUID() } : {}),
    ...o.headers,
  };
  const res = await fetch(`${base}${pathAndQuery}`, {
    method: o.method ?? (o.body !== undefined ? 'POST' : 'GET'),
    headers: Object.fromEntries(Object.entries(headers).filter((e): e is [string, string] => e[1] !== null)),
    ...(o.body !== undefined ? { body: typeof o.body === 'string' ? o.body : JSON.stringify(o.body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? (JSON.parse(text) as any) : undefined };
}

/** Free slots of a service (as the given organisation sees them), next 24 hours. */
async function freeSlots(service: string, o: Call = {}): Promise<any[]> {
  const q = new URLSearchParams([
    ['schedule.actor:healthcareservice', service], ['status', 'free'], ['_count', '100'],
    ['start', 'ge2026-06-01T10:00:00+01:00'], ['start', 'le2026-06-02T10:00:00+01:00'],
  ]);
  const r = await call('searchSlot', `/Slot?${q}`, o);
  expect(r.status).toBe(200);
  return r.body.entry.map((e: any) => e.resource);
}

/** A 2.x book request for a slot from the search, as spec §8.2 lays it out. */
function booking(slot: any, patient: Record<string, unknown> = {}): any {
  return {
    resourceType: 'Appointment',
    meta: { profile: ['https://fhir.hl7.org.uk/STU3/StructureDefinition/CareConnect-Appointment-1'] },
    language: 'en-GB',
    contained: [
      {
        resourceType: 'DocumentReference', id: 'doc1',
        meta: { profile: ['https://fhir.hl7.org.uk/STU3/StructureDefinition/CareConnect-DocumentReference-1'] },
        identifier: [{ system: 'https://tools.ietf.org/html/rfc4122', value: randomUUID() }],
        status: 'current',
        type: { coding: [{ system: 'urn:oid:2.16.840.1.113883.2.1.3.2.4.18.17', code: 'POCD_MT200001GB02', display: 'Integrated Urgent Care Report' }] },
        indexed: NOW.toISOString(),
        content: [{ attachment: { contentType: 'application/hl7-v3+xml', language: 'en-GB' } }],
      },
      {
        resourceType: 'Patient', id: 'P1',
        meta: { profile: ['https://fhir.hl7.org.uk/STU3/StructureDefinition/CareConnect-Patient-1'] },
        identifier: [{
          extension: [{ url: 'https://fhir.hl7.org.uk/STU3/StructureDefinition/Extension-CareConnect-NHSNumberVerificationStatus-1',
            valueCodeableConcept: { coding: [{ system: 'https://fhir.hl7.org.uk/STU3/CodeSystem/CareConnect-NHSNumberVerificationStatus-1', code: '01' }] } }],
          use: 'official', system: 'https://fhir.nhs.uk/Id/nhs-number', value: '9476719931',
        }],
        name: [{ use: 'official', family: 'Jones', given: ['Sam'] }],
        telecom: [{ system: 'phone', value: '01632960000', use: 'home', rank: 1 }],
        gender: 'female', birthDate: '1980-02-03',
        address: [{ use: 'home', line: ['1 High Street'], city: 'Leeds', postalCode: 'LS1 4AP' }],
        ...patient,
      },
      { resourceType: 'Slot', id: slot.id, identifier: slot.identifier, schedule: slot.schedule, status: 'busy', start: slot.start, end: slot.end },
    ],
    status: 'booked',
    description: '111 referral: minor injury',
    supportingInformation: [{ reference: '#doc1' }],
    // Sent in UTC, as the standard asks consumers to; the provider compares instants.
    start: new Date(slot.start).toISOString(),
    end: new Date(slot.end).toISOString(),
    slot: [{ reference: `#${slot.id}` }],
    created: NOW.toISOString(),
    participant: [{ actor: { reference: '#P1' }, status: 'accepted' }],
  };
}

function expectOutcome(body: any, issueCode: string): void {
  expect(body.resourceType).toBe('OperationOutcome');
  expect(body.issue[0].code).toBe(issueCode);
  expect(body.issue[0].details.coding[0].system).toBe('https://fhir.nhs.uk/STU3/CodeSystem/Spine-ErrorOrWarningCode-1');
}

beforeAll(async () => {
  server = await startBookingStandardSimulator({ port: 0, now: () => NOW });
});
afterAll(() => server.close());

// ---- tests ------------------------------------------------------------------------------------------------------

describe('POST /Appointment', () => {
  it('books a free slot: 201, Location with _history, ETag, Last-Modified, X-Correlation-ID; the slot turns busy', async () => {
    const [slot] = await freeSlots('1402000102');
    const requestId = randomUUID();
    const r = await call('create', '/Appointment', { body: booking(slot), headers: { 'X-Request-ID': requestId } });
    expect(r.status).toBe(201);
    const { id, meta } = r.body;
    expect(r.headers.get('location')).toBe(`${server.url}/harbour/STU3/Appointment/${id}/_history/${meta.versionId}`);
    expect(r.headers.get('etag')).toBe(`W/"${meta.versionId}"`);
    expect(r.headers.get('last-modified')).toBe(NOW.toUTCString());
    expect(r.headers.get('x-correlation-id')).toBe(requestId);
    expect(r.body.status).toBe('booked');
    expect((await freeSlots('1402000102')).map((s) => s.id)).not.toContain(slot.id);
  });

  it('refuses a reused X-Request-ID with 409', async () => {
    const [slot] = await freeSlots('1402000102');
    const requestId = randomUUID();
    expect((await call('create', '/Appointment', { body: booking(slot), headers: { 'X-Request-ID': requestId } })).status).toBe(201);
    const again = await call('create', '/Appointment', { body: booking(slot), headers: { 'X-Request-ID': requestId } });
    expect(again.status).toBe(409);
    expectOutcome(again.body, 'duplicate');
  });

  it('answers a taken slot with 422 processing "Slot no longer available" at harbour, 409 at meridian', async () => {
    const [slot] = await freeSlots('1402000102');
    expect((await call('create', '/Appointment', { body: booking(slot) })).status).toBe(201);
    const taken = await call('create', '/Appointment', { body: booking(slot) });
    expect(taken.status).toBe(422);
    expect(taken.body.issue[0]).toMatchObject({ severity: 'error', code: 'processing', diagnostics: 'Slot no longer available' });

    const [ooh] = await freeSlots('1402000103', { tenant: 'meridian' });
    expect((await call('create', '/Appointment', { tenant: 'meridian', body: booking(ooh) })).status).toBe(201);
    const conflict = await call('create', '/Appointment', { tenant: 'meridian', body: booking(ooh) });
    expect(conflict.status).toBe(409);
    expect(conflict.body.issue[0].diagnostics).toBe('Slot no longer available');
  });

  it('is atomic: of ten simultaneous bookings for one slot exactly one succeeds', async () => {
    const [slot] = await freeSlots('1402000104');
    const results = await Promise.all(Array.from({ length: 10 }, () => call('create', '/Appointment', { body: booking(slot) })));
    expect(results.filter((r) => r.status === 201)).toHaveLength(1);
    expect(results.filter((r) => r.status === 422)).toHaveLength(9);
  });

  it('will not book a ring-fenced slot for an organisation that cannot see it', async () => {
    const reserved = (await freeSlots('1402000101', { ods: 'RX8' })).find((s) => s.start.slice(11, 16) >= '10:00' && s.start.slice(11, 16) < '14:00');
    const r = await call('create', '/Appointment', { ods: 'X26', body: booking(reserved) });
    expect(r.status).toBe(422);
    expect(r.body.issue[0].diagnostics).toBe('Slot no longer available');
  });

  it('keeps a provider patient identifier when no NHS number is sent', async () => {
    const [slot] = await freeSlots('1402000105');
    const r = await call('create', '/Appointment', { body: booking(slot, { identifier: undefined }) });
    expect(r.status).toBe(201);
    const patient = r.body.contained.find((c: any) => c.resourceType === 'Patient');
    expect(patient.identifier[0].system).toMatch(/\/Id\/patient$/);
  });

  describe('refusals', () => {
    let slot: any;
    beforeAll(async () => {
      [slot] = await freeSlots('1404000302');
    });

    it('400 without X-Request-ID', async () => {
      const r = await call('create', '/Appointment', { body: booking(slot), headers: { 'X-Request-ID': null } });
      expect(r.status).toBe(400);
      expectOutcome(r.body, 'invalid');
    });

    it('415 for an XML content type', async () => {
      const r = await call('create', '/Appointment', { body: '<Appointment/>', headers: { 'Content-Type': 'application/xml' } });
      expect(r.status).toBe(415);
      expectOutcome(r.body, 'not-supported');
    });

    it('400 for a body that is not JSON, or no contained Slot (incl. the 1.x literal Slot reference)', async () => {
      expect((await call('create', '/Appointment', { body: '{"resourceType":' })).status).toBe(400);
      const b = booking(slot);
      b.contained = b.contained.filter((c: any) => c.resourceType !== 'Slot');
      b.slot = [{ reference: `Slot/${slot.id}` }];
      const r = await call('create', '/Appointment', { body: b });
      expect(r.status).toBe(400);
      expect(r.body.issue[0].diagnostics).toMatch(/1\.x/);
    });

    it('422 INVALID_NHS_NUMBER for a number failing the modulus 11 check', async () => {
      const b = booking(slot);
      b.contained[1].identifier[0].value = '9476719932';
      const r = await call('create', '/Appointment', { body: b });
      expect(r.status).toBe(422);
      expect(r.body.issue.flatMap((i: any) => i.details.coding.map((c: any) => c.code))).toContain('INVALID_NHS_NUMBER');
    });

    const broken: Array<[string, (b: any) => void, RegExp]> = [
      ['a client-assigned id', (b) => { b.id = 'mine'; }, /must not be sent/],
      ['a missing description', (b) => { delete b.description; }, /description/],
      ['no supportingInformation', (b) => { delete b.supportingInformation; }, /supportingInformation/],
      ['a participant without status', (b) => { delete b.participant[0].status; }, /accepted/],
      ['a contained Slot not marked busy', (b) => { b.contained[2].status = 'free'; }, /busy/],
      ['start and end not matching the slot', (b) => { b.end = new Date(Date.parse(b.end) + 60_000).toISOString(); }, /equal the contained Slot/],
      ['a future created', (b) => { b.created = '2026-06-02T09:00:00Z'; }, /future/],
      ['two telecoms with rank 1', (b) => { b.contained[1].telecom.push({ system: 'phone', value: '07700900000', rank: 1 }); }, /distinct/],
      ['a DocumentReference with the wrong profile', (b) => { b.contained[0].meta.profile.push('x'); }, /exactly/],
      ['a Patient with no birthDate', (b) => { delete b.contained[1].birthDate; }, /birthDate/],
    ];
    for (const [what, breakIt, message] of broken) {
      it(`422 for ${what}`, async () => {
        const b = booking(slot);
        breakIt(b);
        const r = await call('create', '/Appointment', { body: b });
        expect(r.status).toBe(422);
        expect(r.body.issue.map((i: any) => i.diagnostics).join(' | ')).toMatch(message);
      });
    }

    it('422 REFERENCE_NOT_FOUND for a slot that is not in the diary', async () => {
      const fake = { ...slot, start: '2026-06-01T10:07:00+01:00', end: '2026-06-01T10:22:00+01:00' };
      const r = await call('create', '/Appointment', { body: booking(fake) });
      expect(r.status).toBe(422);
      expect(r.body.issue[0].details.coding[0].code).toBe('REFERENCE_NOT_FOUND');
    });

    it('403 for a slot.read token on create', async () => {
      expect((await call('create', '/Appointment', { body: booking(slot), scope: 'organization/slot.read' })).status).toBe(403);
    });

    it('and after all those refusals the slot is still free', async () => {
      expect((await freeSlots('1404000302')).map((s) => s.id)).toContain(slot.id);
    });
  });
});

describe('read and cancel', () => {
  let slot: any;
  let booked: any;
  let etag: string;

  beforeAll(async () => {
    [slot] = await freeSlots('1403000204');
    const r = await call('create', '/Appointment', { body: { ...booking(slot), identifier: [{ system: 'urn:example:booking-reference', value: 'ref-0001' }] } });
    expect(r.status).toBe(201);
    booked = r.body;
    etag = r.headers.get('etag')!;
  });

  it('finds it by an identifier of the Appointment itself (FHIR `identifier`), for the booking organisation only', async () => {
    const q = `/Appointment?identifier=${encodeURIComponent('urn:example:booking-reference|ref-0001')}`;
    const mine = await call('search', q);
    expect(mine.status, JSON.stringify(mine.body)).toBe(200);
    expect(mine.body.entry.map((e: any) => e.resource.id)).toEqual([booked.id]);
    expect((await call('search', q, { ods: 'X26' })).body.total).toBe(0);
    const other = await call('search', `/Appointment?identifier=${encodeURIComponent('urn:example:booking-reference|ref-0002')}`);
    expect(other.body.total).toBe(0);
    expect((await call('search', `/Appointment?identifier=ref-0001`)).status).toBe(400);
  });

  it('reads the appointment with its ETag; vread gives the version', async () => {
    const r = await call('read', `/Appointment/${booked.id}`);
    expect(r.status).toBe(200);
    expect(r.headers.get('etag')).toBe(etag);
    expect(r.body).toEqual(booked);
    const v = await call('read', `/Appointment/${booked.id}/_history/${booked.meta.versionId}`);
    expect(v.status).toBe(200);
    expect((await call('read', `/Appointment/${booked.id}/_history/nope`)).status).toBe(404);
  });

  it('404 for an unknown appointment; 403 for another organisation', async () => {
    const missing = await call('read', `/Appointment/${randomUUID()}`);
    expect(missing.status).toBe(404);
    expectOutcome(missing.body, 'not-found');
    const other = await call('read', `/Appointment/${booked.id}`, { ods: 'X26' });
    expect(other.status).toBe(403);
    expectOutcome(other.body, 'forbidden');
  });

  it('finds it by NHS number for the booking organisation only', async () => {
    const q = `/Appointment?identifier=${encodeURIComponent('https://fhir.nhs.uk/Id/nhs-number|9476719931')}`;
    expect((await call('read', q)).status).toBe(403); // the search interaction has its own id
    const mine = await call('search', q);
    expect(mine.status, JSON.stringify(mine.body)).toBe(200);
    expect(mine.body.entry.map((e: any) => e.resource.id)).toContain(booked.id);
    const theirs = await call('search', q, { ods: 'X26' });
    expect(theirs.body.total).toBe(0);
  });

  const cancelled = () => ({ ...booked, status: 'cancelled' });

  it('412 without If-Match; 409 with a stale one; 422 when anything but status changed', async () => {
    const noMatch = await call('update', `/Appointment/${booked.id}`, { method: 'PUT', body: cancelled() });
    expect(noMatch.status).toBe(412);
    expectOutcome(noMatch.body, 'not-supported');
    const stale = await call('update', `/Appointment/${booked.id}`, { method: 'PUT', body: cancelled(), headers: { 'If-Match': 'W/"stale"' } });
    expect(stale.status).toBe(409);
    expectOutcome(stale.body, 'conflict');
    const changed = await call('update', `/Appointment/${booked.id}`, {
      method: 'PUT', body: { ...cancelled(), description: 'changed' }, headers: { 'If-Match': etag },
    });
    expect(changed.status).toBe(422);
    expect(changed.body.issue[0].diagnostics).toMatch(/Differences detected/);
    const other = await call('update', `/Appointment/${booked.id}`, { method: 'PUT', ods: 'X26', body: cancelled(), headers: { 'If-Match': etag } });
    expect(other.status).toBe(403);
  });

  it('cancels with the current ETag: 200, a new version, the slot freed, the old version kept', async () => {
    expect((await freeSlots('1403000204')).map((s) => s.id)).not.toContain(slot.id);
    const r = await call('update', `/Appointment/${booked.id}`, { method: 'PUT', body: cancelled(), headers: { 'If-Match': etag } });
    expect(r.status).toBe(200);
    expect(r.body.status).toBe('cancelled');
    expect(r.body.meta.versionId).not.toBe(booked.meta.versionId);
    expect(r.headers.get('etag')).toBe(`W/"${r.body.meta.versionId}"`);
    expect((await freeSlots('1403000204')).map((s) => s.id)).toContain(slot.id);
    const old = await call('read', `/Appointment/${booked.id}/_history/${booked.meta.versionId}`);
    expect(old.body.status).toBe('booked');
  });

  it('lists every stored version, with tenant and booking organisation, on GET /_sandbox/appointments', async () => {
    const all = (await (await fetch(`${server.url}/_sandbox/appointments`)).json()) as any[];
    const mine = all.filter((v) => v.id === booked.id);
    expect(mine.map((v) => [v.tenant, v.bookedBy, v.current, v.resource.status])).toEqual([
      ['harbour-uec', 'RX8', false, 'booked'],
      ['harbour-uec', 'RX8', true, 'cancelled'],
    ]);
    expect(mine[0].resource).toEqual(booked);
    expect(mine[0].versionId).toBe(booked.meta.versionId);
    // A control route: not a FHIR interaction, so not in the request log.
    const log = (await (await fetch(`${server.url}/_sandbox/requests`)).json()) as any[];
    expect(log.some((r) => r.path.startsWith('/_sandbox'))).toBe(false);
  });

  it('405 for DELETE on an appointment', async () => {
    expect((await call('update', `/Appointment/${booked.id}`, { method: 'DELETE' })).status).toBe(405);
  });
});
