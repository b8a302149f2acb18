/**
 * Our access token for a BaRS system: application-restricted OAuth 2.0 with a signed JWT client assertion
 * (private_key_jwt, RS512, `kid` header; iss = sub = client id, aud = the token URL, a fresh jti, exp 5 minutes
 * ahead). One token per system, shared by every call, kept until shortly before it expires; one request for it at a
 * time (callers wait for the same one). A 401 from the API makes the client drop it and fetch one more, once.
 *
 * A refused assertion (the token endpoint's 4xx) is an operator matter (our key or client id registration): logged
 * once per refusal with the endpoint's error code and description, never the key or the assertion, and reported to
 * callers as REJECTED, which the flows answer as SUPPLIER_UNAVAILABLE.
 */
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { importJWK, SignJWT, type JWK } from 'jose';
import type { Logger } from 'pino';
import { repoRoot } from '../kit/schema.js';
import { supplierHttp } from '../kit/supplier-http.js';
import { UpstreamError } from '../../common/upstream.js';
import type { BarsSystem } from './system.js';

export const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
/** A token is renewed this long before its expiry (or at half its life, if shorter), so none expires in flight. */
const RENEW_BEFORE_MS = 30_000;
/** API-M allows an assertion's exp at most 5 minutes ahead. */
const ASSERTION_LIFETIME_S = 240;

/** The token endpoint refused our client assertion: nothing will work until an operator fixes the registration. */
export class AssertionRefusedError extends UpstreamError {
  constructor(system: string, status: number, detail: string) {
    super(system, 'REJECTED', status, detail);
    this.name = 'AssertionRefusedError';
  }
}

interface Held {
  token: string;
  renewAt: number;
}

type SigningKey = Awaited<ReturnType<typeof importJWK>>;

export interface TokenSourceOptions {
  logger: Logger;
  now?: () => number;
}

export class BarsTokens {
  private readonly held = new Map<string, Held>();
  private readonly pending = new Map<string, Promise<string>>();
  private readonly keys = new Map<string, Promise<SigningKey>>();
  private readonly now: () => number;

  constructor(private readonly opts: TokenSourceOptions) {
    this.now = opts.now ?? Date.now;
  }

  /** A token for `system`: the one held while it is fresh, else a new one (one request at a time per system). */
  async token(system: BarsSystem): Promise<string> {
    const h = this.held.get(system.id);
    if (h && this.now() < h.renewAt) return h.token;
    let p = this.pending.get(system.id);
    if (!p) {
      p = this.fetch(system).finally(() => this.pending.delete(system.id));
      this.pending.set(system.id, p);
    }
    return p;
  }

  /** The API refused `token` (401): forget it, unless a newer one is already held. */
  invalidate(system: BarsSystem, token: string): void {
    if (this.held.get(system.id)?.token === token) this.held.delete(system.id);
  }

  /** Reads and imports the system's private key: at start-up, so a missing or unreadable file stops the adapter. */
  async loadKey(system: BarsSystem): Promise<void> {
    await this.key(system);
  }

  private key(system: BarsSystem): Promise<SigningKey> {
    const cacheKey = `${system.id}|${system.privateKeyFile}`;
    let k = this.keys.get(cacheKey);
    if (!k) {
      k = readKey(system);
      k.catch(() => this.keys.delete(cacheKey));
      this.keys.set(cacheKey, k);
    }
    return k;
  }

  private async fetch(system: BarsSystem): Promise<string> {
    const key = await this.key(system);
    const iat = Math.floor(this.now() / 1000);
    const assertion = await new SignJWT({})
      .setProtectedHeader({ alg: 'RS512', kid: system.keyId, typ: 'JWT' })
      .setIssuer(system.clientId)
      .setSubject(system.clientId)
      .setAudience(system.tokenUrl)
      .setJti(randomUUID())
      .setIssuedAt(iat)
      .setExpirationTime(iat + ASSERTION_LIFETIME_S)
      .sign(key);
    const res = await supplierHttp({
      system: system.id,
      url: system.tokenUrl,
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams({ grant_type: 'client_credentials', client_assertion_type: CLIENT_ASSERTION_TYPE, client_assertion: assertion }).toString(),
      deadlineMs: system.deadlineMs,
    });
    let body: { access_token?: unknown; expires_in?: unknown; error?: unknown; error_description?: unknown } = {};
    try {
      body = JSON.parse(res.text) as typeof body;
    } catch {
      // handled below
    }
    if (res.status >= 400) {
      const error = typeof body.error === 'string' ? body.error.slice(0, 60) : undefined;
      const description = typeof body.error_description === 'string' ? body.error_description.slice(0, 200) : undefined;
      this.opts.logger.error(
        { system: system.id, status: res.status, error, description, clientId: system.clientId, kid: system.keyId, tokenUrl: system.tokenUrl },
        'BaRS token endpoint refused our client assertion: check the client id, the registered key (kid) and the private key file',
      );
      throw new AssertionRefusedError(system.id, res.status, `token endpoint refused the assertion (${error ?? 'no error code'})`);
    }
    // API-M gives expires_in as a string of seconds.
    const ttlS = typeof body.expires_in === 'string' || typeof body.expires_in === 'number' ? Number(body.expires_in) : NaN;
    if (res.status !== 200 || typeof body.access_token !== 'string' || !body.access_token || !Number.isFinite(ttlS) || ttlS <= 0) {
      throw new UpstreamError(system.id, 'INVALID_RESPONSE', res.status, 'token endpoint answer without access_token or expires_in');
    }
    const lifeMs = ttlS * 1000;
    const renewAt = this.now() + lifeMs - Math.min(RENEW_BEFORE_MS, lifeMs / 2);
    this.held.set(system.id, { token: body.access_token, renewAt });
    return body.access_token;
  }
}

async function readKey(system: BarsSystem): Promise<SigningKey> {
  const path = isAbsolute(system.privateKeyFile) ? system.privateKeyFile : resolve(repoRoot, system.privateKeyFile);
  let jwk: JWK;
  try {
    jwk = JSON.parse(await readFile(path, 'utf8')) as JWK;
  } catch (err) {
    // The path, never the contents.
    throw new Error(`system ${system.id}: privateKeyFile ${system.privateKeyFile} cannot be read as a JWK (${(err as NodeJS.ErrnoException).code ?? 'not JSON'})`);
  }
  if (jwk.kty !== 'RSA' || !jwk.d) throw new Error(`system ${system.id}: privateKeyFile ${system.privateKeyFile} is not a private RSA JWK`);
  try {
    return await importJWK(jwk, 'RS512');
  } catch {
    throw new Error(`system ${system.id}: privateKeyFile ${system.privateKeyFile} cannot be imported as an RS512 key`);
  }
}
