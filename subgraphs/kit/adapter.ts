/**
 * What a supplier adapter declares about itself, in one object its folder exports (adapter.ts), listed once in
 * subgraphs/adapters.ts. Compose, codegen, the stack launcher, the registry parser, the slot cache, the directory's
 * service types and the gateway's routing all read that list, so adding an adapter is its folder plus one entry.
 *
 * A descriptor is data and a zod schema only: the gateway and the directory import the list, so it must not pull in
 * an adapter's runtime (its server entry is `<dir>/index.ts`), and production code never imports the sandbox, so the
 * simulator is named by path and port, resolved by the stack launcher in scripts/.
 */
import type { z } from 'zod';

/** A registry system's schema: the common fields (registry-fields.ts systemFields) plus the kind's own. */
export type SystemSchema<K extends string> = z.ZodType<{ kind: K; id: string; name: string; deadlineMs: number; cacheTtlSeconds: number; rateLimitPerSecond: number }, unknown>;

export interface SupplierAdapter<K extends string = string, S extends SystemSchema<K> = SystemSchema<K>> {
  /** The registry `kind` of the systems it serves; also the directory's SupplierKind value. */
  kind: K;
  /** Its registry entries, `kind` included (registry-fields.ts supplierSystem): one member of the registry's union. */
  registry: S;
  /** How the slot cache treats its systems' buckets (kit/slot-cache.ts policyFor). */
  slotCache: {
    /**
     * Upstream deadlines one slot fetch can take: 2 for an adapter that looks something up before searching
     * (Oakfield's clinics, a Booking Standard provider's schedules). The bucket lock outlives that by a second.
     */
    deadlinesPerFetch: number;
  };
  /** Its subgraph, as composed into the supergraph and started by the stack launcher. */
  subgraph: {
    /** Name in the supergraph (join__Graph) and process name. */
    name: string;
    /** Folder holding schema.graphql and index.ts (the process entry), relative to the repository root. */
    dir: string;
    /** Shared SDL files under schema/ it includes besides shared.graphql. */
    includes: readonly string[];
    /**
     * Prefix of its internal root fields (<prefix>TopSlots, <prefix>Book, ...: schema/supplier-*.graphql).
     * `handoffOnly`: it answers <prefix>TopSlots and <prefix>Book (with a hand-off) only, holding no appointments.
     */
    prefix: string;
    handoffOnly?: boolean;
    /**
     * Its supplier holds slots itself: it includes supplier-holds.graphql and answers <prefix>HoldSlot and
     * <prefix>ReleaseHold, and the gateway's holds of its slots are the supplier's (SUPPLIER), not soft leases.
     */
    holds?: boolean;
    defaultPort: number;
    /** Environment variable overriding the port it listens on. */
    portEnv: string;
    /** Environment variable overriding the URL the gateway uses to reach it. */
    urlEnv: string;
    /**
     * V8 flags its process runs with (`node <flags> index.js`, in `npm start`, the tests and the Kubernetes
     * manifest alike): heap tuning measured for the load its supplier's protocol puts on it. Absent: Node's defaults.
     */
    v8Flags?: readonly string[];
  };
  /**
   * The directory's side of its service type: the type name, declared in `<dir>/directory.graphql` (the directory
   * subgraph includes that file), and where the directory finds such services: DoS records whose one booking
   * endpoint names a system of this kind, or the SMART feeds the directory reads.
   */
  directory: { typename: string; listedFrom: 'dos' | 'feeds' };
  /** The sandbox simulator standing in for its upstreams (`npm start`, end-to-end tests); absent if none. */
  simulator?: {
    name: string;
    /** Its entry point, relative to the repository root (under sandbox/). */
    entry: string;
    portEnv: string;
    defaultPort: number;
    /** Variable the sandbox registry reads its URL from. */
    urlEnv: string;
    label: string;
    /** Sandbox-only values the stack sets for both sides of the sandbox connection (a sandbox API key). */
    env?: Readonly<Record<string, string>>;
  };
}
