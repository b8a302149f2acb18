import { describe, expect, it } from 'vitest';
import { GraphQLError } from 'graphql';
import { isRfc3339 } from './scalars.js';
import { readInstant, readWindow } from './window-input.js';

const now = new Date('2026-12-01T12:00:00Z');

function fieldOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(GraphQLError);
    expect((e as GraphQLError).extensions.code).toBe('BAD_USER_INPUT');
    return (e as GraphQLError).extensions.field as string;
  }
  return undefined;
}

describe('RFC 3339 instants', () => {
  it('accept real instants with an offset', () => {
    for (const v of ['2026-12-01T09:00:00Z', '2026-12-01T09:00:00.123+01:00', '2028-02-29T23:59:59-05:00']) expect(isRfc3339(v)).toBe(true);
  });

  it('refuse impossible calendar values that Date.parse would silently shift', () => {
    for (const v of ['2026-02-30T00:00:00Z', '2027-02-29T00:00:00Z', '2026-13-01T00:00:00Z', '2026-04-31T09:00:00Z', '2026-12-01T24:00:00Z',
      '2026-12-01T23:60:00Z', '2026-12-01T23:59:60Z', '2026-12-01T09:00:00+24:00', '2026-12-01T09:00:00', '+010000-01-01T00:00:00Z',
      '2026-12-01T09:00:00.1234567890Z']) {
      expect(isRfc3339(v), v).toBe(false);
    }
  });
});

describe('client windows', () => {
  it('refuse instants far in the future or past, naming the field, whatever the year', () => {
    expect(fieldOf(() => readWindow({ from: '9999-12-30T00:00:00Z', to: '9999-12-31T00:00:00Z' }, now))).toBe('from');
    expect(fieldOf(() => readWindow({ from: '1800-01-01T00:00:00Z', to: '1800-01-02T00:00:00Z' }, now, 'search.'))).toBe('search.from');
    expect(fieldOf(() => readWindow({ from: '2026-12-01T12:00:00Z', to: '2028-01-01T00:00:00Z' }, now))).toBe('to');
    expect(fieldOf(() => readInstant('2026-11-29T11:59:59Z', 'from', now))).toBe('from');
    expect(fieldOf(() => readInstant('2026-02-30T00:00:00Z', 'from', now))).toBe('from');
  });

  it('accept a window from a day ago to a year ahead', () => {
    expect(readInstant('2026-11-30T12:00:00Z', 'from', now).toISOString()).toBe('2026-11-30T12:00:00.000Z');
    const w = readWindow({ from: '2027-11-20T00:00:00Z', to: '2027-12-01T00:00:00Z' }, now);
    expect(w.to.toISOString()).toBe('2027-12-01T00:00:00.000Z');
    expect(readWindow({}, now)).toEqual({ from: now, to: new Date(now.getTime() + 86_400_000) });
  });
});
