/**
 * Operations executed by graphql-jit (one compiled function per document and operation) rather than by graphql-js's
 * interpreter, which walks the schema, coerces arguments and checks types for every field of every object it
 * returns. For a supplier subgraph's top-K answer (up to a few hundred slots of twenty fields) that walk was about a
 * fifth of the subgraph's CPU on a warm search, and the gateway walks its merged answer once more (issue 9's
 * profile). The same approach as Mercurius's `jit` option; graphql-jit is Zalando's, used in production there.
 *
 * A document is compiled at its second use (one sent once is not worth it: compiling the availability search costs
 * about a millisecond, a few executions' worth). Compiled operations are kept for the MAX_DOCUMENTS most recently
 * used documents (Apollo Server hands over one parsed DocumentNode per query text, so the node is the key): a client
 * sending ever new documents costs a compile each at worst, never memory without bound. Only operation names the
 * document defines are keys. A document graphql-jit does not compile (it answers with errors instead) runs through
 * graphql-js, which gives the errors it always gave; so does a subscription, and so do variables the compiled
 * operation refused (see execute). Errors keep their extensions (graphql-jit takes them from the error a resolver
 * threw), so Apollo Server formats and masks them as before.
 */
import { compileQuery, isCompiledQuery, type CompiledQuery } from 'graphql-jit';
import { LRUCache } from 'lru-cache';
import { Kind, execute, type DocumentNode, type ExecutionResult, type GraphQLSchema } from 'graphql';
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

/** Uses before a document is compiled. */
const COMPILE_AT_USE = 2;
/** Documents whose operations are kept (see the module comment); a process's working set is a few dozen. */
export const MAX_DOCUMENTS = 256;

interface Kept {
  uses: number;
  /** The compiled operation; null when graphql-jit would not compile it (graphql-js runs it). */
  compiled?: CompiledQuery | null;
}

export class CompiledOperations {
  private readonly byDocument: LRUCache<DocumentNode, Map<string, Kept>>;

  constructor(
    private readonly schema: GraphQLSchema,
    maxDocuments: number = MAX_DOCUMENTS,
  ) {
    this.byDocument = new LRUCache({ max: maxDocuments });
  }

  /** How many operations are kept for `document` (tests). */
  keptFor(document: DocumentNode): number {
    return this.byDocument.peek(document)?.size ?? 0;
  }

  /** Whether `document`'s operation has been compiled (tests). */
  isCompiled(document: DocumentNode, operationName?: string | null): boolean {
    return Boolean(this.byDocument.peek(document)?.get(operationName ?? '')?.compiled);
  }

  async execute(run: Execution): Promise<ExecutionResult> {
    const compiled = this.compiledFor(run.document, run.operationName);
    if (compiled) {
      const result = await compiled.query(undefined, run.context, run.variables ?? {});
      // No data: the variables were refused before anything ran. graphql-js says so in the words (and with the
      // nodes) Apollo Server recognises, which makes them BAD_USER_INPUT with status 400 rather than an internal error.
      if ('data' in result) return result;
    }
    return execute({ schema: this.schema, document: run.document, contextValue: run.context, variableValues: run.variables ?? {}, operationName: run.operationName ?? null });
  }

  private compiledFor(document: DocumentNode, operationName: string | null | undefined): CompiledQuery | null {
    const operation = operationOf(document, operationName);
    // Not an operation the document defines (graphql-js gives the error), or a subscription (not compiled here).
    if (!operation || operation === 'subscription') return null;
    let forDoc = this.byDocument.get(document);
    if (!forDoc) this.byDocument.set(document, (forDoc = new Map()));
    const key = operationName ?? '';
    let kept = forDoc.get(key);
    if (!kept) forDoc.set(key, (kept = { uses: 0 }));
    if (kept.compiled !== undefined) return kept.compiled;
    if (++kept.uses < COMPILE_AT_USE) return null;
    try {
      const result = compileQuery(this.schema, document, operationName ?? undefined);
      kept.compiled = isCompiledQuery(result) ? result : null;
    } catch {
      // Documents graphql-jit cannot compile run as they always have.
      kept.compiled = null;
    }
    return kept.compiled;
  }
}

/** The kind of the operation `operationName` selects (the only one when no name is given), if any. Pure. */
function operationOf(document: DocumentNode, operationName: string | null | undefined): string | undefined {
  let found: string | undefined;
  let count = 0;
  for (const d of document.definitions) {
    if (d.kind !== Kind.OPERATION_DEFINITION) continue;
    count += 1;
    if (operationName ? d.name?.value === operationName : count === 1) found = d.operation;
  }
  return operationName || count === 1 ? found : undefined;
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
