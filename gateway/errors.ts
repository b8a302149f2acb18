/**
 * What clients may see of an error. Codes on the allow-list keep their message (scrubbed of URLs anyway);
 * a subgraph that could not be reached becomes SUBGRAPH_UNAVAILABLE naming only the subgraph; everything else is
 * "Internal server error". Stack traces, exception details and query plans never leave the gateway.
 */
import type { GraphQLFormattedError } from 'graphql';
import type { ApolloServerPlugin } from '@apollo/server';
import { withoutInputValues } from './input-echo.js';

const SAFE_CODES = new Set([
  'BAD_USER_INPUT',
  'BAD_REQUEST',
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'OPERATION_RESOLUTION_FAILURE',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
  'SUPPLIER_UNAVAILABLE',
  'DIRECTORY_UNAVAILABLE',
  'FORBIDDEN',
  'UNAUTHENTICATED',
  'RATE_LIMITED',
  'DEPTH_LIMIT_EXCEEDED',
  'ALIAS_LIMIT_EXCEEDED',
  'COST_LIMIT_EXCEEDED',
  'DIRECTIVE_LIMIT_EXCEEDED',
  'OPERATION_NOT_SUPPORTED',
  'PAYLOAD_TOO_LARGE',
]);

/** Extension keys a client may see; the rest (exception, stacktrace, serviceName internals...) are dropped. */
const SAFE_EXTENSIONS = ['code', 'field', 'supplierSystem', 'reason', 'subgraph'];

const URL_PATTERN = /\b(?:https?|wss?):\/\/[^\s"'<>)]+/gi;
const HOST_PORT_PATTERN = /\b(?:\d{1,3}\.){3}\d{1,3}(?::\d+)?\b|\blocalhost(?::\d+)?\b/gi;

/** For logs: drops quoted substrings (where messages echo input values) and URLs. */
export function redactQuoted(message: string): string {
  return scrub(message).replace(/"(?:[^"\\]|\\.)*"/g, '"…"').slice(0, 500);
}

export function scrub(message: string): string {
  return message.replace(URL_PATTERN, '[internal]').replace(HOST_PORT_PATTERN, '[internal]');
}

/** Thrown by the gateway's subgraph fetcher, so the masked error can name the subgraph and nothing else. */
export class SubgraphUnavailableError extends Error {
  constructor(
    readonly subgraph: string,
    readonly reason: 'TIMEOUT' | 'UNAVAILABLE',
  ) {
    super(`The ${subgraph} service is unavailable`);
    this.name = 'SubgraphUnavailableError';
  }
}

function findCause(error: unknown): SubgraphUnavailableError | undefined {
  let e: unknown = error;
  for (let depth = 0; e && depth < 6; depth++) {
    if (e instanceof SubgraphUnavailableError) return e;
    const next = e as { originalError?: unknown; cause?: unknown };
    e = next.originalError ?? next.cause;
  }
  return undefined;
}

export function maskError(formatted: GraphQLFormattedError, error?: unknown): GraphQLFormattedError {
  const ext = (formatted.extensions ?? {}) as Record<string, unknown>;
  const down = findCause(error);
  const code = typeof ext.code === 'string' ? ext.code : undefined;
  const serviceName = typeof ext.serviceName === 'string' ? ext.serviceName : undefined;

  let message: string;
  let extensions: Record<string, unknown>;
  if (isOperationResolution(formatted.message)) {
    // The gateway's executor raises these as plain errors; they are the client's mistake, and its own words.
    message = scrub(formatted.message);
    extensions = { code: 'OPERATION_RESOLUTION_FAILURE' };
  } else if (down) {
    message = down.message;
    extensions = { code: 'SUBGRAPH_UNAVAILABLE', subgraph: down.subgraph, reason: down.reason };
  } else if (code && SAFE_CODES.has(code)) {
    // GraphQL's input errors quote the refused value, which in a booking is patient data: path and reason only.
    message = withoutInputValues(scrub(formatted.message));
    extensions = Object.fromEntries(SAFE_EXTENSIONS.filter((k) => ext[k] !== undefined).map((k) => [k, ext[k]]));
  } else if (serviceName && isFetchFailure(formatted.message)) {
    message = `The ${serviceName} service is unavailable`;
    extensions = { code: 'SUBGRAPH_UNAVAILABLE', subgraph: serviceName };
  } else {
    message = 'Internal server error';
    extensions = { code: 'INTERNAL_SERVER_ERROR' };
  }
  return {
    message,
    ...(formatted.locations ? { locations: formatted.locations } : {}),
    ...(formatted.path ? { path: formatted.path } : {}),
    extensions,
  };
}

function isOperationResolution(message: string): boolean {
  return /^Unknown operation named "|^Must provide operation name if query contains multiple operations/.test(message);
}

function isFetchFailure(message: string): boolean {
  return /error while fetching subquery|fetch failed|ECONNREFUSED|aborted|timeout|socket hang up|request to .* failed/i.test(message);
}

/**
 * One supplier outage under a list of services makes one error per service (the notes: 25 services, 25 errors).
 * Clients get one error per distinct failure, with every affected path listed in extensions.paths.
 */
export function collapseErrors(errors: readonly GraphQLFormattedError[]): GraphQLFormattedError[] {
  const byKey = new Map<string, { first: GraphQLFormattedError; paths: (string | number)[][] }>();
  for (const e of errors) {
    const ext = (e.extensions ?? {}) as Record<string, unknown>;
    const key = JSON.stringify([e.message, ext.code, ext.supplierSystem, ext.reason, ext.subgraph]);
    const seen = byKey.get(key);
    if (seen) {
      if (e.path) seen.paths.push([...e.path]);
    } else {
      byKey.set(key, { first: e, paths: e.path ? [[...e.path]] : [] });
    }
  }
  return [...byKey.values()].map(({ first, paths }) =>
    paths.length > 1 ? { ...first, extensions: { ...first.extensions, paths: paths.slice(0, 100), count: paths.length } } : first,
  );
}

export const collapseErrorsPlugin: ApolloServerPlugin = {
  async requestDidStart() {
    return {
      async willSendResponse({ response }) {
        if (response.body.kind === 'single' && response.body.singleResult.errors) {
          const result = response.body.singleResult;
          result.errors = collapseErrors(result.errors!);
          // Nothing ran because the client named no runnable operation: a request error, not a server one.
          if (result.data === undefined && result.errors.every((e) => e.extensions?.code === 'OPERATION_RESOLUTION_FAILURE')) {
            response.http.status = 400;
          }
        }
      },
    };
  },
};
