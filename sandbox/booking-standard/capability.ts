/**
 * The CapabilityStatement a Booking Standard 2.0.x provider publishes at `[base]/metadata` (spec §2.2, NBA
 * capabilitystatement.md). Consumers read `version` to choose the booking payload style (1.x literal Slot reference
 * vs 2.x contained Slot), so it must say 2.0.1.
 */
import { PROFILE } from './resources.js';
import type { Tenant } from './tenants.js';

export const BOOKING_SPEC_VERSION = '2.0.1';

export function capabilityStatement(tenant: Tenant, baseUrl: string): Record<string, unknown> {
  return {
    resourceType: 'CapabilityStatement',
    id: `${tenant.id}-capability`,
    version: BOOKING_SPEC_VERSION,
    name: 'NHS Booking Standard Slot Provider',
    status: 'active',
    date: '2021-06-22',
    publisher: tenant.name,
    description: `${tenant.name}: NHS Booking Standard (STU3) Slot Provider (sandbox simulator)`,
    kind: 'instance',
    software: { name: tenant.name, version: '2.0.1-sandbox' },
    implementation: { description: `${tenant.name} FHIR endpoint`, url: baseUrl },
    fhirVersion: '3.0.1',
    acceptUnknown: 'both',
    // The template lists XML as well; this provider answers XML requests with 501, so it advertises JSON only.
    format: ['application/fhir+json'],
    profile: Object.values(PROFILE).map((reference) => ({ reference })),
    rest: [
      {
        mode: 'server',
        security: {
          cors: false,
          description: 'Unsigned consumer JWT (alg none) in a Bearer Authorization header; calls only via the Spine Secure Proxy',
        },
        resource: [
          {
            type: 'Appointment',
            profile: { reference: PROFILE.appointment },
            // Cancellation is a PUT, yet the published template lists no "update" interaction; kept as published.
            interaction: [{ code: 'read' }, { code: 'create' }, { code: 'search-type' }],
            versioning: 'versioned',
            readHistory: true,
            updateCreate: false,
            searchParam: [
              {
                name: 'identifier',
                type: 'token',
                documentation:
                  'NHS number of the patient, e.g. https://fhir.nhs.uk/Id/nhs-number|9476719931; with any other system, an identifier of the Appointment itself',
              },
              { name: '_id', type: 'token', documentation: 'Logical id of the appointment' },
              { name: 'version', type: 'token', documentation: 'Version of the appointment' },
            ],
          },
          {
            type: 'Slot',
            profile: { reference: PROFILE.slot },
            interaction: [{ code: 'search-type' }],
            searchInclude: [
              'Slot.schedule',
              'Schedule:actor:Practitioner',
              'Schedule:actor:PractitionerRole',
              'Schedule:actor:HealthcareService',
              'HealthcareService.providedBy',
              'HealthcareService:location',
            ],
            searchParam: [
              {
                name: 'service',
                definition: 'https://fhir.nhs.uk/STU3/SearchParameter/apiBooking-SearchSlots-Service-1',
                type: 'token',
                documentation: 'DoS service id, sent as schedule.actor:healthcareservice=<id>',
              },
              { name: 'status', type: 'token', documentation: 'Slot status; several values comma-separated' },
              { name: 'start', type: 'date', documentation: 'Slot start, repeated: ge/gt lower bound and le/lt upper bound' },
            ],
          },
        ],
      },
    ],
  };
}
