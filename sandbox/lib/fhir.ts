/**
 * Small FHIR helpers shared by the FHIR simulators: media types and OperationOutcome.
 * Deliberately version-neutral JSON (STU3 and R4 OperationOutcome have the same shape for what is used here).
 */

export const FHIR_JSON = 'application/fhir+json';
export const FHIR_JSON_UTF8 = 'application/fhir+json; charset=utf-8';

/** Spine error codes (UEC error handling; GP Connect uses the ValueSet URL of the same name for the same codes). */
export const SPINE_ERROR_SYSTEM = 'https://fhir.nhs.uk/STU3/CodeSystem/Spine-ErrorOrWarningCode-1';
/** The HAPI-style message codes (MSG_*) the TKW-UEC reference simulator puts beside Spine codes. */
export const HL7_OPERATION_OUTCOME_SYSTEM = 'http://hl7.org/fhir/operation-outcome';

/** Displays for the Spine codes these simulators use (GP Connect error handling guidance wording). */
const SPINE_DISPLAY = {
  ACCESS_DENIED: 'Access denied',
  BAD_REQUEST: 'Bad request',
  CONFLICTING_VALUES: 'Conflicting values',
  DUPLICATE_REJECTED: 'Create would lead to creation of a duplicate resource',
  INTERNAL_SERVER_ERROR: 'Unexpected internal server error',
  INVALID_NHS_NUMBER: 'Invalid NHS number',
  INVALID_PARAMETER: 'Invalid parameter',
  INVALID_REQUEST_MESSAGE: 'Invalid request message',
  INVALID_RESOURCE: 'Invalid validation of resource',
  MISSING_OR_INVALID_HEADER: 'There is a required header missing or invalid',
  NO_RECORD_FOUND: 'No record found',
  NOT_IMPLEMENTED: 'Not implemented',
  REFERENCE_NOT_FOUND: 'Reference not found',
  UNSUPPORTED_MEDIA_TYPE: 'Unsupported media type',
} as const;

export type SpineCode = keyof typeof SPINE_DISPLAY;

/** FHIR issue types used by these simulators (http://hl7.org/fhir/issue-type). */
export type IssueType =
  | 'invalid'
  | 'structure'
  | 'required'
  | 'value'
  | 'security'
  | 'login'
  | 'forbidden'
  | 'processing'
  | 'not-supported'
  | 'duplicate'
  | 'not-found'
  | 'conflict'
  | 'exception'
  | 'transient';

export interface OutcomeIssue {
  severity?: 'fatal' | 'error' | 'warning' | 'information';
  code: IssueType;
  /** Spine-ErrorOrWarningCode-1 code, e.g. ACCESS_DENIED. */
  spineCode: SpineCode;
  /** Optional HAPI-style code (MSG_*) added as a second coding, as the TKW simulator does. */
  hl7Code?: string;
  /** Developer-facing text. Never shown to end users; may say precisely what was wrong. */
  diagnostics: string;
  /** FHIRPath-ish location of the fault, for 400/422 on a body or parameter. */
  expression?: string;
}

export interface OperationOutcome {
  resourceType: 'OperationOutcome';
  id: string;
  meta: { profile: string[] };
  issue: Array<{
    severity: string;
    code: IssueType;
    details: { coding: Array<{ system: string; code: string; display?: string }> };
    diagnostics: string;
    expression?: string[];
  }>;
}

let outcomeSeq = 0;

/**
 * An OperationOutcome as UEC error handling requires: a provider-local `id`, and per issue a severity, a FHIR issue
 * type, a Spine details code and developer diagnostics. Consumers must classify on HTTP status + issue.code, so the
 * details code is informative only.
 */
export function operationOutcome(issue: OutcomeIssue | OutcomeIssue[]): OperationOutcome {
  const issues = Array.isArray(issue) ? issue : [issue];
  outcomeSeq = (outcomeSeq + 1) % 1_000_000;
  return {
    resourceType: 'OperationOutcome',
    id: `oo-${Date.now().toString(36)}-${outcomeSeq}`,
    meta: { profile: ['https://fhir.nhs.uk/STU3/StructureDefinition/Spine-OperationOutcome-1'] },
    issue: issues.map((i) => ({
      severity: i.severity ?? 'error',
      code: i.code,
      details: {
        coding: [
          { system: SPINE_ERROR_SYSTEM, code: i.spineCode, display: SPINE_DISPLAY[i.spineCode] },
          ...(i.hl7Code ? [{ system: HL7_OPERATION_OUTCOME_SYSTEM, code: i.hl7Code }] : []),
        ],
      },
      diagnostics: i.diagnostics,
      ...(i.expression ? { expression: [i.expression] } : {}),
    })),
  };
}


/**
 * The default OperationOutcome for an HTTP status with no more specific story (used for injected faults).
 * Spine has no codes for 405/412 or the transport statuses, so those carry the generic Spine code plus the TKW
 * simulator's MSG_* code where it has one.
 */
export function outcomeForStatus(status: number, diagnostics?: string): OperationOutcome {
  const byStatus: Record<number, Omit<OutcomeIssue, 'diagnostics'>> = {
    400: { code: 'invalid', spineCode: 'BAD_REQUEST' },
    401: { code: 'login', spineCode: 'ACCESS_DENIED' },
    403: { code: 'forbidden', spineCode: 'ACCESS_DENIED' },
    404: { code: 'not-found', spineCode: 'NO_RECORD_FOUND', hl7Code: 'MSG_NO_MATCH' },
    405: { code: 'not-supported', spineCode: 'BAD_REQUEST', hl7Code: 'MSG_UNKNOWN_OPERATION' },
    409: { code: 'conflict', spineCode: 'CONFLICTING_VALUES' },
    412: { code: 'not-supported', spineCode: 'BAD_REQUEST', hl7Code: 'MSG_TRANSACTION_MISSING_ID' },
    415: { code: 'not-supported', spineCode: 'UNSUPPORTED_MEDIA_TYPE', hl7Code: 'MSG_RESOURCE_TYPE_MISMATCH' },
    422: { code: 'processing', spineCode: 'INVALID_RESOURCE' },
    429: { code: 'transient', spineCode: 'BAD_REQUEST' },
    500: { code: 'exception', spineCode: 'INTERNAL_SERVER_ERROR' },
    501: { code: 'not-supported', spineCode: 'NOT_IMPLEMENTED' },
    502: { code: 'transient', spineCode: 'INTERNAL_SERVER_ERROR' },
    503: { code: 'transient', spineCode: 'INTERNAL_SERVER_ERROR' },
    504: { code: 'transient', spineCode: 'INTERNAL_SERVER_ERROR' },
  };
  const base = byStatus[status] ?? { code: status >= 500 ? 'exception' : 'processing', spineCode: status >= 500 ? 'INTERNAL_SERVER_ERROR' : 'BAD_REQUEST' };
  return operationOutcome({ ...base, diagnostics: diagnostics ?? `HTTP ${status}` });
}
