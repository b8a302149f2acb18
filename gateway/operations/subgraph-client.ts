/**
 * The one way the gateway's own operations call a subgraph: a typed document (gateway/operations/documents/*.graphql,
 * checked against the target subgraph's schema by `npm run codegen`, which `npm run check` runs), its variables,
 * and one error taxonomy for every call:
 *
 *   TIMEOUT            the deadline passed before the answer arrived (ours, AbortSignal.timeout)
 *   UNAVAILABLE        no answer at all: connection refused or reset, or an HTTP error without a GraphQL body
 *   INVALID_RESPONSE   an answer we cannot read (not JSON, no data and no errors, the field missing)
 *   the subgraph's     a GraphQL error with no data: its `extensions.reason` when it is a supplier reason
 *   own words          (RATE_LIMITED, CIRCUIT_OPEN, ...), BAD_USER_INPUT (with its field) and FORBIDDEN by
 *                      `extensions.code`, anything else UNAVAILABLE
 *
 * Every request is signed with `gatewayHeaders` over the exact bytes sent (common/internal-auth.ts), so a
 * subgraph accepts it once, for this consumer and trace.
 */
import { subgraphFetchDuration } from '../../common/metrics.js';
import { traceHeaders } from '../../common/tracing.js';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { Kind, print, type DocumentNode } from 'graphql';
import type { ConsumerOrganisation } from '../../common/consumer.js';
import { gatewayHeaders } from '../../common/internal-auth.js';
import { DeadlineError, HttpPoster, type PostAnswer } from './http-post.js';

export type SubgraphFailure =
  | 'TIMEOUT'
  | 'UNAVAILABLE'
  | 'INVALID_RESPONSE'
  | 'RATE_LIMITED'
  | 'CIRCUIT_OPEN'
  | 'REJECTED'
  | 'BAD_USER_INPUT'
  | 'FORBIDDEN';

const SUPPLIER_REASONS: ReadonlySet<string> = new Set(['TIMEOUT', 'UNAVAILABLE', 'RATE_LIMITED', 'CIRCUIT_OPEN', 'INVALID_RESPONSE', 'REJECTED']);

export interface SubgraphGraphQLError {
  message: string;
  path?: readonly (string | number)[];
  extensions?: { code?: string; reason?: string; field?: string };
}

/** A call that produced no usable answer; `reason` is the taxonomy above. Messages name the subgraph, never its URL. */
export class SubgraphCallError extends Error {
  constructor(
    readonly subgraph: string,
    readonly reason: SubgraphFailure,
    detail: string,
    /** For BAD_USER_INPUT: the field the subgraph named, and its message (safe: our own words about input). */
    readonly field?: string,
    readonly clientMessage?: string,
  ) {
    super(`${subgraph}: ${reason}: ${detail}`);
    this.name = 'SubgraphCallError';
  }
}

export interface CallContext {
  consumer: ConsumerOrganisation | null;
  traceId: string;
}

export interface SubgraphAnswer<R> {
  data: R;
  /** Errors beside the data (a partial answer); empty when none. */
  errors: readonly SubgraphGraphQLError[];
}

const printed = new WeakMap<DocumentNode, string>();

function text(doc: DocumentNode): string {
  let t = printed.get(doc);
  if (t === undefined) {
    t = print(doc);
    printed.set(doc, t);
  }
  return t;
}

/** Whether every operation the document holds is a query (ours hold one each). */
function isQuery(doc: DocumentNode): boolean {
  const ops = doc.definitions.filter((d) => d.kind === Kind.OPERATION_DEFINITION);
  return ops.length > 0 && ops.every((d) => d.operation === 'query');
}

/** Maps a GraphQL error the subgraph sent (with no data) into the taxonomy. */
export function failureOf(error: SubgraphGraphQLError | undefined): SubgraphFailure {
  const ext = error?.extensions;
  if (ext?.code === 'BAD_USER_INPUT') return 'BAD_USER_INPUT';
  if (ext?.code === 'FORBIDDEN' || ext?.code === 'UNAUTHENTICATED') return 'FORBIDDEN';
  if (ext?.reason && SUPPLIER_REASONS.has(ext.reason)) return ext.reason as SubgraphFailure;
  return 'UNAVAILABLE';
}

export class SubgraphClient {
  private readonly poster = new HttpPoster();

  constructor(
    /** Subgraph name → URL (the gateway's configuration). */
    private readonly urls: Readonly<Record<string, string>>,
    private readonly internalKey: string,
  ) {}

  has(subgraph: string): boolean {
    return !!this.urls[subgraph];
  }

  /** Sends one typed operation; resolves with its data (and any errors beside it), or throws SubgraphCallError. */
  async request<R, V extends Record<string, unknown>>(
    subgraph: string,
    doc: TypedDocumentNode<R, V>,
    variables: V,
    ctx: CallContext,
    deadlineMs: number,
  ): Promise<SubgraphAnswer<R>> {
    const url = this.urls[subgraph];
    if (!url) throw new SubgraphCallError(subgraph, 'UNAVAILABLE', 'no URL configured');
    const body = JSON.stringify({ query: text(doc), variables });
    // Timed into the same metric as the planned path's fetches (plugins/deadlines.ts), so an operator sees both.
    const end = subgraphFetchDuration.startTimer({ subgraph });
    let res: PostAnswer;
    try {
      res = await this.poster.post(
        url,
        // Signed over this exact body: one use, this request only.
        // The caller's trace goes on (W3C traceparent), beside the signed identity headers.
        { 'content-type': 'application/json', ...traceHeaders(), ...gatewayHeaders(ctx.consumer, { method: 'POST', url, body }, ctx.traceId, this.internalKey) },
        body,
        deadlineMs,
        // A query may be sent again on a fresh socket if its kept-alive one broke unanswered; a mutation never.
        { resendable: isQuery(doc) },
      );
    } catch (err) {
      const timedOut = err instanceof DeadlineError;
      end({ outcome: timedOut ? 'TIMEOUT' : 'UNAVAILABLE' });
      if (timedOut) throw new SubgraphCallError(subgraph, 'TIMEOUT', err.message);
      throw new SubgraphCallError(subgraph, 'UNAVAILABLE', (err as Error).name);
    }
    end({ outcome: String(res.status) });
    const ok = res.status >= 200 && res.status < 300;
    let parsed: { data?: R | null; errors?: SubgraphGraphQLError[] };
    try {
      parsed = JSON.parse(res.text) as typeof parsed;
    } catch (err) {
      throw new SubgraphCallError(subgraph, ok ? 'INVALID_RESPONSE' : 'UNAVAILABLE', `HTTP ${res.status}, body not JSON (${(err as Error).name})`);
    }
    if (!parsed || typeof parsed !== 'object') throw new SubgraphCallError(subgraph, 'INVALID_RESPONSE', `HTTP ${res.status}, not an object`);
    const errors = Array.isArray(parsed.errors) ? parsed.errors : [];
    if (parsed.data == null) {
      if (errors.length === 0) throw new SubgraphCallError(subgraph, 'INVALID_RESPONSE', `HTTP ${res.status}, neither data nor errors`);
      const first = errors[0];
      const reason = failureOf(first);
      throw new SubgraphCallError(
        subgraph,
        reason,
        `HTTP ${res.status}, ${errors.length} errors (${first?.extensions?.code ?? 'no code'})`,
        first?.extensions?.field,
        reason === 'BAD_USER_INPUT' ? first?.message : undefined,
      );
    }
    return { data: parsed.data, errors };
  }

  /** Closes the sockets kept to the subgraphs. */
  close(): void {
    this.poster.close();
  }
}
