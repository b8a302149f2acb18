/**
 * FHIR STU3 CareConnect resources built from the catalogue and the diary. Pure functions; the shapes follow spec §5
 * (and the NBA examples) rather than anything a particular adapter finds convenient.
 */
import { SERVICE_TYPES } from '../seed/services.js';
import type {
  Catalogue,
  LocationDef,
  OrganizationDef,
  PractitionerDef,
  PractitionerRoleDef,
  ScheduleDef,
  ServiceDef,
} from './catalogue.js';
import { uuidOf, type DiarySlot, type SlotStatus } from './diary.js';
import type { TenantId } from './tenants.js';

export type FhirResource = { resourceType: string; id: string } & Record<string, unknown>;

const CC = 'https://fhir.hl7.org.uk/STU3/StructureDefinition';
export const PROFILE = {
  slot: `${CC}/CareConnect-Slot-1`,
  schedule: `${CC}/CareConnect-Schedule-1`,
  healthcareService: `${CC}/CareConnect-HealthcareService-1`,
  organization: `${CC}/CareConnect-Organization-1`,
  location: `${CC}/CareConnect-Location-1`,
  practitioner: `${CC}/CareConnect-Practitioner-1`,
  practitionerRole: `${CC}/CareConnect-PractitionerRole-1`,
  appointment: `${CC}/CareConnect-Appointment-1`,
  patient: `${CC}/CareConnect-Patient-1`,
  documentReference: `${CC}/CareConnect-DocumentReference-1`,
} as const;

export const SYSTEM = {
  uuid: 'https://tools.ietf.org/html/rfc4122',
  dosServiceId: 'https://fhir.nhs.uk/Id/dos-service-id',
  odsOrganization: 'https://fhir.nhs.uk/Id/ods-organization-code',
  odsSite: 'https://fhir.nhs.uk/Id/ods-site-code',
  sdsUserId: 'https://fhir.nhs.uk/Id/sds-user-id',
  sdsRoleProfileId: 'https://fhir.nhs.uk/Id/sds-role-profile-id',
  sdsJobRole: 'https://fhir.hl7.org.uk/STU3/CodeSystem/CareConnect-SDSJobRoleName-1',
  nhsNumber: 'https://fhir.nhs.uk/Id/nhs-number',
} as const;

export const DELIVERY_CHANNEL_EXTENSION = 'https://fhir.nhs.uk/STU3/StructureDefinition/Extension-GPConnect-DeliveryChannel-2';

/** Supplier-local identifier system: real provider systems number their own records. */
function localSystem(tenantId: string, kind: string): string {
  return `https://${tenantId}.sandbox.invalid/Id/${kind}`;
}

export function slotResource(tenantId: TenantId, slot: DiarySlot, status: SlotStatus): FhirResource {
  return {
    resourceType: 'Slot',
    id: slot.id,
    meta: { profile: [PROFILE.slot] },
    ...(slot.deliveryChannel ? { extension: [{ url: DELIVERY_CHANNEL_EXTENSION, valueCode: slot.deliveryChannel }] } : {}),
    identifier: [{ system: SYSTEM.uuid, value: uuidOf(tenantId, slot) }],
    schedule: { reference: `Schedule/${slot.scheduleId}` },
    status,
    start: slot.start,
    end: slot.end,
  };
}

export function scheduleResource(c: Catalogue, s: ScheduleDef): FhirResource {
  const service = c.services.get(s.serviceId)!;
  const actor: Array<{ reference: string; display?: string }> = [
    { reference: `HealthcareService/${s.serviceId}`, display: service.seed.name },
    // A diary mapped to several DoS services names each (Schedule.actor allows at most three entries in all).
    ...(s.alsoServiceIds ?? []).map((id) => ({ reference: `HealthcareService/${id}`, display: c.services.get(id)!.seed.name })),
  ];
  if (s.practitionerId) actor.push({ reference: `Practitioner/${s.practitionerId}`, display: practitionerDisplay(c.practitioners.get(s.practitionerId)!) });
  if (s.practitionerRoleId) actor.push({ reference: `PractitionerRole/${s.practitionerRoleId}` });
  if (s.locationId && actor.length < 3) actor.push({ reference: `Location/${s.locationId}`, display: c.locations.get(s.locationId)!.name });
  return {
    resourceType: 'Schedule',
    id: s.id,
    meta: { profile: [PROFILE.schedule] },
    identifier: [{ system: localSystem(c.tenantId, 'schedule'), value: s.id }],
    active: true,
    serviceType: [{ text: s.name }],
    actor,
    comment: s.name,
  };
}

export function healthcareServiceResource(c: Catalogue, svc: ServiceDef): FhirResource {
  const { seed } = svc;
  return {
    resourceType: 'HealthcareService',
    // The DoS service id is the logical id (it is what schedule.actor:healthcareservice matches) and, as BaRS does,
    // an identifier too; spec §5.3 notes the sources put it in either place.
    id: seed.id,
    meta: { profile: [PROFILE.healthcareService] },
    identifier: [
      { system: SYSTEM.dosServiceId, value: seed.id },
      { system: localSystem(c.tenantId, 'service'), value: `svc-${seed.id}` },
    ],
    active: true,
    providedBy: { reference: `Organization/${svc.organizationId}`, display: c.organizations.get(svc.organizationId)!.name },
    type: [{ text: SERVICE_TYPES[seed.type].name }],
    location: [{ reference: `Location/${svc.locationId}` }],
    name: seed.name,
  };
}

export function organizationResource(o: OrganizationDef): FhirResource {
  return {
    resourceType: 'Organization',
    id: o.id,
    meta: { profile: [PROFILE.organization] },
    identifier: [{ system: SYSTEM.odsOrganization, value: o.odsCode }],
    active: true,
    type: [{ coding: [{ system: 'http://hl7.org/fhir/organization-type', code: 'prov', display: 'Healthcare Provider' }] }],
    name: o.name,
  };
}

export function locationResource(l: LocationDef): FhirResource {
  return {
    resourceType: 'Location',
    id: l.id,
    meta: { profile: [PROFILE.location] },
    identifier: [{ system: SYSTEM.odsSite, value: l.siteCode }],
    status: 'active',
    name: l.name,
    address: { use: 'work', line: l.address.lines, city: l.address.town, postalCode: l.address.postcode },
    physicalType: { coding: [{ system: 'http://hl7.org/fhir/location-physical-type', code: 'bu', display: 'Building' }] },
    position: { longitude: l.lon, latitude: l.lat },
    managingOrganization: { reference: `Organization/${l.organizationId}` },
  };
}

export function practitionerResource(p: PractitionerDef): FhirResource {
  return {
    resourceType: 'Practitioner',
    id: p.id,
    meta: { profile: [PROFILE.practitioner] },
    identifier: [
      { system: SYSTEM.sdsUserId, value: p.sdsUserId },
      { system: SYSTEM.sdsRoleProfileId, value: p.sdsRoleProfileId },
    ],
    active: true,
    name: [{ use: 'official', family: p.family, given: [p.given], prefix: p.prefix }],
    gender: p.gender,
  };
}

export function practitionerRoleResource(r: PractitionerRoleDef): FhirResource {
  return {
    resourceType: 'PractitionerRole',
    id: r.id,
    meta: { profile: [PROFILE.practitionerRole] },
    active: true,
    practitioner: { reference: `Practitioner/${r.practitionerId}` },
    organization: { reference: `Organization/${r.organizationId}` },
    code: [{ coding: [{ system: SYSTEM.sdsJobRole, code: r.code, display: r.display }], text: r.text }],
  };
}

/** Every non-Slot resource of a provider, keyed `Type/id`. They never change, so they are built once. */
export function staticResources(c: Catalogue): Map<string, FhirResource> {
  const out = new Map<string, FhirResource>();
  const add = (r: FhirResource) => out.set(`${r.resourceType}/${r.id}`, r);
  for (const s of c.services.values()) add(healthcareServiceResource(c, s));
  for (const s of c.schedules.values()) add(scheduleResource(c, s));
  for (const o of c.organizations.values()) add(organizationResource(o));
  for (const l of c.locations.values()) add(locationResource(l));
  for (const p of c.practitioners.values()) add(practitionerResource(p));
  for (const r of c.practitionerRoles.values()) add(practitionerRoleResource(r));
  return out;
}

function practitionerDisplay(p: PractitionerDef): string {
  return `${p.prefix.join(' ')} ${p.given} ${p.family}`.trim();
}
