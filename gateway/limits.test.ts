import { parse, type OperationDefinitionNode } from 'graphql';
import { describe, expect, it } from 'vitest';
import { checkLimits, DEFAULT_LIMITS } from './limits.js';

function check(query: string, variables: Record<string, unknown> = {}, limits = DEFAULT_LIMITS) {
  const doc = parse(query);
  const op = doc.definitions.find((d) => d.kind === 'OperationDefinition') as OperationDefinitionNode;
  return checkLimits(doc, op, variables, limits)?.extensions ?? null;
}

const DAY = 86_400_000;
const iso = (days: number) => new Date(Date.UTC(2026, 10, 23) + days * DAY).toISOString();

describe('depth', () => {
  it('counts nesting through fragments', () => {
    const deep = '{ a { b { c { d { e { f { g { h { i { j { k { l { m } } } } } } } } } } } } }';
    expect(check(deep)).toMatchObject({ code: 'DEPTH_LIMIT_EXCEEDED', http: { status: 400 } });
    expect(check('{ a { ...F } } fragment F on A { b { c } }', {}, { ...DEFAULT_LIMITS, maxDepth: 2 })).toMatchObject({ code: 'DEPTH_LIMIT_EXCEEDED' });
    expect(check('{ services { nodes { location { postcode } } } }')).toBeNull();
    // An IDE's introspection query is deep by nature; introspection is off in production.
    expect(check(`{ __schema { types { fields { type { ${'ofType { '.repeat(10)}name${' }'.repeat(10)} } } } } }`)).toBeNull();
  });
});

describe('aliases', () => {
  it('counts every alias, fragments each time they are spread', () => {
    const many = `{ ${Array.from({ length: 31 }, (_, i) => `s${i}: service(id: "${i}") { name }`).join(' ')} }`;
    expect(check(many)).toMatchObject({ code: 'ALIAS_LIMIT_EXCEEDED' });
    const spread = `{ ${Array.from({ length: 4 }, (_, i) => `x${i}: service(id: "1") { ...F }`).join(' ')} } fragment F on HealthcareService { ${Array.from({ length: 7 }, (_, i) => `n${i}: name`).join(' ')} }`;
    expect(check(spread)).toMatchObject({ code: 'ALIAS_LIMIT_EXCEEDED' }); // 4 + 4*7 = 32
    expect(check('{ a: service(id: "1") { name } b: service(id: "2") { name } }')).toBeNull();
  });
});

describe('cost: services times window days', () => {
  const q = (first: number, days: number, extra = '') =>
    `{ services(first: ${first}) { nodes { ... on BookingStandardService { slots(from: "${iso(0)}", to: "${iso(days)}") { totalCount } ${extra} } } } }`;

  it('admits the largest single search: 100 services over 14 days', () => {
    expect(check(q(100, 14))).toBeNull();
  });

  it('refuses work multiplied beyond it, with the numbers', () => {
    const e = check(q(100, 14, 'nextAvailable { id }')); // 1400 + 100 × 7
    expect(e).toMatchObject({ code: 'COST_LIMIT_EXCEEDED', http: { status: 400 } });
    const aliased = `{ a: services(first: 60) { nodes { ... on BookingStandardService { slots(from: "${iso(0)}", to: "${iso(14)}") { totalCount } } } } b: services(first: 60) { nodes { ... on BookingStandardService { slots(from: "${iso(0)}", to: "${iso(14)}") { totalCount } } } } }`;
    expect(check(aliased)).toMatchObject({ code: 'COST_LIMIT_EXCEEDED' }); // 2 × 60 × 14
  });

  it('reads sizes and windows from variables, defaults, and filter.ids', () => {
    const withVars = 'query($n: Int, $from: DateTime, $to: DateTime) { services(first: $n) { nodes { ... on BookingStandardService { slots(from: $from, to: $to) { totalCount } } } } }';
    expect(check(withVars, { n: 100, from: iso(0), to: iso(14) })).toBeNull();
    expect(check(withVars, { n: 100, from: iso(0), to: iso(14) }, { ...DEFAULT_LIMITS, maxCost: 1399 })).toMatchObject({ code: 'COST_LIMIT_EXCEEDED' });
    // Default first (20) and default window (1 day): 20.
    expect(check('{ services { nodes { ... on BookingStandardService { slots { totalCount } } } } }', {}, { ...DEFAULT_LIMITS, maxCost: 19 })).not.toBeNull();
    expect(check('{ services { nodes { ... on BookingStandardService { slots { totalCount } } } } }', {}, { ...DEFAULT_LIMITS, maxCost: 20 })).toBeNull();
    // Three explicit ids cap the list at three whatever first says: 3 × 14.
    const ids = `{ services(first: 100, filter: { ids: ["1", "2", "3"] }) { nodes { ... on BookingStandardService { slots(from: "${iso(0)}", to: "${iso(14)}") { totalCount } } } } }`;
    expect(check(ids, {}, { ...DEFAULT_LIMITS, maxCost: 42 })).toBeNull();
    expect(check(ids, {}, { ...DEFAULT_LIMITS, maxCost: 41 })).not.toBeNull();
    // A slot's capacity (places left) is data, not another supplier call.
    const withCapacity = `{ services(first: 3) { nodes { ... on PasRestService { slots(first: 500) { nodes { capacity } } } } } }`;
    expect(check(withCapacity, {}, { ...DEFAULT_LIMITS, maxCost: 3 })).toBeNull();
  });
});
