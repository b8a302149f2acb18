/**
 * Static limits on an operation, checked once it is parsed and validated and before anything is planned or
 * fetched: nesting depth, aliases (the cheap way to multiply work), and a cost that counts what reaches supplier
 * systems — services times window days. Each refusal is a 400 with a code and the numbers, so a client can fix it.
 */
import {
  GraphQLError,
  Kind,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValueNode,
} from 'graphql';
import type { ApolloServerPlugin } from '@apollo/server';

export interface Limits {
  maxDepth: number;
  maxAliases: number;
  maxCost: number;
}

// 1500 admits the largest single search (100 services × a 14-day window = 1400) and refuses work multiplied beyond it.
export const DEFAULT_LIMITS: Limits = { maxDepth: 12, maxAliases: 30, maxCost: 1500 };

const DAY_MS = 86_400_000;
/** Fields returning lists whose size their `first` argument sets, and the default when it is absent. */
const LIST_FIRST_DEFAULT: Record<string, number> = { services: 20, availability: 50, slots: 100, appointments: 20 };
/** Fields that make supplier calls (each costs its window days). `Slot.capacity` is a number, not a call. */
const SUPPLIER_FIELDS = new Set(['slots', 'nextAvailable']);

function tooMuch(code: string, message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code, http: { status: 400 } } });
}

interface Walk {
  fragments: Map<string, FragmentDefinitionNode>;
  variables: Record<string, unknown>;
}

function fields(set: SelectionSetNode, walk: Walk, seen = new Set<string>()): FieldNode[] {
  const out: FieldNode[] = [];
  for (const sel of set.selections) {
    if (sel.kind === Kind.FIELD) out.push(sel);
    else if (sel.kind === Kind.INLINE_FRAGMENT) out.push(...fields(sel.selectionSet, walk, seen));
    else if (!seen.has(sel.name.value)) {
      const f = walk.fragments.get(sel.name.value);
      if (f) out.push(...fields(f.selectionSet, walk, new Set([...seen, sel.name.value])));
    }
  }
  return out;
}

/**
 * Introspection (`__schema`, `__type`) is deep by nature (an IDE's standard query is 15 levels) and touches no
 * subgraph; it is off in production, so it does not count against depth or cost.
 */
function isIntrospection(f: FieldNode): boolean {
  return f.name.value === '__schema' || f.name.value === '__type';
}

export function depthOf(set: SelectionSetNode, walk: Walk): number {
  let max = 0;
  for (const f of fields(set, walk)) {
    if (isIntrospection(f)) continue;
    max = Math.max(max, f.selectionSet ? 1 + depthOf(f.selectionSet, walk) : 1);
  }
  return max;
}

/** Aliases in the operation as it executes: fragments count each time they are spread. */
export function aliasesOf(set: SelectionSetNode, walk: Walk): number {
  let n = 0;
  for (const f of fields(set, walk)) {
    if (f.alias) n += 1;
    if (f.selectionSet) n += aliasesOf(f.selectionSet, walk);
  }
  return n;
}

function argValue(field: FieldNode, name: string, walk: Walk): unknown {
  const arg = field.arguments?.find((a) => a.name.value === name);
  return arg ? literal(arg.value, walk) : undefined;
}

function literal(v: ValueNode, walk: Walk): unknown {
  switch (v.kind) {
    case Kind.VARIABLE:
      return walk.variables[v.name.value];
    case Kind.INT:
    case Kind.FLOAT:
      return Number(v.value);
    case Kind.STRING:
    case Kind.ENUM:
      return v.value;
    case Kind.BOOLEAN:
      return v.value;
    case Kind.LIST:
      return v.values.map((x) => literal(x, walk));
    case Kind.OBJECT:
      return Object.fromEntries(v.fields.map((f) => [f.name.value, literal(f.value, walk)]));
    default:
      return null;
  }
}

/** Window days a supplier field asks for (at least one). Unreadable dates are left to validation to refuse. */
function windowDays(field: FieldNode, walk: Walk): number {
  if (field.name.value === 'nextAvailable') {
    const within = argValue(field, 'withinDays', walk);
    return typeof within === 'number' && within > 0 ? Math.ceil(within) : 7;
  }
  const from = argValue(field, 'from', walk);
  const to = argValue(field, 'to', walk);
  const f = typeof from === 'string' ? Date.parse(from) : Date.now();
  const t = typeof to === 'string' ? Date.parse(to) : f + DAY_MS;
  if (Number.isNaN(f) || Number.isNaN(t) || t <= f) return 1;
  return Math.max(1, Math.ceil((t - f) / DAY_MS));
}

/**
 * The cost: every supplier field costs its window days, multiplied by the sizes of the lists above it (their
 * `first`, or filter.ids when given). `services(first: 50) { slots(to: +14 days) }` costs 700.
 */
export function costOf(set: SelectionSetNode, walk: Walk, multiplier = 1): number {
  let cost = 0;
  for (const f of fields(set, walk)) {
    const name = f.name.value;
    if (SUPPLIER_FIELDS.has(name)) cost += multiplier * windowDays(f, walk);
    if (!f.selectionSet || isIntrospection(f)) continue;
    let size = 1;
    if (name in LIST_FIRST_DEFAULT) {
      const first = argValue(f, 'first', walk);
      size = typeof first === 'number' && first > 0 ? first : LIST_FIRST_DEFAULT[name]!;
      const filter = argValue(f, 'filter', walk) as { ids?: unknown } | undefined;
      if (Array.isArray(filter?.ids)) size = Math.min(size, filter.ids.length);
    }
    cost += costOf(f.selectionSet, walk, multiplier * size);
  }
  return cost;
}

export function checkLimits(
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Record<string, unknown>,
  limits: Limits,
): GraphQLError | null {
  const walk: Walk = {
    fragments: new Map(
      document.definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION).map((d) => [d.name.value, d]),
    ),
    variables,
  };
  const depth = depthOf(operation.selectionSet, walk);
  if (depth > limits.maxDepth) return tooMuch('DEPTH_LIMIT_EXCEEDED', `The operation is ${depth} levels deep; at most ${limits.maxDepth} are allowed`);
  const aliases = aliasesOf(operation.selectionSet, walk);
  if (aliases > limits.maxAliases) return tooMuch('ALIAS_LIMIT_EXCEEDED', `The operation uses ${aliases} aliases; at most ${limits.maxAliases} are allowed`);
  const cost = costOf(operation.selectionSet, walk);
  if (cost > limits.maxCost) {
    return tooMuch(
      'COST_LIMIT_EXCEEDED',
      `The operation would cost ${cost} (services times window days); at most ${limits.maxCost} is allowed: ask for fewer services or a shorter window`,
    );
  }
  return null;
}

export function limitsPlugin(limits: Limits): ApolloServerPlugin {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ document, operation, request }) {
          if (!operation) return;
          const error = checkLimits(document, operation, request.variables ?? {}, limits);
          if (error) throw error;
        },
      };
    },
  };
}
