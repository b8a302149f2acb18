/** Gateway configuration from the environment, with the defaults `npm start` documents. */
import { SUBGRAPHS, defaultSubgraphUrl } from '../subgraphs/catalog.js';
import { envInt, envPort, envString, envUrl } from '../subgraphs/kit/env.js';
import type { ConsumerOrganisation } from '../subgraphs/kit/consumer.js';

export interface GatewayConfig {
  port: number;
  host: string;
  subgraphUrls: Record<string, string>;
  subgraphTimeoutMs: number;
  devConsumer: ConsumerOrganisation;
  maxBodyBytes: number;
  introspection: boolean;
}

export function gatewayConfig(): GatewayConfig {
  const production = process.env.NODE_ENV === 'production';
  return {
    port: envPort('GATEWAY_PORT', 4000),
    host: envString('GATEWAY_HOST', '127.0.0.1'),
    subgraphUrls: Object.fromEntries(SUBGRAPHS.map((s) => [s.name, envUrl(s.urlEnv, defaultSubgraphUrl(s))])),
    // Above the suppliers' own 2 s deadlines, so a slow supplier surfaces as its own typed error first.
    subgraphTimeoutMs: envInt('GATEWAY_SUBGRAPH_TIMEOUT_MS', 3000, 100, 60_000),
    devConsumer: {
      // The sandbox's NHS 111 organisation; some sandbox slots are released to it only.
      odsCode: envString('DEV_CONSUMER_ODS', 'RX8'),
      name: envString('DEV_CONSUMER_NAME', 'Yorkshire Ambulance Service NHS 111'),
    },
    maxBodyBytes: envInt('GATEWAY_MAX_BODY_BYTES', 100_000, 1_000, 10_000_000),
    introspection: !production,
  };
}
