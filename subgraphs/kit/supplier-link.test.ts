import { describe, expect, it } from 'vitest';
import { nextPage } from './fhir/bundle.js';
import { supplierLink } from './supplier-link.js';

const pas = { system: 'oakfield-pas', baseUrl: 'https://api.oakfield.example/pas/v2', withinPath: true };
const fhir = { system: 'harbour-uec', baseUrl: 'https://harbour.example/fhir' };

describe('following a supplier link', () => {
  it('resolves relative links against the registered base and keeps them', () => {
    expect(supplierLink(pas, 'sessions?page=2')).toBe('https://api.oakfield.example/pas/v2/sessions?page=2');
    expect(supplierLink(fhir, 'https://harbour.example/fhir/Slot?page=3')).toBe('https://harbour.example/fhir/Slot?page=3');
  });

  it('refuses a link to another origin, or out of an API path, as INVALID_RESPONSE naming no URL', () => {
    for (const [scope, href] of [
      [fhir, 'https://evil.example/fhir/Slot?page=2'],
      [fhir, 'http://harbour.example/fhir/Slot'],
      [pas, 'https://api.oakfield.example/admin/keys'],
      [pas, '/pas/v2-other/sessions'],
      [pas, 'http://[::1'],
    ] as const) {
      let err: unknown;
      try {
        supplierLink(scope, href);
      } catch (e) {
        err = e;
      }
      expect(err, href).toMatchObject({ name: 'UpstreamError', reason: 'INVALID_RESPONSE', system: scope.system });
      expect((err as Error).message).not.toMatch(/evil|admin|https?:/);
    }
  });

  it('pages a FHIR searchset to its end, and refuses a foreign next link instead of dropping the rest', () => {
    const page = (url?: string) => ({ resourceType: 'Bundle' as const, link: url ? [{ relation: 'self', url: 'x' }, { relation: 'next', url }] : [] });
    expect(nextPage(page(), fhir)).toBeUndefined();
    expect(nextPage(page('Slot?page=2'), fhir)).toBe('https://harbour.example/Slot?page=2');
    expect(() => nextPage(page('https://elsewhere.example/Slot'), fhir)).toThrowError(expect.objectContaining({ reason: 'INVALID_RESPONSE' }) as Error);
  });
});
