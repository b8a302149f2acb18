import { GraphQLError } from 'graphql';
import type { UpstreamReason } from './upstream.js';

/** Bad input from the client: a typed error naming the field, raised before anything is sent upstream. */
export function userInputError(message: string, field: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT', field } });
}

const REASON_TEXT: Record<UpstreamReason, string> = {
  TIMEOUT: 'did not answer in time',
  UNAVAILABLE: 'is unavailable',
  RATE_LIMITED: 'is rate limiting us',
  INVALID_RESPONSE: 'sent a response we could not read',
  REJECTED: 'rejected the request',
  CIRCUIT_OPEN: 'is failing; calls to it are paused for a few seconds',
};

/**
 * A supplier system failed. The message names the system by its registry id, never by URL, so it is safe to show
 * to clients; the gateway collapses identical ones from many entities into one error.
 */
export function supplierError(system: string, reason: UpstreamReason): GraphQLError {
  return new GraphQLError(`Supplier system ${system} ${REASON_TEXT[reason]}`, {
    extensions: { code: 'SUPPLIER_UNAVAILABLE', supplierSystem: system, reason },
  });
}

export function forbiddenError(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'FORBIDDEN' } });
}
