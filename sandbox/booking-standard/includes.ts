/**
 * `_include` resolution for a page of slots. Every include is applied iteratively (as `:iterate`/`:recurse`), because
 * the 1.0.x spec, the TKW autotests and the Postman collection send plain `_include=Schedule:actor:Practitioner` and
 * expect the Schedules' practitioners back, which strict non-iterative FHIR would not return. The chain is still
 * followed strictly: a Schedule's actors come only from Schedules in the result (so `Slot:schedule` is needed), and a
 * HealthcareService's organisation and location only from HealthcareServices in it. Each resource appears once.
 */
import type { Catalogue } from './catalogue.js';
import type { DiarySlot } from './diary.js';
import type { IncludeTarget } from './search-params.js';

/** Keys (`Type/id`) of the resources to include, grouped by type in a stable order. */
export function resolveIncludes(slots: readonly DiarySlot[], wanted: ReadonlySet<IncludeTarget>, c: Catalogue): string[] {
  const schedules = new Set<string>();
  const services = new Set<string>();
  const practitioners = new Set<string>();
  const roles = new Set<string>();
  const organizations = new Set<string>();
  const locations = new Set<string>();

  if (wanted.has('Slot:schedule')) for (const s of slots) schedules.add(s.scheduleId);

  for (const id of schedules) {
    const s = c.schedules.get(id)!;
    if (wanted.has('Schedule:actor:HealthcareService')) for (const id of [s.serviceId, ...(s.alsoServiceIds ?? [])]) services.add(id);
    if (wanted.has('Schedule:actor:Practitioner') && s.practitionerId) practitioners.add(s.practitionerId);
    if (wanted.has('Schedule:actor:PractitionerRole') && s.practitionerRoleId) roles.add(s.practitionerRoleId);
    if (wanted.has('Schedule:actor:Location') && s.locationId) locations.add(s.locationId);
  }
  for (const id of services) {
    const svc = c.services.get(id)!;
    if (wanted.has('HealthcareService:providedBy')) organizations.add(svc.organizationId);
    if (wanted.has('HealthcareService:location')) locations.add(svc.locationId);
  }

  const keys = (type: string, ids: Set<string>) => [...ids].map((id) => `${type}/${id}`);
  return [
    ...keys('Schedule', schedules),
    ...keys('HealthcareService', services),
    ...keys('Practitioner', practitioners),
    ...keys('PractitionerRole', roles),
    ...keys('Organization', organizations),
    ...keys('Location', locations),
  ];
}
