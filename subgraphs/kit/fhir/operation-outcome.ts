/**
 * OperationOutcome parsing and classification, for STU3 and R4 alike: the error code a supplier gives in
 * `issue.details.coding` (Spine's `SLOT_ALREADY_BOOKED`, BaRS's `REC_CONFLICT`, ...), the issue type, and its
 * diagnostics. Classification looks at the details code first: BaRS's own examples put `400` in the issue type of
 * PROXY_BAD_REQUEST, so the issue type alone cannot be trusted. Pure; no I/O.
 */
import { operationOutcomeDiagnostics } from '../../../common/supplier-diagnostics.js';

export interface OutcomeIssue {
  severity?: string;
  code?: string;
  diagnostics?: string;
  details?: { coding?: { system?: string; code?: string; display?: string }[]; text?: string };
  expression?: string[];
  location?: string[];
}

export interface ParsedOutcome {
  /** The first issue (what classification looks at). */
  issue?: OutcomeIssue;
  /** The first issue's details code, e.g. REC_CONFLICT; undefined when none. */
  code?: string;
  /** The first issue's type, e.g. conflict, duplicate. */
  type?: string;
  /** Every issue's diagnostics, sanitised (common/supplier-diagnostics.ts): for callers, never for logs. */
  diagnostics?: string;
  /** The FHIRPath expressions the issues name, e.g. Patient.identifier. */
  expressions: string[];
}

/** Reads an OperationOutcome out of a parsed body; an empty result for anything else. */
export function parseOperationOutcome(body: unknown): ParsedOutcome {
  const o = body as { resourceType?: unknown; issue?: unknown } | null;
  if (!o || typeof o !== 'object' || o.resourceType !== 'OperationOutcome' || !Array.isArray(o.issue)) return { expressions: [] };
  const issues = (o.issue as unknown[]).filter((i): i is OutcomeIssue => !!i && typeof i === 'object');
  const issue = issues[0];
  const code = issue?.details?.coding?.find((c) => typeof c?.code === 'string')?.code;
  const diagnostics = operationOutcomeDiagnostics(o);
  return {
    ...(issue ? { issue } : {}),
    ...(code ? { code } : {}),
    ...(typeof issue?.code === 'string' ? { type: issue.code } : {}),
    ...(diagnostics ? { diagnostics } : {}),
    expressions: issues.flatMap((i) => [...(Array.isArray(i.expression) ? i.expression : []), ...(Array.isArray(i.location) ? i.location : [])]).filter((e) => typeof e === 'string'),
  };
}

/** Who refused, by the BaRS code prefix: the sender's API front, the BaRS proxy, or the receiver. */
export type BarsOrigin = 'SEND' | 'PROXY' | 'REC' | 'UNKNOWN';

export function barsOrigin(code: string | undefined): BarsOrigin {
  if (!code) return 'UNKNOWN';
  if (code.startsWith('SEND_')) return 'SEND';
  if (code.startsWith('REC_')) return 'REC';
  // The proxy's own codes: PROXY_* and the unprefixed ones of the PROXY-NONE examples (NOT_FOUND, BAD_REQUEST, ...).
  return 'PROXY';
}

/**
 * What a failure means to a booking flow, whatever the standard:
 * SLOT_UNAVAILABLE (taken), DUPLICATE (this message or request was processed already), INVALID_PATIENT,
 * INVALID_REQUEST, FORBIDDEN, NOT_FOUND, UNAUTHORIZED (our credentials: refresh and try once more),
 * SUPPLIER_UNAVAILABLE (not processed: not configured there, not implemented, throttled, down).
 */
export type FailureClass =
  | 'SLOT_UNAVAILABLE'
  | 'DUPLICATE'
  | 'INVALID_PATIENT'
  | 'INVALID_REQUEST'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'UNAUTHORIZED'
  | 'SUPPLIER_UNAVAILABLE';

/** A BaRS answer's failure class, from its status and OperationOutcome (BaRS error codes by origin). */
export function classifyBarsFailure(status: number, outcome: ParsedOutcome): FailureClass {
  const code = outcome.code ?? '';
  if (status === 409) return outcome.type === 'duplicate' ? 'DUPLICATE' : 'SLOT_UNAVAILABLE';
  if (status === 401) return 'UNAUTHORIZED';
  if (status === 403) return 'FORBIDDEN';
  if (status === 404) {
    // The receiver has no such appointment; the proxy has no such endpoint or target: configuration, not the thing.
    return barsOrigin(code) === 'REC' ? 'NOT_FOUND' : 'SUPPLIER_UNAVAILABLE';
  }
  if (status === 400 || status === 422) {
    if (barsOrigin(code) === 'PROXY' || barsOrigin(code) === 'SEND') return 'SUPPLIER_UNAVAILABLE';
    if (outcome.expressions.some((e) => /^Patient\b/.test(e))) return 'INVALID_PATIENT';
    return 'INVALID_REQUEST';
  }
  return 'SUPPLIER_UNAVAILABLE';
}
