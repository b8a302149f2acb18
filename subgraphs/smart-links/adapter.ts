/**
 * The SMART Scheduling Links adapter, as the rest of the product sees it (kit/adapter.ts): data and its registry
 * schema only; the process is index.ts.
 */
import { z } from 'zod';
import type { SupplierAdapter } from '../kit/adapter.js';
import { httpUrl, positiveInt, supplierSystem } from '../kit/registry-fields.js';

const registry = supplierSystem('SMART_LINKS', {
  /** The publisher's $bulk-publish manifest. */
  manifestUrl: httpUrl.refine((u) => u.endsWith('$bulk-publish'), { error: 'must end in $bulk-publish' }),
  /** Never poll the manifest or a file more often than this, whatever Cache-Control says (spec: once a minute). */
  pollFloorSeconds: positiveInt(60),
});

export type SmartLinksSystem = z.output<typeof registry>;

export const smartLinksAdapter = {
  kind: 'SMART_LINKS',
  registry,
  // Slots come from the feed snapshot (kit/feeds), not the slot cache: one deadline, should it ever use it.
  slotCache: { deadlinesPerFetch: 1 },
  subgraph: {
    name: 'smart-links',
    dir: 'subgraphs/smart-links',
    includes: ['supplier-booking.graphql', 'supplier-slots.graphql'],
    prefix: 'smartLinks',
    handoffOnly: true,
    defaultPort: 4004,
    portEnv: 'SMART_LINKS_PORT',
    urlEnv: 'SMART_LINKS_SUBGRAPH_URL',
  },
  // The directory lists feed locations beside DoS services (it reads the same feeds).
  directory: { typename: 'SmartLinksService', listedFrom: 'feeds' },
  simulator: {
    name: 'sandbox-feeds',
    entry: 'sandbox/feeds/main.ts',
    portEnv: 'SANDBOX_FEEDS_PORT',
    defaultPort: 4104,
    urlEnv: 'SANDBOX_FEEDS_URL',
    label: 'sandbox SMART feed publisher',
  },
} as const satisfies SupplierAdapter<'SMART_LINKS', typeof registry>;
