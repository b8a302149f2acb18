/**
 * The API-management front: required headers (each refusal with the spec's code and wording), mirrored correlation
 * headers, routing and methods, the rate limit with Retry-After, and fault injection with the request log.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBarsSimulator, type BarsSimulator } from './server.js';
import { assertion, b64, barsCall, client, errorOf, specExample, testKey, tokenForm, type CallOptions, type TestKey } from './test-support.js';

let sim: BarsSimulator;
const clock = new Date('2026-10-20T09:00:00Z');
let key: TestKey;
let token: string;

async function tokenFor(s: BarsSimulator): Promise<string> {
  const a = await assertion({ clientId: 'app', key, aud: `${s.url}/oauth2/token`, nowMs: clock.getTime() });
  const res = await fetch(`${s.url}/oauth2/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: tokenForm(a) });
  return ((await res.json()) as { access_token: string }).access_token;
}

beforeAll(async () => {
  key = await testKey('k1');
  sim = await startBarsSimulator({ port: 0, now: () => clock, rateLimit: { perSecond: 10_000 }, clients: [client('app', [key])] });
  token = await tokenFor(sim);
});
afterAll(() => sim.close());

const SLOT = '/Slot?status=free&start=ge2026-10-21T00:00:00%2B00:00&start=le2026-10-22T00:00:00%2B00:00&_include=Slot:schedule&_include=Schedule:actor:HealthcareService';
const call = (path: string, o: CallOptions = {}) => barsCall(sim.url, path, { token, ...o });

describe('headers', () => {
  it('mirrors X-Request-Id and X-Correlation-Id on success and on errors', async () => {
    const ids = { 'x-request-id': 'c1ab3fba-6bae-4ba4-b257-5a87c44d4a91', 'x-correlation-id': '9562466f-c982-4bd5-bb0e-255e9f5e6689' };
    const ok = await call(SLOT, { headers: ids });
    expect(ok.status).toBe(200);
    expect([ok.headers.get('x-request-id'), ok.headers.get('x-correlation-id')]).toEqual([ids['x-request-id'], ids['x-correlation-id']]);
    const bad = await call('/Slot', { headers: ids });
    expect(bad.status).toBe(400);
    expect([bad.headers.get('x-request-id'), bad.headers.get('x-correlation-id')]).toEqual([ids['x-request-id'], ids['x-correlation-id']]);
  });

  it('400 SEND_BAD_REQUEST without X-Request-Id, X-Correlation-Id or NHSD-Target-Identifier (the example\'s wording), or with a non-UUID id', async () => {
    const wording = specExample('OperationOutcome/SEND/400-SEND_BAD_REQUEST-invalid.json').issue[0].diagnostics;
    for (const h of ['x-request-id', 'x-correlation-id', 'nhsd-target-identifier']) {
      const r = await call(SLOT, { headers: { [h]: null } });
      expect(errorOf(r), h).toMatchObject({ status: 400, code: 'SEND_BAD_REQUEST', issue: 'invalid' });
      expect(r.body.issue[0].diagnostics).toBe(wording);
    }
    expect(errorOf(await call(SLOT, { headers: { 'x-request-id': 'not-a-uuid' } }))).toMatchObject({ status: 400, code: 'SEND_BAD_REQUEST', issue: 'value' });
  });

  it('NHSD-Target-Identifier: bad base64 and a wrong shape as the proxy examples answer them; an unknown service 404 PROXY_NOT_FOUND', async () => {
    const badB64 = await call(SLOT, { headers: { 'nhsd-target-identifier': '1402000113' } });
    const ex1 = specExample('invalid-base64.json').issue[0];
    expect(badB64.status).toBe(400);
    expect(badB64.body.issue[0]).toMatchObject({ code: ex1.code, details: ex1.details, diagnostics: ex1.diagnostics });
    const shape = await call(SLOT, { headers: { 'nhsd-target-identifier': b64({ id: '1402000113' }) } });
    const ex2 = specExample('malformed-target-identifier.json').issue[0];
    expect(shape.body.issue[0]).toMatchObject({ code: ex2.code, details: ex2.details, diagnostics: ex2.diagnostics });
    const unknown = await call(SLOT, { dosId: '1402000101' }); // a Booking Standard service: not in the BaRS endpoint catalogue
    expect(errorOf(unknown)).toMatchObject({ status: 404, code: 'PROXY_NOT_FOUND', issue: 'not-found' });
    expect(unknown.body.issue[0].diagnostics).toBe(specExample('proxy-not-found.json').issue[0].diagnostics);
  });

  it('NHSD-End-User-Organisation, NHSD-Requesting-Software and NHSD-Requesting-Practitioner are checked', async () => {
    expect(errorOf(await call(SLOT, { ods: null }))).toMatchObject({ status: 400, code: 'SEND_BAD_REQUEST', issue: 'required' });
    const noOds = b64({ resourceType: 'Organization', name: 'No code' });
    expect(errorOf(await call(SLOT, { headers: { 'nhsd-end-user-organisation': noOds } }))).toMatchObject({ status: 400, code: 'SEND_BAD_REQUEST', issue: 'value' });
    expect(errorOf(await call(SLOT, { headers: { 'nhsd-end-user-organisation': 'RX8' } }))).toMatchObject({ status: 400, code: 'SEND_BAD_REQUEST', issue: 'structure' });
    expect(errorOf(await call(SLOT, { headers: { 'nhsd-requesting-software': null } }))).toMatchObject({ status: 400, code: 'SEND_BAD_REQUEST', issue: 'required' });
    const notDevice = b64({ resourceType: 'Organization', identifier: [{ value: 'x' }] });
    expect(errorOf(await call(SLOT, { headers: { 'nhsd-requesting-software': notDevice } }))).toMatchObject({ status: 400, code: 'SEND_BAD_REQUEST', issue: 'structure' });
    // The practitioner is optional, but must be a PractitionerRole when sent.
    expect((await call(SLOT, { headers: { 'nhsd-requesting-practitioner': null } })).status).toBe(200);
    const notRole = b64({ resourceType: 'Practitioner' });
    expect(errorOf(await call(SLOT, { headers: { 'nhsd-requesting-practitioner': notRole } }))).toMatchObject({ status: 400, code: 'SEND_BAD_REQUEST', issue: 'structure' });
  });

  it('406 SEND_NOT_ACCEPTABLE for XML only or another API version; JSON without a version is fine', async () => {
    expect(errorOf(await call(SLOT, { headers: { accept: 'application/fhir+xml' } }))).toMatchObject({ status: 406, code: 'SEND_NOT_ACCEPTABLE', issue: 'processing' });
    expect(errorOf(await call(SLOT, { headers: { accept: 'application/fhir+json; version=2.0.0' } }))).toMatchObject({ status: 406, code: 'SEND_NOT_ACCEPTABLE' });
    expect((await call(SLOT, { headers: { accept: 'application/fhir+json' } })).status).toBe(200);
    expect((await call(SLOT, { headers: { accept: null } })).status).toBe(200);
  });
});

describe('routes', () => {
  it('404 NOT_FOUND for an endpoint the API does not have, 405 SEND_METHOD_NOT_ALLOWED with Allow, 501 REC_NOT_IMPLEMENTED for referrals', async () => {
    const nf = await call('/Patient');
    expect(errorOf(nf)).toMatchObject({ status: 404, code: 'NOT_FOUND', issue: 'not-found' });
    expect(nf.body.issue[0].diagnostics).toBe(specExample('OperationOutcome/PROXY-NONE/404-NOT_FOUND-not-found.json').issue[0].diagnostics.split('.')[0] + '.');
    const m = await call(SLOT, { method: 'POST', headers: { 'content-type': 'application/fhir+json' } });
    expect(errorOf(m)).toMatchObject({ status: 405, code: 'SEND_METHOD_NOT_ALLOWED', issue: 'not-supported' });
    expect(m.headers.get('allow')).toBe('GET');
    expect((await call('/$process-message', { method: 'GET' })).headers.get('allow')).toBe('POST');
    expect(errorOf(await call('/ServiceRequest?patient:identifier=https://fhir.nhs.uk/Id/nhs-number|9476719931'))).toMatchObject({ status: 501, code: 'REC_NOT_IMPLEMENTED' });
  });

  it('reaches $process-message with the dollar sign percent-encoded too', async () => {
    const r = await barsCall(sim.url, '/%24process-message', { token, body: { resourceType: 'Bundle', type: 'collection' } });
    expect(errorOf(r)).toMatchObject({ status: 400, code: 'REC_BAD_REQUEST' });
  });
});

describe('rate limit', () => {
  it('429 SEND_TOO_MANY_REQUESTS with a whole-second Retry-After past the application\'s bucket, other applications unaffected', async () => {
    const other = await testKey('k2');
    const limited = await startBarsSimulator({ port: 0, now: () => clock, rateLimit: { perSecond: 0.5, burst: 3 }, clients: [client('app', [key]), client('app2', [other])] });
    try {
      const t = await tokenFor(limited);
      const statuses: number[] = [];
      let last;
      for (let i = 0; i < 4; i++) {
        last = await barsCall(limited.url, SLOT, { token: t });
        statuses.push(last.status);
      }
      expect(statuses).toEqual([200, 200, 200, 429]);
      expect(errorOf(last!)).toMatchObject({ code: 'SEND_TOO_MANY_REQUESTS', issue: 'throttled' });
      expect(Number(last!.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(Number.isInteger(Number(last!.headers.get('retry-after')))).toBe(true);
      const a2 = await assertion({ clientId: 'app2', key: other, aud: `${limited.url}/oauth2/token`, nowMs: clock.getTime() });
      const res = await fetch(`${limited.url}/oauth2/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: tokenForm(a2) });
      const t2 = ((await res.json()) as { access_token: string }).access_token;
      expect((await barsCall(limited.url, SLOT, { token: t2 })).status).toBe(200);
    } finally {
      await limited.close();
    }
  });
});

describe('fault injection and the request log', () => {
  const inject = (f: unknown) => fetch(`${sim.url}/_sandbox/faults`, { method: 'POST', body: JSON.stringify(f) });

  it('an injected status answers a BaRS OperationOutcome of the receiver, once', async () => {
    await inject({ pathPrefix: '/booking-and-referral/FHIR/R4/Slot', status: 503, times: 1 });
    expect(errorOf(await call(SLOT))).toMatchObject({ status: 503, code: 'REC_SERVICE_UNAVAILABLE', issue: 'transient' });
    expect((await call(SLOT)).status).toBe(200);
  });

  it('injected statuses default to the receiver codes the spec lists for them', async () => {
    const expected: Array<[number, string]> = [[408, 'REC_TIMEOUT'], [429, 'REC_TOO_MANY_REQUESTS'], [500, 'REC_SERVER_ERROR'], [501, 'REC_NOT_IMPLEMENTED']];
    for (const [status, code] of expected) {
      await inject({ pathPrefix: '/booking-and-referral/FHIR/R4/Appointment', status, times: 1 });
      const r = await call('/Appointment?patient:identifier=9476719931');
      expect(errorOf(r), String(status)).toMatchObject({ status, code, system: 'https://fhir.nhs.uk/Codesystem/http-error-codes' });
    }
    expect((await call('/Appointment?patient:identifier=9476719931')).status).toBe(200);
  });

  it('a delay holds the answer at least that long; a stall never answers; a malformed body is truncated JSON', async () => {
    await inject({ pathPrefix: '/booking-and-referral/FHIR/R4/Slot', delayMs: 300, times: 1 });
    const t0 = performance.now();
    expect((await call(SLOT)).status).toBe(200);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(290);

    await inject({ pathPrefix: '/booking-and-referral/FHIR/R4/Slot', stall: true, times: 1 });
    await expect(call(SLOT, { signal: AbortSignal.timeout(300) })).rejects.toThrow();

    await inject({ pathPrefix: '/booking-and-referral/FHIR/R4/Slot', malformed: true, times: 1 });
    await expect(call(SLOT)).rejects.toThrow(SyntaxError);
    await fetch(`${sim.url}/_sandbox/faults`, { method: 'DELETE' });
  });

  it('faults the token endpoint like any other path', async () => {
    await inject({ pathPrefix: '/oauth2/token', status: 500, times: 1 });
    const a = await assertion({ clientId: 'app', key, aud: `${sim.url}/oauth2/token`, nowMs: clock.getTime() });
    const res = await fetch(`${sim.url}/oauth2/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: tokenForm(a) });
    expect(res.status).toBe(500);
  });

  it('logs every request with its headers and status', async () => {
    await fetch(`${sim.url}/_sandbox/requests`, { method: 'DELETE' });
    await call(SLOT, { headers: { 'x-request-id': '0b0e8d2c-5a52-4d8b-9d3f-8c1f3a3c1111' } });
    await call('/Slot');
    const log = (await (await fetch(`${sim.url}/_sandbox/requests`)).json()) as any[];
    expect(log.map((r) => [r.method, r.path, r.status])).toEqual([
      ['GET', '/booking-and-referral/FHIR/R4/Slot', 200],
      ['GET', '/booking-and-referral/FHIR/R4/Slot', 400],
    ]);
    expect(log[0].headers['x-request-id']).toBe('0b0e8d2c-5a52-4d8b-9d3f-8c1f3a3c1111');
  });
});
