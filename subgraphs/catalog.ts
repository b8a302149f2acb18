/**
 * The subgraphs this product composes, in one place: the compose script, the gateway and the stack launcher
 * all read this list, so adding a supplier adapter is one entry here plus its folder.
 */
export interface SubgraphEntry {
  /** Name in the supergraph (join__Graph). */
  name: string;
  /** Folder under subgraphs/ holding schema.graphql and index.ts. */
  dir: string;
  defaultPort: number;
  /** Environment variable overriding the port the subgraph listens on. */
  portEnv: string;
  /** Environment variable overriding the URL the gateway uses to reach it. */
  urlEnv: string;
}

export const SUBGRAPHS: readonly SubgraphEntry[] = [
  { name: 'directory', dir: 'directory', defaultPort: 4001, portEnv: 'DIRECTORY_PORT', urlEnv: 'DIRECTORY_SUBGRAPH_URL' },
  {
    name: 'booking-standard',
    dir: 'booking-standard',
    defaultPort: 4002,
    portEnv: 'BOOKING_STANDARD_PORT',
    urlEnv: 'BOOKING_STANDARD_SUBGRAPH_URL',
  },
];

export function defaultSubgraphUrl(entry: SubgraphEntry): string {
  return `http://127.0.0.1:${entry.defaultPort}/graphql`;
}
