/**
 * The BaRS request headers (booking-and-referral.yaml, components/parameters) and how the API-M front checks them.
 * The identity headers are Standard Base64 of a JSON FHIR resource: NHSD-End-User-Organisation an Organization,
 * NHSD-Requesting-Software a Device, NHSD-Requesting-Practitioner a PractitionerRole; NHSD-Target-Identifier an
 * object `{ value, system }` naming the DoS service.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { barsError, PROXY_HEADER_ERROR_SYSTEM } from './outcome.js';

export const DOS_SERVICE_ID_SYSTEM = 'https://fhir.nhs.uk/Id/dos-service-id';
export const ODS_SYSTEM = 'https://fhir.nhs.uk/Id/ods-organization-code';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

/** X-Request-Id and X-Correlation-Id: both required, both UUIDs (400 SEND_BAD_REQUEST, the spec's own wording). */
export function checkCorrelation(headers: IncomingHttpHeaders): { requestId: string; correlationId: string } {
  const requestId = header(headers, 'X-Request-Id');
  const correlationId = header(headers, 'X-Correlation-Id');
  if (!requestId || !correlationId) {
    throw barsError(400, 'SEND_BAD_REQUEST', 'invalid',
      'The X-Request-Id or the X-Correlation-Id was not included Or the NHSD-Target-Identifier was not included (depending on the endpoint being called).');
  }
  if (!UUID.test(requestId)) throw barsError(400, 'SEND_BAD_REQUEST', 'value', 'X-Request-Id must be a UUID.');
  if (!UUID.test(correlationId)) throw barsError(400, 'SEND_BAD_REQUEST', 'value', 'X-Correlation-Id must be a UUID.');
  return { requestId, correlationId };
}

/** NHSD-Target-Identifier → the DoS service id; undefined when absent and `required` is false (GET /metadata). */
export function targetIdentifier(headers: IncomingHttpHeaders, required: boolean): string | undefined {
  const raw = header(headers, 'NHSD-Target-Identifier');
  if (!raw) {
    if (!required) return undefined;
    throw barsError(400, 'SEND_BAD_REQUEST', 'invalid',
      'The X-Request-Id or the X-Correlation-Id was not included Or the NHSD-Target-Identifier was not included (depending on the endpoint being called).');
  }
  const decoded = decodeBase64Json(raw);
  if (decoded === undefined) {
    // examples/invalid-base64.json, issue code and system as the example has them.
    throw barsError(400, 'PROXY_BAD_REQUEST', '400', 'The base64 decoding of the NHSD-Target-Identifier header failed.', { system: PROXY_HEADER_ERROR_SYSTEM });
  }
  const o = decoded as { value?: unknown; system?: unknown };
  if (typeof o !== 'object' || o === null || typeof o.value !== 'string' || !o.value || typeof o.system !== 'string' || o.system !== DOS_SERVICE_ID_SYSTEM) {
    // examples/malformed-target-identifier.json
    throw barsError(400, 'PROXY_BAD_REQUEST', 'structure', 'Invalid schema for NHSD-Target-Identifier header', { system: PROXY_HEADER_ERROR_SYSTEM });
  }
  return o.value;
}

export interface Requester {
  /** ODS code of the end user's organisation (NHSD-End-User-Organisation). */
  odsCode: string;
  organisationName?: string;
  /** NHSD-Requesting-Software: the Device's identifier value and name. */
  software: { id: string; name?: string; version?: string };
  /** NHSD-Requesting-Practitioner, when sent. */
  practitionerRole?: unknown;
}

/** The three identity headers: Organisation and Software required, Practitioner optional but well-formed if sent. */
export function requester(headers: IncomingHttpHeaders): Requester {
  const org = identityHeader(headers, 'NHSD-End-User-Organisation', 'Organization', true) as FhirLike;
  const ods = org.identifier?.find((i) => i.system === ODS_SYSTEM && typeof i.value === 'string' && i.value);
  if (!ods) {
    throw barsError(400, 'SEND_BAD_REQUEST', 'value',
      `NHSD-End-User-Organisation must carry an identifier with system ${ODS_SYSTEM} (the ODS code).`);
  }
  const device = identityHeader(headers, 'NHSD-Requesting-Software', 'Device', true) as FhirLike;
  const deviceId = device.identifier?.find((i) => typeof i.value === 'string' && i.value);
  if (!deviceId) throw barsError(400, 'SEND_BAD_REQUEST', 'value', 'NHSD-Requesting-Software must carry an identifier (the product id).');
  const role = identityHeader(headers, 'NHSD-Requesting-Practitioner', 'PractitionerRole', false);
  const deviceName = device.deviceName?.[0]?.name;
  const version = device.version?.[0]?.value;
  return {
    odsCode: ods.value!,
    ...(typeof org.name === 'string' ? { organisationName: org.name } : {}),
    software: { id: deviceId.value!, ...(deviceName ? { name: deviceName } : {}), ...(version ? { version } : {}) },
    ...(role !== undefined ? { practitionerRole: role } : {}),
  };
}

interface FhirLike {
  resourceType?: string;
  name?: unknown;
  identifier?: Array<{ system?: string; value?: string }>;
  deviceName?: Array<{ name?: string }>;
  version?: Array<{ value?: string }>;
}

function identityHeader(headers: IncomingHttpHeaders, name: string, resourceType: string, required: boolean): unknown {
  const raw = header(headers, name);
  if (!raw) {
    if (!required) return undefined;
    throw barsError(400, 'SEND_BAD_REQUEST', 'required', `The ${name} header is required.`);
  }
  const decoded = decodeBase64Json(raw) as FhirLike | undefined;
  if (decoded === undefined) throw barsError(400, 'SEND_BAD_REQUEST', 'structure', `The base64 decoding of the ${name} header failed.`);
  if (typeof decoded !== 'object' || decoded === null || decoded.resourceType !== resourceType || (decoded.identifier !== undefined && !Array.isArray(decoded.identifier))) {
    throw barsError(400, 'SEND_BAD_REQUEST', 'structure', `The ${name} header must be a FHIR ${resourceType} resource.`);
  }
  return decoded;
}

/** Standard Base64 (with padding) of JSON; undefined when either layer fails. */
export function decodeBase64Json(raw: string): unknown {
  const text = raw.trim();
  if (!text || !BASE64.test(text)) return undefined;
  try {
    return JSON.parse(Buffer.from(text, 'base64').toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

/** Accept: absent or anything JSON-compatible; a `version` parameter, when given, must be 1.0.0 (406 otherwise). */
export function checkAccept(headers: IncomingHttpHeaders): void {
  const accept = header(headers, 'Accept');
  if (!accept) return;
  const ranges = accept.split(',').map((r) => r.trim()).filter(Boolean);
  const ok = ranges.some((range) => {
    const [type, ...params] = range.split(';').map((p) => p.trim());
    if (!['application/fhir+json', 'application/json', 'application/*', '*/*'].includes((type ?? '').toLowerCase())) return false;
    const version = params.find((p) => p.toLowerCase().startsWith('version='));
    return !version || version.slice(8).replace(/"/g, '') === '1.0.0';
  });
  if (!ok) {
    throw barsError(406, 'SEND_NOT_ACCEPTABLE', 'processing',
      'The requested resource is capable of generating only content not acceptable according to the Accept headers sent in the request. Versions in Accept or content.');
  }
}
