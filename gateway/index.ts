/** The gateway as its own process: `tsx gateway/index.ts`. */
import { createLogger } from '../subgraphs/kit/logger.js';
import { gatewayConfig } from './config.js';
import { startGateway } from './server.js';

const logger = createLogger('gateway');
try {
  const config = gatewayConfig();
  const gw = await startGateway({ ...config, logger });
  logger.info({ url: gw.url }, `gateway listening on ${gw.url}`);
  const stop = () => {
    void gw.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
} catch (err) {
  logger.fatal({ err: (err as Error).message }, 'gateway failed to start');
  process.exit(1);
}
