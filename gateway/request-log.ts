/**
 * One structured log line per GraphQL request: trace id, operation name, consumer organisation, duration, status
 * and error codes. Never variables, never the query text's values, never response data: they carry patient data.
 */
import type { ApolloServerPlugin } from '@apollo/server';
import type { Logger } from 'pino';

interface LoggedContext {
  traceId: string;
  consumer: { odsCode: string };
  authenticated: boolean;
}

export function requestLogPlugin(logger: Logger): ApolloServerPlugin<LoggedContext> {
  return {
    async requestDidStart() {
      const started = performance.now();
      return {
        async willSendResponse({ response, contextValue, operationName, operation }) {
          const errors = response.body.kind === 'single' ? (response.body.singleResult.errors ?? []) : [];
          logger.info(
            {
              traceId: contextValue.traceId,
              operation: operationName ?? null,
              type: operation?.operation ?? null,
              consumer: contextValue.consumer.odsCode,
              authenticated: contextValue.authenticated,
              status: response.http.status ?? 200,
              durationMs: Math.round(performance.now() - started),
              errors: errors.map((e) => e.extensions?.code ?? 'UNKNOWN'),
            },
            'graphql request',
          );
        },
      };
    },
  };
}
