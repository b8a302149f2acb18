import { GraphQLScalarType, Kind } from 'graphql';
import { GraphQLError } from 'graphql';

// RFC 3339 date-time with an explicit offset: a time without one is ambiguous across the UK's two offsets.
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

export function isRfc3339(value: string): boolean {
  return RFC3339.test(value) && !Number.isNaN(Date.parse(value));
}

function parse(value: unknown): string {
  if (typeof value !== 'string' || !isRfc3339(value)) {
    throw new GraphQLError(
      `DateTime must be an RFC 3339 date-time with an offset, e.g. 2026-11-21T14:30:00Z; got ${JSON.stringify(value)}`,
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
