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
  type GraphQLSchema,
  type DocumentNode,
} from 'graphql';
import type { ApolloServerPlugin } from '@apollo/server';
import { isRfc3339 } from '../subgraphs/kit/scalars.js';

const SCALAR = 'DateTime';

function invalid(field: string, value: unknown): GraphQLError {
  return new GraphQLError(
    `${field} must be an RFC 3339 date-time with an offset, e.g. 2026-11-21T14:30:00Z; got ${JSON.stringify(value)}`,
    { extensions: { code: 'BAD_USER_INPUT', field, http: { status: 400 } } },
  );
}

export function checkDateTimes(schema: GraphQLSchema, document: DocumentNode, variables: Record<string, unknown>): GraphQLError | null {
  let found: GraphQLError | null = null;
  const typeInfo = new TypeInfo(schema);
  visit(
    document,
    visitWithTypeInfo(typeInfo, {
      VariableDefinition(node) {
        const type = typeFromAST(schema, node.type) as GraphQLInputType | undefined;
        const name = node.variable.name.value;
        if (type && name in variables) found ??= checkValue(type, variables[name], name);
        return false;
      },
      StringValue(node) {
        const type = typeInfo.getInputType();
        if (type && getNamedType(type).name === SCALAR && !isRfc3339(node.value)) {
          found ??= invalid(typeInfo.getArgument()?.name ?? SCALAR, node.value);
        }
      },
      IntValue(node) {
        const type = typeInfo.getInputType();
        if (type && getNamedType(type).name === SCALAR) found ??= invalid(typeInfo.getArgument()?.name ?? SCALAR, node.value);
      },
    }),
  );
  return found;
}

function checkValue(type: GraphQLInputType, value: unknown, path: string): GraphQLError | null {
  if (value === null || value === undefined) return null;
  if (isNonNullType(type)) return checkValue(type.ofType, value, path);
  if (isListType(type)) {
    if (!Array.isArray(value)) return checkValue(type.ofType, value, path);
    for (const [i, v] of value.entries()) {
      const e = checkValue(type.ofType, v, `${path}[${i}]`);
      if (e) return e;
    }
    return null;
  }
  if (isInputObjectType(type)) {
    if (typeof value !== 'object') return null;
    for (const [k, field] of Object.entries(type.getFields())) {
      const e = checkValue(field.type, (value as Record<string, unknown>)[k], `${path}.${k}`);
      if (e) return e;
    }
    return null;
  }
  if (type.name === SCALAR && (typeof value !== 'string' || !isRfc3339(value))) return invalid(path, value);
  return null;
}

export const dateTimeValidationPlugin: ApolloServerPlugin = {
  async requestDidStart() {
    return {
      async didResolveOperation({ schema, document, request }) {
        const error = checkDateTimes(schema, document, request.variables ?? {});
        if (error) throw error;
      },
    };
  },
};

