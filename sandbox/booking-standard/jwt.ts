/**
 * The consumer's unsigned JWT (spec §3.2, UEC fs_authentication.md): `alg: none`, empty signature (so the token
 * ends with '.'), minted per request. Checked as provider assurance P1–P7 and the TKW autotests expect. The SSP does
 * not look inside it, so every check here is the provider's own.
 *
 * Failures are 403 by default (NBA, TKW) or 401 where a tenant is configured so (assurance scripts); either way the
 * body is an OperationOutcome and WWW-Authenticate follows RFC 6750 §3.
 */
import { FhirError } from './errors.js';
import { SYSTEM } from './resources.js';

/** Clock skew tolerated on `iat` (both sides sync to NHS NTP, but not perfectly). */
export const IAT_SKEW_SECONDS = 60;
/** `exp` is iat + 300 s; a longer-lived token is refused. */
export const MAX_LIFETIME_SECONDS = 300;

/** Who is asking, as far as this provider is concerned: the originating organisation decides slot visibility. */
export interface ConsumerIdentity {
  odsCode: string;
  organisationName?: string;
  sub: string;
  iss: string;
}

export interface TokenExpectations {
  /** This tenant's FHIR base URL (no trailing slash). */
  audience: string;
  scope: string;
  nowMs: number;
  /** 401 or 403. */
  failureStatus: 401 | 403;
}

type Claims = Record<string, unknown>;

export function verifyAccessToken(authorization: string | undefined, expect: TokenExpectations): ConsumerIdentity {
  const fail = (diagnostics: string, error: 'invalid_token' | 'insufficient_scope' | null = 'invalid_token') =>
    authFailure(expect, diagnostics, error);

  if (!authorization) throw fail('Missing Authorization header: a Bearer JWT is required', null);
  const m = /^Bearer\s+(\S+)$/i.exec(authorization.trim());
  if (!m) throw fail('Authorization must be "Bearer <JWT>"');
  const claims = decodeUnsigned(m[1]!, fail);

  const str = (name: string): string => {
    const v = claims[name];
    if (typeof v !== 'string' || v.trim() === '') throw fail(`JWT claim "${name}" is missing or not a string`);
    return v;
  };
  const num = (name: string): number => {
    const v = claims[name];
    if (typeof v !== 'number' || !Number.isInteger(v)) throw fail(`JWT claim "${name}" must be an integer number of seconds since the epoch`);
    return v;
  };

  const iss = str('iss');
  const sub = str('sub');
  checkAudience(claims['aud'], expect.audience, fail);

  const now = Math.floor(expect.nowMs / 1000);
  const iat = num('iat');
  const exp = num('exp');
  if (iat > now + IAT_SKEW_SECONDS) throw fail(`JWT "iat" (${iat}) is in the future (now ${now}); is it in milliseconds?`);
  if (exp <= now) throw fail(`JWT has expired ("exp" ${exp}, now ${now})`);
  if (exp <= iat) throw fail('JWT "exp" must be after "iat"');
  if (exp - iat > MAX_LIFETIME_SECONDS) throw fail(`JWT lifetime exp - iat = ${exp - iat} s exceeds ${MAX_LIFETIME_SECONDS} s`);

  const reason = str('reason_for_request');
  if (reason !== 'directcare') throw fail(`JWT "reason_for_request" must be "directcare", got "${reason}"`);
  const scope = str('requested_scope');
  if (scope !== expect.scope) {
    throw fail(`JWT "requested_scope" "${scope}" does not permit this interaction (needs "${expect.scope}")`, 'insufficient_scope');
  }

  checkDevice(claims['requesting_device'], fail);
  const org = checkOrganisation(claims['requesting_organization'], fail);
  checkPractitioner(claims['requesting_practitioner'], sub, fail);

  return { odsCode: org.odsCode, ...(org.name ? { organisationName: org.name } : {}), sub, iss };
}

type Fail = (diagnostics: string) => FhirError;

function decodeUnsigned(token: string, fail: Fail): Claims {
  const segments = token.split('.');
  if (segments.length !== 3) throw fail('The bearer token is not a JWT (expected header.payload.signature)');
  const [head, body, signature] = segments as [string, string, string];
  if (signature !== '') {
    throw fail('The JWT must be unsigned (alg "none") with an empty signature, i.e. end with a trailing "."');
  }
  const header = parseSegment(head, 'header', fail);
  if (header['alg'] !== 'none') throw fail(`JWT header "alg" must be "none", got ${JSON.stringify(header['alg'])}`);
  if (header['typ'] !== undefined && header['typ'] !== 'JWT') throw fail('JWT header "typ" must be "JWT"');
  return parseSegment(body, 'payload', fail);
}

function parseSegment(segment: string, what: string, fail: Fail): Claims {
  // base64url, unpadded (RFC 7515 §2). Standard base64 ('+', '/') is a common consumer bug and is refused.
  if (!/^[A-Za-z0-9_-]+={0,2}$/.test(segment)) throw fail(`JWT ${what} is not base64url-encoded`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
  } catch {
    throw fail(`JWT ${what} is not valid JSON`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw fail(`JWT ${what} is not a JSON object`);
  return parsed as Claims;
}

function checkAudience(aud: unknown, audience: string, fail: Fail): void {
  const accepted = new Set([audience, `${audience}/`]);
  const values = Array.isArray(aud) ? aud : [aud];
  if (values.length === 0 || values.some((v) => typeof v !== 'string')) throw fail('JWT claim "aud" is missing or not a string');
  if (!values.some((v) => accepted.has(v as string))) {
    throw fail(`JWT "aud" ${JSON.stringify(aud)} is not this provider's FHIR base URL (${audience})`);
  }
}

function identifiers(resource: Record<string, unknown>): Array<{ system?: unknown; value?: unknown }> {
  const id = resource['identifier'];
  return Array.isArray(id) ? (id.filter((i) => typeof i === 'object' && i !== null) as Array<{ system?: unknown; value?: unknown }>) : [];
}

function resourceClaim(value: unknown, name: string, type: string, fail: Fail): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw fail(`JWT claim "${name}" must be a FHIR ${type} resource`);
  const r = value as Record<string, unknown>;
  if (r['resourceType'] !== type) throw fail(`JWT claim "${name}" must have resourceType "${type}"`);
  return r;
}

function checkDevice(value: unknown, fail: Fail): void {
  const device = resourceClaim(value, 'requesting_device', 'Device', fail);
  const ok = identifiers(device).some((i) => typeof i.system === 'string' && i.system !== '' && typeof i.value === 'string' && i.value !== '');
  if (!ok) throw fail('JWT "requesting_device" must carry an identifier with system and value');
}

function checkOrganisation(value: unknown, fail: Fail): { odsCode: string; name?: string } {
  const org = resourceClaim(value, 'requesting_organization', 'Organization', fail);
  const ods = identifiers(org).find((i) => i.system === SYSTEM.odsOrganization && typeof i.value === 'string' && i.value.trim() !== '');
  if (!ods) throw fail(`JWT "requesting_organization" must carry an identifier with system ${SYSTEM.odsOrganization}`);
  const name = typeof org['name'] === 'string' ? org['name'] : undefined;
  return { odsCode: (ods.value as string).trim().toUpperCase(), ...(name ? { name } : {}) };
}

/** Optional in the Booking Standard (unlike GP Connect); when present it must be the user `sub` names. */
function checkPractitioner(value: unknown, sub: string, fail: Fail): void {
  if (value === undefined) return;
  const p = resourceClaim(value, 'requesting_practitioner', 'Practitioner', fail);
  if (p['id'] !== undefined && p['id'] !== sub) throw fail('JWT "sub" must equal requesting_practitioner.id');
}

function authFailure(expect: TokenExpectations, diagnostics: string, error: 'invalid_token' | 'insufficient_scope' | null): FhirError {
  const challenge = [`Bearer realm="${expect.audience}"`];
  if (error) challenge.push(`error="${error}"`, `error_description="${diagnostics.replace(/["\\]/g, "'").replace(/[^\x20-\x7e]/g, '?')}"`);
  return new FhirError(
    expect.failureStatus,
    { code: expect.failureStatus === 401 ? 'login' : 'forbidden', spineCode: 'ACCESS_DENIED', hl7Code: 'MSG_BAD_FORMAT', diagnostics },
    { 'www-authenticate': challenge.join(', ') },
  );
}
