/**
 * A request the simulator refuses, carried up to the router as an exception and answered as an OperationOutcome.
 * Every 4xx/5xx the simulator produces goes through this, so every one has a body (UEC er_errorhandling.md, P36).
 */
import type { OutcomeIssue } from '../lib/fhir.js';

export class FhirError extends Error {
  constructor(
    readonly status: number,
    readonly issue: OutcomeIssue,
    readonly headers: Record<string, string> = {},
    /** All issues, when there is more than one to report (the first is `issue`). */
    readonly issues: OutcomeIssue[] = [issue],
  ) {
    super(`${status} ${issue.diagnostics}`);
  }
}

/** 400 for a query parameter that cannot be understood (TKW: invalid / MSG_BAD_FORMAT). */
export function badParameter(name: string, diagnostics: string): FhirError {
  return new FhirError(400, { code: 'invalid', spineCode: 'INVALID_PARAMETER', hl7Code: 'MSG_BAD_FORMAT', diagnostics, expression: name });
}
