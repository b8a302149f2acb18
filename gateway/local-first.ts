/**
 * Operations the gateway answers itself (availability, capacity, bookings, holds, supplierStatus) skip the federated
 * query plan. The planner would turn such an operation into one fetch to the in-process `bookings` subgraph and then
 * walk and re-shape the whole answer a second time (for `availability`, up to 200 slots with every field), which a
 * CPU profile of warm searches put among the gateway's largest costs. When every root field of the operation belongs
 * to that subgraph and the whole document is valid against its schema (no field of another subgraph anywhere
 * below), executing the document against that schema gives the same answer in one pass (compiled from its second
 * use: common/compiled-execution.ts). Anything else (a field of another subgraph, introspection, a subscription)
 * goes through @apollo/gateway as before.
 *
 * This wraps the gateway's executor (GatewayInterface) rather than answering in a plugin's responseForOperation, so
 * Apollo Server still formats, masks and reports the errors of a local answer exactly as it does a planned one.
 */
import { CompiledOperations, operationOf, type GatewayExecutor, type GatewayInterface, type GatewayLoadResult } from '../common/compiled-execution.js';
import type { AnswerRenders } from './operations/answer-renders.js';
import type { OperationsContext } from './operations/context.js';
import { Kind, NoUnusedFragmentsRule, specifiedRules, validate, type DocumentNode, type GraphQLObjectType, type GraphQLSchema, type SelectionSetNode } from 'graphql';

/** Whether `document`'s operation `operationName` can be executed against `local` alone. Pure. */
export function answerableLocally(document: DocumentNode, operationName: string | null | undefined, local: GraphQLSchema): boolean {
  // A name given, even an empty one, must name an operation (graphql-js's rule: "" names none).
  const operation = operationOf(document, operationName);
  if (!operation || operation.operation === 'subscription') return false;
  const root = operation.operation === 'query' ? local.getQueryType() : local.getMutationType();
  if (!root) return false;
  const fragments = new Map(document.definitions.flatMap((d) => (d.kind === Kind.FRAGMENT_DEFINITION ? [[d.name.value, d] as const] : [])));
  if (!rootFieldsAreLocal(operation.selectionSet, root, fragments, new Set())) return false;
  // Only this operation is checked (a document may carry others that need other subgraphs), with every fragment.
  const alone: DocumentNode = { kind: Kind.DOCUMENT, definitions: [operation, ...fragments.values()] };
  return validate(local, alone, RULES).length === 0;
}

/** A fragment only the document's other operations use is not this operation's concern. */
const RULES = specifiedRules.filter((r) => r !== NoUnusedFragmentsRule);

function rootFieldsAreLocal(
  set: SelectionSetNode,
  root: GraphQLObjectType,
  fragments: ReadonlyMap<string, { selectionSet: SelectionSetNode }>,
  seen: Set<string>,
): boolean {
  const fields = root.getFields();
  for (const s of set.selections) {
    if (s.kind === Kind.FIELD) {
      // Federation's own root fields exist in the subgraph schema but are not the client's to call.
      if (s.name.value === '__typename') continue;
      if (s.name.value.startsWith('_') || !fields[s.name.value]) return false;
    } else if (s.kind === Kind.INLINE_FRAGMENT) {
      if (!rootFieldsAreLocal(s.selectionSet, root, fragments, seen)) return false;
    } else {
      const name = s.name.value;
      const fragment = fragments.get(name);
      if (!fragment || seen.has(name)) return false;
      seen.add(name);
      if (!rootFieldsAreLocal(fragment.selectionSet, root, fragments, seen)) return false;
    }
  }
  return true;
}

/** The decision per parsed document (Apollo Server keeps one DocumentNode per query text) and operation name. */
export class Decisions {
  private readonly byDocument = new WeakMap<DocumentNode, Map<string, boolean>>();

  constructor(private readonly local: GraphQLSchema) {}

  /** How many decisions are kept for `document`. */
  keptFor(document: DocumentNode): number {
    return this.byDocument.get(document)?.size ?? 0;
  }

  answers(document: DocumentNode, operationName: string | null | undefined): boolean {
    // A name the document does not define is the client's to choose: never a key here, or any number of names would
    // be kept for as long as the document is (the gateway then answers the unknown operation as it always has).
    if (operationName != null && !document.definitions.some((d) => d.kind === Kind.OPERATION_DEFINITION && d.name?.value === operationName)) return false;
    let forDoc = this.byDocument.get(document);
    if (!forDoc) this.byDocument.set(document, (forDoc = new Map()));
    // An anonymous operation's key cannot collide with a name: "" never gets here (it names no operation).
    const key = operationName ?? '';
    let yes = forDoc.get(key);
    if (yes === undefined) {
      yes = answerableLocally(document, operationName, this.local);
      // Only names the document defines get here: the map cannot grow past its operations.
      forDoc.set(key, yes);
    }
    return yes;
  }
}

/**
 * `inner`'s executor, with operations the local schema answers alone executed against it directly, and identical
 * warm searches answered with the result already executed for them (operations/answer-renders.ts), when given.
 */
export function localFirstExecutor(local: GraphQLSchema, inner: GatewayExecutor, renders?: AnswerRenders): GatewayExecutor {
  const decisions = new Decisions(local);
  const compiled = new CompiledOperations(local);
  return async (rc) => {
    if (!rc.document || !decisions.answers(rc.document, rc.request.operationName)) return inner(rc);
    const rq = renders && {
      queryHash: rc.queryHash,
      document: rc.document,
      operation: rc.operation,
      operationName: rc.request.operationName,
      variables: rc.request.variables,
      context: rc.context as unknown as OperationsContext,
    };
    const kept = rq && (await renders.lookup(rq));
    if (kept) return kept;
    const result = await compiled.execute({ document: rc.document, operationName: rc.request.operationName, variables: rc.request.variables, context: rc.context });
    if (rq) renders.keep(rq, result);
    return result;
  };
}

/** A GatewayInterface that is `inner` with localFirstExecutor in front of its executor. */
export function localFirstGateway(inner: GatewayInterface, local: GraphQLSchema, renders?: AnswerRenders): GatewayInterface {
  return {
    async load(options): Promise<GatewayLoadResult> {
      const loaded = await inner.load(options);
      return { ...loaded, executor: loaded.executor ? localFirstExecutor(local, loaded.executor, renders) : null };
    },
    onSchemaLoadOrUpdate: (callback) => inner.onSchemaLoadOrUpdate(callback),
    stop: () => inner.stop(),
  };
}
