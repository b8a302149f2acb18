/**
 * The BaRS identity and routing headers (booking-standard.md §9; the spec's header parameters): Base64 JSON of a
 * target identifier and of FHIR Organization and Device resources. Pure; no I/O.
 */
import { randomUUID } from 'node:crypto';
import type { Device, Organization } from '../kit/fhir/r4.js';
import { DOS_SERVICE_ID_SYSTEM, ODS_ORGANIZATION_SYSTEM } from '../kit/fhir/identifiers.js';
import type { ConsumerOrganisation } from '../../common/consumer.js';
import type { BarsSystem } from './system.js';

/** Standard Base64 (the proxy refuses base64url: PROXY_BAD_REQUEST). */
const b64 = (o: unknown) => Buffer.from(JSON.stringify(o), 'utf8').toString('base64');

/** NHSD-Target-Identifier: the receiver, by its DoS service id. */
export function targetIdentifier(serviceId: string): string {
  return b64({ value: serviceId, system: DOS_SERVICE_ID_SYSTEM });
}

/** The consumer organisation as a FHIR Organization: NHSD-End-User-Organisation and the message's sender. */
export function consumerOrganization(consumer: ConsumerOrganisation): Organization {
  return { resourceType: 'Organization', identifier: [{ system: ODS_ORGANIZATION_SYSTEM, value: consumer.odsCode }], name: consumer.name };
}

export function endUserOrganisation(consumer: ConsumerOrganisation): string {
  return b64(consumerOrganization(consumer));
}

export function requestingSoftware(system: BarsSystem): string {
  const device: Device = {
    resourceType: 'Device',
    identifier: [{ system: 'https://fhir.nhs.uk/Id/booking-gateway-device', value: system.requestingSoftware.identifier }],
    deviceName: [{ name: system.requestingSoftware.name, type: 'manufacturer-name' }],
    version: [{ value: system.requestingSoftware.version }],
  };
  return b64(device);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** X-Correlation-Id must be a UUID: the request's W3C trace id (32 hex digits) in UUID form, else a new one. */
export function correlationId(traceId: string): string {
  if (UUID.test(traceId)) return traceId.toLowerCase();
  if (/^[0-9a-f]{32}$/i.test(traceId)) {
    const t = traceId.toLowerCase();
    return `${t.slice(0, 8)}-${t.slice(8, 12)}-${t.slice(12, 16)}-${t.slice(16, 20)}-${t.slice(20)}`;
  }
  return randomUUID();
}

export function isUuid(s: string): boolean {
  return UUID.test(s);
}
