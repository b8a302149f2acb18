/**
 * `npm run token -- --org <ODS>`: prints a consumer token signed with the sandbox's dev key, for the local stack
 * and tests. Options: --name "<organisation>", --scope "<scopes>", --ttl <seconds>, --sub <client id>.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { SignJWT, importJWK, type JWK } from 'jose';
import { SEED_CONSUMERS } from '../sandbox/seed/services.js';
import { repoRoot } from '../subgraphs/kit/schema.js';
import { DEV_AUDIENCE, DEV_ISSUER } from '../gateway/config.js';

export const ALL_SCOPES = 'slots:read appointments:read appointments:write';

export interface DevTokenOptions {
  org: string;
  name?: string;
  scope?: string;
  ttlSeconds?: number;
  sub?: string;
  asid?: string;
  /** Override the key, issuer or audience (tests of refusal). */
  privateJwk?: JWK;
  issuer?: string;
  audience?: string;
  /** Issue time, seconds since the epoch (tests of refusal); default now. */
  issuedAt?: number;
}

export async function devToken(o: DevTokenOptions): Promise<string> {
  const jwk = o.privateJwk ?? (JSON.parse(readFileSync(`${repoRoot}config/dev-keys/sandbox.private.jwk.json`, 'utf8')) as JWK);
  const key = await importJWK(jwk, 'ES256');
  const known = SEED_CONSUMERS.find((c) => c.odsCode === o.org.toUpperCase());
  const name = o.name ?? known?.name ?? `Organisation ${o.org.toUpperCase()}`;
  const asid = o.asid ?? known?.asid;
  return new SignJWT({ ods_code: o.org.toUpperCase(), org_name: name, scope: o.scope ?? ALL_SCOPES, ...(asid ? { asid } : {}) })
    .setProtectedHeader({ alg: 'ES256', kid: jwk.kid ?? 'sandbox-dev-1', typ: 'JWT' })
    .setIssuer(o.issuer ?? DEV_ISSUER)
    .setAudience(o.audience ?? DEV_AUDIENCE)
    .setSubject(o.sub ?? `dev-client-${o.org.toLowerCase()}`)
    .setIssuedAt(o.issuedAt ?? Math.floor(Date.now() / 1000))
    .setExpirationTime((o.issuedAt ?? Math.floor(Date.now() / 1000)) + (o.ttlSeconds ?? 3600))
    .sign(key);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: {
      org: { type: 'string', default: 'RX8' },
      name: { type: 'string' },
      scope: { type: 'string' },
      ttl: { type: 'string', default: '3600' },
      sub: { type: 'string' },
    },
  });
  const ttl = Number(values.ttl);
  if (!/^[A-Z0-9]{2,10}$/i.test(values.org) || !Number.isInteger(ttl) || ttl <= 0) {
    console.error('usage: npm run token -- --org <ODS code> [--name "<organisation>"] [--scope "<scopes>"] [--ttl <seconds>]');
    process.exit(2);
  }
  console.log(await devToken({ org: values.org, ttlSeconds: ttl, ...(values.name ? { name: values.name } : {}), ...(values.scope ? { scope: values.scope } : {}), ...(values.sub ? { sub: values.sub } : {}) }));
}
