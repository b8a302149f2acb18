/**
 * The subgraphs this product composes, in one place: the compose script, codegen, the gateway and the stack
 * launcher all read this list. The supplier subgraphs come from the adapters' descriptors (subgraphs/adapters.ts).
 */
import { ADAPTERS } from './adapters.js';

export interface SubgraphEntry {
  /** Name in the supergraph (join__Graph). */
  name: string;
  /** Folder holding schema.graphql, relative to the repository root. */
  dir: string;
  /** Shared SDL files under schema/ this subgraph includes besides shared.graphql. */
  includes?: readonly string[];
  /** Further SDL files of its own, relative to the repository root, appended to its schema.graphql. */
  parts?: readonly string[];
  /**
   * Supplier kinds whose bookings it takes, and the prefix of its internal booking operations. `handoffOnly`: it
   * only answers <prefix>Book with a hand-off (feeds), and holds no appointments to read, cancel or search.
   * `holds`: its supplier holds slots itself, through <prefix>HoldSlot and <prefix>ReleaseHold (supplier-holds.graphql).
   */
  books?: { kinds: readonly string[]; prefix: string; handoffOnly?: boolean; holds?: boolean };
  /** Served by its own process; absent for the gateway-owned subgraph the gateway hosts in-process. */
  remote?: {
    defaultPort: number;
    /** Environment variable overriding the port the subgraph listens on. */
    portEnv: string;
    /** Environment variable overriding the URL the gateway uses to reach it. */
    urlEnv: string;
    /** V8 flags its process runs with (kit/adapter.ts `v8Flags`). */
    v8Flags?: readonly string[];
  };
}

export const SUBGRAPHS: readonly SubgraphEntry[] = [
  {
    name: 'directory',
    dir: 'subgraphs/directory',
    // Each adapter's service type, as the directory declares it (kit/adapter.ts `directory`).
    parts: ADAPTERS.map((a) => `${a.subgraph.dir}/directory.graphql`),
    remote: { defaultPort: 4001, portEnv: 'DIRECTORY_PORT', urlEnv: 'DIRECTORY_SUBGRAPH_URL' },
  },
  ...ADAPTERS.map(
    ({ kind, subgraph: s }): SubgraphEntry => ({
      name: s.name,
      dir: s.dir,
      includes: s.includes,
      books: { kinds: [kind], prefix: s.prefix, ...('handoffOnly' in s ? { handoffOnly: s.handoffOnly } : {}), ...('holds' in s ? { holds: s.holds } : {}) },
      remote: { defaultPort: s.defaultPort, portEnv: s.portEnv, urlEnv: s.urlEnv, ...('v8Flags' in s ? { v8Flags: s.v8Flags } : {}) },
    }),
  ),
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
