/**
 * The Booking Standard STU3 adapter, as the rest of the product sees it (kit/adapter.ts): data and its registry
 * schema only; the process is index.ts.
 */
import { z } from 'zod';
import type { SupplierAdapter } from '../kit/adapter.js';
import { asid, httpUrl, object, supplierSystem, text } from '../kit/registry-fields.js';

const registry = supplierSystem('BOOKING_STANDARD', {
  /** The provider's FHIR service root (the nhsMHSEndPoint SDS would give). */
  baseUrl: httpUrl,
  /** The provider's ASID: Ssp-To. */
  asid,
  /** Interaction ids this provider registered; sources disagree on slot search (search:slot vs read:slot). */
  interactions: object({ searchSlot: text }),
});

export type BookingStandardSystem = z.output<typeof registry>;

export const bookingStandardAdapter = {
  kind: 'BOOKING_STANDARD',
  registry,
  // A slot search may follow the provider's next-page links within the same fetch.
  slotCache: { deadlinesPerFetch: 2 },
  subgraph: {
    name: 'booking-standard',
    dir: 'subgraphs/booking-standard',
    includes: ['supplier-booking.graphql', 'supplier-slots.graphql'],
    prefix: 'bookingStandard',
    defaultPort: 4002,
    portEnv: 'BOOKING_STANDARD_PORT',
    urlEnv: 'BOOKING_STANDARD_SUBGRAPH_URL',
    // A cold search parses about 3 MB of FHIR JSON and keeps its slots: with Node's 16-MB semi-spaces a scavenge ran
    // every 30-60 ms, promoting most of what it copied. 32 MB: the subgraph's CPU on a cold search 234-244 -> 203-218
    // ms and its p50 about 13 ms lower (three alternating probes each), for up to 32 MB more young generation in use.
    v8Flags: ['--max-semi-space-size=32'],
  },
  directory: { typename: 'BookingStandardService', listedFrom: 'dos' },
  simulator: {
    name: 'sandbox-booking-standard',
    entry: 'sandbox/booking-standard/main.ts',
    portEnv: 'SANDBOX_BOOKING_STANDARD_PORT',
    defaultPort: 4102,
    urlEnv: 'SANDBOX_BOOKING_STANDARD_URL',
    label: 'sandbox Booking Standard provider',
  },
} as const satisfies SupplierAdapter<'BOOKING_STANDARD', typeof registry>;
