/**
 * Consumer authentication: a Bearer JWT verified against configured keys (a public key file or a JWKS URL), issuer
 * and audience, from which the consumer organisation (ODS code, name, ASID) and scopes are derived. A request with
 * no token may read slots as the sandbox's dev consumer when anonymous reads are allowed (never in production);
 * booking operations always need a verified token.
 */
import { readFileSync } from 'node:fs';
import { GraphQLError, Kind, type DocumentNode, type FragmentDefinitionNode, type OperationDefinitionNode, type SelectionSetNode } from 'graphql';
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  errors as joseErrors,
  importSPKI,
  jwtVerify,
  type JWK,
  type JWTVerifyGetKey,
  type CryptoKey,
} from 'jose';
import type { ApolloServerPlugin } from '@apollo/server';
import type { ConsumerOrganisation } from '../../common/consumer.js';
import type { GatewayPlugin } from './plugin.js';

export const SCOPES = {
  readSlots: 'slots:read',
  readAppointments: 'appointments:read',
  writeAppointments: 'appointments:write',
  /** The operator's view (supplierStatus): supplier health, not patient data, but internals no consumer needs. */
  operator: 'operator',
} as const;

export interface AuthConfig {
  issuer: string;
  audience: string;
  key: JWTVerifyGetKey | CryptoKey;
  /** Requests without a token read slots as this organisation; null means every request needs a token. */
  anonymousConsumer: ConsumerOrganisation | null;
  /** Accepted clock skew for exp/nbf/iat. */
  clockToleranceSeconds: number;
  /** The longest a token may live from issue to expiry (AUTH_MAX_TOKEN_LIFETIME_SECONDS; default a day). */
  maxLifetimeSeconds?: number;
}

export const DEFAULT_MAX_TOKEN_LIFETIME_SECONDS = 24 * 3600;

export interface Principal {
  consumer: ConsumerOrganisation;
  authenticated: boolean;
  scopes: ReadonlySet<string>;
}

const ALGORITHMS = ['ES256', 'RS256', 'PS256', 'EdDSA'];

export async function loadVerificationKey(opts: { publicKeyFile?: string; jwksUrl?: string }): Promise<JWTVerifyGetKey | CryptoKey> {
  if (opts.jwksUrl) return createRemoteJWKSet(new URL(opts.jwksUrl), { timeoutDuration: 2000, cooldownDuration: 30_000 });
  if (!opts.publicKeyFile) throw new Error('no token verification key configured (AUTH_PUBLIC_KEY_FILE or AUTH_JWKS_URL)');
  const text = readFileSync(opts.publicKeyFile, 'utf8').trim();
  if (text.startsWith('-----BEGIN')) return importSPKI(text, 'ES256');
  const jwk = JSON.parse(text) as JWK & { keys?: JWK[] };
  return createLocalJWKSet({ keys: jwk.keys ?? [jwk] });
}

/** Token verification as configured (GatewayConfig.auth): the key loaded, the clock tolerance every engine uses. */
export async function authConfigFrom(settings: {
  issuer: string;
  audience: string;
  publicKeyFile?: string;
  jwksUrl?: string;
  anonymousConsumer: ConsumerOrganisation | null;
  maxLifetimeSeconds: number;
}): Promise<AuthConfig> {
  return {
    issuer: settings.issuer,
    audience: settings.audience,
    key: await loadVerificationKey(settings),
    anonymousConsumer: settings.anonymousConsumer,
    clockToleranceSeconds: 30,
    maxLifetimeSeconds: settings.maxLifetimeSeconds,
  };
}

/** An operationName that names no operation of the document, or none given for a document of several. */
export function unresolvedOperation(): GraphQLError {
  return new GraphQLError('operationName must name one operation of the document (or be left out when it has one)', {
    extensions: { code: 'OPERATION_RESOLUTION_FAILURE', field: 'operationName', http: { status: 400 } },
  });
}

function unauthenticated(message: string): GraphQLError {
  return new GraphQLError(message, {
    extensions: {
      code: 'UNAUTHENTICATED',
      http: { status: 401, headers: new Map([['www-authenticate', 'Bearer realm="nhs-booking-gateway"']]) },
    },
  });
}

function forbidden(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'FORBIDDEN', http: { status: 403 } } });
}

/** Derives the principal from the Authorization header; a present but bad token is always refused. */
export async function authenticate(authorization: string | undefined, cfg: AuthConfig): Promise<Principal> {
  if (!authorization) {
    if (cfg.anonymousConsumer) return { consumer: cfg.anonymousConsumer, authenticated: false, scopes: new Set([SCOPES.readSlots]) };
    throw unauthenticated('A bearer token is required');
  }
  const m = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$/.exec(authorization.trim());
  if (!m) throw unauthenticated('The Authorization header must be "Bearer <token>"');
  try {
    const verify = jwtVerify as (t: string, k: JWTVerifyGetKey | CryptoKey, o: object) => ReturnType<typeof jwtVerify>;
    const { payload } = await verify(m[1]!, cfg.key, {
      issuer: cfg.issuer,
      audience: cfg.audience,
      algorithms: ALGORITHMS,
      clockTolerance: cfg.clockToleranceSeconds,
      requiredClaims: ['exp', 'sub', 'iat'],
    });
    // A long-lived token is a standing credential; one issued in the future is forged or from a broken clock.
    const iat = payload.iat!;
    const maxLifetime = cfg.maxLifetimeSeconds ?? DEFAULT_MAX_TOKEN_LIFETIME_SECONDS;
    if (iat > Date.now() / 1000 + cfg.clockToleranceSeconds) throw unauthenticated('The token is issued in the future');
    if (payload.exp! - iat > maxLifetime) throw unauthenticated(`The token lives longer than ${maxLifetime} s from issue to expiry`);
    const ods = payload.ods_code;
    const name = payload.org_name;
    if (typeof ods !== 'string' || !/^[A-Z0-9]{2,10}$/i.test(ods) || typeof name !== 'string' || !name.trim()) {
      throw unauthenticated('The token does not name a consumer organisation (ods_code, org_name)');
    }
    const scopes = new Set(typeof payload.scope === 'string' ? payload.scope.split(/\s+/).filter(Boolean) : []);
    const asid = typeof payload.asid === 'string' && /^\d{12}$/.test(payload.asid) ? payload.asid : undefined;
    return { consumer: { odsCode: ods.toUpperCase(), name: name.trim(), ...(asid ? { asid } : {}) }, authenticated: true, scopes };
  } catch (err) {
    if (err instanceof GraphQLError) throw err;
    if (err instanceof joseErrors.JWTExpired) throw unauthenticated('The token has expired');
    if (err instanceof joseErrors.JWTClaimValidationFailed) throw unauthenticated(`The token's ${err.claim} claim is not accepted`);
    throw unauthenticated('The token could not be verified');
  }
}

/** Every root field an operation selects, through inline fragments and fragment spreads. */
export function rootFields(selectionSet: SelectionSetNode, document: DocumentNode, seen = new Set<string>()): string[] {
  const out: string[] = [];
  for (const sel of selectionSet.selections) {
    if (sel.kind === Kind.FIELD) out.push(sel.name.value);
    else if (sel.kind === Kind.INLINE_FRAGMENT) out.push(...rootFields(sel.selectionSet, document, seen));
    else if (!seen.has(sel.name.value)) {
      seen.add(sel.name.value);
      const fragment = document.definitions.find(
        (d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION && d.name.value === sel.name.value,
      );
      if (fragment) out.push(...rootFields(fragment.selectionSet, document, seen));
    }
  }
  return out;
}

/** Root fields and the scope each needs; anything else needs slots:read. */
const FIELD_SCOPES: Record<string, string> = {
  bookAppointment: SCOPES.writeAppointments,
  cancelAppointment: SCOPES.writeAppointments,
  appointment: SCOPES.readAppointments,
  appointments: SCOPES.readAppointments,
  supplierStatus: SCOPES.operator,
};

/**
 * That the caller may run every root field the operation asks for: booking operations need a verified token with
 * their scope (401 without a token, 403 without the scope). Also what another engine's plugin runs in our stead
 * (gateway/engines/hive-plugin.ts).
 */
export function assertMayRun(principal: Principal | undefined, operation: OperationDefinitionNode, document: DocumentNode): void {
  if (!principal) throw unauthenticated('A bearer token is required');
  for (const name of rootFields(operation.selectionSet, document)) {
    if (name.startsWith('__')) continue;
    const needed = FIELD_SCOPES[name] ?? (operation.operation === 'mutation' ? SCOPES.writeAppointments : SCOPES.readSlots);
    if (needed !== SCOPES.readSlots && !principal.authenticated) throw unauthenticated(`${name} needs a bearer token`);
    if (!principal.scopes.has(needed)) throw forbidden(`The token lacks the ${needed} scope`);
  }
}

/** Runs assertMayRun once the operation is known and before anything runs. */
export function authorisationPlugin(): ApolloServerPlugin<{ principal?: Principal }> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ operation, document, contextValue }) {
          const principal = contextValue.principal;
          if (!principal) throw unauthenticated('A bearer token is required');
          // Apollo Server goes on to execute an operation it could not resolve (an operationName naming none, even
          // ""), leaving the refusal to the executor: nothing runs without its scopes checked, so it is refused here.
          if (!operation) throw unresolvedOperation();
          assertMayRun(principal, operation, document);
        },
      };
    },
  };
}

/** Authentication as a gateway plugin: the principal into the context, then the scopes each root field needs. */
export function authPlugin(cfg: AuthConfig): GatewayPlugin {
  return {
    name: 'auth',
    async onRequest(scope, next) {
      const principal = await authenticate(scope.req.headers.authorization, cfg);
      Object.assign(scope.context, { principal, consumer: principal.consumer, authenticated: principal.authenticated });
      await next();
    },
    apollo: authorisationPlugin(),
  };
}
