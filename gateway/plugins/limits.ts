/**
 * Static limits on an operation, checked before anything is planned or fetched: nesting depth, aliases (the cheap
 * way to multiply work), directives, and a cost that counts what reaches supplier systems — services times window
 * days, multiplied by every list and alias above. Each refusal is a 400 with a code and the numbers.
 *
 * Linear time: each fragment is summarised once and its summary reused at every spread, so a document whose
 * fragments spread each other twice per level (a "fragment bomb") costs its size, not 2^levels. Depth, aliases and
 * directives are what graphql-armor's plugins count; the cost model (services × days) is ours, which is why this is
 * one walk written here rather than graphql-armor's cost plugin beside three of its others.
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
import type { GatewayContext } from '../context.js';
import type { GatewayPlugin } from './plugin.js';
import { unresolvedOperation } from './auth.js';

export interface Limits {
  maxDepth: number;
  maxAliases: number;
  maxCost: number;
  maxDirectives: number;
  /** Lexical tokens in a document, checked by the parser itself (Apollo Server's parseOptions). */
  maxTokens: number;
}

// 1500 admits the largest single search (100 services × a 14-day window = 1400) and refuses work multiplied beyond it.
export const DEFAULT_LIMITS: Limits = { maxDepth: 12, maxAliases: 30, maxCost: 1500, maxDirectives: 50, maxTokens: 5000 };

const DAY_MS = 86_400_000;
/** Fields returning lists whose size their `first` argument sets, and the default when it is absent. */
const LIST_FIRST_DEFAULT: Record<string, number> = { services: 20, availability: 50, slots: 100, appointments: 20 };
/** The most services one search can match (the gateway's availability cap): the cost of a search without ids. */
const SEARCH_SERVICES = 100;

function tooMuch(code: string, message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code, http: { status: 400 } } });
}

/** What a selection set costs when executed once. Cost scales linearly with how often it runs; the rest adds up. */
interface Summary {
  depth: number;
  aliases: number;
  directives: number;
  cost: number;
}

const EMPTY: Summary = { depth: 0, aliases: 0, directives: 0, cost: 0 };

interface Walk {
  fragments: Map<string, FragmentDefinitionNode>;
  variables: Record<string, unknown>;
  summaries: Map<string, Summary>;
  /** Fragments being summarised: a cycle (refused by validation anyway) counts as empty instead of recursing. */
  open: Set<string>;
}

/**
 * Introspection (`__schema`, `__type`) is deep by nature (an IDE's standard query is 15 levels) and touches no
 * subgraph; it is off in production, so it does not count against depth or cost.
 */
function isIntrospection(f: FieldNode): boolean {
  return f.name.value === '__schema' || f.name.value === '__type';
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

/** Days in a [from, to] window (at least one; the default window is one day). Bad dates are validation's to refuse. */
function daysOf(from: unknown, to: unknown): number {
  const f = typeof from === 'string' ? Date.parse(from) : Date.now();
  const t = typeof to === 'string' ? Date.parse(to) : f + DAY_MS;
  if (Number.isNaN(f) || Number.isNaN(t) || t <= f) return 1;
  return Math.max(1, Math.ceil((t - f) / DAY_MS));
}

function countOf(list: unknown): number | null {
  return Array.isArray(list) ? Math.max(1, list.length) : null;
}

/**
 * Service-days one execution of a field sends to suppliers. `slots`, `nextAvailable` and a service's `capacity`
 * ask one service; root `capacity` asks its `serviceIds`; `availability` asks its `search.serviceIds`, or as many
 * services as a search can match. `Slot.capacity` (a number, no selection) is data, not a call.
 */
function supplierCost(f: FieldNode, walk: Walk): number {
  switch (f.name.value) {
    case 'slots':
      return daysOf(argValue(f, 'from', walk), argValue(f, 'to', walk));
    case 'nextAvailable': {
      const within = argValue(f, 'withinDays', walk);
      return typeof within === 'number' && within > 0 ? Math.ceil(within) : 7;
    }
    case 'capacity': {
      if (!f.selectionSet) return 0;
      const services = countOf(argValue(f, 'serviceIds', walk)) ?? 1;
      return services * daysOf(argValue(f, 'from', walk), argValue(f, 'to', walk));
    }
    case 'availability': {
      const search = (argValue(f, 'search', walk) ?? {}) as { serviceIds?: unknown; from?: unknown; to?: unknown };
      return (countOf(search.serviceIds) ?? SEARCH_SERVICES) * daysOf(search.from, search.to);
    }
    default:
      return 0;
  }
}

/** How many times a field's selection runs: the list size its `first` sets (capped by explicit ids), else once. */
function timesRun(f: FieldNode, walk: Walk): number {
  const name = f.name.value;
  if (!(name in LIST_FIRST_DEFAULT)) return 1;
  const first = argValue(f, 'first', walk) ?? (name === 'availability' ? (argValue(f, 'search', walk) as { first?: unknown } | undefined)?.first : undefined);
  let size = typeof first === 'number' && first > 0 ? first : LIST_FIRST_DEFAULT[name]!;
  const filter = argValue(f, 'filter', walk) as { ids?: unknown } | undefined;
  if (Array.isArray(filter?.ids)) size = Math.min(size, filter.ids.length);
  return size;
}

function add(into: Summary, s: Summary): void {
  into.depth = Math.max(into.depth, s.depth);
  into.aliases += s.aliases;
  into.directives += s.directives;
  into.cost += s.cost;
}

function summarise(set: SelectionSetNode, walk: Walk): Summary {
  const out: Summary = { ...EMPTY };
  for (const sel of set.selections) {
    const directives = sel.directives?.length ?? 0;
    if (sel.kind === Kind.FIELD) {
      const child = sel.selectionSet ? summarise(sel.selectionSet, walk) : EMPTY;
      const introspection = isIntrospection(sel);
      add(out, {
        depth: introspection ? 0 : 1 + child.depth,
        aliases: (sel.alias ? 1 : 0) + child.aliases,
        directives: directives + child.directives,
        cost: introspection ? 0 : supplierCost(sel, walk) + timesRun(sel, walk) * child.cost,
      });
    } else if (sel.kind === Kind.INLINE_FRAGMENT) {
      const child = summarise(sel.selectionSet, walk);
      add(out, { ...child, directives: directives + child.directives });
    } else {
      const child = fragmentSummary(sel.name.value, walk);
      add(out, { ...child, directives: directives + child.directives });
    }
  }
  return out;
}

function fragmentSummary(name: string, walk: Walk): Summary {
  const known = walk.summaries.get(name);
  if (known) return known;
  const fragment = walk.fragments.get(name);
  if (!fragment || walk.open.has(name)) return EMPTY;
  walk.open.add(name);
  const s = summarise(fragment.selectionSet, walk);
  s.directives += fragment.directives?.length ?? 0;
  walk.open.delete(name);
  walk.summaries.set(name, s);
  return s;
}

/** The operation's summary: depth, aliases (fragments counted at every spread), directives and cost. */
export function measure(document: DocumentNode, operation: OperationDefinitionNode, variables: Record<string, unknown>): Summary {
  const walk: Walk = {
    fragments: new Map(
      document.definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION).map((d) => [d.name.value, d]),
    ),
    variables,
    summaries: new Map(),
    open: new Set(),
  };
  const s = summarise(operation.selectionSet, walk);
  s.directives += operation.directives?.length ?? 0;
  return s;
}

export function checkLimits(
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Record<string, unknown>,
  limits: Limits,
): GraphQLError | null {
  if (operation.operation === 'subscription') {
    return new GraphQLError('Subscriptions are not supported', { extensions: { code: 'OPERATION_NOT_SUPPORTED', http: { status: 400 } } });
  }
  return refusal(measure(document, operation, variables), limits);
}

function refusal({ depth, aliases, directives, cost }: Summary, limits: Limits): GraphQLError | null {
  if (depth > limits.maxDepth) return tooMuch('DEPTH_LIMIT_EXCEEDED', `The operation is ${depth} levels deep; at most ${limits.maxDepth} are allowed`);
  if (aliases > limits.maxAliases) return tooMuch('ALIAS_LIMIT_EXCEEDED', `The operation uses ${fmt(aliases)} aliases; at most ${limits.maxAliases} are allowed`);
  if (directives > limits.maxDirectives) {
    return tooMuch('DIRECTIVE_LIMIT_EXCEEDED', `The operation uses ${fmt(directives)} directives; at most ${limits.maxDirectives} are allowed`);
  }
  if (cost > limits.maxCost) {
    return tooMuch(
      'COST_LIMIT_EXCEEDED',
      `The operation would cost ${fmt(cost)} (services times window days); at most ${limits.maxCost} is allowed: ask for fewer services or a shorter window`,
    );
  }
  return null;
}

/** Counts multiplied through fragments can pass any sane number; say so plainly instead of "Infinity". */
function fmt(n: number): string {
  return n > 1e9 ? 'more than 1000000000' : String(n);
}

/** What the operation costs, handed to whoever keeps budgets (the rate-limit plugin) once it passes the limits. */
export type ChargeCost = (context: GatewayContext, cost: number) => Promise<void>;

export function limitsPlugin(limits: Limits, charge?: ChargeCost): GatewayPlugin {
  return {
    name: 'limits',
    // Token count is checked while parsing, so an oversized document costs no more than reading it.
    server: { parseOptions: { maxTokens: limits.maxTokens } },
    apollo: {
      async requestDidStart() {
        return {
          async didResolveOperation(request) {
            const { document, operation } = request;
            // Never measured, so never run (see auth.ts: Apollo executes what it could not resolve).
            if (!operation) throw unresolvedOperation();
            if (operation.operation === 'subscription') throw checkLimits(document, operation, {}, limits)!;
            const summary = measure(document, operation, request.request.variables ?? {});
            const error = refusal(summary, limits);
            if (error) throw error;
            await charge?.(request.contextValue, summary.cost);
          },
        };
      },
    },
  };
}
