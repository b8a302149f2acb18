/**
 * Content negotiation (spec §3.4): JSON or XML chosen by `_format`, which beats `Accept`; JSON by default. This
 * provider implements JSON only, so a request that can only be answered in XML gets 501 (UEC: "requested format not
 * implemented"). Also the response compression choice.
 */
import { FhirError } from './errors.js';

export type Format = 'json' | 'xml';

const JSON_TYPES = new Set(['json', 'application/json', 'application/fhir+json', 'application/json+fhir']);
const XML_TYPES = new Set(['xml', 'text/xml', 'application/xml', 'application/fhir+xml', 'application/xml+fhir']);

/** The format the client asked for; throws 400 for a `_format` that names neither. */
export function requestedFormat(query: URLSearchParams, accept: string | undefined): Format {
  const f = query.get('_format');
  if (f !== null) {
    const v = f.split(';')[0]!.trim().toLowerCase();
    if (JSON_TYPES.has(v)) return 'json';
    if (XML_TYPES.has(v)) return 'xml';
    throw new FhirError(400, {
      code: 'invalid',
      spineCode: 'INVALID_PARAMETER',
      hl7Code: 'MSG_BAD_FORMAT',
      diagnostics: `_format="${f}" is not a FHIR format (json or xml)`,
      expression: '_format',
    });
  }
  return acceptFormat(accept);
}

/** The most preferred of the Accept header's ranges that names a FHIR format; JSON when none does. */
function acceptFormat(accept: string | undefined): Format {
  if (!accept) return 'json';
  const ranges = accept
    .split(',')
    .map((part, order) => {
      const [type, ...params] = part.split(';').map((p) => p.trim().toLowerCase());
      const q = params.find((p) => p.startsWith('q='));
      return { type: type ?? '', q: q ? Number(q.slice(2)) : 1, order };
    })
    .filter((r) => r.q > 0)
    .sort((a, b) => b.q - a.q || a.order - b.order);
  for (const r of ranges) {
    if (JSON_TYPES.has(r.type) || r.type === '*/*' || r.type === 'application/*') return 'json';
    if (XML_TYPES.has(r.type)) return 'xml';
  }
  return 'json';
}

/** Throws 501 unless the answer can be JSON. */
export function requireJson(query: URLSearchParams, accept: string | undefined): void {
  if (requestedFormat(query, accept) === 'xml') {
    throw new FhirError(501, {
      code: 'not-supported',
      spineCode: 'NOT_IMPLEMENTED',
      diagnostics: 'This provider implements application/fhir+json only; XML was requested (by _format or Accept)',
    });
  }
}

/** Whether the client accepts a gzip-encoded response. */
export function acceptsGzip(acceptEncoding: string | undefined): boolean {
  if (!acceptEncoding) return false;
  return acceptEncoding.split(',').some((part) => {
    const [coding, ...params] = part.split(';').map((p) => p.trim().toLowerCase());
    const q = params.find((p) => p.startsWith('q='));
    return (coding === 'gzip' || coding === 'x-gzip') && (!q || Number(q.slice(2)) > 0);
  });
}
