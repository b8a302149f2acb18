/**
 * FHIR R4 (UK Core) resources of a BaRS service as a slot search returns them (examples/slots/GET-success.json):
 * entries keyed by `urn:uuid:` fullUrls and referenced by them, each resource with its own logical id; the
 * HealthcareService id is the DoS service id.
 */
import { uuidV5 } from '../booking-standard/prng.js';
import { barsInstant, type BarsSlot, type SlotStatus } from './diary.js';
import { DOS_SERVICE_ID_SYSTEM, ODS_SYSTEM } from './headers.js';
import type { BarsSchedule, BarsService } from './services.js';

export type Resource = { resourceType: string; id: string } & Record<string, unknown>;

export interface Entry {
  fullUrl: string;
  resource: Resource;
  search?: { mode: 'match' | 'include' };
}

const UKCORE = 'https://fhir.hl7.org.uk/StructureDefinition/UKCore-';
const LAST_UPDATED = '2026-01-05T09:00:00+00:00';

export function urnFor(resourceType: string, id: string): string {
  return `urn:uuid:${uuidV5(`bars/${resourceType}/${id}`)}`;
}

export const scheduleId = (service: BarsService, schedule: BarsSchedule) => `sched-${service.id}-${schedule.key}`;
export const locationId = (service: BarsService) => `loc-${service.id}`;
export const organizationId = (service: BarsService) => `org-${service.odsCode}`;
export const roleId = (schedule: BarsSchedule) => `role-${schedule.practitioner!.id}`;

export function slotResource(service: BarsService, slot: BarsSlot, status: SlotStatus): Resource {
  const schedule = service.schedules.find((s) => s.key === slot.scheduleKey)!;
  return {
    resourceType: 'Slot',
    id: slot.id,
    meta: { lastUpdated: LAST_UPDATED, profile: ['http://hl7.org/fhir/StructureDefinition/Slot', `${UKCORE}Slot`] },
    extension: [{ url: 'https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-DeliveryChannel', valueCode: slot.channel }],
    serviceCategory: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/service-category', ...service.category }] }],
    appointmentType: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0276', code: 'EMERGENCY', display: 'Emergency appointment' }] },
    schedule: { reference: urnFor('Schedule', scheduleId(service, schedule)) },
    status,
    start: barsInstant(slot.startMs),
    end: barsInstant(slot.endMs),
  };
}

export function scheduleResource(service: BarsService, schedule: BarsSchedule): Resource {
  const actor = [{ reference: urnFor('HealthcareService', service.id) }];
  if (schedule.practitioner) {
    actor.push({ reference: urnFor('PractitionerRole', roleId(schedule)) }, { reference: urnFor('Practitioner', schedule.practitioner.id) });
  }
  return {
    resourceType: 'Schedule',
    id: scheduleId(service, schedule),
    meta: { lastUpdated: LAST_UPDATED, profile: ['http://hl7.org/fhir/StructureDefinition/Schedule', `${UKCORE}Schedule`] },
    identifier: [{ system: 'https://sandbox.bars.invalid/Diary/id', value: uuidV5(`bars/diary/${service.id}/${schedule.key}`) }],
    serviceCategory: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/service-category', ...service.category }] }],
    actor,
  };
}

export function healthcareServiceResource(service: BarsService): Resource {
  return {
    resourceType: 'HealthcareService',
    id: service.id,
    meta: { lastUpdated: LAST_UPDATED, profile: ['http://hl7.org/fhir/StructureDefinition/HealthcareService', `${UKCORE}HealthcareService`] },
    identifier: [{ system: DOS_SERVICE_ID_SYSTEM, value: service.id }],
    providedBy: { reference: urnFor('Organization', organizationId(service)) },
    location: [{ reference: urnFor('Location', locationId(service)) }],
    name: service.name,
  };
}

export function locationResource(service: BarsService): Resource {
  return {
    resourceType: 'Location',
    id: locationId(service),
    meta: { lastUpdated: LAST_UPDATED, profile: [`${UKCORE}Location`] },
    name: service.name,
    address: { line: service.address.lines, city: service.address.town, postalCode: service.address.postcode },
    position: { longitude: service.lon, latitude: service.lat },
  };
}

export function organizationResource(service: BarsService): Resource {
  return {
    resourceType: 'Organization',
    id: organizationId(service),
    meta: { lastUpdated: LAST_UPDATED, profile: [`${UKCORE}Organization`] },
    identifier: [{ system: ODS_SYSTEM, value: service.odsCode }],
    name: service.providerName,
  };
}

export function practitionerResource(schedule: BarsSchedule): Resource {
  const p = schedule.practitioner!;
  return {
    resourceType: 'Practitioner',
    id: p.id,
    meta: { lastUpdated: LAST_UPDATED, profile: [`${UKCORE}Practitioner`] },
    identifier: [
      { system: 'https://fhir.nhs.uk/Id/sds-user-id', value: p.sdsUserId },
      { system: 'https://fhir.nhs.uk/Id/sds-role-profile-id', value: p.roleProfileId },
    ],
    name: [{ family: p.family, given: [p.given], prefix: [p.prefix] }],
  };
}

export function practitionerRoleResource(schedule: BarsSchedule): Resource {
  const p = schedule.practitioner!;
  return {
    resourceType: 'PractitionerRole',
    id: roleId(schedule),
    meta: { lastUpdated: LAST_UPDATED, profile: [`${UKCORE}PractitionerRole`] },
    practitioner: { reference: urnFor('Practitioner', p.id) },
    code: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/practitioner-role', code: p.roleCode, display: p.roleDisplay }] }],
  };
}

export function entry(resource: Resource, mode?: 'match' | 'include'): Entry {
  return { fullUrl: urnFor(resource.resourceType, resource.id), resource, ...(mode ? { search: { mode } } : {}) };
}
