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

describe('every field that reaches suppliers counts', () => {
  it('availability: its serviceIds, or as many services as a search can match, times window days, times aliases', () => {
    const search = (i: number) => `a${i}: availability(search: { near: { postcode: "LS1 4AP" }, from: "${iso(0)}", to: "${iso(14)}" }) { totalCount }`;
    expect(check(`{ ${search(0)} }`)).toBeNull(); // 100 × 14
    // The review's bypass: 30 aliased 14-day searches (42,000 service-days) were accepted.
    expect(check(`{ ${Array.from({ length: 30 }, (_, i) => search(i)).join(' ')} }`)).toMatchObject({ code: 'COST_LIMIT_EXCEEDED' });
    expect(check(`{ ${search(0)} ${search(1)} }`)).toMatchObject({ code: 'COST_LIMIT_EXCEEDED' });
    const byIds = `query($s: AvailabilitySearch!) { availability(search: $s) { totalCount } }`;
    expect(check(byIds, { s: { serviceIds: ['1', '2'], from: iso(0), to: iso(7) } }, { ...DEFAULT_LIMITS, maxCost: 14 })).toBeNull();
    expect(check(byIds, { s: { serviceIds: ['1', '2'], from: iso(0), to: iso(7) } }, { ...DEFAULT_LIMITS, maxCost: 13 })).not.toBeNull();
  });

  it('capacity, at the root (its serviceIds) and on a service (one service under its list)', () => {
    const root = `{ capacity(serviceIds: ["1", "2", "3"], from: "${iso(0)}", to: "${iso(10)}") { services { freeSlots } } }`;
    expect(check(root, {}, { ...DEFAULT_LIMITS, maxCost: 30 })).toBeNull();
    expect(check(root, {}, { ...DEFAULT_LIMITS, maxCost: 29 })).toMatchObject({ code: 'COST_LIMIT_EXCEEDED' });
    const perService = `{ services(first: 10) { nodes { capacity(from: "${iso(0)}", to: "${iso(5)}") { freeSlots } } } }`;
    expect(check(perService, {}, { ...DEFAULT_LIMITS, maxCost: 50 })).toBeNull();
    expect(check(perService, {}, { ...DEFAULT_LIMITS, maxCost: 49 })).toMatchObject({ code: 'COST_LIMIT_EXCEEDED' });
  });
});

describe('fragment fan-out', () => {
  /** Each level spreads the one below twice: the executed operation doubles per level, the document grows by a line. */
  const bomb = (levels: number) => {
    let q = `{ services(first: 1) { nodes { ...F${levels} } } }\nfragment F0 on HealthcareService { a: name }\n`;
    for (let i = 1; i <= levels; i++) q += `fragment F${i} on HealthcareService { ...F${i - 1} ...F${i - 1} }\n`;
    return q;
  };

  it('is measured once per fragment: 60 levels (2^60 aliases as executed) are counted and refused', () => {
    expect(check(bomb(60))).toMatchObject({ code: 'ALIAS_LIMIT_EXCEEDED' });
    expect(check(bomb(4))).toBeNull(); // 16 aliases
    expect(check(bomb(5))).toMatchObject({ code: 'ALIAS_LIMIT_EXCEEDED' }); // 32
  });

  it('counts directives at every spread, and refuses subscriptions', () => {
    const many = `{ services { nodes { ${Array.from({ length: 51 }, () => 'name @include(if: true)').join(' ')} } } }`;
    expect(check(many)).toMatchObject({ code: 'DIRECTIVE_LIMIT_EXCEEDED' });
    expect(check('subscription { slotsChanged { id } }')).toMatchObject({ code: 'OPERATION_NOT_SUPPORTED', http: { status: 400 } });
  });
});
