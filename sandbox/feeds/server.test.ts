/**
 * The publisher as a client sees it: URLs rewritten to its own base, dates in the coming days, validators and
 * 304s, cache headers per data set, content negotiation, and the shared fault injection.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SandboxServer } from '../lib/http.js';
import { startFeedPublisher } from './server.js';

const DATA = fileURLToPath(new URL('./data/', import.meta.url));
const NOW = new Date('2026-11-18T12:00:00Z'); // a Wednesday

let pub: SandboxServer;
beforeAll(async () => {
  pub = await startFeedPublisher({ port: 0, now: () => NOW });
});
afterAll(() => pub.close());

const get = (path: string, headers: Record<string, string> = {}) => fetch(`${pub.url}${path}`, { headers });

describe('the manifest', () => {
  it('points at this publisher: request and every output URL rewritten, the rest as published', async () => {
    const res = await get('/general-appointments/$bulk-publish');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    const m = (await res.json()) as { request: string; output: { type: string; url: string }[]; operationDefinition: string; transactionTime: string };
    const original = JSON.parse(readFileSync(`${DATA}general-appointments/$bulk-publish`, 'utf8')) as typeof m;
    expect(m.request).toBe(`${pub.url}/general-appointments/$bulk-publish`);
    expect(m.output.map((o) => o.type)).toEqual(original.output.map((o) => o.type));
    expect(m.output.map((o) => o.url)).toEqual(original.output.map((o) => `${pub.url}/general-appointments/${o.url.slice(o.url.lastIndexOf('/') + 1)}`));
    expect(m.operationDefinition).toBe(original.operationDefinition);
    // A shifted publication is published now.
    expect(m.transactionTime).toBe('2026-11-18T12:00:00.000Z');
  });

  it('is served for no Accept, application/json and */*, and refused (406) for a type it cannot give', async () => {
    for (const accept of [undefined, 'application/json', 'application/fhir+json;q=0.9, */*;q=0.1', '*/*']) {
      expect((await get('/vaccine-clinic/$bulk-publish', accept ? { accept } : {})).status).toBe(200);
    }
    expect((await get('/vaccine-clinic/$bulk-publish', { accept: 'text/html' })).status).toBe(406);
    expect((await get('/vaccine-clinic/$bulk-publish', { accept: 'application/json;q=0' })).status).toBe(406);
    expect((await get('/vaccine-clinic/%24bulk-publish')).status).toBe(200);
  });
});

describe('data files', () => {
  it('serve NDJSON with slot dates moved by whole weeks into the coming days, every other byte as published', async () => {
    const res = await get('/general-appointments/slots-2026-W41.ndjson', { accept: 'application/fhir+ndjson' });
    expect(res.headers.get('content-type')).toBe('application/fhir+ndjson');
    const served = (await res.text()).split('\n');
    const original = readFileSync(`${DATA}general-appointments/slots-2026-W41.ndjson`, 'utf8').split('\n');
    expect(served.length).toBe(original.length);
    // 5 Oct 2026 (Monday) + 6 weeks = 16 Nov: the Monday of the week containing Wednesday 18 Nov.
    expect(served[0]).toBe(original[0]!.replaceAll('2026-10-05', '2026-11-16'));
    for (let i = 0; i < original.length; i++) {
      expect(served[i]!.replace(/"(start|end)":"\d{4}-\d{2}-\d{2}/g, '"$1":"D')).toBe(original[i]!.replace(/"(start|end)":"\d{4}-\d{2}-\d{2}/g, '"$1":"D'));
    }
    // Files that are not Slot files are served byte for byte.
    expect(await (await get('/general-appointments/locations.ndjson')).text()).toBe(readFileSync(`${DATA}general-appointments/locations.ndjson`, 'utf8'));
  });

  it('are refused (406) for an Accept that admits no NDJSON type, and 404 when listed but not held', async () => {
    expect((await get('/vaccine-clinic/locations.ndjson', { accept: 'application/json' })).status).toBe(406);
    expect((await get('/vaccine-clinic/locations.ndjson', { accept: 'application/fhir+ndjson' })).status).toBe(200);
    expect((await get('/general-appointments/slots-2026-W40.ndjson')).status).toBe(404);
    expect((await get('/vaccine-clinic/README.md')).status).toBe(404);
    expect((await get('/nope/$bulk-publish')).status).toBe(404);
  });
});

describe('caching', () => {
  it('general-appointments: max-age, a strong ETag and Last-Modified; 304 on either validator', async () => {
    const res = await get('/general-appointments/schedules.ndjson');
    const etag = res.headers.get('etag')!;
    const lastModified = res.headers.get('last-modified')!;
    expect(res.headers.get('cache-control')).toBe('max-age=300');
    expect(etag).toMatch(/^"[A-Za-z0-9_-]+"$/);
    expect(lastModified).toMatch(/GMT$/);
    const byEtag = await get('/general-appointments/schedules.ndjson', { 'if-none-match': etag });
    expect(byEtag.status).toBe(304);
    expect(await byEtag.text()).toBe('');
    expect(byEtag.headers.get('etag')).toBe(etag);
    expect((await get('/general-appointments/schedules.ndjson', { 'if-modified-since': lastModified })).status).toBe(304);
    expect((await get('/general-appointments/schedules.ndjson', { 'if-none-match': '"other"', 'if-modified-since': lastModified })).status).toBe(200);
  });

  it('vaccine-clinic behaves like PrepMod: no-cache, no-store with a weak ETag that still gives 304', async () => {
    const res = await get('/vaccine-clinic/$bulk-publish');
    expect(res.headers.get('cache-control')).toBe('no-cache, no-store');
    expect(res.headers.get('last-modified')).toBeNull();
    const etag = res.headers.get('etag')!;
    expect(etag).toMatch(/^W\/"/);
    expect((await get('/vaccine-clinic/$bulk-publish', { 'if-none-match': etag })).status).toBe(304);
    // Weak comparison: the same tag sent strong still matches.
    expect((await get('/vaccine-clinic/$bulk-publish', { 'if-none-match': etag.slice(2) })).status).toBe(304);
  });
});

describe('fault injection', () => {
  it('works as in every simulator', async () => {
    await fetch(`${pub.url}/_sandbox/faults`, { method: 'POST', body: JSON.stringify({ pathPrefix: '/vaccine-clinic/slots', status: 503, times: 1 }) });
    expect((await get('/vaccine-clinic/slots-2021-W09.ndjson')).status).toBe(503);
    expect((await get('/vaccine-clinic/slots-2021-W09.ndjson')).status).toBe(200);
  });

  it('answers each file slowly (delayMs), and stalls for a while only (forMs); the log counts every manifest request', async () => {
    await fetch(`${pub.url}/_sandbox/requests`, { method: 'DELETE' });
    await fetch(`${pub.url}/_sandbox/faults`, { method: 'POST', body: JSON.stringify({ pathPrefix: '/vaccine-clinic/', delayMs: 300 }) });
    let t = performance.now();
    expect((await get('/vaccine-clinic/locations.ndjson')).status).toBe(200);
    expect(performance.now() - t).toBeGreaterThanOrEqual(290);

    const injected = performance.now();
    await fetch(`${pub.url}/_sandbox/faults`, { method: 'POST', body: JSON.stringify({ pathPrefix: '/vaccine-clinic/', stall: true, forMs: 600 }) });
    // Stalled: no answer while the fault lasts.
    await expect(fetch(`${pub.url}/vaccine-clinic/$bulk-publish`, { signal: AbortSignal.timeout(200) })).rejects.toThrow();
    // Then answered as usual, with no one removing the fault.
    let status = 0;
    while (status !== 200) {
      t = performance.now();
      status = await fetch(`${pub.url}/vaccine-clinic/$bulk-publish`, { signal: AbortSignal.timeout(300) }).then((r) => r.status, () => 0);
    }
    expect(t - injected).toBeGreaterThanOrEqual(590);
    const log = (await (await fetch(`${pub.url}/_sandbox/requests`)).json()) as { path: string }[];
    const manifests = log.filter((r) => r.path === '/vaccine-clinic/$bulk-publish').length;
    expect(manifests).toBeGreaterThanOrEqual(2);
    expect(log.filter((r) => r.path.endsWith('.ndjson'))).toHaveLength(1);
    await fetch(`${pub.url}/_sandbox/faults`, { method: 'DELETE' });
  });
});
