/**
 * The two Slot Provider systems this simulator hosts, as the supplier registry (config/suppliers.sandbox.json) knows
 * them. Each is a separate FHIR server with its own base path, ASID and quirks; they differ where the real world's
 * sources disagree (spec §10), so an adapter has to honour per-provider configuration to talk to both.
 */
import { SEED_SERVICES } from '../seed/services.js';

export type TenantId = 'harbour-uec' | 'meridian-ooh';

/** The interactions of spec §2.1 that this simulator serves. */
export type Interaction =
  | 'metadata'
  | 'searchSlot'
  | 'createAppointment'
  | 'readAppointment'
  | 'updateAppointment'
  | 'searchAppointment';

const IA = 'urn:nhs:names:services:careconnect:fhir:rest';

/** JWT `requested_scope` per interaction (UEC fs_authentication.md). */
export const SCOPE_FOR: Record<Interaction, string> = {
  metadata: 'organization/slot.read',
  searchSlot: 'organization/slot.read',
  createAppointment: 'patient/appointment.write',
  readAppointment: 'patient/appointment.read',
  updateAppointment: 'patient/appointment.write',
  searchAppointment: 'patient/appointment.read',
};

export interface Tenant {
  id: TenantId;
  name: string;
  /** Path of the FHIR base on this server, e.g. `/harbour/STU3` (no trailing slash). */
  path: string;
  /** The provider's ASID: `Ssp-To` must carry it. */
  asid: string;
  /** `Ssp-InteractionID` this provider expects, per interaction. */
  interactions: Record<Interaction, string>;
  /** Status for a bad or missing JWT: the sources say 403 (NBA, TKW) or 401 (assurance scripts). */
  authFailureStatus: 401 | 403;
  /** Status for "slot no longer available": 422 (NBA, P29, TKW) or 409 (UEC er_overview.md). */
  slotTakenStatus: 409 | 422;
  /** DoS service ids whose diaries this provider holds. */
  serviceIds: ReadonlySet<string>;
}

/** Per-tenant knobs a test or a sandbox run may change. */
export type TenantOptions = Partial<Pick<Tenant, 'authFailureStatus' | 'slotTakenStatus'>>;

function interactions(searchSlot: string): Record<Interaction, string> {
  return {
    metadata: `${IA}:read:metadata`,
    searchSlot,
    createAppointment: `${IA}:create:appointment`,
    readAppointment: `${IA}:read:appointment`,
    updateAppointment: `${IA}:update:appointment`,
    searchAppointment: `${IA}:search:appointment`,
  };
}

function servicesOf(id: TenantId): ReadonlySet<string> {
  return new Set(SEED_SERVICES.filter((s) => s.endpoint?.supplierSystem === id).map((s) => s.id));
}

export function buildTenants(options: Partial<Record<TenantId, TenantOptions>> = {}): Tenant[] {
  return [
    {
      id: 'harbour-uec',
      name: 'Harbour UEC Booking',
      path: '/harbour/STU3',
      asid: '200000000101',
      // NBA 2.0.x and TKW-UEC spelling.
      interactions: interactions(`${IA}:search:slot`),
      authFailureStatus: 403,
      slotTakenStatus: 422,
      serviceIds: servicesOf('harbour-uec'),
      ...options['harbour-uec'],
    },
    {
      id: 'meridian-ooh',
      name: 'Meridian Out-of-Hours',
      path: '/meridian/fhir/STU3',
      asid: '200000000202',
      // The older UEC / SDS spelling: this provider registered "read:slot" and accepts nothing else.
      interactions: interactions(`${IA}:read:slot`),
      authFailureStatus: 403,
      slotTakenStatus: 409,
      serviceIds: servicesOf('meridian-ooh'),
      ...options['meridian-ooh'],
    },
  ];
}

/** Which tenant a request path belongs to, and the path below its FHIR base (`/Slot`, `/metadata`, ...). */
export function matchTenant(tenants: readonly Tenant[], path: string): { tenant: Tenant; rest: string } | undefined {
  for (const tenant of tenants) {
    if (path === tenant.path || path.startsWith(`${tenant.path}/`)) {
      return { tenant, rest: path.slice(tenant.path.length) || '/' };
    }
  }
  return undefined;
}
