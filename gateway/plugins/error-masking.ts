/**
 * What clients may see of an error: its stable code and a message with no internal URL, stack, supplier body or
 * query plan (errors.ts says which codes pass and how messages are scrubbed); the same supplier failure from many
 * entities collapsed into one. What was hidden is logged for operators, without quoted values.
 */
import type { Logger } from 'pino';
import { collapseErrorsPlugin, maskError, redactQuoted } from '../errors.js';
import type { GatewayPlugin } from './plugin.js';

export function errorMaskingPlugin(logger: Logger): GatewayPlugin {
  return {
    name: 'error-masking',
    server: {
      formatError: (formatted, error) => {
        const masked = maskError(formatted, error);
        if (masked.extensions?.code === 'INTERNAL_SERVER_ERROR') {
          logger.error({ path: formatted.path, original: redactQuoted(formatted.message) }, 'masked an internal error');
        }
        return masked;
      },
    },
    apollo: collapseErrorsPlugin,
  };
}
