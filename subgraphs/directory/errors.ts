/**
 * How DoS failures reach clients: the caller's mistake (a postcode the DoS cannot place) as BAD_USER_INPUT, any
 * other failure as DIRECTORY_UNAVAILABLE with the kit's reason. Neither message names a URL or echoes input; the
 * detail goes to the log.
 */
import { GraphQLError } from 'graphql';
import type { Logger } from 'pino';
import { userInputError } from '../../common/errors.js';
import { UpstreamError, type UpstreamReason } from '../../common/upstream.js';
import { DosUnknownPostcodeError } from './client.js';

export const DIRECTORY_UNAVAILABLE = 'DIRECTORY_UNAVAILABLE';

export function directoryUnavailable(reason: UpstreamReason): GraphQLError {
  return new GraphQLError('The Directory of Services could not be searched; try again shortly', {
    extensions: { code: DIRECTORY_UNAVAILABLE, reason },
  });
}

/** The GraphQL error for anything a DoS call threw. */
export function toGraphQLError(err: unknown, logger: Logger): GraphQLError {
  if (err instanceof GraphQLError) return err;
  if (err instanceof DosUnknownPostcodeError) {
    return userInputError('The directory does not recognise that postcode', 'near.postcode');
  }
  if (err instanceof UpstreamError) {
    logger.warn({ system: err.system, reason: err.reason, status: err.status, detail: err.detail }, 'DoS call failed');
    return directoryUnavailable(err.reason);
  }
  // A bug of ours, not the DoS: logged in full, shown as unavailable rather than as a stack trace.
  logger.error({ err }, 'directory lookup failed unexpectedly');
  return directoryUnavailable('INVALID_RESPONSE');
}

/** Runs a DoS-backed step, turning its failure into the GraphQL error clients see. */
export async function guarded<T>(logger: Logger, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (err) {
    throw toGraphQLError(err, logger);
  }
}
