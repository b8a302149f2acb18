/**
 * Response plumbing common to every interaction: FHIR JSON with an explicit charset, X-Correlation-ID echoing the
 * client's X-Request-ID (TKW checks they are equal), and gzip when the client accepts it (TKW tests gzip).
 */
import type { Server, ServerResponse } from 'node:http';
import { gzipSync } from 'node:zlib';
import { FHIR_JSON_UTF8, operationOutcome } from '../lib/fhir.js';
import type { SandboxResponse } from '../lib/http.js';
import type { FhirError } from './errors.js';

export interface ResponseOptions {
  /** The request's X-Request-ID, echoed as X-Correlation-ID. */
  correlationId?: string;
  gzip: boolean;
}

/** A body already written as JSON text (a bundle that serialises its entries once: slot-search.ts bundleJson). */
export class JsonText {
  constructor(readonly text: string) {}
}

export function fhirResponse(status: number, body: unknown, opts: ResponseOptions, headers: Record<string, string> = {}): SandboxResponse {
  const out: Record<string, string> = { 'content-type': FHIR_JSON_UTF8, ...headers };
  if (opts.correlationId) out['x-correlation-id'] = opts.correlationId;
  if (opts.gzip) {
    out['content-encoding'] = 'gzip';
    out['vary'] = 'Accept-Encoding';
  }
  return { status, headers: out, body: body instanceof JsonText ? body.text : JSON.stringify(body) };
}

export function errorResponse(err: FhirError, opts: ResponseOptions): SandboxResponse {
  return fhirResponse(err.status, operationOutcome(err.issues), opts, err.headers);
}

/**
 * nginx's default (`gzip_comp_level 1`), where providers' front ends usually compress. zlib's default (6) made
 * compression a quarter of this simulator's CPU on a cold search, on the machine the stack under test shares.
 */
const GZIP_LEVEL = 1;

/**
 * The shared sandbox server writes string bodies only, so compression happens here, at the socket edge: a response
 * whose head declares `Content-Encoding: gzip` has its body gzipped as it is written. Responses that do not declare
 * it (including injected faults) pass through untouched.
 */
export function gzipDeclaredResponses(server: Server): void {
  server.prependListener('request', (_req, res: ServerResponse) => {
    let compress = false;
    const writeHead = res.writeHead.bind(res) as (...args: unknown[]) => ServerResponse;
    const end = res.end.bind(res) as (...args: unknown[]) => ServerResponse;
    res.writeHead = ((...args: unknown[]) => {
      const headers = args.find((a) => typeof a === 'object' && a !== null) as Record<string, unknown> | undefined;
      compress = Object.entries(headers ?? {}).some(([k, v]) => k.toLowerCase() === 'content-encoding' && v === 'gzip');
      return writeHead(...args);
    }) as ServerResponse['writeHead'];
    res.end = ((chunk?: unknown, ...rest: unknown[]) => {
      if (compress && (typeof chunk === 'string' || Buffer.isBuffer(chunk))) return end(gzipSync(chunk, { level: GZIP_LEVEL }), ...rest);
      return end(chunk, ...rest);
    }) as ServerResponse['end'];
  });
}
