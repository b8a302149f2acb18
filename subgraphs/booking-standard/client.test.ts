/**
 * The adapter's client against the Booking Standard simulator (a real HTTP server, in-process on a free port):
 * what the provider answers, including its refusals, and what we send it.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startBookingStandardSimulator } from '../../sandbox/booking-standard/server.js';
import { startSandboxServer, type RecordedRequest, type SandboxServer } from '../../sandbox/lib/http.js';
import { loadRegistry, parseRegistry, type BookingStandardSystem, type Registry } from '../kit/registry.js';
import { UpstreamError } from '../../common/upstream.js';
import { BookingStandardClient, FIRST_SIGHT_PARTS, MAX_PARTS, fhirInstant, planByDay, planFromDensity, planParts, slotSearchQuery, type FhirBundle, type FhirSlot } from './client.js';
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

describe('a paged window: cut into parts sent at once', () => {
  /** Every Slot id of a search walked the plain way, one `next` link after another. */
  async function sequentialIds(system: BookingStandardSystem, serviceId: string, from: Date, to: Date): Promise<{ ids: string[]; pages: number; total?: number }> {
    const ids: string[] = [];
    let total: number | undefined;
    let pages = 0;
    for (let url: string | undefined = `${system.baseUrl}/Slot?${slotSearchQuery({ serviceId, from, to }).toString()}`; url; pages++) {
      const res = await fetch(url, { headers: client.headers(system, system.interactions.searchSlot, 'organization/slot.read', nhs111) });
      expect(res.status).toBe(200);
      const bundle = (await res.json()) as FhirBundle;
      total ??= bundle.total;
      for (const e of bundle.entry ?? []) if (e.resource?.resourceType === 'Slot') ids.push(e.resource.id!);
      url = bundle.link?.find((l) => l.relation === 'next')?.url;
    }
    return { ids, pages, ...(total !== undefined ? { total } : {}) };
  }

  it('a service not searched before: one part per day, all at once; nothing lost or repeated', { timeout: 60_000 }, async () => {
    const system = { ...meridian(), deadlineMs: 20_000 };
    const serviceId = '1403000202';
    const from = new Date(Date.now() + 3_600_000);
    const to = new Date(from.getTime() + 7 * DAY);
    const reference = await sequentialIds(system, serviceId, from, to);
    expect(reference.pages).toBeGreaterThan(3); // a week of out-of-hours slots is several pages
    expect(new Set(reference.ids).size).toBe(reference.ids.length);

    await fetch(`${sim.url}/_sandbox/requests`, { method: 'DELETE' });
    // Every search answer takes 1.5 s: pages one after another would arrive at least that far apart, while requests
    // sent together arrive within moments of each other even on a loaded machine.
    const DELAY = 1500;
    await fetch(`${sim.url}/_sandbox/faults`, { method: 'POST', body: JSON.stringify({ pathPrefix: '/meridian/fhir/STU3/Slot', delayMs: DELAY }) });
    // A client that has not searched this service before: the week cut by day up front, no first page to wait for.
    const fresh = new BookingStandardClient(registry);
    const result = await fresh.searchSlots(system, { serviceId, from, to }, nhs111);

    const slotIds = result.resources.filter((r) => r.resourceType === 'Slot').map((r) => r.id!);
    expect(new Set(slotIds).size).toBe(slotIds.length);
    expect([...slotIds].sort()).toEqual([...reference.ids].sort());
    expect(slotIds).toHaveLength(reference.total!);
    const keys = result.resources.map((r) => `${r.resourceType}/${r.id}`);
    expect(new Set(keys).size).toBe(keys.length);

    const rest = ((await requests()) as unknown as RecordedRequest[]).filter((r) => r.path.endsWith('/Slot'));
    const parts = rest.filter((r) => !r.query['_page']);
    expect(parts).toHaveLength(7);
    for (const p of parts) expect(p.query['start']).not.toEqual([`ge${fhirInstant(from)}`, `le${fhirInstant(to)}`]);
    // The parts went out together: all of them arrived within one answer's delay of each other.
    const arrivals = parts.map((r) => Date.parse((r as RecordedRequest & { at: string }).at));
    expect(Math.max(...arrivals) - Math.min(...arrivals)).toBeLessThan(DELAY);
    // And they are the window, cut into contiguous whole-second ranges.
    const ranges = parts
      .map((r) => r.query['start']!.map((v) => Date.parse(v.slice(2))) as [number, number])
      .sort((a, b) => a[0] - b[0]);
    expect(ranges[0]![0]).toBe(Date.parse(fhirInstant(from)));
    expect(ranges.at(-1)![1]).toBe(Date.parse(fhirInstant(to)));
    for (let i = 1; i < ranges.length; i++) expect(ranges[i]![0]).toBe(ranges[i - 1]![1] + 1000);
    // Every further page belongs to one of the parts (a part denser than average pages on its own).
    for (const r of rest.filter((x) => x.query['_page'])) expect(parts.some((p) => p.query['start']!.join() === r.query['start']!.join())).toBe(true);

    // The same client searching that service again knows it pages: the window goes out cut up front, all at once,
    // with no first page to wait for; still every slot once.
    await fetch(`${sim.url}/_sandbox/requests`, { method: 'DELETE' });
    const again = await fresh.searchSlots(system, { serviceId, from, to }, nhs111);
    const againIds = again.resources.filter((r) => r.resourceType === 'Slot').map((r) => r.id!);
    expect(new Set(againIds).size).toBe(againIds.length);
    expect([...againIds].sort()).toEqual([...reference.ids].sort());
    const second = ((await requests()) as unknown as RecordedRequest[]).filter((r) => r.path.endsWith('/Slot') && !r.query['_page']);
    expect(second.length).toBeGreaterThanOrEqual(2);
    expect(second.some((r) => r.query['start']!.join() === [`ge${fhirInstant(from)}`, `le${fhirInstant(to)}`].join())).toBe(false);
    const at = second.map((r) => Date.parse((r as RecordedRequest & { at: string }).at));
    expect(Math.max(...at) - Math.min(...at)).toBeLessThan(DELAY);
  });

  it('answers from one request when the window fits one page', async () => {
    const result = await client.searchSlots(harbour(), { serviceId: '1402000101', from: new Date(Date.now() + 3_600_000), to: new Date(Date.now() + 13 * 3_600_000) }, nhs111);
    expect(result.resources.some((r) => r.resourceType === 'Slot')).toBe(true);
    expect((await requests()).filter((r) => r.path.endsWith('/Slot'))).toHaveLength(1);
  });

  describe('against a provider whose slots bunch up, with pages of ten', () => {
    let provider: SandboxServer;
    const T0 = Date.UTC(2030, 0, 7, 0, 0, 0);
    // 60 slots in the first hour, then one every six hours for two days: most parts are nearly empty, one overflows.
    const STARTS = [...Array.from({ length: 60 }, (_, i) => T0 + i * 60_000), ...Array.from({ length: 8 }, (_, i) => T0 + (i + 1) * 6 * 3_600_000)];
    let nextHost = '';
    let failing: (ge: number) => boolean = () => false;

    beforeAll(async () => {
      provider = await startSandboxServer({
        name: 'bunched',
        port: 0,
        handler: (req) => {
          const bounds = req.query.getAll('start').map((v) => ({ op: v.slice(0, 2), at: Date.parse(v.slice(2)) }));
          const ge = bounds.find((b) => b.op === 'ge')!.at;
          const le = bounds.find((b) => b.op === 'le')!.at;
          if (failing(ge)) return { status: 500, body: { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'exception' }] } };
          const matches = STARTS.map((at, i) => ({ at, id: `s${i}` })).filter((s) => s.at >= ge && s.at <= le);
          const offset = Number(req.query.get('_page') ?? 0);
          const page = matches.slice(offset, offset + 10);
          const q = new URLSearchParams(req.query);
          q.set('_page', String(offset + 10));
          const link = offset + 10 < matches.length ? [{ relation: 'next', url: `${nextHost || provider.url}${req.path}?${q.toString()}` }] : [];
          return {
            status: 200,
            body: {
              resourceType: 'Bundle',
              type: 'searchset',
              total: matches.length,
              link,
              entry: page.map((s) => ({ resource: { resourceType: 'Slot', id: s.id, start: new Date(s.at).toISOString(), status: 'free' } })),
            },
          };
        },
      });
    });
    afterAll(() => provider.close());
    beforeEach(async () => {
      nextHost = '';
      failing = () => false;
      await fetch(`${provider.url}/_sandbox/requests`, { method: 'DELETE' });
    });

    const bunched = () => ({ ...harbour(), baseUrl: `${provider.url}/fhir` });
    const window = { serviceId: 'x', from: new Date(T0), to: new Date(T0 + 2 * DAY) };

    it('a window of a day that pages: the first page, then the rest of the window at once', async () => {
      const day = { serviceId: 'x', from: new Date(T0), to: new Date(T0 + DAY - 1000) };
      const result = await new BookingStandardClient(registry).searchSlots(bunched(), day, nhs111);
      expect(result.resources.map((r) => r.id).sort()).toEqual(STARTS.filter((t) => t < T0 + DAY).map((t) => `s${STARTS.indexOf(t)}`).sort());
      const log = (await (await fetch(`${provider.url}/_sandbox/requests`)).json()) as RecordedRequest[];
      const [first, ...rest] = log;
      expect(first!.query['start']).toEqual([`ge${fhirInstant(day.from)}`, `le${fhirInstant(day.to)}`]);
      const parts = rest.filter((r) => !r.query['_page']);
      expect(parts.length).toBeGreaterThanOrEqual(2);
      expect(parts.length).toBeLessThanOrEqual(MAX_PARTS);
    });

    it('a first search cut short still teaches the density: the next is not cut by day again', async () => {
      // The second day's part fails (500, retried once, then UNAVAILABLE); the others show a sparse service.
      failing = (ge) => ge >= T0 + DAY && ge < T0 + 2 * DAY;
      const fresh = new BookingStandardClient(registry);
      const week = { serviceId: 'x', from: new Date(T0 + 2 * 3_600_000), to: new Date(T0 + 7 * DAY) };
      expect(await failure(fresh.searchSlots(bunched(), week, nhs111))).toMatchObject({ reason: 'UNAVAILABLE' });
      const first = (await (await fetch(`${provider.url}/_sandbox/requests`)).json()) as RecordedRequest[];
      expect(first.filter((r) => !r.query['_page']).length).toBeGreaterThanOrEqual(7);

      failing = () => false;
      await fetch(`${provider.url}/_sandbox/requests`, { method: 'DELETE' });
      const again = await fresh.searchSlots(bunched(), week, nhs111);
      expect(again.resources.map((r) => r.id).sort()).toEqual(STARTS.map((t, i) => ({ t, id: `s${i}` })).filter(({ t }) => t >= week.from.getTime()).map(({ id }) => id).sort());
      // Eight slots in the week fit one page: one search of the whole window.
      const second = (await (await fetch(`${provider.url}/_sandbox/requests`)).json()) as RecordedRequest[];
      expect(second).toHaveLength(1);
    });

    it('a dense part follows its own next links: every slot once', async () => {
      const result = await client.searchSlots(bunched(), window, nhs111);
      expect(result.resources.map((r) => r.id).sort()).toEqual(STARTS.map((_, i) => `s${i}`).sort());
      const log = (await (await fetch(`${provider.url}/_sandbox/requests`)).json()) as RecordedRequest[];
      expect(log.filter((r) => r.query['_page']).length).toBeGreaterThan(0);
    });

    it('never follows a part\'s next link to another host', async () => {
      const elsewhere = await startSandboxServer({ name: 'elsewhere', port: 0, handler: () => ({ status: 200, body: { resourceType: 'Bundle', type: 'searchset' } }) });
      try {
        nextHost = elsewhere.url;
        expect(await failure(client.searchSlots(bunched(), window, nhs111))).toMatchObject({ reason: 'INVALID_RESPONSE' });
        expect(await (await fetch(`${elsewhere.url}/_sandbox/requests`)).json()).toEqual([]);
      } finally {
        await elsewhere.close();
      }
    });
  });
});

describe('planParts', () => {
  const from = new Date(Date.UTC(2030, 0, 7, 9, 30, 0, 250));
  const to = new Date(Date.UTC(2030, 0, 14, 9, 30, 0));
  const page = (slots: number, total?: number): FhirBundle => ({
    resourceType: 'Bundle',
    ...(total !== undefined ? { total } : {}),
    entry: Array.from({ length: slots }, (_, i) => ({ resource: { resourceType: 'Slot', id: String(i) } })),
  });
  const now = Date.UTC(2030, 0, 1);

  it('cuts the window into contiguous whole-second parts, twice as many as the pages the total needs', () => {
    const parts = planParts({ serviceId: 's', from, to }, page(100, 700), now)!;
    expect(parts).toHaveLength(14);
    expect(parts[0]!.from).toBe(from);
    expect(parts.at(-1)!.to).toBe(to);
    for (let i = 1; i < parts.length; i++) expect(parts[i]!.from.getTime()).toBe(parts[i - 1]!.to.getTime() + 1000);
    for (const p of parts.slice(1)) expect(p.from.getTime() % 1000).toBe(0);
  });

  it('a service never searched: a part per 24 hours of a longer window, a week of parts at most, none for a day', () => {
    expect(FIRST_SIGHT_PARTS).toBe(7);
    expect(planByDay({ serviceId: 's', from, to: new Date(from.getTime() + 3 * DAY) }, now)).toHaveLength(3);
    expect(planByDay({ serviceId: 's', from, to: new Date(from.getTime() + 14 * DAY) }, now)).toHaveLength(FIRST_SIGHT_PARTS);
    const parts = planByDay({ serviceId: 's', from, to }, now)!;
    expect(parts).toHaveLength(7);
    expect(parts[0]!.from).toBe(from);
    expect(parts.at(-1)!.to).toBe(to);
    for (let i = 1; i < parts.length; i++) expect(parts[i]!.from.getTime()).toBe(parts[i - 1]!.to.getTime() + 1000);
    expect(planByDay({ serviceId: 's', from, to: new Date(from.getTime() + DAY) }, now)).toBeNull();
  });

  it('at most MAX_PARTS; one a day without a total; none for a window that fits or cannot be cut', () => {
    expect(planParts({ serviceId: 's', from, to }, page(10, 10_000), now)).toHaveLength(MAX_PARTS);
    expect(planParts({ serviceId: 's', from, to }, page(100), now)).toHaveLength(7);
    expect(planParts({ serviceId: 's', from, to: new Date(from.getTime() + 1000) }, page(100, 500), now)).toBeNull();
  });

  it('cuts up front only when what the service showed last time says this window will not fit one page', () => {
    const week = 7 * 86_400;
    // 700 slots a week on pages of 100: a week is 14 parts, a day (100 expected, over four fifths of a page) 2.
    expect(planFromDensity({ serviceId: 's', from, to }, { perSecond: 700 / week, pageSize: 100 }, now)).toHaveLength(14);
    expect(planFromDensity({ serviceId: 's', from, to: new Date(from.getTime() + DAY) }, { perSecond: 700 / week, pageSize: 100 }, now)).toHaveLength(2);
    // 70 a week: a day fits; unknown: ask whole.
    expect(planFromDensity({ serviceId: 's', from, to: new Date(from.getTime() + DAY) }, { perSecond: 70 / week, pageSize: 100 }, now)).toBeNull();
    expect(planFromDensity({ serviceId: 's', from, to }, undefined, now)).toBeNull();
  });

  it('starts cutting a minute from now at the earliest: no part has both bounds in the past', () => {
    const nowMid = Date.UTC(2030, 0, 10, 12, 0, 0);
    const parts = planParts({ serviceId: 's', from, to }, page(100, 700), nowMid)!;
    expect(parts[0]!.from).toBe(from);
    for (const p of parts) expect(p.to.getTime()).toBeGreaterThan(nowMid);
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
