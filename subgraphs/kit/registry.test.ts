import { describe, expect, it } from 'vitest';
import { loadRegistry, parseRegistry, substitute, RegistryError } from './registry.js';

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
  it('loads the sandbox registry with both Booking Standard systems', () => {
    const r = loadRegistry(undefined, {});
    expect(r.systems.map((s) => s.id)).toEqual(['harbour-uec', 'meridian-ooh']);
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
    expect(broken((r) => ({ ...r, systems: [r.systems[0], r.systems[0]] }))).toThrowError(/listed twice/);
    expect(broken((r) => ({ ...r, systems: [] }))).toThrowError(RegistryError);
    expect(() => loadRegistry('/nonexistent/registry.json', {})).toThrowError(/cannot be read/);
  });
});
