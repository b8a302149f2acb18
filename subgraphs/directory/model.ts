/**
 * The parent objects this subgraph's resolvers return (codegen maps the entity types to these). A service is
 * fully mapped from its DoS record before any field is resolved, so field resolvers stay trivial and the
 * concrete GraphQL type is decided once, in map.ts.
 */
import type { Adapter } from '../adapters.js';
import type { CapacityStatus, ServiceLocation, ServiceType, SupplierKind } from './generated/resolvers.js';

export interface SupplierRef {
  id: string;
  kind: SupplierKind;
  name: string;
}

interface ServiceModelBase {
  /** The DoS service id. */
  id: string;
  name: string;
  odsCode: string | null;
  serviceType: ServiceType;
  serviceTypeName: string;
  location: ServiceLocation;
  bookingRequired: boolean;
  capacityStatus: CapacityStatus | null;
}

/**
 * A service of a supplier adapter's own type (its descriptor's `directory.typename`, subgraphs/adapters.ts): from a
 * DoS record whose one booking endpoint names a system of that adapter's kind in our registry (bookable through this
 * gateway), or from the SMART feeds the directory reads (booked on the provider's side).
 */
export interface SupplierServiceModel extends ServiceModelBase {
  __typename: Adapter['directory']['typename'];
  bookable: boolean;
  supplier: SupplierRef;
}

/** A location and service type published in a SMART Scheduling Links feed; booked on the provider's side. */
export interface FeedServiceModel extends SupplierServiceModel {
  bookable: false;
  phone: string | null;
  website: string | null;
}

/** Every other service: no booking endpoint, several, or one on a system this deployment cannot book through. */
export interface ReferralOnlyServiceModel extends ServiceModelBase {
  __typename: 'ReferralOnlyService';
  bookable: false;
  supplier: SupplierRef | null;
}

export type ServiceModel = SupplierServiceModel | FeedServiceModel | ReferralOnlyServiceModel;
