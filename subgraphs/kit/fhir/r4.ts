/**
 * FHIR R4 resource types (`@types/fhir`), in one place for R4 adapters. Under NodeNext the package's subpath needs
 * its extension (`fhir/r4.js`, no `exports` map); importing through here keeps that detail out of the adapters.
 */
export type {
  Appointment,
  Bundle,
  BundleEntry,
  Device,
  DocumentReference,
  HealthcareService,
  Location,
  MessageHeader,
  OperationOutcome,
  Organization,
  Patient,
  Practitioner,
  PractitionerRole,
  Reference,
  Resource,
  Schedule,
  Slot,
} from 'fhir/r4.js';
