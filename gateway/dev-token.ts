/**
 * Consumer tokens signed with the repository's dev key (config/dev-keys), as the local identity provider would issue
 * them: the IDE's token outside production, `npm run token`, and tests. The private key is excluded from the image
 * (.dockerignore), so where it is absent there is no dev token at all.
 */
import { existsSync, readFileSync } from 'node:fs';
import { SignJWT, importJWK, type JWK } from 'jose';
import type { ConsumerOrganisation } from '../common/consumer.js';
import { repoRoot } from '../common/repo-root.js';
import { DEV_AUDIENCE, DEV_ISSUER } from './config.js';

export const DEV_PRIVATE_KEY = `${repoRoot}config/dev-keys/sandbox.private.jwk.json`;
export const ALL_SCOPES = 'slots:read appointments:read appointments:write';

/** The consumer the IDE acts for by default: the NHS 111 service among the sandbox's consumers. */
export const DEV_CONSUMER: ConsumerOrganisation = { odsCode: 'RX8', name: 'Yorkshire Ambulance Service NHS 111', asid: '918999190001' };

export interface DevTokenClaims {
  consumer: ConsumerOrganisation;
  scope?: string;
  ttlSeconds?: number;
  sub?: string;
  /** Override the key, issuer or audience (tests of refusal). */
  privateJwk?: JWK;
  issuer?: string;
  audience?: string;
  /** Issue time, seconds since the epoch (tests of refusal); default now. */
  issuedAt?: number;
}

/** Whether this installation holds the dev key (a source checkout; never the production image). */
export function hasDevKey(): boolean {
  return existsSync(DEV_PRIVATE_KEY);
}

export async function signDevToken(o: DevTokenClaims): Promise<string> {
  const jwk = o.privateJwk ?? (JSON.parse(readFileSync(DEV_PRIVATE_KEY, 'utf8')) as JWK);
  const key = await importJWK(jwk, 'ES256');
  const { odsCode, name, asid } = o.consumer;
  const issuedAt = o.issuedAt ?? Math.floor(Date.now() / 1000);
  return new SignJWT({ ods_code: odsCode.toUpperCase(), org_name: name, scope: o.scope ?? ALL_SCOPES, ...(asid ? { asid } : {}) })
    .setProtectedHeader({ alg: 'ES256', kid: jwk.kid ?? 'sandbox-dev-1', typ: 'JWT' })
    .setIssuer(o.issuer ?? DEV_ISSUER)
    .setAudience(o.audience ?? DEV_AUDIENCE)
    .setSubject(o.sub ?? `dev-client-${odsCode.toLowerCase()}`)
    .setIssuedAt(issuedAt)
    .setExpirationTime(issuedAt + (o.ttlSeconds ?? 3600))
    .sign(key);
}
