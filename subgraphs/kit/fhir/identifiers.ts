/**
 * Identifier and code systems every NHS FHIR adapter (STU3 Booking Standard, R4 BaRS) meets, and reading them off
 * resources. Pure; no I/O.
 */

export const NHS_NUMBER_SYSTEM = 'https://fhir.nhs.uk/Id/nhs-number';
export const ODS_ORGANIZATION_SYSTEM = 'https://fhir.nhs.uk/Id/ods-organization-code';
export const DOS_SERVICE_ID_SYSTEM = 'https://fhir.nhs.uk/Id/dos-service-id';
export const SDS_USER_SYSTEM = 'https://fhir.nhs.uk/Id/sds-user-id';
/** RFC 4122 UUIDs as identifiers (the Booking Standard's slot identifiers, our booking references). */
export const UUID_IDENTIFIER_SYSTEM = 'https://tools.ietf.org/html/rfc4122';
/** NHS England's error-code system, spelt as the published examples spell it ("Codesystem"), and the usual spelling. */
export const HTTP_ERROR_CODE_SYSTEMS = ['https://fhir.nhs.uk/Codesystem/http-error-codes', 'https://fhir.nhs.uk/CodeSystem/http-error-codes'] as const;

export interface IdentifierLike {
  system?: string;
  value?: string;
}

/** The value of the first identifier in `system`; systems are compared ignoring case and a trailing slash. */
export function identifierValue(identifiers: readonly IdentifierLike[] | IdentifierLike | undefined, system: string): string | undefined {
  const list = Array.isArray(identifiers) ? identifiers : identifiers ? [identifiers as IdentifierLike] : [];
  const want = normaliseSystem(system);
  const v = list.find((i) => typeof i?.system === 'string' && normaliseSystem(i.system) === want)?.value;
  return typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined;
}

/** Suppliers spell systems loosely (http vs https, case, a trailing slash); compared as one. */
export function normaliseSystem(system: string): string {
  return system.trim().toLowerCase().replace(/^http:/, 'https:').replace(/\/+$/, '');
}

/** `Type/id` (relative, absolute, or with `_history`) → id when the type matches; null otherwise. */
export function logicalId(reference: string | undefined, type: string): string | null {
  if (typeof reference !== 'string') return null;
  const m = new RegExp(`(?:^|/)${type}/([A-Za-z0-9\\-.]{1,64})(?:/_history/[^/]+)?$`).exec(reference);
  return m ? m[1]! : null;
}

/** A FHIR id: letters, digits, '-' and '.', 1 to 64 characters. */
export const FHIR_ID = /^[A-Za-z0-9\-.]{1,64}$/;

/** FHIR instant in UTC with an explicit +00:00 offset (BaRS: "values must include an offset"). */
export function fhirInstant(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, '+00:00');
}

/** A dateTime with a time and an offset, as an instant; null when either is missing (ambiguous across UK DST). */
export function instantOf(value: string | undefined): Date | null {
  if (typeof value !== 'string') return null;
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(value)) return null;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? null : d;
}
