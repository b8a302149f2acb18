/**
 * The BaRS (Booking and Referral Standard, FHIR R4) adapter, as the rest of the product sees it (kit/adapter.ts):
 * data and its registry schema only; the process is index.ts.
 *
 * A BaRS system is the API-Management front of the standard: one FHIR base for every receiver (the DoS service id in
 * NHSD-Target-Identifier picks the receiver), its OAuth 2.0 token endpoint, and our application's signing key.
 */
import { z } from 'zod';
import type { SupplierAdapter } from '../kit/adapter.js';
import type { BarsSystem } from './system.js';
import { httpUrl, object, positiveInt, supplierSystem, text } from '../kit/registry-fields.js';

const registry = supplierSystem('BARS', {
  /** The FHIR base, e.g. https://api.service.nhs.uk/booking-and-referral/FHIR/R4. */
  baseUrl: httpUrl,
  /** The OAuth 2.0 token endpoint: where the signed client assertion goes, and its `aud`. */
  tokenUrl: httpUrl,
  /** Our application's id at API Management (the assertion's iss and sub). */
  clientId: text,
  /** The `kid` of our registered public key. */
  keyId: text,
  /** Our private JWK (RS512), relative to the repository root or absolute: read by the adapter only, never logged. */
  privateKeyFile: text,
  /** The Device sent in NHSD-Requesting-Software. */
  requestingSoftware: object({ name: text, version: text, identifier: text }).default({
    name: 'NHS booking gateway',
    version: '1.0.0',
    identifier: 'nhs-booking-gateway',
  }),
  /** Sent in `use-context` with every message (the BaRS proxy's usage statistics). */
  useContext: text.default('booking-gateway|booking|booking-request|new'),
  rateLimitPerSecond: positiveInt(10),
});

// The adapter's code reads systems as system.ts has them: the schema's output must be one.
export type { BarsSystem } from './system.js';
type Checked<T extends BarsSystem> = T;
export type BarsRegistryEntry = Checked<z.output<typeof registry>>;

export const barsAdapter = {
  kind: 'BARS',
  registry,
  // A slot fetch may need a token first (token.ts), then searches.
  slotCache: { deadlinesPerFetch: 2 },
  subgraph: {
    name: 'bars',
    dir: 'subgraphs/bars',
    includes: ['supplier-booking.graphql', 'supplier-slots.graphql'],
    prefix: 'bars',
    defaultPort: 4006,
    portEnv: 'BARS_PORT',
    urlEnv: 'BARS_SUBGRAPH_URL',
  },
  directory: { typename: 'BarsService', listedFrom: 'dos' },
  simulator: {
    name: 'sandbox-bars',
    entry: 'sandbox/bars/main.ts',
    portEnv: 'SANDBOX_BARS_PORT',
    defaultPort: 4105,
    urlEnv: 'SANDBOX_BARS_URL',
    label: 'sandbox BaRS receiver',
  },
} as const satisfies SupplierAdapter<'BARS', typeof registry>;
