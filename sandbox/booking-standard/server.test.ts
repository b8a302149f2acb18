/**
 * The simulator over HTTP, as an adapter meets it: metadata, slot search, and the checks every request goes through.
 */
import { randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SandboxServer } from '../lib/http.js';
import { startBookingStandardSimulator } from './server.js';

// ---- test client (the adapter has its own; this one stays here) -------------------------------------------------

const IA = 'urn:nhs:names:services:careconnect:fhir:rest';
const TENANTS = {
  harbour: { path: '/harbour/STU3', asid: '200000000101', searchSlot: `${IA}:search:slot` },
  meridian: { path: '/meridian/fhir/STU3', asid: '200000000202', searchSlot: `${IA}:read:slot` },
};
type TenantKey = keyof typeof TENANTS;

const NOW = new Date('2026-06-01T09:00:00Z'); // Monday, 10:00 BST

interface CallOptions {
  tenant?: TenantKey;
  method?: string;
  /** Claims to override in the JWT; `null` removes a claim. */
  claims?: Record<string, unknown>;
  /** Headers to override; `null` removes one. */
  headers?: Record<string, string | null>;
  ods?: string;
  interaction?: string;
  scope?: string;
}

function jwt(aud: string, claims: Record<string, unknown>): string {
  const iat = Math.floor(NOW.getTime() / 1000);
  const all: Record<string, unknown> = {
    iss: 'https://booking-gateway.test/fhir',
    sub: 'user-1',
    aud,
    iat,
    exp: iat + 300,
    reason_for_request: 'directcare',
    requested_scope: 'organization/slot.read',
    requesting_device: { resourceType: 'Device', identifier: [{ system: 'https://booking-gateway.test/device', value: 'gw' }] },
    requesting_organization: { resourceType: 'Organization', identifier: [{ system: 'https://fhir.nhs.uk/Id/ods-organization-code', value: 'X26' }] },
    ...claims,
  };
  for (const [k, v] of Object.entries(all)) if (v === null) delete all[k];
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${b64({ alg: 'none', typ: 'JWT' })}.${b64(all)}.`;
}

function makeClient(server: SandboxServer, origin = server.url) {
  const headersFor = (o: CallOptions): Record<string, string> => {
    const t = TENANTS[o.tenant ?? 'harbour'];
    const claims: Record<string, unknown> = { requested_scope: o.scope ?? 'organization/slot.read', ...o.claims };
    if (o.ods) claims['requesting_organization'] = { resourceType: 'Organization', identifier: [{ system: 'https://fhir.nhs.uk/Id/ods-organization-code', value: o.ods }] };
    const h: Record<string, string | null> = {
      'Ssp-TraceID': randomUUID(),
      'Ssp-From': '918999198738',
      'Ssp-To': t.asid,
      'Ssp-InteractionID': o.interaction ?? t.searchSlot,
      Authorization: `Bearer ${jwt(`${origin}${t.path}`, claims)}`,
      Accept: 'application/fhir+json',
      ...o.headers,
    };
    return Object.fromEntries(Object.entries(h).filter((e): e is [string, string] => e[1] !== null));
  };
  const url = (o: CallOptions, pathAndQuery: string) => `${server.url}${TENANTS[o.tenant ?? 'harbour'].path}${pathAndQuery}`;
  return {
    headersFor,
    url,
    async call(pathAndQuery: string, o: CallOptions = {}) {
      const res = await fetch(url(o, pathAndQuery), { method: o.method ?? 'GET', headers: headersFor(o) });
      const text = await res.text();
      return { status: res.status, headers: res.headers, body: text ? (JSON.parse(text) as any) : undefined };
    },
    /** Fetches an absolute URL (a next link) with fresh headers. */
    async follow(absolute: string, o: CallOptions = {}) {
      const res = await fetch(absolute, { headers: headersFor(o) });
      return { status: res.status, body: (await res.json()) as any };
    },
  };
}

const slotQuery = (service: string, extra: Array<[string, string]> = [], from = '2026-06-01T10:00:00+01:00', to = '2026-06-02T10:00:00+01:00') =>
  `/Slot?${new URLSearchParams([['schedule.actor:healthcareservice', service], ['start', `ge${from}`], ['start', `le${to}`], ...extra])}`;

const ALL_INCLUDES: Array<[string, string]> = [
  ['_include', 'Slot:schedule'],
  ['_include:iterate', 'Schedule:actor:Practitioner'],
  ['_include:iterate', 'Schedule:actor:PractitionerRole'],
  ['_include:iterate', 'Schedule:actor:HealthcareService'],
  ['_include:iterate', 'HealthcareService:Location'],
  ['_include:iterate', 'HealthcareService:Organization'],
];

const keysOf = (bundle: any) => (bundle.entry ?? []).map((e: any) => `${e.resource.resourceType}/${e.resource.id}`);

function expectOutcome(body: any, status: number, issueCode: string): void {
  expect(body?.resourceType, `status ${status} without an OperationOutcome`).toBe('OperationOutcome');
  const issue = body.issue[0];
  expect(issue.severity).toBe('error');
  expect(issue.code).toBe(issueCode);
  expect(issue.details.coding[0].system).toBe('https://fhir.nhs.uk/STU3/CodeSystem/Spine-ErrorOrWarningCode-1');
  expect(issue.details.coding[0].code).toMatch(/^[A-Z_]+$/);
  expect(typeof issue.diagnostics).toBe('string');
}

// ---- tests ------------------------------------------------------------------------------------------------------

let server: SandboxServer;
let client: ReturnType<typeof makeClient>;

beforeAll(async () => {
  server = await startBookingStandardSimulator({ port: 0, now: () => NOW });
  client = makeClient(server);
});
afterAll(() => server.close());

describe('GET /metadata', () => {
  it('serves the STU3 2.0.x CapabilityStatement as FHIR JSON', async () => {
    const r = await client.call('/metadata', { interaction: `${IA}:read:metadata` });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('application/fhir+json; charset=utf-8');
    expect(r.body).toMatchObject({ resourceType: 'CapabilityStatement', fhirVersion: '3.0.1', version: '2.0.1', acceptUnknown: 'both' });
    const [appointment, slot] = r.body.rest[0].resource;
    expect(appointment.interaction.map((i: any) => i.code)).toEqual(['read', 'create', 'search-type']);
    expect(slot.searchParam.map((p: any) => p.name)).toEqual(['service', 'status', 'start']);
    expect(slot.searchInclude).toContain('Schedule:actor:HealthcareService');
    expect(r.body.implementation.url).toBe(`${server.url}/harbour/STU3`);
  });

  it('wants the metadata interaction id and a slot.read token', async () => {
    expect((await client.call('/metadata')).status).toBe(403); // slot-search interaction id
    expect((await client.call('/metadata', { interaction: `${IA}:read:metadata`, scope: 'patient/appointment.read' })).status).toBe(403);
  });
});

describe('Spine Secure Proxy headers', () => {
  const cases: Array<[string, Record<string, string | null>, number]> = [
    ['Ssp-From missing', { 'Ssp-From': null }, 400],
    ['Ssp-TraceID missing', { 'Ssp-TraceID': null }, 400],
    ['Ssp-To missing', { 'Ssp-To': null }, 400],
    ['Ssp-InteractionID missing', { 'Ssp-InteractionID': null }, 400],
    ['Ssp-TraceID not a UUID', { 'Ssp-TraceID': 'trace-1' }, 400],
    ['Ssp-From not an ASID', { 'Ssp-From': 'gateway' }, 400],
    ["Ssp-To another provider's ASID", { 'Ssp-To': '200000000202' }, 403],
    ['Ssp-InteractionID for another interaction', { 'Ssp-InteractionID': `${IA}:create:appointment` }, 403],
    ["Ssp-InteractionID in the other spelling (read:slot) at harbour", { 'Ssp-InteractionID': `${IA}:read:slot` }, 403],
  ];
  for (const [what, headers, status] of cases) {
    it(`${what} → ${status}`, async () => {
      const r = await client.call(slotQuery('1402000102'), { headers });
      expect(r.status).toBe(status);
      expectOutcome(r.body, status, status === 400 ? 'invalid' : 'forbidden');
    });
  }

  it('meridian accepts only read:slot for slot search', async () => {
    expect((await client.call(slotQuery('1402000103'), { tenant: 'meridian' })).status).toBe(200);
    const r = await client.call(slotQuery('1402000103'), { tenant: 'meridian', interaction: `${IA}:search:slot` });
    expect(r.status).toBe(403);
  });
});

describe('JWT over HTTP', () => {
  it('403 forbidden with an OperationOutcome when the token is missing', async () => {
    const r = await client.call(slotQuery('1402000102'), { headers: { Authorization: null } });
    expect(r.status).toBe(403);
    expectOutcome(r.body, 403, 'forbidden');
    expect(r.headers.get('www-authenticate')).toMatch(/^Bearer realm="/);
  });

  it('403 for the other tenant\'s aud, an expired token, or a book/cancel token used to search', async () => {
    const other = `${server.url}/meridian/fhir/STU3`;
    expect((await client.call(slotQuery('1402000102'), { claims: { aud: other } })).status).toBe(403);
    const iat = Math.floor(NOW.getTime() / 1000) - 400;
    expect((await client.call(slotQuery('1402000102'), { claims: { iat, exp: iat + 300 } })).status).toBe(403);
    expect((await client.call(slotQuery('1402000102'), { scope: 'patient/appointment.write' })).status).toBe(403);
  });

  it('accepts aud with a trailing slash and no requesting_practitioner', async () => {
    const r = await client.call(slotQuery('1402000102'), { claims: { aud: `${server.url}/harbour/STU3/`, requesting_practitioner: null } });
    expect(r.status).toBe(200);
  });

  it('answers 401 instead of 403 for a tenant configured that way', async () => {
    const s = await startBookingStandardSimulator({ port: 0, now: () => NOW, tenants: { 'meridian-ooh': { authFailureStatus: 401 } } });
    try {
      const c = makeClient(s);
      const r = await c.call(slotQuery('1402000103'), { tenant: 'meridian', claims: { reason_for_request: 'audit' } });
      expect(r.status).toBe(401);
      expectOutcome(r.body, 401, 'login');
      expect((await c.call(slotQuery('1402000102'), { claims: { reason_for_request: 'audit' } })).status).toBe(403);
    } finally {
      await s.close();
    }
  });
});

describe('GET /Slot: parameters and errors', () => {
  it('400 without schedule.actor:healthcareservice', async () => {
    const r = await client.call('/Slot?status=free');
    expect(r.status).toBe(400);
    expectOutcome(r.body, 400, 'invalid');
  });

  it('404 not-found (MSG_NO_MATCH) for a service this provider does not hold', async () => {
    // 1402000103 is a real DoS service, but meridian holds it, not harbour.
    const r = await client.call(slotQuery('1402000103'));
    expect(r.status).toBe(404);
    expectOutcome(r.body, 404, 'not-found');
    expect(r.body.issue[0].details.coding.map((c: any) => c.code)).toContain('MSG_NO_MATCH');
  });

  it('200 with an empty searchset for Cromer MIU, held but with nothing released', async () => {
    const r = await client.call(slotQuery('1404000305', ALL_INCLUDES));
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ resourceType: 'Bundle', type: 'searchset', total: 0 });
    expect(r.body.entry ?? []).toEqual([]);
  });

  for (const method of ['POST', 'PUT', 'DELETE', 'PATCH']) {
    it(`405 for ${method} /Slot`, async () => {
      const r = await client.call(slotQuery('1402000102'), { method });
      expect(r.status).toBe(405);
      expectOutcome(r.body, 405, 'not-supported');
      expect(r.headers.get('allow')).toBe('GET');
    });
  }

  it('501 when XML is asked for, by _format or by Accept; _format json beats an XML Accept', async () => {
    const viaFormat = await client.call(slotQuery('1402000102', [['_format', 'xml']]));
    expect(viaFormat.status).toBe(501);
    expectOutcome(viaFormat.body, 501, 'not-supported');
    expect((await client.call(slotQuery('1402000102'), { headers: { Accept: 'application/fhir+xml' } })).status).toBe(501);
    const r = await client.call(slotQuery('1402000102', [['_format', 'application/fhir+json']]), { headers: { Accept: 'application/fhir+xml' } });
    expect(r.status).toBe(200);
  });

  it('400 for a malformed start and for a window wholly in the past', async () => {
    const raw = `/Slot?schedule.actor:healthcareservice=1402000102&start=ge2026-06-01T10:00:00+01:00&start=le2026-06-02T10:00:00+01:00`;
    const unencoded = await client.call(raw); // '+' arrives as a space
    expect(unencoded.status).toBe(400);
    expect(unencoded.body.issue[0].diagnostics).toMatch(/%2B/);
    const past = await client.call(slotQuery('1402000102', [], '2026-05-31T08:00:00+01:00', '2026-05-31T12:00:00+01:00'));
    expect(past.status).toBe(400);
  });

  it('ignores unknown parameters', async () => {
    expect((await client.call(slotQuery('1402000102', [['_sort', 'start'], ['practitioner', 'x']]))).status).toBe(200);
  });
});

describe('GET /Slot: results', () => {
  it('returns a searchset of CareConnect slots within the window, in UK local time', async () => {
    const r = await client.call(slotQuery('1402000102', [['status', 'free']]));
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ resourceType: 'Bundle', type: 'searchset' });
    expect(r.body.total).toBeGreaterThan(0);
    const lo = Date.parse('2026-06-01T10:00:00+01:00');
    const hi = Date.parse('2026-06-02T10:00:00+01:00');
    for (const e of r.body.entry) {
      expect(e.search.mode).toBe('match');
      expect(e.fullUrl).toBe(`${server.url}/harbour/STU3/Slot/${e.resource.id}`);
      const slot = e.resource;
      expect(slot.meta.profile).toContain('https://fhir.hl7.org.uk/STU3/StructureDefinition/CareConnect-Slot-1');
      expect(slot.identifier[0].system).toBe('https://tools.ietf.org/html/rfc4122');
      expect(slot.schedule.reference).toMatch(/^Schedule\//);
      expect(slot.status).toBe('free');
      expect(slot.start).toMatch(/^2026-06-0[12]T\d{2}:\d{2}:00\+01:00$/);
      expect(Date.parse(slot.start)).toBeGreaterThanOrEqual(lo);
      expect(Date.parse(slot.start)).toBeLessThanOrEqual(hi);
    }
  });

  it('a diary mapped to two DoS services (Norfolk and Norwich UTC and ED) returns the same Slots under each, its Schedule naming both', async () => {
    const utc = await client.call(slotQuery('1404000302', [['status', 'free'], ['_count', '500'], ...ALL_INCLUDES]));
    const ed = await client.call(slotQuery('1404000301', [['status', 'free'], ['_count', '500'], ...ALL_INCLUDES]));
    const slots = (b: any) => b.entry.filter((e: any) => e.resource.resourceType === 'Slot').map((e: any) => e.resource);
    const utcSlots = slots(utc.body);
    const edSlots = slots(ed.body);
    expect(utcSlots.length).toBeGreaterThan(0);
    // Every UTC slot is listed under the ED too, with the same id, schedule and start: one physical slot.
    const edById = new Map(edSlots.map((x: any) => [x.id, x]));
    for (const x of utcSlots) expect(edById.get(x.id)).toEqual(x);
    // The ED keeps its own timed arrivals beside them.
    expect(edSlots.some((x: any) => x.schedule.reference === 'Schedule/sch-1404000301-ta')).toBe(true);
    const schedule = ed.body.entry.find((e: any) => e.resource.id === 'sch-1404000302-main').resource;
    expect(schedule.actor.map((a: any) => a.reference)).toEqual(['HealthcareService/1404000302', 'HealthcareService/1404000301', 'Location/loc-nr4-nnuh']);
    expect(keysOf(ed.body)).toEqual(expect.arrayContaining(['HealthcareService/1404000301', 'HealthcareService/1404000302']));
  });

  it('a diary mapped to one service only names that service', async () => {
    const r = await client.call(slotQuery('1402000102', [['_count', '5'], ...ALL_INCLUDES]));
    const schedules = r.body.entry.filter((e: any) => e.resource.resourceType === 'Schedule').map((e: any) => e.resource);
    expect(schedules.length).toBeGreaterThan(0);
    for (const s of schedules) expect(s.actor.filter((a: any) => a.reference.startsWith('HealthcareService/'))).toHaveLength(1);
  });

  it('filters on status: free, busy, and free,busy (comma-separated) as their union', async () => {
    const total = async (status: string) => (await client.call(slotQuery('1402000102', [['status', status], ['_count', '0']]))).body.total;
    const [free, busy, both] = [await total('free'), await total('busy'), await total('free,busy')];
    expect(free).toBeGreaterThan(0);
    expect(busy).toBeGreaterThan(0);
    expect(both).toBe(free + busy);
    const busyPage = await client.call(slotQuery('1402000102', [['status', 'busy']]));
    expect(busyPage.body.entry.every((e: any) => e.resource.status === 'busy')).toBe(true);
  });

  it('returns only Slots when no include is asked for', async () => {
    const r = await client.call(slotQuery('1402000103'), { tenant: 'meridian' });
    expect(new Set(r.body.entry.map((e: any) => e.resource.resourceType))).toEqual(new Set(['Slot']));
  });

  it('returns the same related resources for the plain, :recurse and :iterate spellings', async () => {
    const spell = (mode: string, dotted: boolean): Array<[string, string]> => [
      ['_include', 'Slot:schedule'],
      [mode, 'Schedule:actor:Practitioner'],
      [mode, 'Schedule:actor:PractitionerRole'],
      [mode, 'Schedule:actor:HealthcareService'],
      [mode, dotted ? 'HealthcareService.location' : 'HealthcareService:location'],
      [mode, dotted ? 'HealthcareService.providedBy' : 'HealthcareService:Organization'],
    ];
    const sets = [];
    for (const variant of [spell('_include', true), spell('_include:recurse', false), spell('_include:iterate', false)]) {
      const r = await client.call(slotQuery('1402000103', variant), { tenant: 'meridian' });
      expect(r.status).toBe(200);
      sets.push(keysOf(r.body).filter((k: string) => !k.startsWith('Slot/')).sort());
    }
    expect(sets[0]).toEqual(sets[1]);
    expect(sets[1]).toEqual(sets[2]);
    const types = new Set(sets[0]!.map((k: string) => k.split('/')[0]));
    expect(types).toEqual(new Set(['Schedule', 'HealthcareService', 'Practitioner', 'PractitionerRole', 'Organization', 'Location']));
  });

  it('includes each related resource once, however many slots share it, marked search.mode include', async () => {
    const r = await client.call(slotQuery('1402000103', ALL_INCLUDES, '2026-06-01T10:00:00+01:00', '2026-06-08T10:00:00+01:00'), { tenant: 'meridian' });
    const keys = keysOf(r.body);
    expect(keys.length).toBe(new Set(keys).size);
    const included = r.body.entry.filter((e: any) => e.search.mode === 'include');
    expect(included.every((e: any) => e.resource.resourceType !== 'Slot')).toBe(true);
    // Three clinician diaries for one service: 3 Schedules, 1 HealthcareService, 1 Organization, 1 Location.
    const count = (t: string) => included.filter((e: any) => e.resource.resourceType === t).length;
    expect([count('Schedule'), count('HealthcareService'), count('Organization'), count('Location')]).toEqual([3, 1, 1, 1]);
    const hs = included.find((e: any) => e.resource.resourceType === 'HealthcareService').resource;
    expect(hs.id).toBe('1402000103');
    expect(hs.identifier).toContainEqual({ system: 'https://fhir.nhs.uk/Id/dos-service-id', value: '1402000103' });
    const schedule = included.find((e: any) => e.resource.resourceType === 'Schedule').resource;
    expect(schedule.actor[0].reference).toBe('HealthcareService/1402000103');
    const role = included.find((e: any) => e.resource.resourceType === 'PractitionerRole').resource;
    expect(role.code[0].coding[0].system).toBe('https://fhir.hl7.org.uk/STU3/CodeSystem/CareConnect-SDSJobRoleName-1');
  });

  it('follows the include chain strictly: Schedule actors need Slot:schedule', async () => {
    const r = await client.call(slotQuery('1402000102', [['_include', 'Schedule:actor:HealthcareService']]));
    expect(keysOf(r.body).every((k: string) => k.startsWith('Slot/'))).toBe(true);
  });

  it('carries the GP Connect delivery-channel extension on some GP out-of-hours slots', async () => {
    const r = await client.call(slotQuery('1402000103', [['_count', '100']], '2026-06-01T10:00:00+01:00', '2026-06-03T10:00:00+01:00'), { tenant: 'meridian' });
    const codes = r.body.entry.map((e: any) => e.resource.extension?.[0]?.valueCode ?? 'none');
    expect(new Set(codes)).toEqual(new Set(['In-person', 'Video', 'Telephone', 'none']));
    expect(r.body.entry.find((e: any) => e.resource.extension).resource.extension[0].url).toBe(
      'https://fhir.nhs.uk/STU3/StructureDefinition/Extension-GPConnect-DeliveryChannel-2',
    );
  });
});

describe('GET /Slot: paging', () => {
  it('pages with next links to the end with no slot lost or repeated', async () => {
    const query = slotQuery('1402000103', [['status', 'free,busy'], ['_include', 'Slot:schedule']], '2026-06-01T10:00:00+01:00', '2026-06-15T10:00:00+01:00');
    const first = await client.call(`${query}&_count=37`, { tenant: 'meridian' });
    const total = first.body.total;
    expect(total).toBeGreaterThan(37 * 3);
    const seen: string[] = [];
    let page = first.body;
    let pages = 0;
    for (;;) {
      pages++;
      const matches = page.entry.filter((e: any) => e.search.mode === 'match');
      expect(matches.length).toBeLessThanOrEqual(37);
      seen.push(...matches.map((e: any) => e.resource.id));
      expect(page.link.find((l: any) => l.relation === 'self')).toBeDefined();
      const next = page.link.find((l: any) => l.relation === 'next');
      if (!next) break;
      expect(next.url.startsWith(`${server.url}/meridian/fhir/STU3/Slot?`)).toBe(true);
      const r = await client.follow(next.url, { tenant: 'meridian' });
      expect(r.status).toBe(200);
      expect(r.body.total).toBe(total);
      page = r.body;
    }
    expect(pages).toBe(Math.ceil(total / 37));
    expect(seen).toHaveLength(total);
    expect(new Set(seen).size).toBe(total);
  });

  it('defaults to 50 per page and caps _count at 100', async () => {
    const q = slotQuery('1402000101', [], '2026-06-01T10:00:00+01:00', '2026-06-08T10:00:00+01:00');
    const dflt = await client.call(q);
    expect(dflt.body.entry).toHaveLength(50);
    const capped = await client.call(`${q}&_count=1000`);
    expect(capped.body.entry).toHaveLength(100);
  });

  it('gives no next link on the last page', async () => {
    const r = await client.call(slotQuery('1402000102', [['_count', '100']], '2026-06-01T10:00:00+01:00', '2026-06-01T12:00:00+01:00'));
    expect(r.body.total).toBeLessThanOrEqual(100);
    expect(r.body.link.map((l: any) => l.relation)).toEqual(['self']);
  });
});

describe('GET /Slot: per-organisation visibility', () => {
  const window = slotQuery('1402000101', [['status', 'free,busy'], ['_count', '100']], '2026-06-02T00:00:00+01:00', '2026-06-02T23:59:59+01:00');
  const clock = (e: any) => e.resource.start.slice(11, 16);
  const ringFenced = (t: string) => (t >= '10:00' && t < '14:00') || (t >= '18:00' && t < '22:00');

  it("shows St James's ED ring-fenced timed arrivals to NHS 111 (RX8) only", async () => {
    const rx8 = await client.call(window, { ods: 'RX8' });
    const app = await client.call(window, { ods: 'X26' });
    expect(rx8.body.total).toBe(48);
    expect(app.body.total).toBe(48 - 16);
    expect(rx8.body.entry.some((e: any) => ringFenced(clock(e)))).toBe(true);
    expect(app.body.entry.some((e: any) => ringFenced(clock(e)))).toBe(false);
  });
});

describe('transport details', () => {
  it('echoes X-Request-ID as X-Correlation-ID, on success and on error', async () => {
    const id = randomUUID();
    expect((await client.call(slotQuery('1402000102'), { headers: { 'X-Request-ID': id } })).headers.get('x-correlation-id')).toBe(id);
    expect((await client.call('/Slot', { headers: { 'X-Request-ID': id } })).headers.get('x-correlation-id')).toBe(id);
  });

  it('gzips the body when the client accepts gzip', async () => {
    const url = new URL(client.url({}, slotQuery('1402000102')));
    const raw = await new Promise<{ headers: Record<string, unknown>; body: Buffer }>((resolve, reject) => {
      const req = httpRequest(url, { headers: { ...client.headersFor({}), 'Accept-Encoding': 'gzip' } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ headers: res.headers, body: Buffer.concat(chunks) }));
      });
      req.on('error', reject);
      req.end();
    });
    expect(raw.headers['content-encoding']).toBe('gzip');
    expect(JSON.parse(gunzipSync(raw.body).toString('utf8')).resourceType).toBe('Bundle');
  });

  it('answers injected faults with an OperationOutcome', async () => {
    await fetch(`${server.url}/_sandbox/faults`, { method: 'POST', body: JSON.stringify({ status: 500, times: 1 }) });
    const r = await client.call(slotQuery('1402000102'));
    expect(r.status).toBe(500);
    expect(r.body.resourceType).toBe('OperationOutcome');
  });

  it('answers a 14-day search for one service in a few milliseconds', async () => {
    const q = slotQuery('1403000202', [['_count', '100'], ...ALL_INCLUDES], '2026-06-01T10:00:00+01:00', '2026-06-15T10:00:00+01:00');
    await client.call(q, { tenant: 'meridian' }); // first call generates and caches the diary days
    const t = performance.now();
    const r = await client.call(q, { tenant: 'meridian' });
    expect(r.status).toBe(200);
    expect(performance.now() - t).toBeLessThan(50);
  });
});

describe('clock-change days over HTTP', () => {
  async function daySlots(now: Date, from: string, to: string) {
    const s = await startBookingStandardSimulator({ port: 0, now: () => now });
    try {
      const c = makeClient(s);
      const claims = { iat: Math.floor(now.getTime() / 1000), exp: Math.floor(now.getTime() / 1000) + 300 };
      const r = await c.call(slotQuery('1402000104', [['status', 'free,busy'], ['_count', '100']], from, to), { claims });
      expect(r.status).toBe(200);
      return r.body.entry.map((e: any) => e.resource);
    } finally {
      await s.close();
    }
  }

  it('spring: 46 slots on 29 March 2026, contiguous, +00:00 then +01:00', async () => {
    const slots = await daySlots(new Date('2026-03-27T12:00:00Z'), '2026-03-29T00:00:00+00:00', '2026-03-29T23:59:59+01:00');
    expect(slots).toHaveLength(46);
    for (let i = 1; i < slots.length; i++) expect(Date.parse(slots[i].start)).toBe(Date.parse(slots[i - 1].end));
    expect(slots[1].start).toBe('2026-03-29T00:30:00+00:00');
    expect(slots[2].start).toBe('2026-03-29T02:00:00+01:00');
  });

  it('autumn: 50 slots on 25 October 2026, the repeated hour told apart by offset', async () => {
    const slots = await daySlots(new Date('2026-10-23T12:00:00Z'), '2026-10-25T00:00:00+01:00', '2026-10-25T23:59:59+00:00');
    expect(slots).toHaveLength(50);
    for (let i = 1; i < slots.length; i++) expect(Date.parse(slots[i].start)).toBe(Date.parse(slots[i - 1].end));
    const starts = slots.map((s: any) => s.start);
    expect(starts).toContain('2026-10-25T01:30:00+01:00');
    expect(starts).toContain('2026-10-25T01:30:00+00:00');
  });
});

describe('determinism', () => {
  it('two simulator instances give identical bundles for the same search at the same moment', async () => {
    const origin = 'https://provider.sandbox.invalid';
    const [a, b] = await Promise.all([1, 2].map(() => startBookingStandardSimulator({ port: 0, now: () => NOW, publicOrigin: origin })));
    try {
      const q = slotQuery('1403000202', ALL_INCLUDES, '2026-06-01T10:00:00+01:00', '2026-06-04T10:00:00+01:00');
      const [ra, rb] = await Promise.all([makeClient(a!, origin).call(q, { tenant: 'meridian' }), makeClient(b!, origin).call(q, { tenant: 'meridian' })]);
      expect(ra.status).toBe(200);
      expect(ra.body.entry[0].fullUrl.startsWith(`${origin}/meridian/fhir/STU3/Slot/`)).toBe(true);
      expect(JSON.stringify(ra.body)).toBe(JSON.stringify(rb.body));
    } finally {
      await Promise.all([a!.close(), b!.close()]);
    }
  });
});
