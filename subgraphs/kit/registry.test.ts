import { describe, expect, it } from 'vitest';
import { ADAPTERS } from '../adapters.js';
import { credential, loadRegistry, parseRegistry, substitute, RegistryError, type PasRestSystem } from './registry.js';

const valid = {
  consumerSystem: { asid: '918999198738', endpoint: 'https://gw.example/fhir' },
  systems: [
    { id: 'bs-one', kind: 'BOOKING_STANDARD', name: 'One', baseUrl: 'https://p.example/STU3/', asid: '200000000101',
      interactions: { searchSlot: 'urn:nhs:names:services:careconnect:fhir:rest:search:slot' } },
  ],
};

function broken(change: (r: typeof valid) => unknown): () => unknown {
  return () => parseRegistry(change(structuredClone(valid)));
}

describe('supplier registry', () => {
  it('loads the sandbox registry: two Booking Standard providers, a PAS, a BaRS front and two SMART feeds', () => {
    const r = loadRegistry(undefined, {});
    expect(r.systems.map((s) => `${s.kind}:${s.id}`)).toEqual([
      'BOOKING_STANDARD:harbour-uec',
      'BOOKING_STANDARD:meridian-ooh',
      'PAS_REST:oakfield-pas',
      'BARS:bars-sandbox',
      'SMART_LINKS:smart-urgent-care',
      'SMART_LINKS:smart-vaccines',
    ]);
    expect(r.system('smart-vaccines')).toMatchObject({ manifestUrl: 'http://127.0.0.1:4104/vaccine-clinic/$bulk-publish', pollFloorSeconds: 60 });
    expect(loadRegistry(undefined, { SMART_LINKS_POLL_FLOOR_SECONDS: '1' }).system('smart-vaccines')).toMatchObject({ pollFloorSeconds: 1 });
    expect(r.system('harbour-uec')).toMatchObject({ baseUrl: 'http://127.0.0.1:4102/harbour/STU3', asid: '200000000101', deadlineMs: 2000 });
  });

  it('fills ${VAR:-default} from the environment', () => {
    const r = loadRegistry(undefined, { SANDBOX_BOOKING_STANDARD_URL: 'http://127.0.0.1:9999' });
    expect(r.system('meridian-ooh')).toMatchObject({ baseUrl: 'http://127.0.0.1:9999/meridian/fhir/STU3' });
    expect(() => substitute('${NEEDED}', {})).toThrowError(/environment variable NEEDED/);
  });

  it('normalises a trailing slash and defaults the deadline', () => {
    expect(parseRegistry(valid).systems[0]).toMatchObject({ baseUrl: 'https://p.example/STU3', deadlineMs: 2000 });
  });

  it('stops start-up with a message naming the system and field', () => {
    expect(broken((r) => ({ ...r, systems: [{ ...r.systems[0], kind: 'HL7V2' }] }))).toThrowError(/system bs-one: unknown kind "HL7V2"/);
    expect(broken((r) => ({ ...r, systems: [{ ...r.systems[0], baseUrl: 'not a url' }] }))).toThrowError(/bs-one: baseUrl is not a valid URL/);
    expect(broken((r) => ({ ...r, systems: [{ ...r.systems[0], baseUrl: 'ftp://x/y' }] }))).toThrowError(/must be http/);
    expect(broken((r) => ({ ...r, systems: [{ ...r.systems[0], asid: '123' }] }))).toThrowError(/bs-one: asid must be a 12-digit ASID/);
    expect(broken((r) => ({ ...r, systems: [{ ...r.systems[0], deadlineMs: -1 }] }))).toThrowError(/deadlineMs must be a positive/);
    expect(broken((r) => ({ ...r, systems: [{ ...r.systems[0], interactions: {} }] }))).toThrowError(/bs-one: interactions.searchSlot must be a non-empty string/);
    expect(broken((r) => ({ ...r, systems: [{ ...r.systems[0], name: undefined }] }))).toThrowError(/bs-one: name must be a non-empty string/);
    expect(broken((r) => ({ ...r, systems: [r.systems[0], r.systems[0]] }))).toThrowError(/listed twice/);
    expect(broken((r) => ({ ...r, systems: [] }))).toThrowError(RegistryError);
    expect(() => loadRegistry('/nonexistent/registry.json', {})).toThrowError(/cannot be read/);
  });
});

describe('per-kind settings', () => {
  it('knows exactly the kinds of the adapters in subgraphs/adapters.ts', () => {
    const err = (() => {
      try {
        parseRegistry({ ...valid, systems: [{ ...valid.systems[0], kind: 'NOPE' }] });
      } catch (e) {
        return (e as Error).message;
      }
      return '';
    })();
    expect(err).toContain(`(known: ${ADAPTERS.map((a) => a.kind).join(', ')})`);
  });

  const pas = { id: 'pas-one', kind: 'PAS_REST', name: 'PAS', baseUrl: 'https://pas.example/api', credentials: { apiKeyEnv: 'PAS_ONE_KEY' } };
  const feed = { id: 'feed-one', kind: 'SMART_LINKS', name: 'Feed', manifestUrl: 'https://feed.example/$bulk-publish' };

  it('reads a PAS credential only when its adapter asks, naming the variable when it is missing', () => {
    const r = parseRegistry({ ...valid, systems: [pas] });
    const system = r.system('pas-one') as PasRestSystem;
    expect(credential(system, { PAS_ONE_KEY: 's3cret' })).toBe('s3cret');
    expect(() => credential(system, {})).toThrowError(/system pas-one: environment variable PAS_ONE_KEY .* is not set/);
    expect(() => parseRegistry({ ...valid, systems: [{ ...pas, credentials: { apiKeyEnv: 'lower case' } }] })).toThrowError(/must name an environment variable/);
    expect(() => parseRegistry({ ...valid, systems: [{ ...pas, credentials: undefined }] })).toThrowError(/pas-one: credentials must be an object/);
  });

  it('requires a SMART manifest URL ending in $bulk-publish, and defaults the one-minute poll floor', () => {
    expect(parseRegistry({ ...valid, systems: [feed] }).system('feed-one')).toMatchObject({ pollFloorSeconds: 60, cacheTtlSeconds: 30 });
    expect(() => parseRegistry({ ...valid, systems: [{ ...feed, manifestUrl: 'https://feed.example/manifest.json' }] })).toThrowError(/must end in \$bulk-publish/);
  });
});
