/**
 * One structured log line and the request metrics per GraphQL request: trace id, operation name, consumer
 * organisation, duration, status and error codes. Never variables, never the query text's values, never response
 * data: they carry patient data.
 */
import { graphqlErrors, graphqlRequests } from '../../common/metrics.js';
import type { ApolloServerPlugin } from '@apollo/server';
import type { Logger } from 'pino';
import type { GatewayPlugin } from './plugin.js';

interface LoggedContext {
  traceId: string;
  consumer: { odsCode: string };
  authenticated: boolean;
}

export function requestLogPlugin(logger: Logger): GatewayPlugin {
  return { name: 'request-log', apollo: requestLog(logger) };
}

function requestLog(logger: Logger): ApolloServerPlugin<LoggedContext> {
  return {
    async requestDidStart() {
      const started = performance.now();
      return {
        async willSendResponse({ response, contextValue, operationName, operation }) {
          const errors = response.body.kind === 'single' ? (response.body.singleResult.errors ?? []) : [];
          const status = response.http.status ?? 200;
          graphqlRequests.observe({ type: operation?.operation ?? 'unknown', status: String(status) }, (performance.now() - started) / 1000);
          for (const e of errors) graphqlErrors.inc({ code: String(e.extensions?.code ?? 'UNKNOWN') });
          logger.info(
            {
              traceId: contextValue.traceId,
              operation: operationName ?? null,
              type: operation?.operation ?? null,
              consumer: contextValue.consumer.odsCode,
              authenticated: contextValue.authenticated,
              status,
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
