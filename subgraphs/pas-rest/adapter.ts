/**
 * The PAS REST (Oakfield) adapter, as the rest of the product sees it (kit/adapter.ts): data and its registry
 * schema only; the process is index.ts.
 */
import { z } from 'zod';
import type { SupplierAdapter } from '../kit/adapter.js';
import { envName, httpUrl, object, supplierSystem } from '../kit/registry-fields.js';

const registry = supplierSystem('PAS_REST', {
  baseUrl: httpUrl,
  /** The API key's environment variable (kit/registry.ts credential()): the registry never holds the key. */
  credentials: object({ apiKeyEnv: envName }),
}).transform(({ credentials, ...system }) => ({ ...system, apiKeyEnv: credentials.apiKeyEnv }));

export type PasRestSystem = z.output<typeof registry>;

export const pasRestAdapter = {
  kind: 'PAS_REST',
  registry,
  // A slot fetch may look the service's clinic up first (clinics.ts), then search.
  slotCache: { deadlinesPerFetch: 2 },
  subgraph: {
    name: 'pas-rest',
    dir: 'subgraphs/pas-rest',
    includes: ['supplier-booking.graphql', 'supplier-slots.graphql', 'supplier-holds.graphql'],
    prefix: 'pasRest',
    // Oakfield holds a place itself (API.md 6.5).
    holds: true,
    defaultPort: 4003,
    portEnv: 'PAS_REST_PORT',
    urlEnv: 'PAS_REST_SUBGRAPH_URL',
  },
  directory: { typename: 'PasRestService', listedFrom: 'dos' },
  simulator: {
    name: 'sandbox-pas-rest',
    entry: 'sandbox/pas-rest/main.ts',
    portEnv: 'SANDBOX_PAS_REST_PORT',
    defaultPort: 4103,
    urlEnv: 'SANDBOX_PAS_REST_URL',
    label: 'sandbox PAS REST API',
    // The sandbox registry's apiKeyEnv for Oakfield, and the key the simulator accepts.
    env: { OAKFIELD_PAS_API_KEY: 'sandbox-oakfield-key', SANDBOX_PAS_API_KEY: 'sandbox-oakfield-key' },
  },
} as const satisfies SupplierAdapter<'PAS_REST', typeof registry>;
