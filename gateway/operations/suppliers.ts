/**
 * Routing by data: from a supplier system id (decoded from a slot or appointment id) to the supplier subgraph that
 * serves that system's kind, and a call to its internal operations (schema/supplier-booking.graphql,
 * schema/supplier-slots.graphql) through the one typed subgraph client (subgraph-client.ts), with the consumer
 * organisation and trace id, under a deadline. The operations are documents/supplier.graphql under each adapter's
 * prefix (supplier-documents.ts); their types are generated, so nothing here spells a query or an answer's shape.
 */
import { SUBGRAPHS, type SubgraphEntry } from '../../subgraphs/catalog.js';
import type { Registry } from '../../subgraphs/kit/registry.js';
import { SubgraphClient, type CallContext } from './subgraph-client.js';
import {
  supplierDocuments,
  type Op,
  type SupplierAppointmentInput,
  type SupplierAppointmentList,
  type SupplierBookingInput,
  type SupplierCancelInput,
  type SupplierDocuments,
  type SupplierOutcome,
  type SupplierPatientAppointmentsInput,
  type SupplierHold,
  type SupplierHoldInput,
  type SupplierReleaseHoldInput,
} from './supplier-documents.js';

export type { CallContext } from './subgraph-client.js';
export type {
  SupplierAppointment,
  SupplierAppointmentInput,
  SupplierAppointmentList,
  SupplierBookingInput,
  SupplierCancelInput,
  SupplierOutcome,
  SupplierOutcomeCode,
  SupplierPatientAppointmentsInput,
  SupplierTopSlots,
  SupplierTopSlotsInput,
  SupplierHold,
  SupplierHoldInput,
  SupplierReleaseHoldInput,
} from './supplier-documents.js';

/** Per supplier subgraph (subgraphs/catalog.ts name, from the adapters' descriptors): its documents. */
const DOCUMENTS: Readonly<Record<string, SupplierDocuments>> = Object.fromEntries(
  SUBGRAPHS.flatMap((s) => (s.books ? [[s.name, supplierDocuments(s.books)]] : [])),
);

/** No subgraph serves this system (or this operation for it): nothing was sent. */
export class SupplierCallError extends Error {
  constructor(
    readonly system: string,
    readonly kind: 'UNROUTABLE',
    detail: string,
  ) {
    super(`${system}: ${kind}: ${detail}`);
    this.name = 'SupplierCallError';
  }
}

export class SupplierRouter {
  constructor(
    private readonly registry: Registry,
    private readonly client: SubgraphClient,
    private readonly timeoutMs: number,
  ) {}

  /** Systems whose kind has a booking subgraph that holds appointments (feeds hand bookings off instead). */
  bookingSystems(): string[] {
    return this.registry.systems.filter((s) => this.entry(s.id) && this.documents(s.id)?.patientAppointments).map((s) => s.id);
  }

  book(system: string, input: SupplierBookingInput, ctx: CallContext): Promise<SupplierOutcome> {
    return this.call(system, 'book', input, ctx);
  }
  cancel(system: string, input: SupplierCancelInput, ctx: CallContext): Promise<SupplierOutcome> {
    return this.call(system, 'cancel', input, ctx);
  }
  read(system: string, input: SupplierAppointmentInput, ctx: CallContext): Promise<SupplierOutcome> {
    return this.call(system, 'appointment', input, ctx);
  }
  patientAppointments(system: string, input: SupplierPatientAppointmentsInput, ctx: CallContext): Promise<SupplierAppointmentList> {
    return this.call(system, 'patientAppointments', input, ctx);
  }

  /**
   * Who can hold this system's slots: the supplier itself (its subgraph serves <prefix>HoldSlot), this gateway (a
   * soft lease, for systems that take bookings), nobody (feeds: booked on the provider's site), or an unknown system.
   */
  holdKind(system: string): 'SUPPLIER' | 'GATEWAY_SOFT' | 'NOT_HOLDABLE' | 'UNROUTABLE' {
    const entry = this.entry(system);
    if (!entry) return 'UNROUTABLE';
    if (entry.books?.handoffOnly) return 'NOT_HOLDABLE';
    return this.documents(system)?.holdSlot ? 'SUPPLIER' : 'GATEWAY_SOFT';
  }
  holdSlot(system: string, input: SupplierHoldInput, ctx: CallContext): Promise<SupplierHold> {
    return this.call(system, 'holdSlot', input, ctx);
  }
  releaseHold(system: string, input: SupplierReleaseHoldInput, ctx: CallContext): Promise<SupplierHold> {
    return this.call(system, 'releaseHold', input, ctx);
  }

  private entry(systemId: string): SubgraphEntry | undefined {
    const system = this.registry.system(systemId);
    const entry = system && SUBGRAPHS.find((s) => s.books?.kinds.includes(system.kind));
    return entry && this.client.has(entry.name) ? entry : undefined;
  }

  private documents(systemId: string): SupplierDocuments | undefined {
    const entry = this.entry(systemId);
    return entry ? DOCUMENTS[entry.name] : undefined;
  }

  private async call<K extends Exclude<keyof SupplierDocuments, 'topSlots'>>(
    system: string,
    op: K,
    input: NonNullable<SupplierDocuments[K]> extends Op<unknown, infer I> ? I : never,
    ctx: CallContext,
  ): Promise<NonNullable<SupplierDocuments[K]> extends Op<infer R, unknown> ? R : never> {
    const entry = this.entry(system);
    const doc = entry && DOCUMENTS[entry.name]?.[op];
    if (!entry || !doc) throw new SupplierCallError(system, 'UNROUTABLE', `no subgraph serves ${op} for this system`);
    const answer = await this.client.request(entry.name, doc as unknown as Op<unknown, typeof input>, { input }, ctx, this.timeoutMs);
    return answer.data.result as NonNullable<SupplierDocuments[K]> extends Op<infer R, unknown> ? R : never;
  }
}

/** The top-K document of the subgraph serving a registry kind, and that subgraph's name. */
export function topSlotsRoute(kind: string): { subgraph: string; doc: SupplierDocuments['topSlots'] } | undefined {
  const entry = SUBGRAPHS.find((s) => s.books?.kinds.includes(kind) && s.remote);
  const docs = entry && DOCUMENTS[entry.name];
  return entry && docs ? { subgraph: entry.name, doc: docs.topSlots } : undefined;
}
