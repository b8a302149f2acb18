/**
 * Hive Gateway (@graphql-hive/gateway, JS runtime) serving our committed supergraph, as its own process, for the
 * bench's comparison row. Only the subgraph URLs are changed (to the bench stack's free ports) and the headers the
 * subgraphs require are added: the consumer organisation and the gateway signature (subgraphs/kit/internal-auth.ts),
 * computed per fetch over its URL, method and body, as our gateway does (a subgraph refuses a signature used twice
 * or over anything else). Everything else is Hive's
 * defaults, minus GraphiQL, the landing page and logging below errors.
 *
 *   HIVE_PORT           where to listen (127.0.0.1)
 *   HIVE_SUBGRAPH_URLS  JSON: subgraph name → URL (the in-process `bookings` subgraph has none: Hive cannot reach it)
 *   HIVE_REQUIRES_ONLY  a subgraph name: drop every `@requires` except that subgraph's (see requiresOnly below);
 *                       unset: the committed supergraph as it is
 *
 * The package is loaded by a computed specifier with the little of its API used here typed below: its own typings
 * bring graphql-yoga's augmentation of graphql's GraphQLErrorExtensions into the program, which breaks `tsc -p .`
 * for the gateway's code (`extensions.http.headers` becomes a Record instead of Apollo's Map).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { gatewayHeaders } from '../subgraphs/kit/internal-auth.js';
import { repoRoot } from '../subgraphs/kit/schema.js';
import { BENCH_CONSUMER } from './consumer.js';

const port = Number(process.env.HIVE_PORT);
const urls = JSON.parse(process.env.HIVE_SUBGRAPH_URLS ?? '{}') as Record<string, string>;
if (!Number.isInteger(port) || port <= 0) throw new Error('HIVE_PORT must be a port number');

/** The committed supergraph with each remote subgraph's URL replaced by the bench stack's. */
function withSubgraphUrls(sdl: string, subgraphUrls: Record<string, string>): string {
  return sdl.replace(/@join__graph\(name: "([^"]+)", url: "([^"]*)"\)/g, (whole, name: string) => {
    const url = subgraphUrls[name];
    return url ? `@join__graph(name: "${name}", url: "${url}")` : whole;
  });
}

/**
 * Hive Gateway 2.15's default runtime (graphql-tools stitching) cannot load our supergraph: every supplier subgraph
 * has `slots`/`nextAvailable` with `@requires(fields: "supplier { id }")` returning the shared `Slot` type, and
 * stitching marks `Slot` canonical in each subgraph it isolates those computed fields into, then refuses with
 * `Multiple canonical definitions for "Slot"` as soon as two subgraphs do so. For a comparison on the slot query,
 * which only reaches the directory and one supplier subgraph, the bench can keep the `requires` of that one
 * subgraph and drop the others' (those subgraphs' slot fields would then fail in Hive; they are not queried).
 */
function requiresOnly(sdl: string, subgraph: string): string {
  const graphEnum = new RegExp(`^\\s*(\\w+) @join__graph\\(name: "${subgraph}"`, 'm').exec(sdl)?.[1];
  if (!graphEnum) throw new Error(`no subgraph ${subgraph} in the supergraph`);
  return sdl.replace(/@join__field\(graph: (\w+), requires: "[^"]*"\)/g, (whole, graph: string) => (graph === graphEnum ? whole : `@join__field(graph: ${graph})`));
}

const committed = withSubgraphUrls(readFileSync(`${repoRoot}schema/supergraph.graphql`, 'utf8'), urls);
const supergraph = process.env.HIVE_REQUIRES_ONLY ? requiresOnly(committed, process.env.HIVE_REQUIRES_ONLY) : committed;

interface FetchOptions {
  method?: string;
  body?: unknown;
  headers?: Record<string, string>;
  [k: string]: unknown;
}
interface HivePlugin {
  onFetch(payload: { url: string; options: FetchOptions; setOptions(options: FetchOptions): void }): void;
}
interface HiveRuntime {
  (req: IncomingMessage, res: ServerResponse): void;
  dispose(): Promise<void> | void;
}
interface HiveGatewayModule {
  createGatewayRuntime(config: {
    supergraph: string;
    logging: string | boolean;
    graphiql: boolean;
    landingPage: boolean;
    plugins: () => HivePlugin[];
  }): HiveRuntime;
}
const HIVE_PACKAGE = '@graphql-hive/gateway';
const { createGatewayRuntime } = (await import(HIVE_PACKAGE)) as HiveGatewayModule;

const signHeaders: HivePlugin = {
  onFetch({ url, options, setOptions }) {
    const body = typeof options.body === 'string' ? options.body : '';
    const signed = gatewayHeaders(BENCH_CONSUMER, { method: options.method ?? 'POST', url, body }, randomUUID());
    setOptions({ ...options, headers: { ...options.headers, ...signed } });
  },
};

const gateway = createGatewayRuntime({
  supergraph,
  logging: 'error',
  graphiql: false,
  landingPage: false,
  plugins: () => [signHeaders],
});

const server = createServer(gateway);
server.listen(port, '127.0.0.1', () => console.log(`hive gateway listening on http://127.0.0.1:${port}/graphql`));
const stop = () => {
  server.close();
  void Promise.resolve(gateway.dispose()).finally(() => process.exit(0));
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
