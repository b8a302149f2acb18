/**
 * The parent objects this subgraph's resolvers return (codegen maps the entity types to these). A service is
 * fully mapped from its DoS record before any field is resolved, so field resolvers stay trivial and the
 * concrete GraphQL type is decided once, in map.ts.
 */
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

/** A service whose booking endpoint belongs to a Booking Standard supplier system in our registry. */
export interface BookingStandardServiceModel extends ServiceModelBase {
  __typename: 'BookingStandardService';
  bookable: true;
  supplier: SupplierRef;
}

/** A service whose booking endpoint belongs to a proprietary PAS (REST) supplier system in our registry. */
export interface PasRestServiceModel extends ServiceModelBase {
  __typename: 'PasRestService';
  bookable: true;
  supplier: SupplierRef;
}

/** A location and service type published in a SMART Scheduling Links feed; booked on the provider's side. */
export interface SmartLinksServiceModel extends ServiceModelBase {
  __typename: 'SmartLinksService';
  bookable: false;
  supplier: SupplierRef;
  phone: string | null;
  website: string | null;
}

/** Every other service: no booking endpoint, several, or one on a system this deployment cannot book through. */
export interface ReferralOnlyServiceModel extends ServiceModelBase {
  __typename: 'ReferralOnlyService';
  bookable: false;
  supplier: SupplierRef | null;
}

export type ServiceModel = BookingStandardServiceModel | PasRestServiceModel | SmartLinksServiceModel | ReferralOnlyServiceModel;
