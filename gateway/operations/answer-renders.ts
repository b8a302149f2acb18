/**
 * Identical warm searches answered without executing them again. A reused answer (read-cache.ts AnswerCache) is one
 * object for every identical search of one consumer while it holds, and what graphql-js makes of it depends only on
 * the document and the variables: so the executed result of an operation whose only root field is `availability` is
 * kept beside the answer it came from, and handed back for the same document and variables while that answer is
 * still the one a search would reuse (the same entry, its generations read again, as every reuse does). A CPU
 * profile of identical searches put execution over the answer's slots, and the garbage it makes, at a third of the
 * gateway's time. Everything before execution (authentication, rate, cost and concurrency limits, validation) still
 * runs for every request; a search is validated again to find its answer, so a window that has since become invalid
 * is refused as before. Kept results are few (64) and short-lived (the answer's own life), so memory stays bounded.
 */
import {
  Kind,
  getArgumentValues,
  getVariableValues,
  type DocumentNode,
  type ExecutionResult,
  type FieldNode,
  type FormattedExecutionResult,
  type GraphQLSchema,
  type OperationDefinitionNode,
} from 'graphql';
import { availabilityAnswers } from '../../common/metrics.js';
import type { OperationsContext } from './context.js';
import type { AvailabilitySearch } from './generated/resolvers.js';
import { LRUCache } from 'lru-cache';
import { expiringMap, hashKey } from './read-cache.js';

/** What the executor knows of a request (Apollo Server's gateway request context, narrowed). */
export interface RenderRequest {
  queryHash: string | undefined;
  document: DocumentNode;
  operation: OperationDefinitionNode | undefined;
  operationName: string | null | undefined;
  variables: Record<string, unknown> | undefined;
  context: OperationsContext;
}

/** The kept answer a search would be answered from now, with its key (availability.ts reusableAnswer). */
export interface Reused {
  key: string;
  entry: object;
}

export type FindReused = (search: AvailabilitySearch, ctx: OperationsContext) => Promise<Reused | undefined>;

interface Kept {
  key: string;
  entry: object;
  result: ExecutionResult;
}

/**
 * The JSON texts of each kept result, made at its first serialisation and reused by every later one
 * (stringifyResult): its `data`, and the whole response when it has no extensions (the usual case: one string,
 * every time). A kept result is handed to many requests unchanged, and serialising its slots again was the next
 * largest cost of an identical search. Weak: the texts go with the result; an entry marks a result as kept.
 */
const keptTexts = new WeakMap<object, { data?: string; whole?: string }>();

/**
 * The UTF-8 bytes of the kept results' whole response texts, so the HTTP layer writes them as they are (keptBytes).
 * A profile of identical searches after the text was kept put encoding it for the socket, with the copy Node makes
 * to put the headers in front of a string body, at a sixth of the gateway's allocations and a tenth of its time.
 * Bounded by count and bytes; looked up only for a text of a length kept, so other responses cost a Map probe.
 */
const MAX_KEPT_BODIES = 64;
const MAX_KEPT_BODY_BYTES = 32 * 1024 * 1024;
const keptLengths = new Map<number, number>();
const keptBodies = new LRUCache<string, Buffer>({
  max: MAX_KEPT_BODIES,
  maxSize: MAX_KEPT_BODY_BYTES,
  // The bytes, and the text at two bytes a character (V8 holds a text with any character past Latin-1 so).
  sizeCalculation: (bytes, text) => bytes.length + 2 * text.length,
  // Counted as the cache holds them: each insertion but the same value set again ('update'), each way out (a
  // replaced value is disposed, then inserted as 'replace').
  onInsert: (_bytes, text, reason) => {
    if (reason !== 'update') keptLengths.set(text.length, (keptLengths.get(text.length) ?? 0) + 1);
  },
  dispose: (_bytes, text) => {
    const n = (keptLengths.get(text.length) ?? 1) - 1;
    if (n > 0) keptLengths.set(text.length, n);
    else keptLengths.delete(text.length);
  },
});

/** Keeps a kept result's text's bytes, unless kept already (again after an eviction: the text is reused still). */
function rememberBytes(text: string): void {
  if (!keptBodies.has(text)) keptBodies.set(text, Buffer.from(text, 'utf8'));
}

/** What the bytes' cache holds, for tests: its texts, and the lengths it counts for its look-ups. */
export function keptBytesHeld(): { texts: number; counted: number } {
  let counted = 0;
  for (const n of keptLengths.values()) counted += n;
  return { texts: keptBodies.size, counted };
}

/** The bytes of a response text stringifyResult returned for a kept result, if still kept; undefined otherwise. */
export function keptBytes(text: string): Buffer | undefined {
  return keptLengths.has(text.length) ? keptBodies.get(text) : undefined;
}

/**
 * Apollo Server's `stringifyResult`: the same text as its own (`JSON.stringify` of errors, data, extensions in that
 * order, then a newline), with a kept result's data serialised once, and its whole text made once when it has no
 * extensions.
 */
export function stringifyResult(value: FormattedExecutionResult): string {
  const texts = value.data && value.errors === undefined ? keptTexts.get(value.data) : undefined;
  if (!texts) return `${JSON.stringify(value)}\n`;
  texts.data ??= JSON.stringify(value.data);
  if (value.extensions !== undefined) return `{"data":${texts.data},"extensions":${JSON.stringify(value.extensions)}}\n`;
  texts.whole ??= `{"data":${texts.data}}\n`;
  rememberBytes(texts.whole);
  return texts.whole;
}

/** The answer each request's resolver reused, noted by the resolver (null once a second one is noted). */
const reusedIn = new WeakMap<object, Reused | null>();

/** Called by the `availability` resolver when it answers from a kept answer. */
export function noteReused(ctx: object, reused: Reused): void {
  reusedIn.set(ctx, reusedIn.has(ctx) ? null : { key: reused.key, entry: reused.entry });
}

export class AnswerRenders {
  private readonly kept: LRUCache<string, Kept>;
  /** The lone `availability` field of an operation, or null: decided once per parsed operation. */
  private readonly lone = new WeakMap<OperationDefinitionNode, FieldNode | null>();

  constructor(
    private readonly schema: GraphQLSchema,
    private readonly find: FindReused,
    /** How long a result is kept: at most its answer's life, which the entry check enforces anyway. */
    private readonly keepMs: number,
    maxEntries = 64,
  ) {
    this.kept = expiringMap<Kept>(maxEntries);
  }

  /** The result kept for this document and variables, when its answer is still the one this search reuses. */
  async lookup(rq: RenderRequest): Promise<ExecutionResult | undefined> {
    const field = this.loneAvailability(rq.operation, rq.queryHash);
    if (!field) return undefined;
    const kept = this.kept.get(renderKey(rq));
    if (!kept) return undefined;
    const search = this.searchOf(rq, field);
    if (!search) return undefined;
    let now: Reused | undefined;
    try {
      now = await this.find(search, rq.context);
    } catch {
      // Invalid now (a window that has since passed): executed, so the client gets the error it should.
      return undefined;
    }
    if (!now || now.key !== kept.key || now.entry !== kept.entry) return undefined;
    availabilityAnswers.inc({ how: 'executed_reused' });
    return kept.result;
  }

  /** After execution: keeps the result when it came wholly from one reused answer. */
  keep(rq: RenderRequest, result: ExecutionResult): void {
    const reused = reusedIn.get(rq.context);
    if (!reused || result.errors?.length || !this.loneAvailability(rq.operation, rq.queryHash)) return;
    this.kept.set(renderKey(rq), { key: reused.key, entry: reused.entry, result }, { ttl: this.keepMs });
    if (result.data && !keptTexts.has(result.data)) keptTexts.set(result.data, {});
  }

  private loneAvailability(op: OperationDefinitionNode | undefined, queryHash: string | undefined): FieldNode | null {
    // No hash, no key that tells documents apart: nothing kept or handed back.
    if (!op || !queryHash) return null;
    let field = this.lone.get(op);
    if (field === undefined) {
      const [only, ...rest] = op.selectionSet.selections;
      field = op.operation === 'query' && rest.length === 0 && only?.kind === Kind.FIELD && only.name.value === 'availability' && !only.directives?.length ? only : null;
      this.lone.set(op, field);
    }
    return field;
  }

  /** The `search` argument as the resolver receives it, or null when the variables do not coerce. */
  private searchOf(rq: RenderRequest, field: FieldNode): AvailabilitySearch | null {
    const def = this.schema.getQueryType()?.getFields().availability;
    if (!def || !rq.operation) return null;
    const vars = getVariableValues(this.schema, rq.operation.variableDefinitions ?? [], rq.variables ?? {}, { maxErrors: 1 });
    if (vars.errors) return null;
    try {
      return (getArgumentValues(def, field, vars.coerced).search as AvailabilitySearch | undefined) ?? null;
    } catch {
      return null;
    }
  }
}

/** One operation of one document with one set of variables, for one consumer organisation. */
function renderKey(rq: RenderRequest): string {
  return hashKey([rq.context.consumer.odsCode, rq.queryHash, rq.operationName ?? null, rq.variables ?? null]);
}
