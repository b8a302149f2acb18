/**
 * GET /metadata. With NHSD-Target-Identifier: the receiver's own CapabilityStatement (what this simulator implements:
 * Slot search, Appointment read and patient search, $process-message for bookings). Without it: the BaRS proxy's
 * CapabilityStatement, as the spec says ("by calling this endpoint and omitting the NHSD-Target-Identifier header").
 * Shapes follow examples/metadata/BaRS_API_Capability_Statement.json.
 */
import { BOOKING_CANCELLED_URL, BOOKING_REQUEST_URL } from './message-definitions.js';

const SLOT_INCLUDES = [
  'Slot:schedule',
  'Schedule:actor:Practitioner',
  'Schedule:actor:PractitionerRole',
  'Schedule:actor:HealthcareService',
  'HealthcareService.providedBy',
  'HealthcareService:location',
];

const security = (code: string) => ({
  service: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/restful-security-service', code, display: code }] }],
});

export function receiverCapability(baseUrl: string, serviceId: string): unknown {
  return {
    resourceType: 'CapabilityStatement',
    id: `bars-sandbox-receiver-${serviceId}`,
    url: `${baseUrl}/metadata`,
    name: 'BaRS Sandbox Receiver CapabilityStatement',
    status: 'active',
    version: '1.0.0',
    experimental: true,
    date: '2026-01-05',
    publisher: 'NHS booking gateway sandbox',
    kind: 'instance',
    description: `Sandbox BaRS receiver for DoS service ${serviceId}: slot search and booking (booking-request, new and cancelled).`,
    software: { name: 'bars-sandbox', version: '1.0.0' },
    implementation: { description: 'BaRS sandbox receiver', url: baseUrl },
    fhirVersion: '4.0.1',
    format: ['json'],
    rest: [
      {
        mode: 'server',
        security: security('OAuth'),
        resource: [
          { type: 'CapabilityStatement', interaction: [{ code: 'read' }], versioning: 'no-version' },
          {
            type: 'MessageDefinition',
            interaction: [{ code: 'search-type' }],
            versioning: 'no-version',
            searchParam: [{ name: 'context', type: 'token', documentation: 'The target service identifier (DoS id), system|value or value.' }],
          },
          {
            type: 'Appointment',
            interaction: [{ code: 'read' }, { code: 'search-type' }],
            versioning: 'no-version',
            searchParam: [{ name: 'patient:identifier', type: 'token', documentation: 'NHS Number (system must be https://fhir.nhs.uk/Id/nhs-number)' }],
          },
          {
            type: 'Slot',
            interaction: [{ code: 'search-type' }],
            versioning: 'no-version',
            searchInclude: SLOT_INCLUDES,
            searchParam: [
              { name: 'start', type: 'date' },
              { name: 'status', type: 'token' },
              { name: 'Schedule.actor:HealthcareService', type: 'token' },
            ],
          },
        ],
        operation: [{ name: '$process-message', definition: 'http://hl7.org/fhir/OperationDefinition/MessageHeader-process-message' }],
      },
    ],
    messaging: [
      {
        endpoint: [{ protocol: { code: 'http' }, address: baseUrl }],
        supportedMessage: [
          { mode: 'receiver', definition: BOOKING_REQUEST_URL },
          { mode: 'receiver', definition: BOOKING_CANCELLED_URL },
        ],
      },
    ],
  };
}

/** The proxy's own statement: every message the standard defines, both roles. */
export function proxyCapability(baseUrl: string): unknown {
  const messages = [
    'servicerequest-request-validation', 'servicerequest-response-validation-interim', 'servicerequest-response-validation-full',
    'servicerequest-request-referral', 'servicerequest-response-referral', 'servicerequest-request-cancelled',
    'booking-request', 'booking-request-cancelled', 'servicerequest-response-referral-short',
  ].map((m) => `https://fhir.nhs.uk/MessageDefinition/bars-message-${m}`);
  return {
    resourceType: 'CapabilityStatement',
    id: 'bars-sandbox-proxy',
    url: baseUrl,
    name: 'BaRS FHIR Server CapabilityStatement',
    status: 'active',
    version: '1.0.0',
    experimental: true,
    date: '2026-01-05',
    publisher: 'NHS booking gateway sandbox',
    kind: 'instance',
    software: { name: 'bars-sandbox-proxy', version: '1.0.0' },
    implementation: { description: 'BaRS FHIR Server (sandbox proxy)', url: baseUrl },
    fhirVersion: '4.0.1',
    format: ['json'],
    rest: [{ mode: 'server', security: security('OAuth'), resource: [], operation: [{ name: '$process-message', definition: 'http://hl7.org/fhir/OperationDefinition/MessageHeader-process-message' }] }],
    messaging: [
      {
        endpoint: [{ protocol: { code: 'http' }, address: baseUrl }],
        supportedMessage: messages.flatMap((definition) => [{ mode: 'sender', definition }, { mode: 'receiver', definition }]),
      },
    ],
  };
}
