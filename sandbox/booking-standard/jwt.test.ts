import { describe, expect, it } from 'vitest';
import { FhirError } from './errors.js';
import { verifyAccessToken, type TokenExpectations } from './jwt.js';

const AUD = 'http://127.0.0.1:4102/harbour/STU3';
const NOW_S = 1_780_304_400; // 2026-06-01T09:00:00Z
const expect403: TokenExpectations = { audience: AUD, scope: 'organization/slot.read', nowMs: NOW_S * 1000, failureStatus: 403 };

const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
const claims = (over: Record<string, unknown> = {}): Record<string, unknown> => ({
  iss: 'https://consumer.example/fhir',
  sub: 'user-1',
  aud: AUD,
  iat: NOW_S,
  exp: NOW_S + 300,
  reason_for_request: 'directcare',
  requested_scope: 'organization/slot.read',
  requesting_device: { resourceType: 'Device', identifier: [{ system: 'https://consumer.example/device', value: 'gw-1' }], model: 'gateway', version: '1' },
  requesting_organization: {
    resourceType: 'Organization', name: 'NHS 111', identifier: [{ system: 'https://fhir.nhs.uk/Id/ods-organization-code', value: 'rx8' }],
  },
  requesting_practitioner: { resourceType: 'Practitioner', id: 'user-1', name: [{ family: 'Smith' }] },
  ...over,
});
const token = (c: Record<string, unknown>, header: Record<string, unknown> = { alg: 'none', typ: 'JWT' }) => `${b64(header)}.${b64(c)}.`;
const bearer = (c: Record<string, unknown> = claims()) => `Bearer ${token(c)}`;

function refusal(auth: string | undefined, e: TokenExpectations = expect403): FhirError {
  try {
    verifyAccessToken(auth, e);
  } catch (err) {
    if (err instanceof FhirError) return err;
    throw err;
  }
  throw new Error('token was accepted');
}

describe('unsigned JWT', () => {
  it('accepts a well-formed token and yields the requesting organisation', () => {
    expect(verifyAccessToken(bearer(), expect403)).toMatchObject({ odsCode: 'RX8', sub: 'user-1', organisationName: 'NHS 111' });
  });

  it('accepts aud with a trailing slash and tolerates a missing requesting_practitioner', () => {
    const c = claims({ aud: `${AUD}/` });
    delete c['requesting_practitioner'];
    expect(verifyAccessToken(bearer(c), expect403).odsCode).toBe('RX8');
  });

  const without = (name: string) => {
    const c = claims();
    delete c[name];
    return c;
  };

  const failures: Array<[string, string | undefined, RegExp]> = [
    ['no Authorization header', undefined, /Missing Authorization/],
    ['a non-Bearer scheme', `Basic ${token(claims())}`, /Bearer/],
    ['a token that is not a JWT', 'Bearer abc.def', /not a JWT/],
    ['a signed token', `Bearer ${token(claims()).slice(0, -1)}.c2lnbmF0dXJl`, /unsigned/],
    ['alg other than none', `Bearer ${token(claims(), { alg: 'HS256', typ: 'JWT' })}`, /alg/],
    ['standard base64 instead of base64url', `Bearer ${Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64')}+/.${b64(claims())}.`, /base64url/],
    ['a payload that is not JSON', `Bearer ${b64({ alg: 'none' })}.${Buffer.from('not json').toString('base64url')}.`, /not valid JSON/],
    ['missing iss', bearer(without('iss')), /"iss"/],
    ['missing sub', bearer(without('sub')), /"sub"/],
    ['missing aud', bearer(without('aud')), /"aud"/],
    ['another provider\'s aud', bearer(claims({ aud: 'http://127.0.0.1:4102/meridian/fhir/STU3' })), /not this provider/],
    ['missing iat', bearer(without('iat')), /"iat"/],
    ['missing exp', bearer(without('exp')), /"exp"/],
    ['an expired token', bearer(claims({ iat: NOW_S - 400, exp: NOW_S - 100 })), /expired/],
    ['iat in the future beyond the skew', bearer(claims({ iat: NOW_S + 120, exp: NOW_S + 400 })), /future/],
    ['times in milliseconds', bearer(claims({ iat: NOW_S * 1000, exp: NOW_S * 1000 + 300_000 })), /future/],
    ['a lifetime over 300 s', bearer(claims({ exp: NOW_S + 301 })), /exceeds 300/],
    ['reason_for_request other than directcare', bearer(claims({ reason_for_request: 'secondaryuses' })), /directcare/],
    ['missing requested_scope', bearer(without('requested_scope')), /requested_scope/],
    ['missing requesting_device', bearer(without('requesting_device')), /requesting_device/],
    ['a device without an identifier', bearer(claims({ requesting_device: { resourceType: 'Device' } })), /identifier/],
    ['missing requesting_organization', bearer(without('requesting_organization')), /requesting_organization/],
    ['an organisation without an ODS code', bearer(claims({ requesting_organization: { resourceType: 'Organization', identifier: [{ system: 'https://example/local', value: 'A' }] } })), /ods-organization-code/],
    ['a practitioner who is not sub', bearer(claims({ requesting_practitioner: { resourceType: 'Practitioner', id: 'someone-else' } })), /sub/],
  ];
  for (const [what, auth, message] of failures) {
    it(`refuses ${what} with 403 forbidden`, () => {
      const e = refusal(auth);
      expect(e.status).toBe(403);
      expect(e.issue.code).toBe('forbidden');
      expect(e.issue.diagnostics).toMatch(message);
      expect(e.headers['www-authenticate']).toMatch(/^Bearer realm=/);
    });
  }

  it('refuses a token whose scope is for another interaction, as insufficient_scope', () => {
    const e = refusal(bearer(claims({ requested_scope: 'patient/appointment.write' })));
    expect(e.status).toBe(403);
    expect(e.headers['www-authenticate']).toContain('error="insufficient_scope"');
  });

  it('answers 401 (issue code login) when the provider is configured so', () => {
    const e = refusal(bearer(claims({ exp: NOW_S - 1, iat: NOW_S - 200 })), { ...expect403, failureStatus: 401 });
    expect(e.status).toBe(401);
    expect(e.issue.code).toBe('login');
  });
});
