import { buildSchema, parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { checkDateTimes } from './scalar-validation.js';
import { redactQuoted } from './errors.js';

const schema = buildSchema(`
  scalar DateTime
  input Window { from: DateTime!, to: DateTime, days: [DateTime!] }
  type Query { slots(from: DateTime, to: DateTime, note: String): Int, search(window: Window): Int }
`);

function check(query: string, variables: Record<string, unknown> = {}) {
  return checkDateTimes(schema, parse(query), variables)?.extensions ?? null;
}

describe('checkDateTimes', () => {
  it('accepts RFC 3339 with an offset, in literals and variables', () => {
    expect(check('{ slots(from: "2026-11-21T10:00:00Z", to: "2026-11-21T12:00:00+01:00") }')).toBeNull();
    expect(check('query($w: Window) { search(window: $w) }', { w: { from: '2026-03-29T01:00:00Z', days: ['2026-03-30T00:00:00+01:00'] } })).toBeNull();
  });

  it('rejects a bad literal, naming the argument', () => {
    expect(check('{ slots(from: "tomorrow") }')).toEqual({ code: 'BAD_USER_INPUT', field: 'from', http: { status: 400 } });
    expect(check('{ slots(to: "2026-11-21T10:00:00") }')).toMatchObject({ field: 'to' });
    expect(check('{ slots(from: 1700000000) }')).toMatchObject({ field: 'from' });
  });

  it('rejects bad variables, even nested in input objects and lists', () => {
    expect(check('query($f: DateTime) { slots(from: $f) }', { f: '2026-02-30' })).toMatchObject({ field: 'f' });
    expect(check('query($w: Window) { search(window: $w) }', { w: { from: '2026-03-29T01:00:00Z', days: ['x'] } })).toMatchObject({ field: 'w.days[0]' });
  });

  it('leaves other strings alone', () => {
    expect(check('{ slots(note: "tomorrow") }')).toBeNull();
  });
});

describe('redactQuoted', () => {
  it('drops quoted values and URLs from logged messages', () => {
    expect(redactQuoted('Expected "Jane Smith" at http://10.0.0.1/x')).toBe('Expected "…" at [internal]');
  });
});
