/**
 * Operations executed by graphql-jit (one compiled function per document and operation) rather than by graphql-js's
 * interpreter, which walks the schema, coerces arguments and checks types for every field of every object it
 * returns. For a supplier subgraph's top-K answer (up to a few hundred slots of twenty fields) that walk was about a
 * fifth of the subgraph's CPU on a warm search, and the gateway walks its merged answer once more (issue 9's
 * profile). The same approach as Mercurius's `jit` option; graphql-jit is Zalando's, used in production there.
 *
 * What is compiled, and what is kept:
 * - an operation at its second use (one sent once is not worth it: compiling the availability search costs about a
 *   millisecond, a few executions' worth); first uses are remembered apart, so a stream of one-off documents never
 *   pushes out what was compiled;
 * - compiled operations of the MAX_DOCUMENTS most recently used documents (Apollo Server hands over one parsed
 *   DocumentNode per query text, so the node is the key), at most MAX_OPERATIONS_PER_DOCUMENT of each, and only
 *   operations of at most MAX_COMPILED_FIELDS fields with every fragment spread out: the generated code grows with
 *   that count whatever the data, so what is kept is bounded however documents are written; the rest runs through
 *   graphql-js every time;
 * - only operation names the document defines are keys, and a name given (even "") must name one, as in graphql-js.
 *
 * graphql-js still runs whatever is not compiled (a subscription, a document graphql-jit refuses, one aliasing a
 * field `__proto__`, which graphql-jit's object literals would drop) and answers variables the compiled operation
 * refused, so those errors read as they always have. Errors from compiled execution are made graphql-js errors again
 * (graphql-jit's own leave `extensions` unset unless the thrown error had some, which Apollo Server cannot format):
 * the same message, path, locations and original error, so Apollo Server formats and masks them as before.
 */
import { compileQuery, isCompiledQuery, type CompiledQuery } from 'graphql-jit';
import { LRUCache } from 'lru-cache';
import {
  GraphQLError,
  Kind,
  execute,
  type DocumentNode,
  type ExecutionResult,
  type FragmentDefinitionNode,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';
import type { ApolloServerOptionsWithGateway } from '@apollo/server';

// @apollo/server-gateway-interface's types, reached through @apollo/server (which depends on it).
export type GatewayInterface = ApolloServerOptionsWithGateway<Record<string, unknown>>['gateway'];
export type GatewayLoadResult = Awaited<ReturnType<GatewayInterface['load']>>;
export type GatewayExecutor = NonNullable<GatewayLoadResult['executor']>;

export interface Execution {
  document: DocumentNode;
  operationName?: string | null;
  variables?: Record<string, unknown> | null;
  context: unknown;
}

/** Documents whose compiled operations are kept (see the module comment); a process's working set is a few dozen. */
export const MAX_DOCUMENTS = 256;
/** Fields of one operation, fragments spread out, above which it is not compiled. The top-K question has about 40. */
export const MAX_COMPILED_FIELDS = 2000;
/** Operations of one document compiled at most (a document may define hundreds); the rest run through graphql-js. */
export const MAX_OPERATIONS_PER_DOCUMENT = 8;
/** Documents whose first use is remembered. */
const MAX_FIRST_USES = 1024;

export class CompiledOperations {
  /** Per document, per operation key: the compiled operation, or null when it is not compiled (graphql-js runs it). */
  private readonly byDocument: LRUCache<DocumentNode, Map<string, CompiledQuery | null>>;
  /** Per document, the operation keys used once. */
  private readonly usedOnce = new LRUCache<DocumentNode, Set<string>>({ max: MAX_FIRST_USES });

  constructor(
    private readonly schema: GraphQLSchema,
    maxDocuments: number = MAX_DOCUMENTS,
  ) {
    this.byDocument = new LRUCache({ max: maxDocuments });
  }

  /** How many operations are kept for `document`, compiled or not (tests). */
  keptFor(document: DocumentNode): number {
    return (this.byDocument.peek(document)?.size ?? 0) + (this.usedOnce.peek(document)?.size ?? 0);
  }

  /** Whether `document`'s operation has been compiled (tests). */
  isCompiled(document: DocumentNode, operationName?: string | null): boolean {
    return Boolean(this.byDocument.peek(document)?.get(keyOf(operationName)));
  }

  async execute(run: Execution): Promise<ExecutionResult> {
    const compiled = this.compiledFor(run.document, run.operationName);
    if (compiled) {
      const result = await compiled.query(undefined, run.context, run.variables ?? {});
      // No data: the variables were refused before anything ran. graphql-js says so in the words (and with the
      // nodes) Apollo Server recognises, which makes them BAD_USER_INPUT with status 400 rather than an internal error.
      if ('data' in result) return result.errors ? { ...result, errors: result.errors.map(asGraphQLError) } : result;
    }
    return execute({ schema: this.schema, document: run.document, contextValue: run.context, variableValues: run.variables ?? {}, operationName: run.operationName ?? null });
  }

  private compiledFor(document: DocumentNode, operationName: string | null | undefined): CompiledQuery | null {
    const key = keyOf(operationName);
    const kept = this.byDocument.get(document);
    const known = kept?.get(key);
    if (known !== undefined) return known;
    const operation = operationOf(document, operationName);
    // Not an operation the document defines (graphql-js gives the error), or a subscription (not compiled here).
    if (!operation || operation.operation === 'subscription') return null;
    const once = this.usedOnce.get(document);
    if (!once?.has(key)) {
      if (once) once.add(key);
      else this.usedOnce.set(document, new Set([key]));
      return null;
    }
    once.delete(key);
    if (once.size === 0) this.usedOnce.delete(document);
    const room = (kept?.size ?? 0) < MAX_OPERATIONS_PER_DOCUMENT;
    const compiled = room && compilable(document, operation) ? compile(this.schema, document, operationName) : null;
    if (kept) kept.set(key, compiled);
    else this.byDocument.set(document, new Map([[key, compiled]]));
    return compiled;
  }
}

/** The key of an operation name: "" is a name (naming nothing), so it cannot share the anonymous operation's key. */
function keyOf(operationName: string | null | undefined): string {
  return operationName == null ? '\0' : operationName;
}

function compile(schema: GraphQLSchema, document: DocumentNode, operationName: string | null | undefined): CompiledQuery | null {
  try {
    const result = compileQuery(schema, document, operationName ?? undefined);
    return isCompiledQuery(result) ? result : null;
  } catch {
    // Documents graphql-jit cannot compile run as they always have.
    return null;
  }
}

/**
 * The operation `operationName` selects, by graphql-js's rule: a name given (even "") must name one; none given, the
 * document must hold exactly one. Pure.
 */
export function operationOf(document: DocumentNode, operationName: string | null | undefined): OperationDefinitionNode | undefined {
  const operations = document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  if (operationName != null) return operations.find((o) => o.name?.value === operationName);
  return operations.length === 1 ? operations[0] : undefined;
}

/**
 * Whether `operation` is worth compiling and safe to: at most MAX_COMPILED_FIELDS fields with every fragment spread
 * out (counted with each fragment's count kept, and stopped at the bound, so a fragment spread many times over costs
 * no more to count), and no field answered under the name `__proto__`. Pure.
 */
export function compilable(document: DocumentNode, operation: OperationDefinitionNode): boolean {
  const fragments = new Map(document.definitions.flatMap((d) => (d.kind === Kind.FRAGMENT_DEFINITION ? [[d.name.value, d] as const] : [])));
  const counted = new Map<string, number>();
  const over = MAX_COMPILED_FIELDS + 1;
  const count = (set: SelectionSetNode, path: ReadonlySet<string>): number => {
    let n = 0;
    for (const s of set.selections) {
      if (s.kind === Kind.FIELD) {
        if ((s.alias?.value ?? s.name.value) === '__proto__') return over;
        n += 1 + (s.selectionSet ? count(s.selectionSet, path) : 0);
      } else if (s.kind === Kind.INLINE_FRAGMENT) {
        n += count(s.selectionSet, path);
      } else {
        const name = s.name.value;
        const fragment: FragmentDefinitionNode | undefined = fragments.get(name);
        // A cycle or a missing fragment: validation refuses both; never compiled here either.
        if (!fragment || path.has(name)) return over;
        let m = counted.get(name);
        if (m === undefined) counted.set(name, (m = count(fragment.selectionSet, new Set([...path, name]))));
        n += m;
      }
      if (n >= over) return over;
    }
    return n;
  };
  return count(operation.selectionSet, new Set()) <= MAX_COMPILED_FIELDS;
}

/** A graphql-jit error as graphql-js would have made it: message, path, locations and original error kept. */
function asGraphQLError(e: GraphQLError): GraphQLError {
  if (e.extensions !== undefined && e instanceof GraphQLError && Object.getPrototypeOf(e) === GraphQLError.prototype) return e;
  const original = e.originalError ?? undefined;
  const made = new GraphQLError(e.message, {
    ...(e.path ? { path: e.path } : {}),
    ...(original ? { originalError: original } : {}),
    ...(e.extensions ? { extensions: e.extensions } : {}),
  });
  // graphql-jit gives locations, not the nodes graphql-js derives them from.
  if (e.locations) Object.defineProperty(made, 'locations', { value: e.locations, enumerable: true, writable: true, configurable: true });
  return made;
}

/** An executor (Apollo Server's gateway interface) that runs operations through `operations`. */
export function compiledExecutor(operations: CompiledOperations): GatewayExecutor {
  return (rc) =>
    operations.execute({ document: rc.document, operationName: rc.request.operationName, variables: rc.request.variables, context: rc.context });
}

/**
 * A GatewayInterface serving `schema` with compiled execution: given to Apollo Server as `gateway` in place of
 * `schema`, the only way it takes another executor. Apollo still parses, validates, formats errors and runs plugins.
 */
export function compiledSchemaGateway(schema: GraphQLSchema): GatewayInterface {
  const operations = new CompiledOperations(schema);
  return {
    async load(): Promise<GatewayLoadResult> {
      return { executor: compiledExecutor(operations) };
    },
    onSchemaLoadOrUpdate(callback) {
      // Apollo Server takes its schema from this call; it is the one schema for the life of the process.
      callback({ apiSchema: schema, coreSupergraphSdl: '' });
      return () => {};
    },
    async stop() {},
  };
}
