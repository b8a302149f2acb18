import { GraphQLScalarType, Kind } from 'graphql';
import { GraphQLError } from 'graphql';

// RFC 3339 date-time with an explicit offset: a time without one is ambiguous across the UK's two offsets. Four-digit
// years only (RFC 3339 has no expanded years), and every field checked against the calendar below, because
// Date.parse silently rolls 2026-02-30 over to March and reads T24:00 as the next midnight. A regex and a
// days-in-month table are all this needs; no date library is worth a dependency for it.
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(?:Z|[+-](\d{2}):(\d{2}))$/;

const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function daysInMonth(year: number, month: number): number {
  // As Date.UTC reads it: years 0 to 99 are 1900 to 1999.
  const y = year < 100 ? 1900 + year : year;
  return month === 2 && y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0) ? 29 : MONTH_DAYS[month - 1]!;
}

/**
 * Strings already found valid: every warm answer serialises the same slot starts, ends and fetch times again, and
 * the check is pure. Bounded: emptied when full.
 */
const known = new Set<string>();
const MAX_KNOWN = 50_000;

export function isRfc3339(value: string): boolean {
  if (value.length > 40) return false;
  if (known.has(value)) return true;
  const m = RFC3339.exec(value);
  if (!m) return false;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  const offsetHours = m[8] === undefined ? 0 : Number(m[8]);
  const offsetMinutes = m[9] === undefined ? 0 : Number(m[9]);
  const valid =
    month >= 1 && month <= 12 &&
    day >= 1 && day <= daysInMonth(year, month) &&
    Number(m[4]) <= 23 && Number(m[5]) <= 59 && Number(m[6]) <= 59 &&
    offsetHours <= 23 && offsetMinutes <= 59 &&
    !Number.isNaN(Date.parse(value));
  if (valid) {
    if (known.size >= MAX_KNOWN) known.clear();
    known.add(value);
  }
  return valid;
}

function parse(value: unknown): string {
  if (typeof value !== 'string' || !isRfc3339(value)) {
    throw new GraphQLError(
      `DateTime must be an RFC 3339 date-time with an offset, e.g. 2026-11-21T14:30:00Z; got ${JSON.stringify(String(value).slice(0, 40))}`,
      { extensions: { code: 'BAD_USER_INPUT' } },
    );
  }
  return value;
}

export const DateTime = new GraphQLScalarType({
  name: 'DateTime',
  description: 'RFC 3339 date-time with an explicit UTC offset.',
  serialize(value) {
    if (value instanceof Date) return value.toISOString();
    if (typeof value === 'string' && isRfc3339(value)) return value;
    throw new GraphQLError(`Cannot serialise ${JSON.stringify(value)} as DateTime`);
  },
  parseValue: parse,
  parseLiteral(ast) {
    if (ast.kind !== Kind.STRING) return parse(undefined);
    return parse(ast.value);
  },
});
