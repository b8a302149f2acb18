/**
 * The vendor's error envelope (API.md section 2): `{ error: { code, message, details?, requestId } }`. The request id
 * is filled in by the router, which also sends it as X-Request-Id.
 */
import type { SandboxResponse } from '../lib/http.js';

export interface ErrorDetail {
  field: string;
  message: string;
}

export interface VendorError {
  code: string;
  message: string;
  details?: ErrorDetail[];
  requestId?: string;
}

export function vendorError(status: number, code: string, message: string, details?: ErrorDetail[], headers?: Record<string, string>): SandboxResponse {
  const error: VendorError = { code, message, ...(details && details.length ? { details } : {}) };
  return { status, ...(headers ? { headers } : {}), body: { error } };
}

/** The code an injected fault's status would carry, so faults look like the vendor's own errors. */
export function codeForStatus(status: number): string {
  const codes: Record<number, string> = {
    400: 'BAD_REQUEST',
    401: 'UNAUTHORISED',
    403: 'BOOKING_FORBIDDEN',
    404: 'NOT_FOUND',
    409: 'SLOT_FULL',
    422: 'VALIDATION_FAILED',
    429: 'RATE_LIMITED',
    503: 'SERVICE_UNAVAILABLE',
  };
  return codes[status] ?? (status >= 500 ? 'INTERNAL_ERROR' : 'BAD_REQUEST');
}
