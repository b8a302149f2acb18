/**
 * Hive Gateway (@graphql-hive/gateway, JS runtime) serving the committed schema/supergraph.graphql as composed, as
 * its own process: for the bench's comparison row and the end-to-end test that compares its answers with our
 * gateway's (test/hive-gateway.e2e.test.ts). The supergraph text is not touched: where each subgraph is comes from
 * Hive's transport entries (its own per-subgraph configuration), which is also how the in-process `bookings`
 * subgraph is pointed at the standalone operations process (gateway/operations/standalone.ts). Consumer tokens,
 * scopes and the subgraphs' signature headers are handled by gateway/engines/hive-plugin.ts, with our gateway's
 * settings (AUTH_*, INTERNAL_AUTH_KEY: gateway/config.ts). Everything else is Hive's defaults, minus GraphiQL, the
 * landing page and logging below errors. Hive refusing the supergraph ends the process (exit 1) with its reason.
 *
 *   HIVE_PORT            where to listen (127.0.0.1)
 *   HIVE_SUBGRAPH_URLS   JSON: subgraph name → URL, over the defaults: each remote subgraph where our gateway finds
 *                        it (<NAME>_SUBGRAPH_URL or its default port), and `bookings`, the standalone operations
 *                        process, at OPERATIONS_SUBGRAPH_URL (default http://127.0.0.1:4005/graphql)
 *   HIVE_ROUTER_RUNTIME  `true`: plan with @graphql-hive/router-runtime (Hive Router's Rust query planner) instead of
 *                        Hive's stitching runtime; the package must be installed
 *
 * The package is loaded by a computed specifier with the little of its API used here typed below: its own typings
 * bring graphql-yoga's augmentation of graphql's GraphQLErrorExtensions into the program, which breaks `tsc -p .`
 * for the gateway's code (`extensions.http.headers` becomes a Record instead of Apollo's Map).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { readFileSync } from 'node:fs';
import { gatewayConfig } from '../gateway/config.js';
import { OPERATIONS_SUBGRAPH } from '../gateway/operations/index.js';
import { OPERATIONS_LISTEN } from '../gateway/operations/standalone-subgraph.js';
import { envUrl } from '../common/env.js';
import { hiveSigningPlugin, type HiveSigningPlugin } from '../gateway/engines/hive-plugin.js';
import { authConfigFrom } from '../gateway/plugins/auth.js';
import { repoRoot } from '../subgraphs/kit/schema.js';

const port = Number(process.env.HIVE_PORT);
const overrides = JSON.parse(process.env.HIVE_SUBGRAPH_URLS ?? '{}') as Record<string, string>;
if (!Number.isInteger(port) || port <= 0) throw new Error('HIVE_PORT must be a port number');

interface HiveRuntime {
  (req: IncomingMessage, res: ServerResponse): void;
  getSchema(): Promise<unknown> | unknown;
  dispose(): Promise<void> | void;
}
interface HiveGatewayModule {
  createGatewayRuntime(config: {
    supergraph: string;
    transportEntries: Record<string, { location: string }>;
    unifiedGraphHandler?: unknown;
    logging: string | boolean;
    graphiql: boolean;
    landingPage: boolean;
    plugins: () => HiveSigningPlugin[];
  }): HiveRuntime;
}
const HIVE_PACKAGE = '@graphql-hive/gateway';
const ROUTER_RUNTIME_PACKAGE = '@graphql-hive/router-runtime';
const { createGatewayRuntime } = (await import(HIVE_PACKAGE)) as HiveGatewayModule;
const routerRuntime = process.env.HIVE_ROUTER_RUNTIME === 'true' ? ((await import(ROUTER_RUNTIME_PACKAGE)) as { unifiedGraphHandler: unknown }) : undefined;

const config = gatewayConfig();
const urls: Record<string, string> = {
  ...config.subgraphUrls,
  [OPERATIONS_SUBGRAPH]: envUrl('OPERATIONS_SUBGRAPH_URL', `http://127.0.0.1:${OPERATIONS_LISTEN.defaultPort}/graphql`),
  ...overrides,
};
const signing = hiveSigningPlugin({
  internalKey: config.internalKey,
  auth: await authConfigFrom(config.auth),
});
const gateway = createGatewayRuntime({
  supergraph: readFileSync(`${repoRoot}schema/supergraph.graphql`, 'utf8'),
  transportEntries: Object.fromEntries(Object.entries(urls).map(([name, location]) => [name, { location }])),
  ...(routerRuntime ? { unifiedGraphHandler: routerRuntime.unifiedGraphHandler } : {}),
  logging: 'error',
  graphiql: false,
  landingPage: false,
  plugins: () => [signing],
});

// Hive loads the supergraph lazily, on the first request; load it now, so a supergraph it refuses stops the process
// with its reason instead of failing every request.
try {
  await gateway.getSchema();
} catch (err) {
  console.error(`Hive Gateway refuses schema/supergraph.graphql: ${(err as Error).message}`);
  process.exit(1);
}

const server = createServer(gateway);
server.listen(port, '127.0.0.1', () => console.log(`hive gateway listening on http://127.0.0.1:${port}/graphql`));
const stop = () => {
  server.close();
  void Promise.resolve(gateway.dispose()).finally(() => process.exit(0));
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
