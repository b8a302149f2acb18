import { buildSchema, parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { checkDateTimes } from './scalar-validation.js';
import { redactQuoted } from '../errors.js';

const schema = buildSchema(`
  scalar DateTime
  input Window { from: DateTime!, to: DateTime, days: [DateTime!] }
  type Query { slots(from: DateTime, to: DateTime, note: String): Int, search(window: Window): Int }
`);

const now = new Date('2026-11-20T12:00:00Z');

function check(query: string, variables: Record<string, unknown> = {}) {
  return checkDateTimes(schema, parse(query), variables, now)?.extensions ?? null;
}

describe('checkDateTimes', () => {
  it('accepts RFC 3339 with an offset, in literals and variables', () => {
    expect(check('{ slots(from: "2026-11-21T10:00:00Z", to: "2026-11-21T12:00:00+01:00") }')).toBeNull();
    expect(check('query($w: Window) { search(window: $w) }', { w: { from: '2026-11-21T01:00:00Z', days: ['2026-11-30T00:00:00+01:00'] } })).toBeNull();
  });

  it('rejects a bad literal, naming the argument', () => {
    expect(check('{ slots(from: "tomorrow") }')).toEqual({ code: 'BAD_USER_INPUT', field: 'from', http: { status: 400 } });
    expect(check('{ slots(to: "2026-11-21T10:00:00") }')).toMatchObject({ field: 'to' });
    expect(check('{ slots(from: 1700000000) }')).toMatchObject({ field: 'from' });
  });

  it('rejects bad variables, even nested in input objects and lists', () => {
    expect(check('query($f: DateTime) { slots(from: $f) }', { f: '2026-02-30' })).toMatchObject({ field: 'f' });
    expect(check('query($w: Window) { search(window: $w) }', { w: { from: '2026-11-21T01:00:00Z', days: ['x'] } })).toMatchObject({ field: 'w.days[0]' });
  });

  it('rejects impossible dates and instants outside a day ago to a year ahead, naming the field', () => {
    expect(check('{ slots(from: "2026-02-30T00:00:00Z") }')).toMatchObject({ field: 'from' });
    expect(check('{ slots(from: "2026-11-21T24:00:00Z") }')).toMatchObject({ field: 'from' });
    expect(check('{ slots(from: "9999-12-30T00:00:00Z", to: "9999-12-31T00:00:00Z") }')).toMatchObject({ field: 'from' });
    expect(check('{ slots(to: "+010000-01-01T00:00:00Z") }')).toMatchObject({ field: 'to' });
    expect(check('{ search(window: { from: "1800-01-01T00:00:00Z" }) }')).toMatchObject({ field: 'window.from' });
    expect(check('query($w: Window) { search(window: $w) }', { w: { from: '2026-11-21T00:00:00Z', days: ['2028-01-01T00:00:00Z'] } })).toMatchObject({ field: 'w.days[0]' });
  });

  it('leaves other strings alone', () => {
    expect(check('{ slots(note: "tomorrow") }')).toBeNull();
  });

  it('finds a DateTime however deep, through lists of objects and recursive input types, and walks nothing else', () => {
    const deep = buildSchema(`
      scalar DateTime
      input Ids { ids: [String!]!, next: Ids }
      input Leaf { at: DateTime }
      input Node { name: String, child: Node, leaves: [Leaf!], ids: Ids }
      type Query { tree(root: Node, ids: Ids): Int }
    `);
    const run = (variables: Record<string, unknown>) =>
      checkDateTimes(deep, parse('query($n: Node, $i: Ids) { tree(root: $n, ids: $i) }'), variables, now)?.extensions ?? null;
    expect(run({ n: { child: { child: { leaves: [{ at: '2026-11-21T00:00:00Z' }, { at: 'soon' }] } } } })).toMatchObject({ field: 'n.child.child.leaves[1].at' });
    expect(run({ n: { child: { leaves: [{ at: '2026-11-21T00:00:00Z' }] } } })).toBeNull();
    // A list of ids with no DateTime anywhere in its type is not looked into: even a value that is no list passes.
    const ids = { get ids(): string[] { throw new Error('walked'); } };
    expect(run({ i: ids, n: { ids } })).toBeNull();
  });
});

describe('redactQuoted', () => {
  it('drops quoted values and URLs from logged messages', () => {
    expect(redactQuoted('Expected "Jane Smith" at http://10.0.0.1/x')).toBe('Expected "…" at [internal]');
  });
});
