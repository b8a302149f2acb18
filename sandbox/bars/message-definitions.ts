/**
 * The receiver's MessageDefinitions (GET /MessageDefinition?context=<DoS id>): what a booking and a cancellation
 * message must carry. The $process-message validator enforces exactly these `focus` minimums, so what a sender reads
 * here is what it is held to.
 */
import { BARS_SERVICES } from './services.js';

export interface FocusRule {
  code: string;
  profile: string;
  min: number;
  max: string;
}

const UK = 'https://fhir.hl7.org.uk/StructureDefinition/UKCore-';
const rule = (code: string, min: number, profile = `${UK}${code}`, max = min === 0 ? '*' : '1'): FocusRule => ({ code, profile, min, max });

export const BOOKING_REQUEST_URL = 'https://fhir.nhs.uk/MessageDefinition/bars-message-booking-request';
export const BOOKING_CANCELLED_URL = 'https://fhir.nhs.uk/MessageDefinition/bars-message-booking-request-cancelled';

export const BOOKING_FOCUS: FocusRule[] = [
  rule('Bundle', 1, 'https://fhir.nhs.uk/StructureDefinition/BARSBundleMessage'),
  rule('MessageHeader', 1, 'https://fhir.nhs.uk/StructureDefinition/BARSMessageHeader-booking-request'),
  rule('Appointment', 1),
  rule('Patient', 1),
  rule('Slot', 1),
  rule('Schedule', 1),
  rule('HealthcareService', 1),
  rule('Organization', 1, `${UK}Organization`, '*'),
  rule('Location', 0),
  rule('Practitioner', 0),
  rule('PractitionerRole', 0),
  rule('ServiceRequest', 0, 'https://fhir.nhs.uk/StructureDefinition/BARSServiceRequest-request-referral'),
  rule('Encounter', 0),
];

export const CANCEL_FOCUS: FocusRule[] = [
  rule('Bundle', 1, 'https://fhir.nhs.uk/StructureDefinition/BARSBundleMessage'),
  rule('MessageHeader', 1, 'https://fhir.nhs.uk/StructureDefinition/BARSMessageHeader-booking-request'),
  rule('Appointment', 1),
  rule('Patient', 0),
  rule('Organization', 0),
];

function definition(serviceId: string, url: string, title: string, focus: FocusRule[], id: string): unknown {
  return {
    resourceType: 'MessageDefinition',
    id,
    meta: { profile: ['https://fhir.nhs.uk/StructureDefinition/BARSMessageDefinition'] },
    url,
    name: title,
    title,
    status: 'active',
    date: '2026-01-05',
    eventCoding: { system: 'https://fhir.nhs.uk/CodeSystem/message-events-bars', code: 'booking-request' },
    useContext: [
      {
        code: [
          { system: 'https://fhir.nhs.uk/CodeSystem/dos-id', code: serviceId },
          { system: 'https://fhir.nhs.uk/CodeSystem/usecases-categories-bars', code: 'booking' },
        ],
        valueCodeableConcept: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/variant-state', code: 'positive' }] },
      },
    ],
    focus,
  };
}

/** Every MessageDefinition of the services matching `serviceId`. */
export function messageDefinitions(serviceId: string): unknown[] {
  return BARS_SERVICES.filter((s) => s.id === serviceId).flatMap((s) => [
    definition(s.id, BOOKING_REQUEST_URL, 'BaRS Message Definition Booking - Request', BOOKING_FOCUS, `md-${s.id}-booking-request`),
    definition(s.id, BOOKING_CANCELLED_URL, 'BaRS Message Definition Booking - Request Cancelled', CANCEL_FOCUS, `md-${s.id}-booking-request-cancelled`),
  ]);
}
