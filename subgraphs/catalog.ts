/**
 * The subgraphs this product composes, in one place: the compose script, codegen, the gateway and the stack
 * launcher all read this list, so adding a supplier adapter is one entry here plus its folder.
 */
export interface SubgraphEntry {
  /** Name in the supergraph (join__Graph). */
  name: string;
  /** Folder holding schema.graphql, relative to the repository root. */
  dir: string;
  /** Shared SDL files under schema/ this subgraph includes besides shared.graphql. */
  includes?: readonly string[];
  /**
   * Supplier kinds whose bookings it takes, and the prefix of its internal booking operations. `handoffOnly`: it
   * only answers <prefix>Book with a hand-off (feeds), and holds no appointments to read, cancel or search.
   */
  books?: { kinds: readonly string[]; prefix: string; handoffOnly?: boolean };
  /** Served by its own process; absent for the gateway-owned subgraph the gateway hosts in-process. */
  remote?: {
    defaultPort: number;
    /** Environment variable overriding the port the subgraph listens on. */
    portEnv: string;
    /** Environment variable overriding the URL the gateway uses to reach it. */
    urlEnv: string;
  };
}

export const SUBGRAPHS: readonly SubgraphEntry[] = [
  {
    name: 'directory',
    dir: 'subgraphs/directory',
    remote: { defaultPort: 4001, portEnv: 'DIRECTORY_PORT', urlEnv: 'DIRECTORY_SUBGRAPH_URL' },
  },
  {
    name: 'booking-standard',
    dir: 'subgraphs/booking-standard',
    includes: ['supplier-booking.graphql', 'supplier-slots.graphql'],
    books: { kinds: ['BOOKING_STANDARD'], prefix: 'bookingStandard' },
    remote: { defaultPort: 4002, portEnv: 'BOOKING_STANDARD_PORT', urlEnv: 'BOOKING_STANDARD_SUBGRAPH_URL' },
  },
  {
    name: 'pas-rest',
    dir: 'subgraphs/pas-rest',
    includes: ['supplier-booking.graphql', 'supplier-slots.graphql'],
    books: { kinds: ['PAS_REST'], prefix: 'pasRest' },
    remote: { defaultPort: 4003, portEnv: 'PAS_REST_PORT', urlEnv: 'PAS_REST_SUBGRAPH_URL' },
  },
  {
    name: 'smart-links',
    dir: 'subgraphs/smart-links',
    includes: ['supplier-booking.graphql', 'supplier-slots.graphql'],
    books: { kinds: ['SMART_LINKS'], prefix: 'smartLinks', handoffOnly: true },
    remote: { defaultPort: 4004, portEnv: 'SMART_LINKS_PORT', urlEnv: 'SMART_LINKS_SUBGRAPH_URL' },
  },
  // Gateway-owned operations routed by data (booking, cancelling, reading appointments), hosted in the gateway.
  { name: 'bookings', dir: 'gateway/operations' },
];

export function subgraph(name: string): SubgraphEntry {
  const entry = SUBGRAPHS.find((s) => s.name === name);
  if (!entry) throw new Error(`no subgraph named ${name} in subgraphs/catalog.ts`);
  return entry;
}

/** The URL composed into the supergraph: the default local port, or a marker for in-process subgraphs. */
export function defaultSubgraphUrl(entry: SubgraphEntry): string {
  return entry.remote ? `http://127.0.0.1:${entry.remote.defaultPort}/graphql` : `in-process://${entry.name}`;
}
