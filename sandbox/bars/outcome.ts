/**
 * BaRS errors: an OperationOutcome whose details code names the origin of the fault (`SEND_*` the sender's request as
 * API Management judged it, `REC_*` the receiver, `PROXY_*` the BaRS proxy itself), as the specification's 4XX-BARS
 * and 5XX-BARS tables and its `examples/OperationOutcome/{SEND,REC,PROXY-NONE}` files show.
 */

/** The code system every BaRS error example uses (sic: lower-case "Codesystem"). */
export const HTTP_ERROR_CODES = 'https://fhir.nhs.uk/Codesystem/http-error-codes';
/** The system the two NHSD-Target-Identifier examples (invalid-base64.json, malformed-target-identifier.json) use. */
export const PROXY_HEADER_ERROR_SYSTEM = 'http://hl7.org/fhir/ValueSet/operation-outcome';
export const OUTCOME_PROFILE = 'https://fhir.hl7.org.uk/StructureDefinition/UKCore-OperationOutcome';

export type BarsErrorCode =
  | 'SEND_BAD_REQUEST'
  | 'SEND_UNAUTHORIZED'
  | 'SEND_FORBIDDEN'
  | 'SEND_METHOD_NOT_ALLOWED'
  | 'SEND_NOT_ACCEPTABLE'
  | 'SEND_TOO_MANY_REQUESTS'
  | 'REC_BAD_REQUEST'
  | 'REC_UNAUTHORIZED'
  | 'REC_FORBIDDEN'
  | 'REC_NOT_FOUND'
  | 'REC_METHOD_NOT_ALLOWED'
  | 'REC_TIMEOUT'
  | 'REC_CONFLICT'
  | 'REC_UNPROCESSABLE_ENTITY'
  | 'REC_TOO_MANY_REQUESTS'
  | 'REC_SERVER_ERROR'
  | 'REC_NOT_IMPLEMENTED'
  | 'REC_SERVICE_UNAVAILABLE'
  | 'PROXY_BAD_REQUEST'
  | 'PROXY_NOT_FOUND'
  | 'PROXY_SERVER_ERROR'
  | 'PROXY_NOT_IMPLEMENTED'
  | 'PROXY_UNAVAILABLE'
  /** PROXY-NONE examples: the proxy's own unprefixed codes. */
  | 'NOT_FOUND'
  | 'BAD_REQUEST';

export interface BarsIssue {
  status: number;
  errorCode: BarsErrorCode;
  /** FHIR issue type as the matching example has it (invalid, required, value, conflict, duplicate, ...). */
  issueCode: string;
  diagnostics: string;
  /** Details system; the http-error-codes system unless an example says otherwise. */
  system?: string;
  expression?: string;
}

export interface BarsOperationOutcome {
  resourceType: 'OperationOutcome';
  id: string;
  meta: { profile: string[] };
  issue: Array<{
    severity: 'error';
    code: string;
    details: { coding: Array<{ system: string; code: string }> };
    diagnostics: string;
    expression?: string[];
  }>;
}

/** Thrown anywhere in the pipeline; the router turns it into the response. */
export class BarsError extends Error {
  constructor(
    readonly issue: BarsIssue,
    readonly headers: Record<string, string> = {},
  ) {
    super(`${issue.status} ${issue.errorCode}: ${issue.diagnostics}`);
  }

  withHeader(name: string, value: string): this {
    this.headers[name] = value;
    return this;
  }

  /** A 401 names the scheme it wants (RFC 6750). */
  withAuthenticate(): this {
    this.headers['www-authenticate'] = 'Bearer';
    return this;
  }
}

export function barsError(status: number, errorCode: BarsErrorCode, issueCode: string, diagnostics: string, extra: Partial<BarsIssue> = {}): BarsError {
  return new BarsError({ status, errorCode, issueCode, diagnostics, ...extra });
}

export function operationOutcome(issue: BarsIssue, id: string): BarsOperationOutcome {
  return {
    resourceType: 'OperationOutcome',
    id,
    meta: { profile: [OUTCOME_PROFILE] },
    issue: [
      {
        severity: 'error',
        code: issue.issueCode,
        details: { coding: [{ system: issue.system ?? HTTP_ERROR_CODES, code: issue.errorCode }] },
        diagnostics: issue.diagnostics,
        ...(issue.expression ? { expression: [issue.expression] } : {}),
      },
    ],
  };
}

/** What an injected status looks like when a test does not give a body: the receiver's code for that status. */
export function defaultIssueForStatus(status: number): BarsIssue {
  const by: Record<number, [BarsErrorCode, string]> = {
    400: ['REC_BAD_REQUEST', 'invalid'],
    401: ['REC_UNAUTHORIZED', 'security'],
    403: ['REC_FORBIDDEN', 'forbidden'],
    404: ['REC_NOT_FOUND', 'not-found'],
    405: ['REC_METHOD_NOT_ALLOWED', 'not-supported'],
    408: ['REC_TIMEOUT', 'timeout'],
    409: ['REC_CONFLICT', 'conflict'],
    422: ['REC_UNPROCESSABLE_ENTITY', 'processing'],
    429: ['REC_TOO_MANY_REQUESTS', 'throttled'],
    500: ['REC_SERVER_ERROR', 'exception'],
    501: ['REC_NOT_IMPLEMENTED', 'not-supported'],
    503: ['REC_SERVICE_UNAVAILABLE', 'transient'],
  };
  const [errorCode, issueCode] = by[status] ?? (status >= 500 ? ['PROXY_SERVER_ERROR', 'transient'] : ['REC_BAD_REQUEST', 'invalid']);
  return { status, errorCode, issueCode, diagnostics: `Injected fault: HTTP ${status}` };
}
