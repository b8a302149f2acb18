/**
 * The adapter's client against the Oakfield simulator (a real HTTP server, in-process on a free port): what the
 * supplier answers, including its refusals and its rate limit, and what we send it.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startPasRestSimulator } from '../../sandbox/pas-rest/server.js';
import { startSandboxServer, type RecordedRequest, type SandboxServer } from '../../sandbox/lib/http.js';
import { loadRegistry, RegistryError, type PasRestSystem, type Registry } from '../kit/registry.js';
import { UpstreamError } from '../../common/upstream.js';
import { PasRestClient, nextPage, type PasBookingRequest } from './client.js';
import { startPasRestSubgraph } from './index.js';
import { londonDate } from './wall-clock.js';

const KEY = 'sandbox-oakfield-key';
const ENV = { OAKFIELD_PAS_API_KEY: KEY };
const call = { consumer: { odsCode: 'RX8', name: 'Yorkshire Ambulance Service NHS 111' }, traceId: 'trace-pas-0001' };
const DAY = 86_400_000;

let sim: SandboxServer;
let registry: Registry;
let client: PasRestClient;
const oakfield = (overrides: Partial<PasRestSystem> = {}) => ({ ...(registry.system('oakfield-pas') as PasRestSystem), ...overrides });

async function requests(server = sim): Promise<RecordedRequest[]> {
  return (await (await fetch(`${server.url}/_sandbox/requests`)).json()) as RecordedRequest[];
}
async function fault(f: object, server = sim): Promise<void> {
  await fetch(`${server.url}/_sandbox/faults`, { method: 'POST', body: JSON.stringify(f) });
}
async function failure(p: Promise<unknown>): Promise<UpstreamError> {
  const err = await p.then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(UpstreamError);
  return err as UpstreamError;
}
/** Local dates from today for `days` more days, as the adapter asks for them. */
function dates(days: number): [string, string] {
  const now = Date.now();
  return [londonDate(now), londonDate(now + days * DAY)];
}

beforeAll(async () => {
  sim = await startPasRestSimulator({ port: 0, apiKeys: [KEY], rateLimit: { perSecond: 1000 } });
  registry = loadRegistry(undefined, { SANDBOX_PAS_REST_URL: sim.url });
  client = PasRestClient.forRegistry(registry, ENV);
});
afterAll(() => sim.close());
beforeEach(async () => {
  await fetch(`${sim.url}/_sandbox/requests`, { method: 'DELETE' });
  await fetch(`${sim.url}/_sandbox/faults`, { method: 'DELETE' });
});

describe('finding the clinic for a DoS service', () => {
  it('reads the whole clinic list, every page in id order, each clinic once (the list clinics.ts keeps)', async () => {
    const all = await client.allClinics(oakfield(), call);
    const paged = await PasRestClient.forRegistry(registry, ENV, { pageSize: 3 }).allClinics(oakfield(), call);
    expect(all.length).toBeGreaterThan(3);
    expect(paged.map((c) => c.id)).toEqual(all.map((c) => c.id));
    expect(new Set(all.map((c) => c.id)).size).toBe(all.length);
    expect(all.map((c) => c.id)).toEqual([...all.map((c) => c.id)].sort());
    expect(all.some((c) => c.externalIds?.some((e) => e.system === 'dos' && e.value === '1402000107'))).toBe(true);
    const log = await requests();
    expect(log[0]!.query).toEqual({ limit: ['100'] });
    expect(log.slice(1).every((r) => r.path === '/api/v2/clinics' && r.query['limit']?.[0] === '3')).toBe(true);
    expect(log).toHaveLength(1 + Math.ceil(all.length / 3));
  });

  it('looks clinics up by their DoS external id, several in one request, and sends key, organisation and trace id', async () => {
    const clinics = await client.clinicsForServices(oakfield(), ['1402000107', '1403000206', '1402000101'], call);
    expect(clinics.map((c) => c.externalIds?.[0]?.value).sort()).toEqual(['1402000107', '1403000206']);
    const [r, ...more] = await requests();
    expect(more).toEqual([]);
    expect(r!.query['externalId']).toEqual(['dos:1402000107', 'dos:1403000206', 'dos:1402000101']);
    expect(r!.headers).toMatchObject({ 'x-api-key': KEY, 'x-requesting-organisation': 'RX8', 'x-correlation-id': 'trace-pas-0001', accept: 'application/json' });
  });

  it('reads one clinic; null for one the supplier does not hold', async () => {
    const [c] = await client.clinicsForServices(oakfield(), ['1404000306'], call);
    expect(await client.clinic(oakfield(), c!.id, call)).toMatchObject({ id: c!.id, externalIds: [{ system: 'dos', value: '1404000306' }] });
    expect(await client.clinic(oakfield(), 'CL-NONE00', call)).toBeNull();
  });
});

describe('sessions', () => {
  it('follows pagination to the end: the same sessions, in order, as one big page', async () => {
    const [c] = await client.clinicsForServices(oakfield(), ['1402000107'], call);
    const [from, to] = dates(4);
    const whole = await client.sessions(oakfield(), c!.id, from, to, call);
    await fetch(`${sim.url}/_sandbox/requests`, { method: 'DELETE' });
    const paged = await PasRestClient.forRegistry(registry, ENV, { pageSize: 3 }).sessions(oakfield(), c!.id, from, to, call);
    expect(whole.sessions.length).toBeGreaterThan(9);
    expect(paged.sessions).toEqual(whole.sessions);
    const pages = await requests();
    expect(pages).toHaveLength(Math.ceil(whole.sessions.length / 3));
    expect(pages.every((p) => p.query['limit']?.[0] === '3' && p.status === 200)).toBe(true);
    expect(pages.slice(1).every((p) => p.query['cursor']?.length === 1)).toBe(true);
  });

  it('asks for the largest page, so two weeks of sessions is one request', async () => {
    const [c] = await client.clinicsForServices(oakfield(), ['1403000206'], call);
    await fetch(`${sim.url}/_sandbox/requests`, { method: 'DELETE' });
    const [from, to] = dates(14);
    const found = await client.sessions(oakfield(), c!.id, from, to, call);
    expect(found.sessions.length).toBeGreaterThan(30);
    expect((await requests()).map((r) => r.query['limit']?.[0])).toEqual(['100']);
  });

  it('stops at a page cap when the next links never end', async () => {
    const loop = { data: [], next: `${sim.url}/api/v2/clinics/CL-LOOP00/sessions?from=2026-01-01&to=2026-01-01&cursor=again` };
    await fault({ pathPrefix: '/api/v2/clinics/CL-LOOP00', status: 200, body: loop });
    expect(await failure(client.sessions(oakfield(), 'CL-LOOP00', '2026-01-01', '2026-01-01', call))).toMatchObject({ reason: 'INVALID_RESPONSE' });
    expect(await requests()).toHaveLength(20);
  });
});

describe('next links', () => {
  it('never follows one to another origin, or out of the registered API on the same origin, so the key stays put', async () => {
    const elsewhere = await startSandboxServer({ name: 'elsewhere', port: 0, handler: () => ({ status: 200, body: { data: [], next: null } }) });
    try {
      await fault({ pathPrefix: '/api/v2/clinics', status: 200, body: { data: [], next: `${elsewhere.url}/api/v2/clinics?cursor=x` }, times: 1 });
      expect(await failure(client.clinicsForServices(oakfield(), ['1402000107'], call))).toMatchObject({ reason: 'INVALID_RESPONSE' });
      expect(await requests(elsewhere)).toEqual([]);
    } finally {
      await elsewhere.close();
    }
    const system = oakfield();
    expect(() => nextPage(system, `${sim.url}/admin/export?cursor=x`)).toThrow(UpstreamError);
    expect(() => nextPage(system, `${sim.url}/api/v2-beta/clinics`)).toThrow(UpstreamError);
    expect(nextPage(system, '/api/v2/clinics?cursor=x')).toBe(`${sim.url}/api/v2/clinics?cursor=x`);
  });
});

describe('the supplier refusing or failing', () => {
  it('401 for a wrong key: REJECTED for a search, the vendor error for a booking call, never retried', async () => {
    const wrong = new PasRestClient(new Map([['oakfield-pas', 'not-the-key']]));
    expect(await failure(wrong.clinicsForServices(oakfield(), ['1402000107'], call))).toMatchObject({ reason: 'REJECTED', status: 401, detail: expect.stringContaining('UNAUTHORISED') });
    const read = await wrong.booking(oakfield(), 'bk_anything', call);
    expect(read).toMatchObject({ status: 401, error: { code: 'UNAUTHORISED' } });
    expect(JSON.stringify(read)).not.toContain('not-the-key');
    expect((await requests()).map((r) => r.status)).toEqual([401, 401]);
  });

  it('404 for an unknown clinic is REJECTED (configuration drift), an unknown booking the vendor error', async () => {
    expect(await failure(client.sessions(oakfield(), 'CL-NONE00', '2026-01-01', '2026-01-02', call))).toMatchObject({ reason: 'REJECTED', status: 404, detail: expect.stringContaining('CLINIC_NOT_FOUND') });
    expect(await client.booking(oakfield(), 'bk_nope', call)).toMatchObject({ status: 404, error: { code: 'BOOKING_NOT_FOUND' } });
  });

  it('422 for a patient the supplier refuses, with every field in diagnostics', async () => {
    const body = { sessionId: 'SES-000000-20260101-1', time: '09:00', patient: { familyName: '', givenNames: [], dateOfBirth: 'x', gender: '2', address: { lines: ['1 Road'], postcode: 'LS1 1AA' } }, referral: { referrerOdsCode: 'RX8', reportId: '6f1f1c2e-8c7b-4d6e-9f0a-1b2c3d4e5f60', reportType: { code: 'c', display: 'd' }, summary: 's' } };
    const a = await client.book(oakfield(), body as unknown as PasBookingRequest, 'key-422', call);
    expect(a).toMatchObject({ status: 422, replayed: false, error: { code: 'PATIENT_INVALID' } });
    expect(a.diagnostics).toMatch(/patient\.familyName.*patient\.givenNames.*patient\.dateOfBirth/);
    const [post] = await requests();
    expect(post!.headers).toMatchObject({ 'idempotency-key': 'key-422', 'content-type': 'application/json' });
  });

  it('500 once on a read is retried and succeeds; 503 always is UNAVAILABLE after two attempts', async () => {
    const [c] = await client.clinicsForServices(oakfield(), ['1402000108'], call);
    await fetch(`${sim.url}/_sandbox/requests`, { method: 'DELETE' });
    await fault({ pathPrefix: '/api/v2/clinics/', status: 500, times: 1 });
    const ok = await client.sessions(oakfield(), c!.id, ...dates(1), call);
    expect(ok.sessions.length).toBeGreaterThan(0);
    expect((await requests()).map((r) => r.status)).toEqual([500, 200]);

    await fault({ pathPrefix: '/api/v2/clinics/', status: 503 });
    expect(await failure(client.sessions(oakfield(), c!.id, ...dates(1), call))).toMatchObject({ reason: 'UNAVAILABLE', status: 503 });
  });

  it('a 5xx to a POST throws at once: the client never re-sends a booking on its own', async () => {
    await fault({ pathPrefix: '/api/v2/bookings', method: 'POST', status: 500 });
    const err = await failure(client.book(oakfield(), {} as PasBookingRequest, 'key-500', call));
    expect(err).toMatchObject({ reason: 'UNAVAILABLE', status: 500 });
    expect(await requests()).toHaveLength(1);
  });

  it('a malformed JSON body is INVALID_RESPONSE, for a list and for a read', async () => {
    await fault({ pathPrefix: '/api/v2/', malformed: true });
    expect(await failure(client.clinicsForServices(oakfield(), ['1402000107'], call))).toMatchObject({ reason: 'INVALID_RESPONSE' });
    expect(await failure(client.booking(oakfield(), 'bk_x', call))).toMatchObject({ reason: 'INVALID_RESPONSE' });
  });

  it('a list page in the wrong shape is INVALID_RESPONSE, never an empty list', async () => {
    await fault({ pathPrefix: '/api/v2/clinics', status: 200, body: { clinics: [] }, times: 1 });
    expect(await failure(client.clinicsForServices(oakfield(), ['1402000107'], call))).toMatchObject({ reason: 'INVALID_RESPONSE' });
  });
});

describe('429 under load', () => {
  it('waits as long as Retry-After says, then retries once and succeeds (timed, and in the request log)', async () => {
    const limited = await startPasRestSimulator({ port: 0, apiKeys: [KEY], rateLimit: { perSecond: 1 } });
    try {
      const reg = loadRegistry(undefined, { SANDBOX_PAS_REST_URL: limited.url });
      const system = reg.system('oakfield-pas') as PasRestSystem;
      const c = PasRestClient.forRegistry(reg, ENV);
      // Use up the bucket (one token at one per second).
      expect((await fetch(`${limited.url}/api/v2/clinics`, { headers: { 'x-api-key': KEY, 'x-requesting-organisation': 'RX8' } })).status).toBe(200);
      const started = performance.now();
      const clinics = await c.clinicsForServices(system, ['1402000107'], call);
      const took = performance.now() - started;
      expect(clinics).toHaveLength(1);
      expect(took).toBeGreaterThanOrEqual(950);
      expect(took).toBeLessThan(system.deadlineMs);
      const log = await requests(limited);
      expect(log.map((r) => r.status)).toEqual([200, 429, 200]);
      // The retry went out no sooner than the Retry-After second after the refusal.
      expect(Date.parse(log[2]!.at) - Date.parse(log[1]!.at)).toBeGreaterThanOrEqual(950);
    } finally {
      await limited.close();
    }
  });

  it('gives up at once, RATE_LIMITED, when Retry-After would outlast the deadline', async () => {
    await fault({ pathPrefix: '/api/v2/clinics', status: 429, headers: { 'retry-after': '5' } });
    const started = performance.now();
    expect(await failure(client.clinicsForServices(oakfield(), ['1402000107'], call))).toMatchObject({ reason: 'RATE_LIMITED', status: 429, retryAfterMs: 5000 });
    expect(performance.now() - started).toBeLessThan(500);
    expect(await requests()).toHaveLength(1);
  });
});

describe('the API key', () => {
  it('is read for every PAS system at start-up: a missing one stops the subgraph with the variable named', async () => {
    expect(() => PasRestClient.forRegistry(registry, {})).toThrow(RegistryError);
    expect(() => PasRestClient.forRegistry(registry, {})).toThrow(/oakfield-pas: environment variable OAKFIELD_PAS_API_KEY/);
    await expect(startPasRestSubgraph({ port: 0, registry, env: {} })).rejects.toThrow(/OAKFIELD_PAS_API_KEY/);
  });
});
