/**
 * Pure mapping from DoS records to this subgraph's parent objects. No I/O and no clock: the time and the
 * supplier registry are arguments, so every rule here is unit-tested on recorded DoS payloads.
 */
import { adapterFor } from '../adapters.js';
import type { DosCapacity, DosEndpoint, DosService } from './client.js';
import type { CapacityStatus, Rag, ServiceType } from './generated/resolvers.js';
import type { ServiceModel, SupplierRef } from './model.js';

/**
 * DoS service type ids (national DoS reference data) for the service types this API exposes. The types without
 * one (general practice, vaccination, imaging, other) come only from published feeds.
 */
export const DOS_SERVICE_TYPE_ID: Readonly<Partial<Record<ServiceType, number>>> = {
  EMERGENCY_DEPARTMENT: 40,
  URGENT_TREATMENT_CENTRE: 130,
  MINOR_INJURY_UNIT: 105,
  GP_OUT_OF_HOURS: 25,
  URGENT_DENTAL: 20,
  PHARMACY: 13,
};

const SERVICE_TYPE_BY_DOS_ID = new Map<number, ServiceType>(
  Object.entries(DOS_SERVICE_TYPE_ID).map(([type, id]) => [id, type as ServiceType]),
);

export function serviceTypeOfDosId(dosTypeId: number): ServiceType | null {
  return SERVICE_TYPE_BY_DOS_ID.get(dosTypeId) ?? null;
}

/**
 * DoS type ids to search for. With no types asked for, all the types this API can represent: the DoS holds many
 * more, and a service we cannot type must not count towards totalCount or take a place on a page.
 */
export function dosTypeIdsFor(types: readonly ServiceType[] | null | undefined): number[] {
  const wanted = types && types.length > 0 ? [...new Set(types)] : (Object.keys(DOS_SERVICE_TYPE_ID) as ServiceType[]);
  return wanted.flatMap((t) => DOS_SERVICE_TYPE_ID[t] ?? []).sort((a, b) => a - b);
}

/** DoS service ids are positive integers; anything else cannot name a service. */
export function isDosServiceId(id: string): boolean {
  return /^[1-9]\d{0,14}$/.test(id);
}

export type EndpointChoice =
  | { kind: 'none' }
  | { kind: 'one'; endpoint: DosEndpoint }
  | { kind: 'ambiguous'; count: number };

/**
 * The service's booking endpoint, as UEC consumer assurance picks it: the http endpoint with interaction
 * `Scheduling` (C1). More than one is a DoS profiling error and none means the referral workflow (C5 to C8);
 * both make the service referral-only. Position in the list means nothing: handover (ITK) endpoints come first.
 */
export function selectBookingEndpoint(endpoints: readonly DosEndpoint[] | null | undefined): EndpointChoice {
  const booking = (endpoints ?? []).filter(
    (e) => e.transport?.toLowerCase() === 'http' && e.interaction?.toLowerCase() === 'scheduling',
  );
  if (booking.length === 0) return { kind: 'none' };
  if (booking.length > 1) return { kind: 'ambiguous', count: booking.length };
  return { kind: 'one', endpoint: booking[0]! };
}

/** The DoS `requirebooking` attribute: present and true means no referral without a booking. */
export function isBookingRequired(attributes: DosService['attributes']): boolean {
  const attr = (attributes ?? []).find((a) => a.name?.toLowerCase() === 'requirebooking');
  return attr?.value === true || (typeof attr?.value === 'string' && attr.value.toLowerCase() === 'true');
}

const RAG_VALUES: readonly Rag[] = ['GREEN', 'AMBER', 'RED'];
const CAPACITY_REPORTED_FOR_MS = 24 * 60 * 60_000;
// A time without an offset is ambiguous between GMT and BST; we would rather drop the status than guess.
const HAS_OFFSET = /(Z|[+-]\d{2}:?\d{2})$/i;

/**
 * The DoS capacity status ("RAG") with its age. Null when the DoS did not report one, when it is unreadable, or
 * when it was set more than 24 hours ago (the DoS's own reporting rule, re-applied in case a record is held).
 */
export function toCapacityStatus(capacity: DosCapacity | null | undefined, now: Date): CapacityStatus | null {
  if (!capacity) return null;
  const rag = String(capacity.status ?? '').toUpperCase() as Rag;
  if (!RAG_VALUES.includes(rag)) return null;
  const setAt = readTime(capacity.updated);
  if (setAt === null) return null;
  const age = now.getTime() - setAt.getTime();
  if (age > CAPACITY_REPORTED_FOR_MS) return null;
  const resetAt = rag === 'GREEN' ? null : readTime(capacity.resetDateTime);
  return {
    rag,
    setAt: setAt.toISOString(),
    // A status set a moment "in the future" is clock skew between us and the DoS, not a negative age.
    ageMinutes: Math.max(0, Math.floor(age / 60_000)),
    resetAt: resetAt?.toISOString() ?? null,
  };
}

function readTime(value: string | null | undefined): Date | null {
  if (typeof value !== 'string' || !HAS_OFFSET.test(value)) return null;
  const t = Date.parse(value);
  return Number.isNaN(t) ? null : new Date(t);
}

/** Finds a supplier system by registry id; only systems the registry lists are known to this deployment. */
export type SupplierLookup = (systemId: string) => SupplierRef | undefined;

export interface MapContext {
  suppliers: SupplierLookup;
  now: Date;
}

export type MapResult = { ok: true; service: ServiceModel } | { ok: false; reason: string };

/**
 * A DoS record as a HealthcareService parent object, its concrete type decided here: the service type of the adapter
 * serving the system its one booking endpoint names in our registry (BookingStandardService, PasRestService, ...:
 * subgraphs/adapters.ts), ReferralOnlyService otherwise.
 * Records this API cannot represent (a service type outside ServiceType, no usable location) are refused with
 * a reason for the log rather than half-mapped.
 */
export function toServiceModel(record: DosService, ctx: MapContext): MapResult {
  const id = String(record.id ?? '');
  if (!isDosServiceId(id)) return { ok: false, reason: 'record without a numeric service id' };
  const serviceType = serviceTypeOfDosId(Number(record.serviceType?.id));
  if (!serviceType) return { ok: false, reason: `service ${id}: DoS service type ${String(record.serviceType?.id)} is not exposed` };
  const lat = record.location?.latitude;
  const lon = record.location?.longitude;
  if (typeof lat !== 'number' || typeof lon !== 'number' || !Number.isFinite(lat) || !Number.isFinite(lon)) {
    return { ok: false, reason: `service ${id}: no usable location` };
  }
  const postcode = record.address?.postcode?.trim();
  if (!postcode) return { ok: false, reason: `service ${id}: no postcode` };
  const name = (record.name || record.publicName || '').trim();
  if (!name) return { ok: false, reason: `service ${id}: no name` };

  const base = {
    id,
    name,
    odsCode: record.odsCode?.trim() || null,
    serviceType,
    serviceTypeName: record.serviceType.name,
    location: {
      // The DoS maps services sharing a building separately; without a site id a service is its own site.
      siteId: record.siteId?.trim() || `dos-service-${id}`,
      addressLines: (record.address.lines ?? []).filter((l) => typeof l === 'string' && l.trim() !== ''),
      town: record.address.town?.trim() || null,
      postcode,
      lat,
      lon,
    },
    bookingRequired: isBookingRequired(record.attributes),
    capacityStatus: toCapacityStatus(record.capacity, ctx.now),
  };

  const choice = selectBookingEndpoint(record.endpoints);
  const system = choice.kind === 'one' && choice.endpoint.supplierSystem ? ctx.suppliers(choice.endpoint.supplierSystem) : undefined;
  // The adapter serving the system's kind decides the type; feed services never come from DoS records.
  const directory = system && adapterFor(system.kind)?.directory;
  if (system && directory?.listedFrom === 'dos') {
    return { ok: true, service: { ...base, __typename: directory.typename, bookable: true, supplier: system } };
  }
  // A system we list under another kind keeps its name (the service is still theirs); no adapter here books it.
  return { ok: true, service: { ...base, __typename: 'ReferralOnlyService', bookable: false, supplier: system ?? null } };
}
