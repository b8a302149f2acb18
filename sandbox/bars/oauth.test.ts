/**
 * Application-restricted OAuth 2.0 as API-M does it, over real HTTP: a signed client assertion gets a bearer token;
 * a wrong key, an unknown kid, an expired or over-long assertion, a reused jti, a wrong audience and the other
 * malformed assertions are refused; the bearer expires on the simulator's clock (advanced, never slept).
 */
import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { generateKeyPair, importJWK, type CryptoKey as JoseKey, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SANDBOX_CLIENT_ID, startBarsSimulator, type BarsSimulator } from './server.js';
import { assertion, barsCall, client, errorOf, testKey, tokenForm, type TestKey } from './test-support.js';

let sim: BarsSimulator;
let clock = new Date('2026-10-20T09:00:00Z');
let key: TestKey;
let otherKey: TestKey;
let tokenUrl: string;
const TTL = 60;

beforeAll(async () => {
  [key, otherKey] = await Promise.all([testKey('test-1'), testKey('test-other')]);
  const sandboxKey = JSON.parse(readFileSync(new URL('../../config/dev-keys/bars-sandbox.public.jwk.json', import.meta.url), 'utf8')) as JWK;
  sim = await startBarsSimulator({
    port: 0,
    now: () => clock,
    tokenTtlSeconds: TTL,
    rateLimit: { perSecond: 1000 },
    clients: [client('test-app', [key]), client('no-bars-app', [otherKey], false), { clientId: SANDBOX_CLIENT_ID, keys: [sandboxKey] }],
  });
  tokenUrl = `${sim.url}/oauth2/token`;
});
afterAll(() => sim.close());

async function postToken(body: string, contentType = 'application/x-www-form-urlencoded') {
  const res = await fetch(tokenUrl, { method: 'POST', headers: { 'content-type': contentType }, body });
  return { status: res.status, body: (await res.json()) as any, headers: res.headers };
}

const sign = (o: Partial<Parameters<typeof assertion>[0]> = {}) =>
  assertion({ clientId: 'test-app', key, aud: tokenUrl, nowMs: clock.getTime(), ...o });

describe('token endpoint', () => {
  it('issues a bearer token for a good assertion, with API-M string fields, and the token opens the API', async () => {
    const r = await postToken(tokenForm(await sign()));
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ token_type: 'Bearer', expires_in: String(TTL), issued_at: String(clock.getTime()) });
    expect(r.body.access_token).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    expect(r.headers.get('cache-control')).toBe('no-store');
    const meta = await barsCall(sim.url, '/metadata', { token: r.body.access_token });
    expect(meta.status).toBe(200);
    expect(meta.body.resourceType).toBe('CapabilityStatement');
  });

  it('accepts the sandbox application signing with config/dev-keys/bars-sandbox.private.jwk.json', async () => {
    const jwk = JSON.parse(readFileSync(new URL('../../config/dev-keys/bars-sandbox.private.jwk.json', import.meta.url), 'utf8')) as JWK;
    const privateKey = (await importJWK(jwk, 'RS512')) as JoseKey;
    const r = await postToken(tokenForm(await sign({ clientId: SANDBOX_CLIENT_ID, key: { kid: jwk.kid!, privateKey } })));
    expect(r.status).toBe(200);
  });

  it('refuses an assertion signed with a key other than the one registered under its kid', async () => {
    const forged = await sign({ key: { kid: 'test-1', privateKey: otherKey.privateKey } });
    const r = await postToken(tokenForm(forged));
    expect(r.status).toBe(401);
    expect(r.body).toEqual({ error: 'invalid_request', error_description: 'Unable to verify JWT signature' });
  });

  it('refuses a kid the application never registered', async () => {
    const r = await postToken(tokenForm(await sign({ key: { kid: 'test-other', privateKey: otherKey.privateKey } })));
    expect(r.status).toBe(401);
    expect(r.body.error_description).toMatch(/no matching public key/);
  });

  it('refuses an unknown application', async () => {
    const r = await postToken(tokenForm(await sign({ clientId: 'stranger' })));
    expect(r.status).toBe(401);
    expect(r.body.error).toBe('invalid_client');
  });

  it('refuses an expired assertion and one that lives longer than five minutes', async () => {
    const expired = await sign({ nowMs: clock.getTime() - 400_000, expInSeconds: 300 });
    const r1 = await postToken(tokenForm(expired));
    expect(r1.status).toBe(400);
    expect(r1.body.error_description).toMatch(/JWT has expired/);
    const tooLong = await sign({ expInSeconds: 301 });
    const r2 = await postToken(tokenForm(tooLong));
    expect(r2.status).toBe(400);
    expect(r2.body.error_description).toMatch(/more than 5 minutes in future/);
  });

  it('refuses a reused jti, even in a fresh assertion', async () => {
    const jti = randomUUID();
    expect((await postToken(tokenForm(await sign({ jti })))).status).toBe(200);
    const again = await postToken(tokenForm(await sign({ jti })));
    expect(again.status).toBe(400);
    expect(again.body.error_description).toBe("Non-unique 'jti' claim in client_assertion JWT");
  });

  it('refuses a wrong audience, iss different from sub, a non-RS512 algorithm and a missing kid', async () => {
    const wrongAud = await postToken(tokenForm(await sign({ aud: 'https://api.service.nhs.uk/oauth2/token' })));
    expect(wrongAud.status).toBe(401);
    expect(wrongAud.body.error_description).toMatch(/'aud'/);
    const sub = await postToken(tokenForm(await sign({ sub: 'someone-else' })));
    expect(sub.status).toBe(400);
    expect(sub.body.error_description).toMatch(/'iss'\/'sub'/);
    const rs256Key = (await generateKeyPair('RS256')).privateKey;
    const rs256 = await postToken(tokenForm(await sign({ alg: 'RS256', key: { kid: 'test-1', privateKey: rs256Key } })));
    expect(rs256.status).toBe(400);
    expect(rs256.body.error_description).toMatch(/must be 'RS512'/);
    const noKid = await postToken(tokenForm(await sign({ key: { kid: '', privateKey: key.privateKey } })));
    expect(noKid.status).toBe(400);
    expect(noKid.body.error_description).toMatch(/'kid'/);
  });

  it('refuses a wrong grant type, assertion type, missing assertion, garbage and a JSON body', async () => {
    const good = await sign();
    expect((await postToken(tokenForm(good, { grant_type: 'authorization_code' }))).body.error).toBe('unsupported_grant_type');
    const type = await postToken(tokenForm(good, { client_assertion_type: 'urn:other' }));
    expect(type.status).toBe(400);
    expect(type.body.error_description).toMatch(/client_assertion_type/);
    expect((await postToken('grant_type=client_credentials&client_assertion_type=' + encodeURIComponent('urn:ietf:params:oauth:client-assertion-type:jwt-bearer'))).body.error_description).toBe('Missing client_assertion');
    expect((await postToken(tokenForm('not.a.jwt'))).body.error_description).toBe('Malformed JWT in client_assertion');
    expect((await postToken(JSON.stringify({ grant_type: 'client_credentials' }), 'application/json')).status).toBe(400);
  });
});

describe('bearer tokens on the API', () => {
  it('401 SEND_UNAUTHORIZED without a token, with a made-up token, and once the token has expired', async () => {
    const none = await barsCall(sim.url, '/Slot');
    expect(errorOf(none)).toMatchObject({ status: 401, code: 'SEND_UNAUTHORIZED', issue: 'unknown' });
    expect(none.headers.get('www-authenticate')).toBe('Bearer');
    const madeUp = await barsCall(sim.url, '/Slot', { token: 'not-a-token' });
    expect(errorOf(madeUp)).toMatchObject({ status: 401, code: 'SEND_UNAUTHORIZED', issue: 'security' });

    const token = (await postToken(tokenForm(await sign()))).body.access_token as string;
    clock = new Date(clock.getTime() + (TTL - 1) * 1000);
    expect((await barsCall(sim.url, '/metadata', { token })).status).toBe(200);
    clock = new Date(clock.getTime() + 1000);
    const expired = await barsCall(sim.url, '/metadata', { token });
    expect(errorOf(expired)).toMatchObject({ status: 401, code: 'SEND_UNAUTHORIZED', issue: 'expired' });
  });

  it('403 SEND_FORBIDDEN for an application that is not subscribed to BaRS', async () => {
    const a = await assertion({ clientId: 'no-bars-app', key: otherKey, aud: tokenUrl, nowMs: clock.getTime() });
    const token = (await postToken(tokenForm(a))).body.access_token as string;
    const r = await barsCall(sim.url, '/metadata', { token });
    expect(errorOf(r)).toMatchObject({ status: 403, code: 'SEND_FORBIDDEN', issue: 'forbidden' });
  });
});
