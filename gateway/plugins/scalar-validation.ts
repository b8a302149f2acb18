/**
 * The gateway's schema comes from the supergraph, where custom scalars are opaque: a bad DateTime would travel
 * to a subgraph and come back as an unreadable 400. This plugin checks every DateTime in the operation (literals
 * and variables, inside lists and input objects) before planning, and answers with a typed error naming the field.
 */
import {
  GraphQLError,

  TypeInfo,
  getNamedType,
  isInputObjectType,
  isListType,
  isNonNullType,
  typeFromAST,
  visit,
  visitWithTypeInfo,
  type GraphQLInputType,
  type GraphQLNamedType,
  type GraphQLSchema,
  type DocumentNode,
} from 'graphql';
import type { GatewayPlugin } from './plugin.js';
import { isRfc3339 } from '../../common/scalars.js';
import { checkInstant } from '../../common/window-input.js';

const SCALAR = 'DateTime';

function invalid(field: string, value: unknown): GraphQLError {
  return new GraphQLError(
    `${field} must be an RFC 3339 date-time with an offset, e.g. 2026-11-21T14:30:00Z; got ${JSON.stringify(String(value).slice(0, 40))}`,
    { extensions: { code: 'BAD_USER_INPUT', field, http: { status: 400 } } },
  );
}

/**
 * Every DateTime a client can send bounds a slot window, so each is also held to the window range (window-input.ts)
 * here, before planning: nothing out of range reaches a subgraph.
 */
function checkDateTime(field: string, value: unknown, now: Date): GraphQLError | null {
  if (typeof value !== 'string' || !isRfc3339(value)) return invalid(field, value);
  try {
    checkInstant(new Date(value), field, now);
    return null;
  } catch (e) {
    return new GraphQLError((e as Error).message, { extensions: { code: 'BAD_USER_INPUT', field, http: { status: 400 } } });
  }
}

/** Where an operation holds DateTimes, in document order: found once per parsed document (see planOf). */
type Check =
  | { kind: 'variable'; name: string; type: GraphQLInputType }
  | { kind: 'string'; field: string; value: string }
  | { kind: 'int'; field: string; value: string };

/** Parsed documents are reused (Apollo's document store), so each is walked once per schema, not once per request. */
const plans = new WeakMap<DocumentNode, { schema: GraphQLSchema; checks: Check[] }>();

function planOf(schema: GraphQLSchema, document: DocumentNode): Check[] {
  const known = plans.get(document);
  if (known && known.schema === schema) return known.checks;
  const checks: Check[] = [];
  const typeInfo = new TypeInfo(schema);
  // The input field path inside an argument's object literal, so `search: { to: … }` is named `search.to`.
  const objectPath: string[] = [];
  const fieldName = () => [typeInfo.getArgument()?.name ?? SCALAR, ...objectPath].join('.');
  visit(
    document,
    visitWithTypeInfo(typeInfo, {
      VariableDefinition(node) {
        const type = typeFromAST(schema, node.type) as GraphQLInputType | undefined;
        if (type) checks.push({ kind: 'variable', name: node.variable.name.value, type });
        return false;
      },
      ObjectField: {
        enter(node) {
          objectPath.push(node.name.value);
        },
        leave() {
          objectPath.pop();
        },
      },
      StringValue(node) {
        const type = typeInfo.getInputType();
        if (type && getNamedType(type).name === SCALAR) checks.push({ kind: 'string', field: fieldName(), value: node.value });
      },
      IntValue(node) {
        const type = typeInfo.getInputType();
        if (type && getNamedType(type).name === SCALAR) checks.push({ kind: 'int', field: fieldName(), value: node.value });
      },
    }),
  );
  plans.set(document, { schema, checks });
  return checks;
}

export function checkDateTimes(
  schema: GraphQLSchema,
  document: DocumentNode,
  variables: Record<string, unknown>,
  now = new Date(),
): GraphQLError | null {
  // The first failing DateTime in document order (literals are checked against `now`, so on every request).
  for (const c of planOf(schema, document)) {
    const found =
      c.kind === 'variable'
        ? c.name in variables
          ? checkValue(c.type, variables[c.name], c.name, now)
          : null
        : c.kind === 'string'
          ? checkDateTime(c.field, c.value, now)
          : invalid(c.field, c.value);
    if (found) return found;
  }
  return null;
}

/** Whether a value of this input type can hold a DateTime anywhere inside it: decided once per named type. */
const holdsDateTime = new WeakMap<GraphQLNamedType, boolean>();

function canHoldDateTime(type: GraphQLInputType): boolean {
  const named = getNamedType(type);
  let holds = holdsDateTime.get(named);
  if (holds === undefined) {
    holds = reaches(named, new Set());
    holdsDateTime.set(named, holds);
  }
  return holds;
}

function reaches(named: GraphQLNamedType, seen: Set<GraphQLNamedType>): boolean {
  if (named.name === SCALAR) return true;
  if (!isInputObjectType(named) || seen.has(named)) return false;
  seen.add(named);
  return Object.values(named.getFields()).some((f) => reaches(getNamedType(f.type), seen));
}

function checkValue(type: GraphQLInputType, value: unknown, path: string, now: Date): GraphQLError | null {
  // A list of ids or a field of no DateTime is not walked (nor its paths made): a search's 50 ids were most of it.
  if (value === null || value === undefined || !canHoldDateTime(type)) return null;
  if (isNonNullType(type)) return checkValue(type.ofType, value, path, now);
  if (isListType(type)) {
    if (!Array.isArray(value)) return checkValue(type.ofType, value, path, now);
    for (const [i, v] of value.entries()) {
      const e = checkValue(type.ofType, v, `${path}[${i}]`, now);
      if (e) return e;
    }
    return null;
  }
  if (isInputObjectType(type)) {
    if (typeof value !== 'object') return null;
    for (const [k, field] of Object.entries(type.getFields())) {
      const e = checkValue(field.type, (value as Record<string, unknown>)[k], `${path}.${k}`, now);
      if (e) return e;
    }
    return null;
  }
  if (type.name === SCALAR) return checkDateTime(path, value, now);
  return null;
}

export const dateTimeValidationPlugin: GatewayPlugin = {
  name: 'date-times',
  apollo: {
    async requestDidStart() {
      return {
        async didResolveOperation({ schema, document, request }) {
          const error = checkDateTimes(schema, document, request.variables ?? {});
          if (error) throw error;
        },
      };
    },
  },
};

