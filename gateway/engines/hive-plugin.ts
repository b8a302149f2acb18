/**
 * A Hive Gateway plugin that does, in front of our subgraphs, what our gateway's auth and internal-signing plugins
 * do (gateway/plugins/auth.ts, internal-signing.ts): the consumer's bearer JWT verified with the same rules (issuer,
 * audience, lifetime, organisation claims; anonymous slot reads as the configured organisation where allowed), the
 * scopes of every root field checked before anything runs, and each subgraph fetch sent with the consumer it
 * authenticated, a trace id, and the v2 signature over the final URL, method and body (common/internal-auth.ts).
 * Register it last: no plugin may change a fetch after it is signed.
 *
 * Not done here (our gateway's other plugins; Hive has its own for each): query depth, alias and cost limits,
 * per-consumer rate limits, persisted queries, error masking beyond Hive's default.
 *
 * Typed structurally: importing @graphql-hive/gateway's own typings would bring graphql-yoga's augmentation of
 * GraphQLErrorExtensions into the program, which breaks the gateway's types (`extensions.http.headers` becomes a
 * Record instead of Apollo's Map). The module itself needs nothing from the package.
 */
import { randomUUID } from 'node:crypto';
import { getOperationAST, type DocumentNode } from 'graphql';
import type { ConsumerOrganisation } from '../../common/consumer.js';
import { identityHeaders, signedHeaders } from '../../common/internal-auth.js';
import { assertMayRun, authenticate, unresolvedOperation, type AuthConfig, type Principal } from '../plugins/auth.js';

/** What this plugin keeps in Hive's request context. */
interface SignedContext {
  principal?: Principal;
  consumer?: ConsumerOrganisation;
  traceId?: string;
}

interface FetchOptions {
  method?: string;
  body?: unknown;
  headers?: Record<string, string> | Headers | [string, string][];
  [k: string]: unknown;
}

/** The hooks used, as Hive Gateway 2.x (envelop, Yoga, Mesh) calls them. */
export interface HiveSigningPlugin {
  onContextBuilding(payload: { context: { request?: Request } & SignedContext; extendContext(extension: SignedContext): void }): Promise<void>;
  onExecute(payload: { args: { document: DocumentNode; operationName?: string | null; contextValue: SignedContext } }): void;
  onFetch(payload: { url: string; options: FetchOptions; setOptions(options: FetchOptions): void; context?: SignedContext }): void;
}

export function hiveSigningPlugin(opts: { internalKey: string; auth: AuthConfig }): HiveSigningPlugin {
  return {
    async onContextBuilding({ context, extendContext }) {
      // A missing or bad token is refused here with 401, as our gateway refuses it, before anything is parsed.
      const principal = await authenticate(context.request?.headers.get('authorization') ?? undefined, opts.auth);
      extendContext({ principal, consumer: principal.consumer, traceId: randomUUID() });
    },
    onExecute({ args }) {
      const operation = getOperationAST(args.document, args.operationName ?? undefined);
      // Whatever the engine would do with it, nothing runs unchecked (auth.ts: "" names no operation either).
      if (!operation) throw unresolvedOperation();
      assertMayRun(args.contextValue.principal, operation, args.document);
    },
    onFetch({ url, options, setOptions, context }) {
      const identity = identityHeaders(context?.consumer ?? null, context?.traceId ?? randomUUID());
      const headers = new Headers(options.headers as ConstructorParameters<typeof Headers>[0]);
      for (const [k, v] of Object.entries(identity)) headers.set(k, v);
      const signed = signedHeaders(opts.internalKey, url, { method: options.method ?? 'GET', headers, body: options.body ?? '' });
      setOptions({ ...options, headers: Object.fromEntries(signed) });
    },
  };
}
