/**
 * The adapter's client against the Booking Standard simulator (a real HTTP server, in-process on a free port):
 * what the provider answers, including its refusals, and what we send it.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startBookingStandardSimulator } from '../../sandbox/booking-standard/server.js';
import { startSandboxServer, type SandboxServer } from '../../sandbox/lib/http.js';
import { loadRegistry, parseRegistry, type BookingStandardSystem, type Registry } from '../kit/registry.js';
import { UpstreamError } from '../kit/upstream.js';
import { BookingStandardClient, type FhirSlot } from './client.js';
import { mapSlots } from './map.js';

let sim: SandboxServer;
let registry: Registry;
let client: BookingStandardClient;
const nhs111 = { consumer: { odsCode: 'RX8', name: 'Yorkshire Ambulance Service NHS 111' }, traceId: '0b6f1c2e-8c7b-4d6e-9f0a-000000000001' };
const cas = { consumer: { odsCode: 'NLO11', name: 'Devon Doctors Clinical Assessment Service' }, traceId: '0b6f1c2e-8c7b-4d6e-9f0a-000000000002' };

const harbour = () => registry.system('harbour-uec') as BookingStandardSystem;
const meridian = () => registry.system('meridian-ooh') as BookingStandardSystem;
const DAY = 86_400_000;

function days(n: number): { from: Date; to: Date } {
  const from = new Date();
  return { from, to: new Date(from.getTime() + n * DAY) };
}

async function requests(): Promise<{ path: string; query: Record<string, string[]>; headers: Record<string, string>; status?: number }[]> {
  return (await (await fetch(`${sim.url}/_sandbox/requests`)).json()) as never;
}

async function failure(p: Promise<unknown>): Promise<UpstreamError> {
  const err = await p.then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(UpstreamError);
  return err as UpstreamError;
}

beforeAll(async () => {
  sim = await startBookingStandardSimulator({ port: 0 });
  registry = loadRegistry(undefined, { SANDBOX_BOOKING_STANDARD_URL: sim.url });
  client = new BookingStandardClient(registry);
});
afterAll(() => sim.close());
beforeEach(async () => {
  await fetch(`${sim.url}/_sandbox/requests`, { method: 'DELETE' });
  await fetch(`${sim.url}/_sandbox/faults`, { method: 'DELETE' });
});

describe('slot search against the simulator', () => {
  it('follows paging to the end: every slot once, with its schedule included', async () => {
    const result = await client.searchSlots(harbour(), { serviceId: '1402000101', ...days(14) }, nhs111);
    const slots = result.resources.filter((r) => r.resourceType === 'Slot') as FhirSlot[];
    const pages = (await requests()).filter((r) => r.path.endsWith('/Slot'));
    expect(pages.length).toBeGreaterThan(1); // 14 days of 30-minute ED slots do not fit one page
    expect(new Set(slots.map((s) => s.id)).size).toBe(slots.length);
    for (const s of slots) {
      expect(s.status).toBe('free');
      expect(result.resources.some((r) => `Schedule/${r.id}` === s.schedule?.reference)).toBe(true);
    }
    expect(result.resources.some((r) => r.resourceType === 'HealthcareService' && r.id === '1402000101')).toBe(true);
  });

  it('gets the same slots in one pass as the provider reports for the window', async () => {
    const window = days(3);
    const result = await client.searchSlots(harbour(), { serviceId: '1402000102', ...window }, nhs111);
    const mapped = mapSlots({ system: 'harbour-uec', serviceId: '1402000102', resources: result.resources, ...window, fetchedAt: result.fetchedAt });
    expect(mapped.skipped).toEqual([]);
    expect(mapped.slots.length).toBe(result.resources.filter((r) => r.resourceType === 'Slot').length);
    expect(mapped.slots.length).toBeGreaterThan(20);
  });

  it('sends read:slot to the provider that registered it, and search:slot to the other (both answer)', async () => {
    await client.searchSlots(meridian(), { serviceId: '1402000103', ...days(1) }, nhs111);
    await client.searchSlots(harbour(), { serviceId: '1402000102', ...days(1) }, nhs111);
    const searches = (await requests()).filter((r) => r.path.endsWith('/Slot'));
    const m = searches.find((r) => r.path.startsWith('/meridian/'));
    const h = searches.find((r) => r.path.startsWith('/harbour/'));
    expect(m!.headers['ssp-interactionid']).toBe('urn:nhs:names:services:careconnect:fhir:rest:read:slot');
    expect(h!.headers['ssp-interactionid']).toBe('urn:nhs:names:services:careconnect:fhir:rest:search:slot');
    expect([m!.status, h!.status]).toEqual([200, 200]);
  });

  it('sees slots ring-fenced for NHS 111 only when asking as NHS 111', async () => {
    const window = days(7);
    const asNhs111 = await client.searchSlots(harbour(), { serviceId: '1402000101', ...window }, nhs111);
    const asCas = await client.searchSlots(harbour(), { serviceId: '1402000101', ...window }, cas);
    const ids = (r: typeof asCas) => new Set(r.resources.filter((x) => x.resourceType === 'Slot').map((x) => x.id));
    const forCas = ids(asCas);
    const for111 = ids(asNhs111);
    expect(for111.size).toBeGreaterThan(forCas.size);
    for (const id of forCas) expect(for111.has(id)).toBe(true);
  });

  it('returns an empty list for a service with nothing released', async () => {
    const result = await client.searchSlots(harbour(), { serviceId: '1404000305', ...days(14) }, nhs111);
    expect(result.resources.filter((r) => r.resourceType === 'Slot')).toEqual([]);
  });
});

describe('the provider refusing', () => {
  it('404 for a service id the provider does not hold: REJECTED, not an empty list', async () => {
    const err = await failure(client.searchSlots(harbour(), { serviceId: '1402000103', ...days(1) }, nhs111));
    expect(err).toMatchObject({ reason: 'REJECTED', status: 404, system: 'harbour-uec' });
  });

  it('400 for a window wholly in the past, not retried', async () => {
    const to = new Date(Date.now() - 2 * DAY);
    const err = await failure(client.searchSlots(harbour(), { serviceId: '1402000102', from: new Date(to.getTime() - DAY), to }, nhs111));
    expect(err).toMatchObject({ reason: 'REJECTED', status: 400 });
    expect((await requests()).filter((r) => r.path.endsWith('/Slot'))).toHaveLength(1);
  });

  it('403 when our registry names the wrong interaction id or ASID for the provider', async () => {
    const wrongInteraction = { ...meridian(), interactions: { searchSlot: 'urn:nhs:names:services:careconnect:fhir:rest:search:slot' } };
    expect(await failure(client.searchSlots(wrongInteraction, { serviceId: '1402000103', ...days(1) }, nhs111))).toMatchObject({ reason: 'REJECTED', status: 403 });
    const wrongAsid = { ...harbour(), asid: '200000000999' };
    expect(await failure(client.searchSlots(wrongAsid, { serviceId: '1402000102', ...days(1) }, nhs111))).toMatchObject({ reason: 'REJECTED', status: 403 });
  });

  it('403 when the JWT audience is not the provider root', async () => {
    // Same provider and path once normalised, but the root we name in `aud` is not the one it knows itself by.
    const misrouted = { ...harbour(), baseUrl: `${sim.url}/harbour/STU3/x/..` };
    expect(await failure(client.searchSlots(misrouted, { serviceId: '1402000102', ...days(1) }, nhs111))).toMatchObject({ reason: 'REJECTED', status: 403 });
  });

  it('500 once is retried with a fresh request id and succeeds; 500 always is UNAVAILABLE', async () => {
    await fetch(`${sim.url}/_sandbox/faults`, { method: 'POST', body: JSON.stringify({ pathPrefix: '/harbour/', status: 500, times: 1 }) });
    const ok = await client.searchSlots(harbour(), { serviceId: '1402000102', ...days(1) }, nhs111);
    expect(ok.resources.length).toBeGreaterThan(0);
    const [first, second] = (await requests()).filter((r) => r.path.endsWith('/Slot'));
    expect(first!.status).toBe(500);
    expect(second!.headers['x-request-id']).not.toBe(first!.headers['x-request-id']);
    // One trace id for the whole request, as the gateway sends it; a new request id per attempt.
    expect(second!.headers['ssp-traceid']).toBe(first!.headers['ssp-traceid']);

    await fetch(`${sim.url}/_sandbox/faults`, { method: 'POST', body: JSON.stringify({ pathPrefix: '/harbour/', status: 500 }) });
    expect(await failure(client.searchSlots(harbour(), { serviceId: '1402000102', ...days(1) }, nhs111))).toMatchObject({ reason: 'UNAVAILABLE', status: 500 });
  });

  it('a malformed body is INVALID_RESPONSE', async () => {
    await fetch(`${sim.url}/_sandbox/faults`, { method: 'POST', body: JSON.stringify({ pathPrefix: '/harbour/', malformed: true }) });
    expect(await failure(client.searchSlots(harbour(), { serviceId: '1402000102', ...days(1) }, nhs111))).toMatchObject({ reason: 'INVALID_RESPONSE' });
  });

  it('never follows a next link to another host, so our JWT and headers never leave the named provider', async () => {
    const elsewhere = await startSandboxServer({ name: 'elsewhere', port: 0, handler: () => ({ status: 200, body: { resourceType: 'Bundle', type: 'searchset' } }) });
    try {
      const page = { resourceType: 'Bundle', type: 'searchset', entry: [], link: [{ relation: 'next', url: `${elsewhere.url}/harbour/STU3/Slot?_page=2` }] };
      await fetch(`${sim.url}/_sandbox/faults`, { method: 'POST', body: JSON.stringify({ pathPrefix: '/harbour/', status: 200, body: page, times: 1 }) });
      expect(await failure(client.searchSlots(harbour(), { serviceId: '1402000102', ...days(1) }, nhs111))).toMatchObject({ reason: 'INVALID_RESPONSE' });
      expect(await (await fetch(`${elsewhere.url}/_sandbox/requests`)).json()).toEqual([]);
    } finally {
      await elsewhere.close();
    }
  });
});

describe('through the Spine Secure Proxy', () => {
  it('prefixes the provider URL with the SSP base, exactly one slash at the join', () => {
    const viaSsp = new BookingStandardClient(parseRegistry({
      consumerSystem: registry.consumerSystem,
      sspUrl: 'https://ssp.example.nhs.uk',
      systems: [{ ...harbour() }],
    }));
    expect(viaSsp.viaSsp('https://provider.nhs.uk/STU3/Slot?x=1')).toBe('https://ssp.example.nhs.uk/https://provider.nhs.uk/STU3/Slot?x=1');
    expect(client.viaSsp('https://provider.nhs.uk/STU3/Slot')).toBe('https://provider.nhs.uk/STU3/Slot');
  });
});
