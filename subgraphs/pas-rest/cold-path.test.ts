/**
 * The cold path against the Oakfield simulator, through the subgraph (real HTTP both sides), counted on the
 * simulator's request log: with the clinic list warm, a slot search for services nobody asked about yet is exactly
 * one upstream call per service (its session search), and a clinic-list refresh that fails keeps the last good list
 * serving searches. No slot cache, so every search goes to the supplier.
 */
import { pino } from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { RecordedRequest, SandboxServer } from '../../sandbox/lib/http.js';
import { startPasRestSimulator } from '../../sandbox/pas-rest/server.js';
import { gatewayHeaders } from '../../common/internal-auth.js';
import { loadRegistry } from '../kit/registry.js';
import type { RunningSubgraph } from '../kit/server.js';
import type { ClinicDirectoryOptions } from './clinics.js';
import { startPasRestSubgraph } from './index.js';

let sim: SandboxServer;
let subgraph: RunningSubgraph;
const NHS111 = { odsCode: 'RX8', name: 'Yorkshire Ambulance Service NHS 111' };
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

function start(clinics: ClinicDirectoryOptions): Promise<RunningSubgraph> {
  return startPasRestSubgraph({
    port: 0,
    registry: loadRegistry(undefined, { SANDBOX_PAS_REST_URL: sim.url }),
    env: { OAKFIELD_PAS_API_KEY: 'sandbox-oakfield-key' },
    logger: pino({ level: 'silent' }),
    slotCache: null,
    breakers: null,
    throttle: null,
    clinics,
  });
}

beforeAll(async () => {
  sim = await startPasRestSimulator({ port: 0, apiKeys: ['sandbox-oakfield-key'], rateLimit: { perSecond: 1000 } });
  // The production refresh interval: no background refresh lands in the log during these tests.
  subgraph = await start({});
});
afterAll(async () => {
  await subgraph?.close();
  await sim?.close();
});
beforeEach(async () => {
  await fetch(`${sim.url}/_sandbox/faults`, { method: 'DELETE' });
  await fetch(`${sim.url}/_sandbox/requests`, { method: 'DELETE' });
});

async function upstream(): Promise<RecordedRequest[]> {
  return (await (await fetch(`${sim.url}/_sandbox/requests`)).json()) as RecordedRequest[];
}

const rep = (id: string) => ({ __typename: 'PasRestService', id, supplier: { id: 'oakfield-pas' } });
const SLOTS = `query($reps: [_Any!]!, $from: DateTime, $to: DateTime) {
  _entities(representations: $reps) { ... on PasRestService { id slots(from: $from, to: $to, first: 500) { totalCount nodes { id source } } } }
}`;

async function search(serviceIds: string[], fromHours: number, days: number, sg = subgraph): Promise<{ id: string; slots: { totalCount: number; nodes: { source: string }[] } }[]> {
  const from = new Date(Date.now() + fromHours * HOUR).toISOString();
  const to = new Date(Date.now() + fromHours * HOUR + days * DAY).toISOString();
  const sent = JSON.stringify({ query: SLOTS, variables: { reps: serviceIds.map(rep), from, to } });
  const res = await fetch(sg.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...gatewayHeaders(NHS111, { url: sg.url, body: sent }) },
    body: sent,
  });
  const body = (await res.json()) as { data?: any; errors?: unknown[] };
  expect(body.errors).toBeUndefined();
  return body.data._entities;
}

const isList = (r: RecordedRequest) => r.path === '/api/v2/clinics';
const isSessions = (r: RecordedRequest) => /^\/api\/v2\/clinics\/[^/]+\/sessions$/.test(r.path);

describe('Oakfield cold path', () => {
  it('PAS: a cold search makes one upstream call per service when the session and clinic list are warm', async () => {
    // Warm the process: the first search loads the clinic list (one call) beside its session search.
    await search(['1402000107'], 1, 1);
    expect((await upstream()).filter(isList).length).toBeGreaterThanOrEqual(1);
    await fetch(`${sim.url}/_sandbox/requests`, { method: 'DELETE' });

    // Three services never searched before, over a window never asked for: cold for the slots, warm for the clinics.
    const services = ['1403000206', '1404000311', '1402000108'];
    const answers = await search(services, 26, 2);
    for (const a of answers) {
      expect(a.slots.totalCount).toBeGreaterThan(0);
      expect(new Set(a.slots.nodes.map((n) => n.source))).toEqual(new Set(['LIVE']));
    }
    const calls = await upstream();
    expect(calls.every(isSessions)).toBe(true);
    expect(calls).toHaveLength(services.length);
    expect(new Set(calls.map((c) => c.path)).size).toBe(services.length);
    // No login, no look-up: every call carried the API key and was answered.
    for (const c of calls) {
      expect(c.headers['x-api-key']).toBe('sandbox-oakfield-key');
      expect(c.status).toBe(200);
    }
  });

  it('refreshes the clinic list in the background, and a refresh that fails keeps serving searches from the last good list', async () => {
    await subgraph.close();
    // Refreshed every 300 ms; after a failure, retried only in ten minutes: what follows is served from the old list.
    subgraph = await start({ refreshMs: 300, retryMinMs: 600_000, retryMaxMs: 600_000 });
    await search(['1402000107'], 1, 1);
    await vi.waitFor(async () => expect((await upstream()).filter((r) => isList(r) && r.status === 200).length).toBeGreaterThanOrEqual(2), {
      timeout: 20_000,
      interval: 25,
    });
    // Both attempts of the next list request fail (the client retries a GET once): that refresh fails. Nothing else
    // calls the simulator meanwhile, so the fault meets the list request.
    await fetch(`${sim.url}/_sandbox/requests`, { method: 'DELETE' });
    await fetch(`${sim.url}/_sandbox/faults`, { method: 'POST', body: JSON.stringify({ pathPrefix: '/api/v2/clinics', status: 503, times: 2 }) });
    await vi.waitFor(
      async () => expect((await upstream()).filter((r) => isList(r) && r.status === 503)).toHaveLength(2),
      { timeout: 20_000, interval: 25 },
    );

    await fetch(`${sim.url}/_sandbox/requests`, { method: 'DELETE' });
    const services = ['1403000206', '1404000306'];
    const answers = await search(services, 30, 1);
    for (const a of answers) expect(a.slots.totalCount).toBeGreaterThan(0);
    // The session searches alone: the failed refresh left the last good list in place, and nobody waited for a load.
    const calls = await upstream();
    expect(calls.every(isSessions)).toBe(true);
    expect(calls).toHaveLength(services.length);
    for (const c of calls) expect(c.status).toBe(200);
  });
});
