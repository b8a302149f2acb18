/**
 * The four Spine Secure Proxy headers every request carries (spec §3.1). Missing or malformed ones are the caller's
 * fault (400; TKW answers 400 for a missing Ssp-From); a request routed to the wrong provider or under the wrong
 * interaction is refused (403), as the SSP itself would refuse it.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { FhirError } from './errors.js';
import type { Interaction, Tenant } from './tenants.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ASID = /^\d{12}$/;

export function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name.toLowerCase()];
  const s = Array.isArray(v) ? v.join(',') : v;
  return s === undefined || s.trim() === '' ? undefined : s.trim();
}

function badHeader(name: string, diagnostics: string): FhirError {
  return new FhirError(400, { code: 'invalid', spineCode: 'MISSING_OR_INVALID_HEADER', diagnostics, expression: `header:${name}` });
}

function refused(diagnostics: string): FhirError {
  return new FhirError(403, { code: 'forbidden', spineCode: 'ACCESS_DENIED', diagnostics });
}

export function checkSspHeaders(headers: IncomingHttpHeaders, tenant: Tenant, interaction: Interaction): void {
  // Presence first, in the order TKW checks them, so the first missing header is the one reported.
  const from = header(headers, 'Ssp-From');
  if (!from) throw badHeader('Ssp-From', 'Missing Ssp-From header (the consumer ASID)');
  const traceId = header(headers, 'Ssp-TraceID');
  if (!traceId) throw badHeader('Ssp-TraceID', 'Missing Ssp-TraceID header (a UUID per request)');
  const to = header(headers, 'Ssp-To');
  if (!to) throw badHeader('Ssp-To', 'Missing Ssp-To header (the provider ASID)');
  const interactionId = header(headers, 'Ssp-InteractionID');
  if (!interactionId) throw badHeader('Ssp-InteractionID', 'Missing Ssp-InteractionID header');

  if (!ASID.test(from)) throw badHeader('Ssp-From', `Ssp-From "${from}" is not an ASID (12 digits)`);
  if (!UUID.test(traceId)) throw badHeader('Ssp-TraceID', `Ssp-TraceID "${traceId}" is not a UUID`);
  if (to !== tenant.asid) throw refused(`Ssp-To "${to}" is not this provider's ASID`);
  const expected = tenant.interactions[interaction];
  if (interactionId !== expected) {
    throw refused(`Ssp-InteractionID "${interactionId}" is not the interaction this provider registered for this request (${expected})`);
  }
}
