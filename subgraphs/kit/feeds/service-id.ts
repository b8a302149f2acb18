/**
 * Service ids for feed services: `smart:<systemId>:<locationId>:<serviceTypeCode>`. The directory lists them and the
 * smart-links subgraph reads them back, so both sides use these two functions. Registry system ids cannot contain
 * ':'; a location id or code that does (a defective feed) has ':' and '%' percent-encoded so the id still splits.
 */
const PREFIX = 'smart';
export const NO_SERVICE_TYPE_CODE = 'other';

const enc = (s: string): string => s.replace(/[%:]/g, (c) => encodeURIComponent(c));

export function serviceId(systemId: string, locationId: string, serviceTypeCode: string | null): string {
  return `${PREFIX}:${systemId}:${enc(locationId)}:${enc(serviceTypeCode ?? NO_SERVICE_TYPE_CODE)}`;
}

export interface ServiceIdParts {
  systemId: string;
  locationId: string;
  serviceTypeCode: string;
}

/** The parts of a feed service id; null for anything else (a DoS service id, say). */
export function parseServiceId(id: string): ServiceIdParts | null {
  const parts = id.split(':');
  if (parts.length !== 4 || parts[0] !== PREFIX || parts.some((p) => p === '')) return null;
  try {
    return { systemId: parts[1]!, locationId: decodeURIComponent(parts[2]!), serviceTypeCode: decodeURIComponent(parts[3]!) };
  } catch {
    return null;
  }
}
