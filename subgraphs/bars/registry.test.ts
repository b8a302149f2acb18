import { describe, expect, it } from 'vitest';
import { parseRegistry, RegistryError } from '../kit/registry.js';

const consumerSystem = { asid: '918999198738', endpoint: 'https://booking-gateway.sandbox.invalid/fhir' };
const bars = {
  id: 'bars-test',
  kind: 'BARS',
  name: 'BaRS',
  baseUrl: 'https://sandbox.api.service.nhs.uk/booking-and-referral/FHIR/R4',
  tokenUrl: 'https://sandbox.api.service.nhs.uk/oauth2/token',
  clientId: 'our-app',
  keyId: 'our-key-1',
  privateKeyFile: 'config/dev-keys/bars-sandbox.private.jwk.json',
};
const parse = (system: object) => parseRegistry({ consumerSystem, systems: [system] }, 'test');

describe('the supplier registry and BaRS systems', () => {
  it('accepts a BaRS system, with the defaults for what it may leave out', () => {
    const r = parse(bars);
    expect(r.system('bars-test')).toMatchObject({ kind: 'BARS', tokenUrl: bars.tokenUrl, privateKeyFile: bars.privateKeyFile, deadlineMs: 2000, rateLimitPerSecond: 10 });
  });

  it.each(['privateKeyFile', 'tokenUrl', 'clientId', 'keyId', 'baseUrl'])('refuses a BaRS system without %s, naming the system and the field', (field) => {
    const { [field]: _left, ...rest } = bars as Record<string, unknown>;
    expect(() => parse(rest)).toThrow(RegistryError);
    expect(() => parse(rest)).toThrow(new RegExp(`system bars-test: ${field} `));
  });

  it('refuses a token URL that is not an http(s) URL, naming the field', () => {
    expect(() => parse({ ...bars, tokenUrl: 'ftp://example.invalid/token' })).toThrow(/system bars-test: tokenUrl must be http\(s\)/);
    expect(() => parse({ ...bars, privateKeyFile: '  ' })).toThrow(/system bars-test: privateKeyFile must be a non-empty string/);
  });
});
