/**
 * Application-restricted OAuth 2.0 as NHS API Management does it ("signed JWT authentication"): the application
 * POSTs a JWT client assertion signed RS512 with a registered key to the token endpoint and gets a short-lived opaque
 * bearer token, which every BaRS call then carries. What is checked, in order, and the API-M style answers, are in
 * API.md §2.
 */
import { randomBytes } from 'node:crypto';
import { compactVerify, decodeJwt, decodeProtectedHeader, importJWK, type JWK } from 'jose';
import { barsError } from './outcome.js';

export const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
/** API-M refuses an assertion whose exp is more than five minutes ahead. */
export const MAX_ASSERTION_LIFETIME_SECONDS = 300;

export interface RegisteredClient {
  /** The application's API key, used as iss and sub of its assertions. */
  clientId: string;
  /** Public keys registered for the application (its JWKS), each with a `kid`. */
  keys: JWK[];
  /** false: the application exists but is not subscribed to BaRS (every call is 403 SEND_FORBIDDEN). */
  barsEnabled?: boolean;
}

export interface TokenGrant {
  clientId: string;
  barsEnabled: boolean;
  expiresAtMs: number;
}

/** An OAuth error as API-M answers it on the token endpoint: JSON `{ error, error_description }`. */
export class OAuthError extends Error {
  constructor(
    readonly status: 400 | 401,
    readonly error: 'invalid_request' | 'invalid_client' | 'unsupported_grant_type',
    readonly description: string,
  ) {
    super(description);
  }
}

export interface OAuthOptions {
  clients: readonly RegisteredClient[];
  now: () => Date;
  /** Bearer token lifetime (API-M: 599 s). */
  tokenTtlSeconds: number;
}

export class OAuthServer {
  private readonly tokens = new Map<string, TokenGrant>();
  /** jti → when it may be forgotten (its assertion's exp): a reused jti is refused while the assertion could be valid. */
  private readonly seenJti = new Map<string, number>();
  private readonly clients: Map<string, RegisteredClient>;

  constructor(private readonly opts: OAuthOptions) {
    this.clients = new Map(opts.clients.map((c) => [c.clientId, c]));
  }

  /** POST /oauth2/token with a form body. `tokenUrl` is the URL the client called: the assertion's `aud`. */
  async token(form: URLSearchParams, tokenUrl: string): Promise<{ access_token: string; expires_in: string; token_type: 'Bearer'; issued_at: string }> {
    const grantType = form.get('grant_type');
    if (!grantType) throw new OAuthError(400, 'invalid_request', 'grant_type is missing');
    if (grantType !== 'client_credentials') throw new OAuthError(400, 'unsupported_grant_type', 'grant_type is invalid');
    if (form.get('client_assertion_type') !== CLIENT_ASSERTION_TYPE) {
      throw new OAuthError(400, 'invalid_request', `Missing or invalid client_assertion_type - must be '${CLIENT_ASSERTION_TYPE}'`);
    }
    const assertion = form.get('client_assertion');
    if (!assertion) throw new OAuthError(400, 'invalid_request', 'Missing client_assertion');

    let header: ReturnType<typeof decodeProtectedHeader>;
    let claims: ReturnType<typeof decodeJwt>;
    try {
      header = decodeProtectedHeader(assertion);
      claims = decodeJwt(assertion);
    } catch {
      throw new OAuthError(400, 'invalid_request', 'Malformed JWT in client_assertion');
    }
    if (typeof header.kid !== 'string' || !header.kid) throw new OAuthError(400, 'invalid_request', "Missing 'kid' header in client_assertion JWT");
    if (header.alg !== 'RS512') {
      throw new OAuthError(400, 'invalid_request', "Invalid 'alg' header in client_assertion JWT - unsupported JWT algorithm - must be 'RS512'");
    }
    if (typeof claims.iss !== 'string' || claims.iss !== claims.sub) {
      throw new OAuthError(400, 'invalid_request', "Missing or non-matching 'iss'/'sub' claims in client_assertion JWT");
    }
    const client = this.clients.get(claims.iss);
    if (!client) throw new OAuthError(401, 'invalid_client', "Invalid 'iss'/'sub' claims in client_assertion JWT");
    const jwk = client.keys.find((k) => k.kid === header.kid);
    if (!jwk) throw new OAuthError(401, 'invalid_request', "Invalid 'kid' header in client_assertion JWT - no matching public key");
    try {
      await compactVerify(assertion, await importJWK(jwk, 'RS512'), { algorithms: ['RS512'] });
    } catch {
      throw new OAuthError(401, 'invalid_request', 'Unable to verify JWT signature');
    }
    if (typeof claims.jti !== 'string' || !claims.jti) throw new OAuthError(400, 'invalid_request', "Missing 'jti' claim in client_assertion JWT");
    const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
    if (!aud.includes(tokenUrl)) throw new OAuthError(401, 'invalid_request', "Missing or invalid 'aud' claim in client_assertion JWT");
    if (typeof claims.exp !== 'number') throw new OAuthError(400, 'invalid_request', "Missing 'exp' claim in client_assertion JWT");
    const nowS = this.opts.now().getTime() / 1000;
    if (claims.exp <= nowS) throw new OAuthError(400, 'invalid_request', "Invalid 'exp' claim in client_assertion JWT - JWT has expired");
    if (claims.exp > nowS + MAX_ASSERTION_LIFETIME_SECONDS) {
      throw new OAuthError(400, 'invalid_request', "Invalid 'exp' claim in client_assertion JWT - more than 5 minutes in future");
    }
    this.forgetOldJti(nowS);
    const jtiKey = `${client.clientId}|${claims.jti}`;
    if (this.seenJti.has(jtiKey)) throw new OAuthError(400, 'invalid_request', "Non-unique 'jti' claim in client_assertion JWT");
    this.seenJti.set(jtiKey, claims.exp);

    const accessToken = randomBytes(24).toString('base64url');
    const issuedAt = this.opts.now().getTime();
    this.tokens.set(accessToken, {
      clientId: client.clientId,
      barsEnabled: client.barsEnabled !== false,
      expiresAtMs: issuedAt + this.opts.tokenTtlSeconds * 1000,
    });
    // API-M answers expires_in and issued_at as strings.
    return { access_token: accessToken, expires_in: String(this.opts.tokenTtlSeconds), token_type: 'Bearer', issued_at: String(issuedAt) };
  }

  /** The grant behind an `Authorization: Bearer` header, or the SEND_UNAUTHORIZED / SEND_FORBIDDEN error. */
  authenticate(authorization: string | undefined): TokenGrant {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
    if (!m) throw barsError(401, 'SEND_UNAUTHORIZED', 'unknown', 'No Access token was provided.', {}).withAuthenticate();
    const grant = this.tokens.get(m[1]!);
    if (!grant) {
      throw barsError(401, 'SEND_UNAUTHORIZED', 'security', 'The user or system was not able to be authenticated, either the access token was invalid, or not provided.').withAuthenticate();
    }
    if (grant.expiresAtMs <= this.opts.now().getTime()) {
      this.tokens.delete(m[1]!);
      throw barsError(401, 'SEND_UNAUTHORIZED', 'expired', 'The sender has not provided a token or it has expired or is otherwise invalid.').withAuthenticate();
    }
    if (!grant.barsEnabled) throw barsError(403, 'SEND_FORBIDDEN', 'forbidden', 'The access token was provided, but BaRS is not enabled.');
    return grant;
  }

  private forgetOldJti(nowS: number): void {
    if (this.seenJti.size < 10_000) return;
    for (const [k, exp] of this.seenJti) if (exp <= nowS) this.seenJti.delete(k);
  }
}
