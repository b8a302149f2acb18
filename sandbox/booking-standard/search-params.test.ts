import { describe, expect, it } from 'vitest';
import { FhirError } from './errors.js';
import { includeTargets, parseSlotSearch, parseStartWindow } from './search-params.js';

const NOW = Date.UTC(2026, 5, 1, 9, 0); // 10:00 BST
const q = (pairs: Array<[string, string]>) => new URLSearchParams(pairs);
const svc: [string, string] = ['schedule.actor:healthcareservice', '1402000101'];

function error(fn: () => unknown): FhirError {
  try {
    fn();
  } catch (e) {
    if (e instanceof FhirError) return e;
    throw e;
  }
  throw new Error('expected a FhirError');
}

describe('_include spellings', () => {
  const ALL_RELATIONS = [
    'Slot:schedule',
    'Schedule:actor:HealthcareService',
    'Schedule:actor:Practitioner',
    'Schedule:actor:PractitionerRole',
    'HealthcareService:providedBy',
    'HealthcareService:location',
  ];
  const spellings: Record<string, Array<[string, string]>> = {
    // 1.0.x, DEMO, TKW autotests and Postman: plain _include, dotted HealthcareService paths.
    plain: [
      ['_include', 'Slot:schedule'], ['_include', 'Schedule:actor:Practitioner'], ['_include', 'Schedule:actor:PractitionerRole'],
      ['_include', 'Schedule:actor:HealthcareService'], ['_include', 'HealthcareService.location'], ['_include', 'HealthcareService.providedBy'],
    ],
    // STU3 / GP Connect: :recurse with colon paths.
    recurse: [
      ['_include', 'Slot:schedule'], ['_include:recurse', 'Schedule:actor:Practitioner'], ['_include:recurse', 'Schedule:actor:PractitionerRole'],
      ['_include:recurse', 'Schedule:actor:HealthcareService'], ['_include:recurse', 'HealthcareService:location'], ['_include:recurse', 'HealthcareService:providedBy'],
    ],
    // NBA 2.0.4 text: :iterate with target types as parameter names.
    iterate: [
      ['_include', 'Slot:schedule'], ['_include:iterate', 'Schedule:actor:Practitioner'], ['_include:iterate', 'Schedule:actor:PractitionerRole'],
      ['_include:iterate', 'Schedule:actor:HealthcareService'], ['_include:iterate', 'HealthcareService:Location'], ['_include:iterate', 'HealthcareService:Organization'],
    ],
  };

  for (const [name, pairs] of Object.entries(spellings)) {
    it(`understands the ${name} spelling`, () => {
      expect([...parseSlotSearch(q([svc, ...pairs]), NOW).includes].sort()).toEqual([...ALL_RELATIONS].sort());
    });
  }

  it('ignores include values it does not know, without error', () => {
    expect(includeTargets('Slot:*')).toEqual([]);
    expect(includeTargets('Patient:general-practitioner')).toEqual([]);
    expect(includeTargets('Schedule:actor:Device')).toEqual([]);
    expect(parseSlotSearch(q([svc, ['_include', 'Nonsense'], ['_revinclude', 'Appointment:slot']]), NOW).includes.size).toBe(0);
  });

  it('reads the dotted schedule form and a bare Schedule:actor as every actor', () => {
    expect(includeTargets('Slot.schedule')).toEqual(['Slot:schedule']);
    expect(includeTargets('Schedule.actor:Practitioner')).toEqual(['Schedule:actor:Practitioner']);
    expect(includeTargets('Schedule:actor')).toHaveLength(4);
    expect(includeTargets('HealthcareService:providedBy:Organization')).toEqual(['HealthcareService:providedBy']);
  });
});

describe('start window', () => {
  it('takes ge/gt/le/lt with any offset and filters on instants', () => {
    const w = parseStartWindow(['ge2026-06-01T10:00:00+01:00', 'lt2026-06-01T12:00:00-02:30'], NOW);
    expect(w.lower).toEqual({ ms: Date.UTC(2026, 5, 1, 9, 0), inclusive: true });
    expect(w.upper).toEqual({ ms: Date.UTC(2026, 5, 1, 14, 30), inclusive: false });
  });

  it('keeps the narrowest bound on each side', () => {
    const w = parseStartWindow(['ge2026-06-01T10:00:00+00:00', 'gt2026-06-02T10:00:00+00:00', 'le2026-06-05T10:00:00+00:00', 'le2026-06-04T10:00:00+00:00'], NOW);
    expect(w.lower).toEqual({ ms: Date.UTC(2026, 5, 2, 10), inclusive: false });
    expect(w.upper).toEqual({ ms: Date.UTC(2026, 5, 4, 10), inclusive: true });
  });

  it('accepts a past lower bound alone', () => {
    expect(parseStartWindow(['ge2026-05-31T00:00:00+00:00', 'le2026-06-02T00:00:00+00:00'], NOW).lower).toBeDefined();
  });

  const bad: Array<[string, string[], RegExp]> = [
    ['both bounds in the past', ['ge2026-05-30T00:00:00+00:00', 'le2026-05-31T00:00:00+00:00'], /past/],
    ['a lower bound after the upper', ['ge2026-06-03T00:00:00+00:00', 'le2026-06-02T00:00:00+00:00'], /after its upper/],
    ['a Z designator', ['le2026-06-02T00:00:00Z'], /\+00:00, not Z/],
    ['fractional seconds', ['le2026-06-02T00:00:00.000+00:00'], /fractional/],
    ["an unencoded '+' (decoded as a space)", ['le2026-06-02T00:00:00 00:00'], /%2B/],
    ['a date without time', ['le2026-06-02'], /not a valid date-time/],
    ['an impossible date', ['le2026-02-30T00:00:00+00:00'], /not a real date/],
    ['a missing prefix', ['2026-06-02T00:00:00+00:00'], /prefix/],
    ['the eq prefix', ['eq2026-06-02T00:00:00+00:00'], /prefix/],
  ];
  for (const [what, values, message] of bad) {
    it(`refuses ${what} with 400`, () => {
      const e = error(() => parseStartWindow(values, NOW));
      expect(e.status).toBe(400);
      expect(e.issue.code).toBe('invalid');
      expect(e.issue.diagnostics).toMatch(message);
    });
  }
});

describe('other parameters', () => {
  it('requires schedule.actor:healthcareservice', () => {
    expect(error(() => parseSlotSearch(q([['status', 'free']]), NOW)).status).toBe(400);
    expect(error(() => parseSlotSearch(q([['service', '1402000101']]), NOW)).status).toBe(400);
    expect(error(() => parseSlotSearch(q([['schedule.actor:healthcareservice', '']]), NOW)).status).toBe(400);
    expect(parseSlotSearch(q([['schedule.actor:healthcareservice', 'HealthcareService/1402000101']]), NOW).serviceId).toBe('1402000101');
  });

  it('reads comma-separated statuses as OR and repeated status parameters as AND', () => {
    expect(parseSlotSearch(q([svc, ['status', 'free,busy']]), NOW).statuses).toEqual(new Set(['free', 'busy']));
    expect(parseSlotSearch(q([svc, ['status', 'free,busy'], ['status', 'busy']]), NOW).statuses).toEqual(new Set(['busy']));
    expect(parseSlotSearch(q([svc]), NOW).statuses).toBeNull();
    expect(error(() => parseSlotSearch(q([svc, ['status', 'open']]), NOW)).status).toBe(400);
  });

  it('defaults _count to 50, caps it at 100, refuses garbage', () => {
    expect(parseSlotSearch(q([svc]), NOW).count).toBe(50);
    expect(parseSlotSearch(q([svc, ['_count', '500']]), NOW).count).toBe(100);
    expect(parseSlotSearch(q([svc, ['_count', '0']]), NOW).count).toBe(0);
    expect(error(() => parseSlotSearch(q([svc, ['_count', '-1']]), NOW)).status).toBe(400);
  });

  it('refuses a page token it did not issue', () => {
    expect(error(() => parseSlotSearch(q([svc, ['_page', 'not a token']]), NOW)).status).toBe(400);
    expect(error(() => parseSlotSearch(q([svc, ['_page', Buffer.from('x').toString('base64url')]]), NOW)).status).toBe(400);
  });

  it('ignores parameters it does not support', () => {
    expect(() => parseSlotSearch(q([svc, ['_sort', 'start'], ['foo', 'bar'], ['_elements', 'start']]), NOW)).not.toThrow();
  });
});
