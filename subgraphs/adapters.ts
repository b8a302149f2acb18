/**
 * Every supplier adapter, once: compose and codegen, the stack launcher, the supplier registry's schema, the slot
 * cache's policies, the directory's service types and the gateway's routing are derived from this list (see
 * kit/adapter.ts for what a descriptor holds). Adding an adapter is its folder and one entry here.
 */
import type { SupplierAdapter } from './kit/adapter.js';
import { barsAdapter } from './bars/adapter.js';
import { bookingStandardAdapter } from './booking-standard/adapter.js';
import { pasRestAdapter } from './pas-rest/adapter.js';
import { smartLinksAdapter } from './smart-links/adapter.js';

export const ADAPTERS = [bookingStandardAdapter, pasRestAdapter, smartLinksAdapter, barsAdapter] as const satisfies readonly SupplierAdapter[];

export type Adapter = (typeof ADAPTERS)[number];
export type SupplierKind = Adapter['kind'];

/** The adapter serving a registry kind; undefined for a kind no adapter here serves. */
export function adapterFor(kind: string): Adapter | undefined {
  return ADAPTERS.find((a) => a.kind === kind);
}
