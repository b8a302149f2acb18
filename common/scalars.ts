import { GraphQLScalarType, Kind } from 'graphql';
import { GraphQLError } from 'graphql';

// RFC 3339 date-time with an explicit offset: a time without one is ambiguous across the UK's two offsets. Four-digit
// years only (RFC 3339 has no expanded years), and every field checked against the calendar below, because
// Date.parse silently rolls 2026-02-30 over to March and reads T24:00 as the next midnight. A regex and a
// days-in-month table are all this needs; no date library is worth a dependency for it.
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(?:Z|[+-](\d{2}):(\d{2}))$/;

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

export function isRfc3339(value: string): boolean {
  if (value.length > 40) return false;
  const m = RFC3339.exec(value);
  if (!m) return false;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const offsetHours = m[8] === undefined ? 0 : Number(m[8]);
  const offsetMinutes = m[9] === undefined ? 0 : Number(m[9]);
  return (
    month >= 1 && month <= 12 &&
    day >= 1 && day <= daysInMonth(year, month) &&
    hour <= 23 && minute <= 59 && second <= 59 &&
    offsetHours <= 23 && offsetMinutes <= 59 &&
    !Number.isNaN(Date.parse(value))
  );
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
