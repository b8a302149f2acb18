import { GraphQLError } from 'graphql';
import { describe, expect, it } from 'vitest';
import { normalisePostcode, validateServicesArgs, type ServicesArgs } from './input.js';

function refusal(args: ServicesArgs): { code: unknown; field: unknown; message: string } {
  try {
    validateServicesArgs(args);
  } catch (err) {
    expect(err).toBeInstanceOf(GraphQLError);
    const e = err as GraphQLError;
    return { code: e.extensions.code, field: e.extensions.field, message: e.message };
  }
  throw new Error('expected a refusal');
}

describe('validateServicesArgs', () => {
  it('normalises a search', () => {
    expect(
      validateServicesArgs({ near: { postcode: ' ls14ap ' }, radiusKm: 10, filter: { types: ['URGENT_TREATMENT_CENTRE', 'EMERGENCY_DEPARTMENT'] } }),
    ).toEqual({
      first: 20,
      after: null,
      search: {
        point: { postcode: 'LS1 4AP' },
        radiusKm: 10,
        serviceTypeIds: [40, 130],
        ids: null,
        bookableOnly: false,
        matchesNothing: false,
        types: ['EMERGENCY_DEPARTMENT', 'URGENT_TREATMENT_CENTRE'],
        feedIds: null,
      },
    });
  });

  it('ignores the radius without a point, so it does not split cursors', () => {
    expect(validateServicesArgs({ radiusKm: 5 }).search.radiusKm).toBeNull();
  });

  it.each([
    [{ first: 0 }, 'first'],
    [{ first: 101 }, 'first'],
    [{ radiusKm: 0 }, 'radiusKm'],
    [{ radiusKm: 161 }, 'radiusKm'],
    [{ near: {} }, 'near'],
    [{ near: { postcode: 'LS1 4AP', lat: 53.8, lon: -1.5 } }, 'near'],
    [{ near: { lat: 53.8 } }, 'near.lon'],
    [{ near: { lon: -1.5 } }, 'near.lat'],
    [{ near: { lat: 91, lon: 0 } }, 'near.lat'],
    [{ near: { lat: 0, lon: 181 } }, 'near.lon'],
    [{ near: { postcode: 'not a postcode' } }, 'near.postcode'],
    [{ filter: { ids: ['1402000101', 'abc'] } }, 'filter.ids'],
    [{ filter: { ids: Array.from({ length: 101 }, (_, i) => String(1000 + i)) } }, 'filter.ids'],
  ] as [ServicesArgs, string][])('refuses %j naming %s', (args, field) => {
    expect(refusal(args)).toMatchObject({ code: 'BAD_USER_INPUT', field });
  });

  it('never echoes the postcode it refuses', () => {
    expect(refusal({ near: { postcode: 'ZZ99 ZZZZ' } }).message).not.toContain('ZZ99');
  });

  it('treats an empty types or ids list as matching nothing', () => {
    expect(validateServicesArgs({ filter: { types: [] } }).search.matchesNothing).toBe(true);
    expect(validateServicesArgs({ filter: { ids: [] } }).search.matchesNothing).toBe(true);
  });
});

describe('normalisePostcode', () => {
  it('ignores case and spacing', () => {
    for (const p of ['ls14ap', 'LS1 4AP', ' ls1  4ap ', 'Ls14Ap']) expect(normalisePostcode(p)).toBe('LS1 4AP');
    expect(normalisePostcode('sw1a1aa')).toBe('SW1A 1AA');
    expect(normalisePostcode('LS1')).toBeNull();
  });
});
