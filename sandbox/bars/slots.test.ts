/**
 * Metadata, MessageDefinition and slot search against the specification's examples, and the diaries across both
 * 2026 clock changes (Sunday 29 March, Sunday 25 October). The simulator's clock is pinned to Tuesday 20 October 2026.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addDays } from '../lib/london-time.js';
import { generateDay } from './diary.js';
import { startBarsSimulator, type BarsSimulator } from './server.js';
import { BARS_SERVICE_BY_ID } from './services.js';
import { assertion, barsCall, client, errorOf, specExample, testKey, tokenForm, type Answer, type TestKey } from './test-support.js';

let sim: BarsSimulator;
let clock = new Date('2026-10-20T09:00:00Z');
let token: string;
let key: TestKey;

/** A bearer token issued at the simulator's current clock. */
async function freshToken(): Promise<string> {
  const a = await assertion({ clientId: 'app', key, aud: `${sim.url}/oauth2/token`, nowMs: clock.getTime() });
  const res = await fetch(`${sim.url}/oauth2/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: tokenForm(a) });
  return ((await res.json()) as { access_token: string }).access_token;
}

beforeAll(async () => {
  key = await testKey('k1');
  sim = await startBarsSimulator({ port: 0, now: () => clock, rateLimit: { perSecond: 1000 }, clients: [client('app', [key])] });
  token = await freshToken();
});
afterAll(() => sim.close());

const INCLUDES = '_include=Slot:schedule&_include=Schedule:actor:HealthcareService&_include=Schedule:actor:Practitioner&_include=Schedule:actor:PractitionerRole&_include=HealthcareService:location&_include=HealthcareService:providedBy';
const q = (from: string, to: string, extra = '') => `/Slot?status=free&start=ge${encodeURIComponent(from)}&start=le${encodeURIComponent(to)}&${INCLUDES}${extra}`;
const get = (path: string, dosId = '1402000113') => barsCall(sim.url, path, { token, dosId });
const resources = (a: Answer, type: string) => a.body.entry.map((e: any) => e.resource).filter((r: any) => r.resourceType === type);

describe('GET /metadata', () => {
  it("answers the receiver's CapabilityStatement for a target, naming the booking messages it receives", async () => {
    const r = await get('/metadata');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^application\/fhir\+json/);
    expect(r.body).toMatchObject({ resourceType: 'CapabilityStatement', fhirVersion: '4.0.1', kind: 'instance' });
    const slot = r.body.rest[0].resource.find((x: any) => x.type === 'Slot');
    // The same includes and search parameters as the spec's example statement.
    const example = specExample('metadata/BaRS_API_Capability_Statement.json').rest[0].resource.find((x: any) => x.type === 'Slot');
    expect(slot.searchInclude).toEqual(example.searchInclude);
    expect(slot.searchParam).toEqual(example.searchParam);
    expect(r.body.messaging[0].supportedMessage).toEqual([
      { mode: 'receiver', definition: 'https://fhir.nhs.uk/MessageDefinition/bars-message-booking-request' },
      { mode: 'receiver', definition: 'https://fhir.nhs.uk/MessageDefinition/bars-message-booking-request-cancelled' },
    ]);
  });

  it("answers the proxy's own statement without NHSD-Target-Identifier: every message of the spec's example, both roles", async () => {
    const r = await barsCall(sim.url, '/metadata', { token, dosId: null });
    expect(r.status).toBe(200);
    const key = (m: any) => `${m.mode} ${m.definition}`;
    const example = specExample('metadata/BaRS_API_Capability_Statement.json').messaging[0].supportedMessage.map(key).sort();
    expect(r.body.messaging[0].supportedMessage.map(key).sort()).toEqual(example);
  });
});

describe('GET /MessageDefinition', () => {
  it('lists the booking and cancellation definitions for the service, in the example shape', async () => {
    const r = await get(`/MessageDefinition?context=${encodeURIComponent('https://fhir.nhs.uk/Id/dos-service-id|1402000113')}`);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ resourceType: 'Bundle', type: 'searchset', total: 2 });
    const [booking] = r.body.entry.map((e: any) => e.resource);
    const example = specExample('message_definition/MessageDefinition_ServiceRequest-request_CaseTransfer.json').entry[0].resource;
    expect(Object.keys(booking).sort()).toEqual(expect.arrayContaining(Object.keys(example).filter((k) => k !== 'meta').sort()));
    expect(booking.useContext[0].code[0]).toEqual({ system: 'https://fhir.nhs.uk/CodeSystem/dos-id', code: '1402000113' });
    expect(booking.focus.filter((f: any) => f.min >= 1).map((f: any) => f.code)).toEqual([
      'Bundle', 'MessageHeader', 'Appointment', 'Patient', 'Slot', 'Schedule', 'HealthcareService', 'Organization',
    ]);
    expect((await get('/MessageDefinition?context=1402000113')).body.total).toBe(2);
  });

  it('400 REC_BAD_REQUEST without a context (required) and with a malformed one (invalid)', async () => {
    expect(errorOf(await get('/MessageDefinition'))).toMatchObject({ status: 400, code: 'REC_BAD_REQUEST', issue: 'required' });
    expect(errorOf(await get('/MessageDefinition?context=abc'))).toMatchObject({ status: 400, code: 'REC_BAD_REQUEST', issue: 'invalid' });
  });
});

describe('GET /Slot', () => {
  it('answers a searchset shaped like examples/slots/GET-success.json, every reference resolving inside it', async () => {
    const r = await get(q('2026-10-21T00:00:00+00:00', '2026-10-22T00:00:00+00:00'));
    expect(r.status).toBe(200);
    const example = specExample('slots/GET-success.json');
    expect(r.body).toMatchObject({ resourceType: 'Bundle', type: 'searchset' });
    const slots = resources(r, 'Slot');
    expect(slots.length).toBeGreaterThan(5);
    expect(r.body.total).toBe(slots.length);
    const exampleSlot = example.entry[0].resource;
    for (const s of slots) {
      expect(Object.keys(s).sort()).toEqual(Object.keys(exampleSlot).sort());
      expect(s.status).toBe('free');
      expect(s.start).toMatch(/^2026-10-21T\d{2}:\d{2}:00\+00:00$/);
    }
    // Wednesday 21 October, SDEC 08:00–20:00 BST = 07:00–19:00 UTC.
    const starts = slots.map((s: any) => s.start);
    expect(starts.every((s: string) => s >= '2026-10-21T07:00:00+00:00' && s < '2026-10-21T19:00:00+00:00')).toBe(true);
    expect(starts).toEqual([...starts].sort());
    const byUrl = new Map(r.body.entry.map((e: any) => [e.fullUrl, e.resource]));
    const schedule: any = byUrl.get(slots[0].schedule.reference);
    expect(schedule.resourceType).toBe('Schedule');
    const actors = schedule.actor.map((a: any) => (byUrl.get(a.reference) as any)?.resourceType).sort();
    expect(actors).toEqual(['HealthcareService', 'Practitioner', 'PractitionerRole']);
    const hs = resources(r, 'HealthcareService')[0];
    expect(hs.id).toBe('1402000113');
    expect((byUrl.get(hs.location[0].reference) as any).resourceType).toBe('Location');
    expect((byUrl.get(hs.providedBy.reference) as any).identifier[0]).toEqual({ system: 'https://fhir.nhs.uk/Id/ods-organization-code', value: 'RR8SD' });
    const role: any = resources(r, 'PractitionerRole')[0];
    expect((byUrl.get(role.practitioner.reference) as any).resourceType).toBe('Practitioner');
    for (const e of r.body.entry) expect(e.search.mode).toBe(e.resource.resourceType === 'Slot' ? 'match' : 'include');
    expect(r.body.link[0].url).toContain('/booking-and-referral/FHIR/R4/Slot?status=free');
  });

  it('honours the bounds exactly (ge/le inclusive, gt/lt exclusive), at any offset, and status lists', async () => {
    const both = await get(q('2026-10-21T07:00:00+00:00', '2026-10-21T09:00:00+00:00').replace('status=free', 'status=free,busy'));
    const all = resources(both, 'Slot').map((s: any) => s.start);
    expect(all).toEqual(['07:00', '07:30', '08:00', '08:30', '09:00'].map((t) => `2026-10-21T${t}:00+00:00`));
    const excl = await get(`/Slot?status=free,busy&start=gt2026-10-21T08:00:00%2B01:00&start=lt2026-10-21T10:00:00%2B01:00&${INCLUDES}`);
    expect(resources(excl, 'Slot').map((s: any) => s.start)).toEqual(['07:30', '08:00', '08:30'].map((t) => `2026-10-21T${t}:00+00:00`));
    const busy = resources(await get(q('2026-10-21T00:00:00+00:00', '2026-10-22T00:00:00+00:00').replace('status=free', 'status=busy')), 'Slot');
    expect(busy.length).toBeGreaterThan(0);
    expect(busy.every((s: any) => s.status === 'busy')).toBe(true);
  });

  it('includes only what was asked (Slot:* for all), ignores unsupported includes and leaves them out of the self link', async () => {
    const min = await get('/Slot?status=free&start=ge2026-10-21T00:00:00%2B00:00&start=le2026-10-22T00:00:00%2B00:00&_include=Slot:schedule&_include=Schedule:actor:HealthcareService&_include=Appointment:patient');
    expect(min.status).toBe(200);
    expect([...new Set(min.body.entry.map((e: any) => e.resource.resourceType))].sort()).toEqual(['HealthcareService', 'Schedule', 'Slot']);
    expect(min.body.link[0].url).not.toContain('Appointment');
    const star = await get('/Slot?status=free&start=ge2026-10-21T00:00:00%2B00:00&start=le2026-10-22T00:00:00%2B00:00&_include=Slot:*');
    expect([...new Set(star.body.entry.map((e: any) => e.resource.resourceType))].sort()).toEqual(
      ['HealthcareService', 'Location', 'Organization', 'Practitioner', 'PractitionerRole', 'Schedule', 'Slot'],
    );
  });

  it('filters by Schedule.actor:HealthcareService: the target service, nothing for another', async () => {
    const own = await get(q('2026-10-21T00:00:00+00:00', '2026-10-22T00:00:00+00:00', '&Schedule.actor:HealthcareService=1402000113'));
    expect(resources(own, 'Slot').length).toBeGreaterThan(0);
    const other = await get(q('2026-10-21T00:00:00+00:00', '2026-10-22T00:00:00+00:00', '&Schedule.actor:HealthcareService=1403000212'));
    expect(other.body).toMatchObject({ total: 0, entry: [] });
  });

  it('answers the spec error codes for bad searches', async () => {
    const base = '/Slot?start=ge2026-10-21T00:00:00%2B00:00&start=le2026-10-22T00:00:00%2B00:00&' + INCLUDES;
    expect(errorOf(await get(base))).toMatchObject({ status: 400, code: 'REC_BAD_REQUEST', issue: 'required' });
    expect(errorOf(await get(`${base}&status=waitlist`))).toMatchObject({ status: 400, code: 'SEND_BAD_REQUEST', issue: 'value' });
    expect(errorOf(await get(`/Slot?status=free&start=ge2026-10-21T00:00:00%2B00:00&${INCLUDES}`))).toMatchObject({ status: 400, code: 'REC_BAD_REQUEST', issue: 'required' });
    expect(errorOf(await get(q('2026-10-21T00:00:00', '2026-10-22T00:00:00+00:00')))).toMatchObject({ status: 400, code: 'REC_BAD_REQUEST', issue: 'value' });
    expect(errorOf(await get(`/Slot?status=free&start=2026-10-21T00:00:00%2B00:00&start=le2026-10-22T00:00:00%2B00:00&${INCLUDES}`))).toMatchObject({ status: 400, code: 'REC_BAD_REQUEST', issue: 'value' });
    expect(errorOf(await get(q('2026-10-22T00:00:00+00:00', '2026-10-21T00:00:00+00:00')))).toMatchObject({ status: 400, code: 'REC_BAD_REQUEST', issue: 'invalid' });
    expect(errorOf(await get(q('2026-10-21T00:00:00+00:00', '2026-11-05T00:00:00+00:00')))).toMatchObject({ status: 422, code: 'REC_UNPROCESSABLE_ENTITY', issue: 'too-costly' });
    expect(errorOf(await get('/Slot?status=free&start=ge2026-10-21T00:00:00%2B00:00&start=le2026-10-22T00:00:00%2B00:00&_include=Slot:schedule'))).toMatchObject({ status: 400, code: 'REC_BAD_REQUEST', issue: 'required' });
  });

  it('gives the same diary from a second simulator instance (deterministic seed)', async () => {
    const key = await testKey('k2');
    const other = await startBarsSimulator({ port: 0, now: () => clock, rateLimit: { perSecond: 1000 }, clients: [client('app2', [key])] });
    try {
      const a = await assertion({ clientId: 'app2', key, aud: `${other.url}/oauth2/token`, nowMs: clock.getTime() });
      const res = await fetch(`${other.url}/oauth2/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: tokenForm(a) });
      const t2 = ((await res.json()) as { access_token: string }).access_token;
      const path = q('2026-10-23T00:00:00+00:00', '2026-10-24T00:00:00+00:00').replace('status=free', 'status=free,busy');
      const mine = resources(await barsCall(sim.url, path, { token, dosId: '1404000313' }), 'Slot');
      const theirs = resources(await barsCall(other.url, path, { token: t2, dosId: '1404000313' }), 'Slot');
      expect(theirs.map((s: any) => [s.id, s.status, s.start])).toEqual(mine.map((s: any) => [s.id, s.status, s.start]));
      expect(new Set(mine.map((s: any) => s.status))).toEqual(new Set(['free', 'busy']));
    } finally {
      await other.close();
    }
  });
});

describe('diaries across the clock changes, published in UTC', () => {
  const bri = BARS_SERVICE_BY_ID.get('1403000212')!;
  const utc = bri.schedules.find((s) => s.key === 'utc')!;
  const sdec = BARS_SERVICE_BY_ID.get('1402000113')!;
  const SPRING = { year: 2026, month: 3, day: 29 };
  const AUTUMN = { year: 2026, month: 10, day: 25 };
  const contiguous = (slots: { startMs: number; endMs: number }[]) => slots.every((s, i) => i === 0 || s.startMs === slots[i - 1]!.endMs);

  it('a round-the-clock diary has 46 half hours on the last Sunday of March and 50 on the last Sunday of October', () => {
    const spring = generateDay(bri, utc, SPRING);
    expect(spring).toHaveLength(46);
    expect(contiguous(spring)).toBe(true);
    expect(new Date(spring[0]!.startMs).toISOString()).toBe('2026-03-29T00:00:00.000Z'); // 00:00 GMT
    expect(new Date(spring.at(-1)!.endMs).toISOString()).toBe('2026-03-29T23:00:00.000Z'); // 24:00 BST
    const autumn = generateDay(bri, utc, AUTUMN);
    expect(autumn).toHaveLength(50);
    expect(contiguous(autumn)).toBe(true);
    expect(new Date(autumn[0]!.startMs).toISOString()).toBe('2026-10-24T23:00:00.000Z'); // 00:00 BST
    expect(new Date(autumn.at(-1)!.endMs).toISOString()).toBe('2026-10-26T00:00:00.000Z'); // 24:00 GMT
    expect(new Set(autumn.map((s) => s.id)).size).toBe(50);
    // Day joins day with no gap or overlap through both changes.
    for (const d of [SPRING, AUTUMN]) {
      const three = [-1, 0, 1].flatMap((n) => generateDay(bri, utc, addDays(d, n)));
      expect(contiguous(three)).toBe(true);
    }
  });

  it('a day-time diary keeps its local opening hour: 10:00 local is 09:00Z in BST and 10:00Z in GMT', () => {
    const first = (d: typeof SPRING) => new Date(generateDay(sdec, sdec.schedules[0]!, d)[0]!.startMs).toISOString();
    expect(first({ year: 2026, month: 3, day: 28 })).toBe('2026-03-28T10:00:00.000Z'); // Saturday, GMT
    expect(first(SPRING)).toBe('2026-03-29T09:00:00.000Z'); // Sunday, BST
    expect(first({ year: 2026, month: 10, day: 24 })).toBe('2026-10-24T09:00:00.000Z'); // Saturday, BST
    expect(first(AUTUMN)).toBe('2026-10-25T10:00:00.000Z'); // Sunday, GMT
    expect(generateDay(sdec, sdec.schedules[0]!, AUTUMN)).toHaveLength(16);
  });

  it('serves the autumn Sunday over HTTP: 50 slots of the round-the-clock diary, the repeated hour twice, all +00:00', async () => {
    const r = await get(q('2026-10-24T23:00:00+00:00', '2026-10-25T23:59:00+00:00').replace('status=free', 'status=free,busy') + '&Schedule.actor:HealthcareService=1403000212', '1403000212');
    const slots = resources(r, 'Slot').filter((s: any) => s.id.includes('-utc-'));
    expect(slots).toHaveLength(50);
    const starts = slots.map((s: any) => s.start);
    // 01:00 and 01:30 local happen twice: 00:00Z/00:30Z (BST) and 01:00Z/01:30Z (GMT), four distinct instants.
    for (const t of ['00:00', '00:30', '01:00', '01:30']) expect(starts).toContain(`2026-10-25T${t}:00+00:00`);
    expect(starts.every((s: string) => s.endsWith('+00:00'))).toBe(true);
  });

  it('serves the spring Sunday over HTTP when the clock stands in March 2027 (28 March): 46 slots', async () => {
    const saved = [clock, token] as const;
    clock = new Date('2027-03-24T12:00:00Z');
    token = await freshToken(); // the October token has long expired on this clock
    try {
      const r = await get(q('2027-03-28T00:00:00+00:00', '2027-03-28T22:59:00+00:00').replace('status=free', 'status=free,busy'), '1403000212');
      const slots = resources(r, 'Slot').filter((s: any) => s.id.includes('-utc-'));
      expect(slots).toHaveLength(46);
      expect(slots[2].start).toBe('2027-03-28T01:00:00+00:00'); // 02:00 BST follows 00:30 GMT
    } finally {
      [clock, token] = saved;
    }
  });
});
