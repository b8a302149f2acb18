/**
 * What the BaRS simulator's tests share: a test application with its own RS512 key pair, signed client assertions,
 * the identity headers, a FHIR call helper and booking messages built from the specification's own example.
 * Test support only: nothing outside tests imports it.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import type { RegisteredClient } from './oauth.js';
import { CLIENT_ASSERTION_TYPE } from './oauth.js';

/** The specification's examples, read where they live (../shared/specs/bars/, never edited). */
export const SPEC_EXAMPLES = new URL('../../../shared/specs/bars/examples/', import.meta.url);

export function specExample<T = any>(path: string): T {
  return JSON.parse(readFileSync(new URL(path, SPEC_EXAMPLES), 'utf8')) as T;
}

export const FHIR_BASE = '/booking-and-referral/FHIR/R4';

export interface TestKey {
  kid: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

export async function testKey(kid: string): Promise<TestKey> {
  const { publicKey, privateKey } = await generateKeyPair('RS512', { modulusLength: 2048 });
  return { kid, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg: 'RS512', use: 'sig' } };
}

export function client(clientId: string, keys: TestKey[], barsEnabled = true): RegisteredClient {
  return { clientId, keys: keys.map((k) => k.publicJwk), barsEnabled };
}

export interface AssertionOptions {
  clientId: string;
  key: { kid: string; privateKey: CryptoKey | Uint8Array };
  aud: string;
  nowMs: number;
  expInSeconds?: number;
  jti?: string;
  sub?: string;
  alg?: string;
}

export function assertion(o: AssertionOptions): Promise<string> {
  const iat = Math.floor(o.nowMs / 1000);
  return new SignJWT({})
    .setProtectedHeader({ alg: o.alg ?? 'RS512', kid: o.key.kid, typ: 'JWT' })
    .setIssuer(o.clientId)
    .setSubject(o.sub ?? o.clientId)
    .setAudience(o.aud)
    .setJti(o.jti ?? randomUUID())
    .setIssuedAt(iat)
    .setExpirationTime(iat + (o.expInSeconds ?? 300))
    .sign(o.key.privateKey);
}

export function tokenForm(clientAssertion: string, overrides: Record<string, string> = {}): string {
  return new URLSearchParams({
    grant_type: 'client_credentials',
    client_assertion_type: CLIENT_ASSERTION_TYPE,
    client_assertion: clientAssertion,
    ...overrides,
  }).toString();
}

export const b64 = (o: unknown) => Buffer.from(JSON.stringify(o), 'utf8').toString('base64');

export const target = (dosId: string) => b64({ value: dosId, system: 'https://fhir.nhs.uk/Id/dos-service-id' });

export const endUserOrganisation = (ods: string) =>
  b64({ resourceType: 'Organization', identifier: [{ system: 'https://fhir.nhs.uk/Id/ods-organization-code', value: ods }], name: `Organisation ${ods}` });

export const requestingSoftware = b64({
  resourceType: 'Device',
  identifier: [{ system: 'https://consumersupplier.com/Id/device-identifier', value: 'booking-gateway-tests' }],
  deviceName: [{ name: 'Booking gateway', type: 'manufacturer-name' }],
  version: [{ value: '1.0.0' }],
});

export const requestingPractitioner = b64({
  resourceType: 'PractitionerRole',
  identifier: [{ system: 'https://fhir.nhs.uk/Id/sds-role-profile-id', value: '100222333444' }],
  code: [{ coding: [{ system: 'https://fhir.nhs.uk/CodeSystem/UKCore-SDSJobRoleName', code: 'R0260', display: 'General Medical Practitioner' }] }],
});

export interface Answer {
  status: number;
  headers: Headers;
  body: any;
}

export interface CallOptions {
  method?: string;
  token?: string | null;
  dosId?: string | null;
  ods?: string | null;
  body?: unknown;
  /** Header overrides; a null value removes the header. */
  headers?: Record<string, string | null>;
  signal?: AbortSignal;
}

/** A BaRS call with every header a conformant sender sends, each overridable. */
export async function barsCall(origin: string, path: string, o: CallOptions = {}): Promise<Answer> {
  const headers: Record<string, string> = {
    accept: 'application/fhir+json; version=1.0.0',
    'x-request-id': randomUUID(),
    'x-correlation-id': randomUUID(),
    'nhsd-requesting-software': requestingSoftware,
    'nhsd-requesting-practitioner': requestingPractitioner,
  };
  if (o.token) headers['authorization'] = `Bearer ${o.token}`;
  if (o.dosId !== null) headers['nhsd-target-identifier'] = target(o.dosId ?? '1402000113');
  if (o.ods !== null) headers['nhsd-end-user-organisation'] = endUserOrganisation(o.ods ?? 'RX8');
  if (o.body !== undefined) {
    headers['content-type'] = 'application/fhir+json';
    headers['use-context'] = 'a4t2|booking|booking-request|new';
  }
  for (const [k, v] of Object.entries(o.headers ?? {})) {
    if (v === null) delete headers[k.toLowerCase()];
    else headers[k.toLowerCase()] = v;
  }
  const res = await fetch(`${origin}${path.startsWith('/_sandbox') ? '' : FHIR_BASE}${path}`, {
    method: o.method ?? (o.body !== undefined ? 'POST' : 'GET'),
    headers,
    ...(o.body !== undefined ? { body: typeof o.body === 'string' ? o.body : JSON.stringify(o.body) } : {}),
    ...(o.signal ? { signal: o.signal } : {}),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
}

/** The BaRS error code and issue type of an OperationOutcome answer. */
export function errorOf(a: Answer): { status: number; code: string; issue: string; system: string } {
  const i = a.body?.issue?.[0];
  return { status: a.status, code: i?.details?.coding?.[0]?.code, issue: i?.code, system: i?.details?.coding?.[0]?.system };
}

export interface SlotRef {
  id: string;
  start: string;
  end: string;
  scheduleId: string;
}

/**
 * The booking message of examples/process_message/POST-body.json (provenance: NHSDigital/booking-and-referral-fhir-api
 * @ 0c9714b0, specification/examples/process_message/POST-body.json), adjusted only in ids and times: a fresh
 * Bundle.id, the destination's DoS id, the Slot's id, start and end, its Schedule's id, and the Appointment's times.
 * `bySchedule` leaves the Slot without an id, as the example itself does, so the receiver finds it by schedule and start.
 */
export function bookingMessage(dosId: string, slot: SlotRef, o: { bySchedule?: boolean; nhsNumber?: string | null; bundleId?: string } = {}): any {
  const m = specExample('process_message/POST-body.json');
  m.id = o.bundleId ?? randomUUID();
  const res = (type: string) => m.entry.map((e: any) => e.resource).find((r: any) => r.resourceType === type);
  const header = res('MessageHeader');
  header.destination[0].endpoint = header.destination[0].endpoint.replace(/\|\d+$/, `|${dosId}`);
  const appointment = res('Appointment');
  appointment.start = slot.start;
  appointment.end = slot.end;
  const s = res('Slot');
  if (!o.bySchedule) s.id = slot.id;
  s.start = slot.start;
  s.end = slot.end;
  res('Schedule').id = slot.scheduleId;
  const patient = res('Patient');
  if (o.nhsNumber === null) delete patient.identifier;
  else if (o.nhsNumber) patient.identifier[0].value = o.nhsNumber;
  return m;
}

/** A cancellation: the example's message carrying the Appointment as the receiver returned it, status cancelled. */
export function cancelMessage(dosId: string, appointment: any, bundleId: string = randomUUID()): any {
  const m = specExample('process_message/POST-body.json');
  m.id = bundleId;
  const header = m.entry[0].resource;
  header.destination[0].endpoint = header.destination[0].endpoint.replace(/\|\d+$/, `|${dosId}`);
  header.reason.coding[0].code = 'cancelled';
  header.definition = 'https://fhir.nhs.uk/MessageDefinition/bars-message-booking-request-cancelled';
  const apptEntry = m.entry.find((e: any) => e.resource.resourceType === 'Appointment');
  apptEntry.resource = { ...appointment, status: 'cancelled' };
  return m;
}
