/**
 * The DoS client against the sandbox directory, in-process on a free port: what the client sees of the API
 * (auth, paging, postcodes, distance, the 24-hour capacity rule, refusals and faults).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { SandboxServer } from '../../sandbox/lib/http.js';
import { startDirectorySimulator } from '../../sandbox/directory/server.js';
import { SEED_SERVICES } from '../../sandbox/seed/services.js';
import { UpstreamError } from '../../common/upstream.js';
import { DosClient, DosUnknownPostcodeError, type DosClientConfig, type DosService } from './client.js';

const START = new Date('2026-03-10T12:00:00Z');
let clock = START;
let sim: SandboxServer;
let config: DosClientConfig;
let dos: DosClient;

beforeAll(async () => {
  sim = await startDirectorySimulator({ port: 0, now: () => clock, credentials: { user: 'dos-sandbox', password: 'sandbox-password' } });
  config = { baseUrl: sim.url, user: 'dos-sandbox', password: 'sandbox-password', deadlineMs: 2000, retries: 1 };
  dos = new DosClient(config);
});
afterAll(() => sim.close());
beforeEach(async () => {
  clock = START;
  await fetch(`${sim.url}/_sandbox/faults`, { method: 'DELETE' });
});

const ids = (services: DosService[]) => services.map((s) => String(s.id));
const API = '/app/controllers/api/v1.0/services';

async function caught(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected the call to fail');
}

describe('authentication (HTTP Basic with a DoS account)', () => {
  it('answers 401 with a Basic challenge without credentials', async () => {
    const res = await fetch(`${sim.url}${API}/byServiceId/1402000101`);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Basic /);
    expect(await res.json()).toEqual({ error: { code: 401, message: expect.stringContaining('Unauthorized') } });
  });

  it('turns refused credentials into a REJECTED upstream error, with no URL in its message', async () => {
    const err = await caught(new DosClient({ ...config, password: 'wrong' }).getService('1402000101'));
    expect(err).toBeInstanceOf(UpstreamError);
    expect(err).toMatchObject({ system: 'dos', reason: 'REJECTED', status: 401 });
    expect((err as Error).message).not.toContain(sim.url);
  });
});

describe('byServiceId', () => {
  it('returns the record in DoS style', async () => {
    const s = await dos.getService('1402000101');
    expect(s).toMatchObject({
      id: 1402000101,
      odsCode: 'RR813',
      serviceType: { id: 40, name: 'Emergency Department' },
      address: { postcode: 'LS9 7TF', town: 'Leeds' },
      location: { latitude: 53.8073, longitude: -1.5205 },
      siteId: 'site-ls9-sjuh',
      capacity: { status: 'AMBER', updated: '2026-03-10T11:25:00.000Z', resetDateTime: '2026-03-10T14:50:00.000Z' },
    });
    expect(s?.endpoints).toContainEqual(
      expect.objectContaining({ transport: 'http', format: 'FHIR', interaction: 'Scheduling', businessScenario: 'Primary', address: 'ASID:200000000101', supplierSystem: 'harbour-uec' }),
    );
  });

  it('returns null for an unknown id', async () => {
    expect(await dos.getService('1999999999')).toBeNull();
  });

  it('is a 400 for a non-numeric id', async () => {
    const res = await fetch(`${sim.url}${API}/byServiceId/abc`, { headers: { authorization: basic() } });
    expect(res.status).toBe(400);
    expect(await caught(dos.getService('abc'))).toMatchObject({ reason: 'REJECTED', status: 400 });
  });
});

describe('search', () => {
  it('pages through every match once, in a stable order', async () => {
    const all = await dos.search({ page: 1, pageSize: 100 });
    expect(all.totalCount).toBe(SEED_SERVICES.length);
    expect(ids(all.services)).toEqual([...ids(all.services)].sort());

    const paged: DosService[] = [];
    for (let page = 1; page <= 5; page++) {
      const p = await dos.search({ page, pageSize: 8 });
      expect(p.totalCount).toBe(SEED_SERVICES.length);
      paged.push(...p.services);
    }
    expect(ids(paged)).toEqual(ids(all.services));
  });

  it('orders by straight-line distance within the radius, services in one building by id', async () => {
    const p = await dos.search({ postcode: 'LS1 4AP', distanceKm: 25, page: 1, pageSize: 100 });
    expect(p.totalCount).toBe(13); // all of Leeds (Otley's MIU is 15 km out); nothing from Bristol or Norwich
    const d = p.services.map((s) => s.distanceKm!);
    expect(d).toEqual([...d].sort((a, b) => a - b));
    expect(Math.max(...d)).toBeLessThanOrEqual(25);
    // St James's: ED, UTC, GP out-of-hours and the BaRS same-day emergency care share one building, so one distance:
    // tie broken by id.
    const sjuh = p.services.filter((s) => s.siteId === 'site-ls9-sjuh');
    expect(ids(sjuh)).toEqual(['1402000101', '1402000102', '1402000103', '1402000113']);
    expect(new Set(sjuh.map((s) => s.distanceKm)).size).toBe(1);
  });

  it('narrows by radius, type and ids', async () => {
    const near = await dos.search({ lat: 53.796, lon: -1.548, distanceKm: 1, page: 1, pageSize: 100 });
    expect(ids(near.services)).toEqual(['1402000109', '1402000104']);
    const types = await dos.search({ serviceTypeIds: [40, 130], page: 1, pageSize: 100 });
    expect(types.services.every((s) => [40, 130].includes(s.serviceType.id))).toBe(true);
    expect(types.totalCount).toBe(SEED_SERVICES.filter((s) => s.type === 'ED' || s.type === 'UTC').length);
    const some = await dos.search({ ids: ['1403000201', '1402000101', '1999999999'], page: 1, pageSize: 3 });
    expect(ids(some.services)).toEqual(['1402000101', '1403000201']);
  });

  it('matches postcodes whatever their case and spacing, and falls back to the district', async () => {
    const canonical = await dos.search({ postcode: 'LS1 4AP', distanceKm: 5, page: 1, pageSize: 100 });
    for (const variant of ['ls14ap', ' ls1  4AP']) {
      expect(await dos.search({ postcode: variant, distanceKm: 5, page: 1, pageSize: 100 })).toEqual(canonical);
    }
    const district = await dos.search({ postcode: 'LS1 9ZZ', distanceKm: 5, page: 1, pageSize: 100 });
    expect(district.totalCount).toBeGreaterThan(0);
    expect(district.services.every((s) => s.address.town === 'Leeds')).toBe(true);
  });

  it('refuses an unknown postcode as the caller\'s mistake', async () => {
    expect(await caught(dos.search({ postcode: 'ZE2 9XX', page: 1, pageSize: 10 }))).toBeInstanceOf(DosUnknownPostcodeError);
  });

  it.each([
    ['distanceKm=161&postcode=LS14AP', /no more than 160/],
    ['distanceKm=10', /needs a postcode/],
    ['postcode=LS14AP&lat=53&lon=-1', /not both/],
    ['lat=53', /together/],
    ['pageSize=101', /pageSize/],
    ['ids=1,abc', /numeric/],
    ['colour=blue', /Unknown search parameter/],
  ])('answers 400 with a DoS error for %s', async (query, message) => {
    const res = await fetch(`${sim.url}${API}/search?${query}`, { headers: { authorization: basic() } });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { code: number; message: string } };
    expect(body.error.code).toBe(400);
    expect(body.error.message).toMatch(message);
  });

  it('turns other refusals into REJECTED upstream errors', async () => {
    expect(await caught(dos.search({ postcode: 'LS1 4AP', distanceKm: 500, page: 1, pageSize: 10 }))).toMatchObject({
      reason: 'REJECTED',
      status: 400,
    });
  });
});

describe('capacity status over time', () => {
  it('is not reported once 24 hours old', async () => {
    // James Paget's amber was set 25 hours before the sandbox started.
    expect((await dos.getService('1404000308'))?.capacity).toBeNull();
    // Seacroft's green was set 15 minutes before: reported now, gone after 24 hours.
    expect((await dos.getService('1402000111'))?.capacity).toMatchObject({ status: 'GREEN' });
    clock = new Date(START.getTime() + (24 * 60 - 15 + 1) * 60_000);
    expect((await dos.getService('1402000111'))?.capacity).toBeNull();
  });

  it('resets amber and red to green at the reset time', async () => {
    // Leeds General Infirmary: red set 20 minutes before start, reset 40 minutes after being set.
    expect((await dos.getService('1402000104'))?.capacity).toMatchObject({ status: 'RED', resetDateTime: '2026-03-10T12:20:00.000Z' });
    clock = new Date('2026-03-10T12:21:00Z');
    expect((await dos.getService('1402000104'))?.capacity).toEqual(
      expect.objectContaining({ status: 'GREEN', updated: '2026-03-10T12:20:00.000Z', resetDateTime: null }),
    );
  });
});

describe('failures', () => {
  it('retries a 503 once and succeeds', async () => {
    await injectFault({ pathPrefix: API, status: 503, times: 1 });
    expect(await dos.getService('1402000101')).not.toBeNull();
  });

  it('reports a DoS that stays down as UNAVAILABLE', async () => {
    await injectFault({ pathPrefix: API, status: 503 });
    expect(await caught(dos.getService('1402000101'))).toMatchObject({ reason: 'UNAVAILABLE', status: 503 });
  });

  it('reports a truncated body as INVALID_RESPONSE', async () => {
    await injectFault({ pathPrefix: API, malformed: true });
    expect(await caught(dos.search({ page: 1, pageSize: 5 }))).toMatchObject({ reason: 'INVALID_RESPONSE' });
  });

  it('gives up at the deadline with TIMEOUT', async () => {
    await injectFault({ pathPrefix: API, stall: true });
    const quick = new DosClient({ ...config, deadlineMs: 200 });
    expect(await caught(quick.getService('1402000101'))).toMatchObject({ reason: 'TIMEOUT' });
  });
});

function basic(): string {
  return `Basic ${Buffer.from('dos-sandbox:sandbox-password').toString('base64')}`;
}

async function injectFault(fault: Record<string, unknown>): Promise<void> {
  const res = await fetch(`${sim.url}/_sandbox/faults`, { method: 'POST', body: JSON.stringify(fault) });
  expect(res.status).toBe(200);
}
