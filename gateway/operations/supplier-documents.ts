/**
 * The operations the gateway sends each supplier subgraph: documents/supplier.graphql, written and typed once under
 * the placeholder prefix `supplier`, with each adapter's prefix put on the root field and the operation name
 * (supplierTopSlots → pasRestTopSlots in PasRestTopSlots). Derived from the adapters' descriptors, so a new adapter
 * needs nothing here; `npm run compose` checks every adapter's documents against its own schema
 * (checkSupplierDocuments), as codegen checks the template against the shared contract.
 */
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { Kind, buildASTSchema, validate, visit, type DocumentNode, type GraphQLError } from 'graphql';
import * as Supplier from './generated/supplier.js';

export type SupplierOutcome = Supplier.SupplierOutcomeFieldsFragment & { handoff?: Supplier.SupplierBookMutation['result']['handoff'] };
export type SupplierAppointment = NonNullable<Supplier.SupplierOutcomeFieldsFragment['appointment']>;
export type SupplierAppointmentList = Supplier.SupplierAppointmentListFieldsFragment;
export type SupplierOutcomeCode = Supplier.SupplierOutcomeCode;
export type SupplierTopSlots = Supplier.TopSlotsFieldsFragment;
export type SupplierTopSlotsInput = Supplier.SupplierTopSlotsInput;
export type SupplierBookingInput = Supplier.SupplierBookingInput;
export type SupplierCancelInput = Supplier.SupplierCancelInput;
export type SupplierAppointmentInput = Supplier.SupplierAppointmentInput;
export type SupplierPatientAppointmentsInput = Supplier.SupplierPatientAppointmentsInput;
export type SupplierHold = Supplier.SupplierHoldFieldsFragment;
export type SupplierHoldInput = Supplier.SupplierHoldInput;
export type SupplierReleaseHoldInput = Supplier.SupplierReleaseHoldInput;

export type Op<R, I> = TypedDocumentNode<{ result: R }, { input: I }>;

/** What a supplier subgraph is sent; one without an operation does not serve it (feeds hold no appointments). */
export interface SupplierDocuments {
  topSlots: Op<SupplierTopSlots, SupplierTopSlotsInput>;
  book: Op<SupplierOutcome, SupplierBookingInput>;
  cancel?: Op<SupplierOutcome, SupplierCancelInput>;
  appointment?: Op<SupplierOutcome, SupplierAppointmentInput>;
  patientAppointments?: Op<SupplierAppointmentList, SupplierPatientAppointmentsInput>;
  /** Only where the supplier holds slots itself (`holds`). */
  holdSlot?: Op<SupplierHold, SupplierHoldInput>;
  releaseHold?: Op<SupplierHold, SupplierReleaseHoldInput>;
}

/** The part of a descriptor's subgraph (kit/adapter.ts) the documents depend on. */
export interface SupplierOperations {
  prefix: string;
  handoffOnly?: boolean;
  holds?: boolean;
}

const PLACEHOLDER = 'supplier';

/** The template with `prefix` on every root field and operation name (fragments are shared as they are). */
function withPrefix<T extends DocumentNode>(doc: T, prefix: string): T {
  const pascal = prefix[0]!.toUpperCase() + prefix.slice(1);
  const placeholderPascal = 'Supplier';
  return visit(doc, {
    OperationDefinition(op) {
      const selections = op.selectionSet.selections.map((sel) =>
        sel.kind === Kind.FIELD && sel.name.value.startsWith(PLACEHOLDER)
          ? { ...sel, name: { ...sel.name, value: prefix + sel.name.value.slice(PLACEHOLDER.length) } }
          : sel,
      );
      const name = op.name && op.name.value.startsWith(placeholderPascal) ? { ...op.name, value: pascal + op.name.value.slice(placeholderPascal.length) } : op.name;
      return { ...op, ...(name ? { name } : {}), selectionSet: { ...op.selectionSet, selections } };
    },
  }) as T;
}

/** The documents a supplier subgraph with this prefix is sent. */
export function supplierDocuments(ops: SupplierOperations): SupplierDocuments {
  const docs: SupplierDocuments = {
    topSlots: withPrefix(Supplier.SupplierTopSlotsDocument, ops.prefix),
    book: withPrefix(Supplier.SupplierBookDocument, ops.prefix),
  };
  if (ops.handoffOnly) return docs;
  return {
    ...docs,
    cancel: withPrefix(Supplier.SupplierCancelDocument, ops.prefix),
    appointment: withPrefix(Supplier.SupplierAppointmentDocument, ops.prefix),
    patientAppointments: withPrefix(Supplier.SupplierPatientAppointmentsDocument, ops.prefix),
    ...(ops.holds
      ? { holdSlot: withPrefix(Supplier.SupplierHoldSlotDocument, ops.prefix), releaseHold: withPrefix(Supplier.SupplierReleaseHoldDocument, ops.prefix) }
      : {}),
  };
}

/**
 * Every document the gateway sends a supplier subgraph, validated against that subgraph's own schema (its SDL as it
 * serves it): the errors, each naming the operation; none when the subgraph serves them all.
 */
export function checkSupplierDocuments(ops: SupplierOperations, typeDefs: DocumentNode): string[] {
  // Its SDL as GraphQL types: the federation directives play no part in whether an operation is valid against it.
  const schema = buildASTSchema(typeDefs, { assumeValidSDL: true });
  return Object.entries(supplierDocuments(ops)).flatMap(([op, doc]) =>
    validate(schema, doc as DocumentNode).map((e: GraphQLError) => `${op}: ${e.message}`),
  );
}
