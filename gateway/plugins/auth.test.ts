import { generateKeyPair, exportJWK } from 'jose';
import { parse } from 'graphql';
import { beforeAll, describe, expect, it } from 'vitest';
import { devToken } from '../../scripts/token.js';
import { assertMayRun, authenticate, loadVerificationKey, rootFields, type AuthConfig } from './auth.js';
import { DEV_AUDIENCE, DEV_ISSUER, DEV_PUBLIC_KEY } from '../config.js';

let cfg: AuthConfig;
beforeAll(async () => {
  cfg = {
    issuer: DEV_ISSUER,
    audience: DEV_AUDIENCE,
    key: await loadVerificationKey({ publicKeyFile: DEV_PUBLIC_KEY }),
    anonymousConsumer: null,
    clockToleranceSeconds: 5,
  };
});

async function refusal(p: Promise<unknown>) {
  const err = (await p.then(() => null, (e: unknown) => e)) as { message: string; extensions: { code: string; http: { status: number } } } | null;
  expect(err).not.toBeNull();
  return err!;
}

describe('authenticate', () => {
  it('derives the consumer organisation and scopes from a valid token', async () => {
    const p = await authenticate(`Bearer ${await devToken({ org: 'nlo11' })}`, cfg);
    expect(p.authenticated).toBe(true);
    expect(p.consumer).toEqual({ odsCode: 'NLO11', name: 'Devon Doctors Clinical Assessment Service', asid: '918999190002' });
    expect([...p.scopes].sort()).toEqual(['appointments:read', 'appointments:write', 'slots:read']);
  });

  it('refuses no token when anonymous reads are off, and a malformed header', async () => {
    expect((await refusal(authenticate(undefined, cfg))).extensions).toMatchObject({ code: 'UNAUTHENTICATED', http: { status: 401 } });
    expect((await refusal(authenticate('Basic abc', cfg))).extensions.code).toBe('UNAUTHENTICATED');
  });

  it('lets an anonymous request read slots as the dev consumer, with no booking scope', async () => {
    const p = await authenticate(undefined, { ...cfg, anonymousConsumer: { odsCode: 'RX8', name: 'NHS 111' } });
    expect(p).toMatchObject({ authenticated: false, consumer: { odsCode: 'RX8' } });
    expect([...p.scopes]).toEqual(['slots:read']);
  });

  it('refuses an expired token', async () => {
    const err = await refusal(authenticate(`Bearer ${await devToken({ org: 'RX8', ttlSeconds: -60 })}`, cfg));
    expect(err.message).toBe('The token has expired');
    expect(err.extensions.http.status).toBe(401);
  });

  it('refuses a token living longer than the maximum lifetime, or issued in the future', async () => {
    const long = await refusal(authenticate(`Bearer ${await devToken({ org: 'RX8', ttlSeconds: 25 * 3600 })}`, cfg));
    expect(long.message).toMatch(/lives longer than 86400 s/);
    expect(long.extensions.http.status).toBe(401);
    const future = await refusal(authenticate(`Bearer ${await devToken({ org: 'RX8', issuedAt: Math.floor(Date.now() / 1000) + 600 })}`, cfg));
    expect(future.extensions.code).toBe('UNAUTHENTICATED');
    expect((await authenticate(`Bearer ${await devToken({ org: 'RX8', ttlSeconds: 24 * 3600 })}`, cfg)).authenticated).toBe(true);
    const shorter = await refusal(authenticate(`Bearer ${await devToken({ org: 'RX8', ttlSeconds: 7200 })}`, { ...cfg, maxLifetimeSeconds: 3600 }));
    expect(shorter.message).toMatch(/3600 s/);
  });

  it('refuses a token signed by another key, even with the same kid', async () => {
    const { privateKey } = await generateKeyPair('ES256', { extractable: true });
    const other = { ...(await exportJWK(privateKey)), kid: 'sandbox-dev-1' };
    const err = await refusal(authenticate(`Bearer ${await devToken({ org: 'RX8', privateJwk: other })}`, cfg));
    expect(err.message).toBe('The token could not be verified');
  });

  it('refuses the wrong issuer or audience', async () => {
    expect((await refusal(authenticate(`Bearer ${await devToken({ org: 'RX8', issuer: 'https://evil.example' })}`, cfg))).message).toMatch(/iss/);
    expect((await refusal(authenticate(`Bearer ${await devToken({ org: 'RX8', audience: 'another-api' })}`, cfg))).message).toMatch(/aud/);
  });

  it('refuses an unsigned (alg: none) token', async () => {
    const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
    const payload = Buffer.from(JSON.stringify({ iss: DEV_ISSUER, aud: DEV_AUDIENCE, sub: 'x', exp: 9999999999, ods_code: 'RX8', org_name: 'x' })).toString('base64url');
    expect((await refusal(authenticate(`Bearer ${header}.${payload}.x`, cfg))).extensions.code).toBe('UNAUTHENTICATED');
  });
});

describe('rootFields', () => {
  it('sees root fields behind inline fragments and fragment spreads', () => {
    const doc = parse('query { services { totalCount } ... on Query { appointment(id: "1") { outcome } } ...F } fragment F on Query { appointments(patient: { nhsNumber: "1" }) { failures { message } } }');
    const op = doc.definitions[0] as import('graphql').OperationDefinitionNode;
    expect(rootFields(op.selectionSet, doc).sort()).toEqual(['appointment', 'appointments', 'services']);
  });
});

describe('the operator scope', () => {
  it('supplierStatus needs it (403 without), and it grants nothing else', async () => {
    const doc = parse('query { supplierStatus { generatedAt } }');
    const op = doc.definitions[0] as import('graphql').OperationDefinitionNode;
    const consumer = await authenticate(`Bearer ${await devToken({ org: 'RX8' })}`, cfg);
    let err: unknown;
    try {
      assertMayRun(consumer, op, doc);
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ extensions: { code: 'FORBIDDEN', http: { status: 403 } } });
    const operator = await authenticate(`Bearer ${await devToken({ org: 'RX8', scope: 'operator' })}`, cfg);
    expect(() => assertMayRun(operator, op, doc)).not.toThrow();
    const bookings = parse('query { appointment(id: "1") { outcome } }');
    expect(() => assertMayRun(operator, bookings.definitions[0] as import('graphql').OperationDefinitionNode, bookings)).toThrow(/appointments:read/);
  });
});

describe('keys from a JWKS URL', () => {
  it('verifies tokens against the keys an identity provider publishes, and refuses others', async () => {
    const { createServer } = await import('node:http');
    const { readFileSync } = await import('node:fs');
    const jwks = JSON.stringify({ keys: [JSON.parse(readFileSync(DEV_PUBLIC_KEY, 'utf8'))] });
    const server = createServer((req, res) => {
      res.writeHead(req.url === '/.well-known/jwks.json' ? 200 : 404, { 'content-type': 'application/json' });
      res.end(jwks);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as { port: number }).port;
    try {
      const key = await loadVerificationKey({ jwksUrl: `http://127.0.0.1:${port}/.well-known/jwks.json` });
      const remote: AuthConfig = { ...cfg, key };
      expect((await authenticate(`Bearer ${await devToken({ org: 'RX8' })}`, remote)).consumer.odsCode).toBe('RX8');
      const { privateKey } = await generateKeyPair('ES256', { extractable: true });
      const stranger = await devToken({ org: 'RX8', privateJwk: { ...(await exportJWK(privateKey)), kid: 'unknown-kid' } });
      expect((await refusal(authenticate(`Bearer ${stranger}`, remote))).extensions.code).toBe('UNAUTHENTICATED');
    } finally {
      server.close();
    }
  });
});
