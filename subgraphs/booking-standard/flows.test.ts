/**
 * The booking, cancel and lookup flows against the Booking Standard simulator (real HTTP, in-process, port 0):
 * what we are told, and what the provider actually stored (GET /_sandbox/appointments) and was sent
 * (GET /_sandbox/requests). Faults come from the simulator's fault injection, including "committed, then the answer
 * was lost".
 */
import { randomUUID } from 'node:crypto';
import { pino } from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { StoredVersionView } from '../../sandbox/booking-standard/appointments.js';
import { startBookingStandardSimulator } from '../../sandbox/booking-standard/server.js';
import type { Fault, RecordedRequest, SandboxServer } from '../../sandbox/lib/http.js';
import type { ConsumerOrganisation } from '../../common/consumer.js';
import { loadRegistry, type BookingStandardSystem, type Registry } from '../kit/registry.js';
import { decodeSlotId } from '../../common/slot-id.js';
import { bookFlow } from './book.js';
import { cancelFlow } from './cancel.js';
import { BookingStandardClient, type FhirSlot } from './client.js';
import type { SupplierBookingInput, SupplierPatientInput } from './generated/resolvers.js';
import { patientAppointmentsFlow, readFlow } from './lookup.js';
import { mapSlots } from './map.js';
import { say, type Flow } from './outcomes.js';
import { ScheduleServices } from './schedule-services.js';
import { decodeSlotRef } from './slot-ref.js';

const IA = 'urn:nhs:names:services:careconnect:fhir:rest';
const DAY = 86_400_000;
const NHS111: ConsumerOrganisation = { odsCode: 'RX8', name: 'Yorkshire Ambulance Service NHS 111' };
const OTHER: ConsumerOrganisation = { odsCode: 'X26', name: 'Another Clinical Assessment Service' };
const HARBOUR_UTC = '1402000102';

let sim: SandboxServer;
let registry: Registry;
let client: BookingStandardClient;
const schedules = new ScheduleServices();
const logLines: string[] = [];
const logger = pino({ level: 'debug' }, { write: (line: string) => void logLines.push(line) });

beforeAll(async () => {
  sim = await startBookingStandardSimulator({ port: 0 });
  registry = loadRegistry(undefined, { SANDBOX_BOOKING_STANDARD_URL: sim.url });
  client = new BookingStandardClient(registry);
});
afterAll(() => sim.close());
beforeEach(async () => {
  await fetch(`${sim.url}/_sandbox/faults`, { method: 'DELETE' });
  await fetch(`${sim.url}/_sandbox/requests`, { method: 'DELETE' });
});

// ---- helpers ------------------------------------------------------------------------------------------------------

function system(id: string, overrides: Partial<BookingStandardSystem> = {}): BookingStandardSystem {
  return { ...(registry.system(id) as BookingStandardSystem), ...overrides };
}

function flow(o: { system?: string; consumer?: ConsumerOrganisation; deadlineMs?: number; schedules?: ScheduleServices } = {}): Flow {
  return {
    client,
    system: system(o.system ?? 'harbour-uec', o.deadlineMs ? { deadlineMs: o.deadlineMs } : {}),
    call: { consumer: o.consumer ?? NHS111, traceId: randomUUID() },
    log: logger.child({ test: true }),
    now: () => new Date(),
    schedules: o.schedules ?? schedules,
  };
}

const handedOut = new Set<string>();

/** A free slot from a real search (as NHS 111 sees it), never one an earlier test used: its slot ref. */
async function freeSlot(systemId = 'harbour-uec', serviceId = HARBOUR_UTC): Promise<string> {
  const from = new Date(Date.now() + 2 * 3_600_000);
  const to = new Date(from.getTime() + 3 * DAY);
  const result = await client.searchSlots(system(systemId), { serviceId, from, to }, { consumer: NHS111, traceId: '0b6f1c2e-8c7b-4d6e-9f0a-0000000000ff' });
  const { slots } = mapSlots({ system: systemId, serviceId, resources: result.resources, from, to, fetchedAt: result.fetchedAt });
  const slot = slots.find((s) => s.bookable && !handedOut.has(s.id));
  if (!slot) throw new Error(`no free slot left at ${serviceId}`);
  handedOut.add(slot.id);
  return decodeSlotId(slot.id)!.ref;
}

/** A valid NHS number no other test uses (modulus 11), so patient searches see this test's bookings only. */
function nhsNumber(): string {
  for (;;) {
    const nine = Array.from({ length: 9 }, () => Math.floor(Math.random() * 10));
    const check = 11 - (nine.reduce((sum, d, i) => sum + d * (10 - i), 0) % 11);
    if (check !== 10) return `${nine.join('')}${check === 11 ? 0 : check}`;
  }
}

// Patient details distinctive enough to search the logs for.
const PATIENT: SupplierPatientInput = {
  nhsNumber: null,
  family: 'Quillfeather',
  given: ['Ottoline'],
  prefix: ['Ms'],
  birthDate: '1947-09-13',
  gender: 'female',
  addressLines: ['17 Larkspur Terrace'],
  city: 'Leeds',
  postcode: 'LS9 7TF',
  phone: '01632 960731',
};
const SUMMARY = 'Fall on outstretched hand; wrist swelling';

function booking(slotRef: string, o: Partial<SupplierBookingInput> = {}, patient: Partial<SupplierPatientInput> = {}): SupplierBookingInput {
  return {
    system: 'harbour-uec',
    serviceId: HARBOUR_UTC,
    slotRef,
    requestId: randomUUID(),
    mayHaveBooked: false,
    description: '111 referral: minor injury',
    patient: { ...PATIENT, nhsNumber: nhsNumber(), ...patient },
    handover: { reportId: randomUUID(), reportTypeCode: 'POCD_MT200001GB02', reportTypeDisplay: 'Integrated Urgent Care Report', summary: SUMMARY, authorOdsCode: 'RX8' },
    ...o,
  };
}

async function fault(f: Fault | Fault[]): Promise<void> {
  await fetch(`${sim.url}/_sandbox/faults`, { method: 'POST', body: JSON.stringify(f) });
}

async function requests(method?: string): Promise<RecordedRequest[]> {
  const all = (await (await fetch(`${sim.url}/_sandbox/requests`)).json()) as RecordedRequest[];
  return all.filter((r) => r.path.includes('/Appointment') && (!method || r.method === method));
}

async function stored(): Promise<StoredVersionView[]> {
  return (await (await fetch(`${sim.url}/_sandbox/appointments`)).json()) as StoredVersionView[];
}

/** Every stored version of the appointments booked into this slot. */
async function storedFor(slotRef: string): Promise<StoredVersionView[]> {
  const slotId = decodeSlotRef(slotRef)!.slotId;
  return (await stored()).filter((v) => (v.resource['contained'] as { resourceType: string; id: string }[]).some((c) => c.resourceType === 'Slot' && c.id === slotId));
}

function claims(r: RecordedRequest): Record<string, any> {
  const token = String(r.headers['authorization']).replace(/^Bearer /, '');
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, any>;
}

const contained = (resource: Record<string, unknown>, type: string) =>
  (resource['contained'] as Record<string, any>[]).find((c) => c['resourceType'] === type)!;

// ---- the whole life of a booking ------------------------------------------------------------------------------------

describe('book → read → cancel → read', () => {
  it('books, stores what the standard asks for, reads it back, cancels it and frees the slot', async () => {
    const slotRef = await freeSlot();
    const slot = decodeSlotRef(slotRef)!;
    const input = booking(slotRef);

    const booked = await bookFlow(flow(), input);
    expect(booked).toMatchObject({ code: 'BOOKED', message: null, diagnostics: null });
    const a = booked.appointment!;
    expect(a).toMatchObject({
      serviceId: HARBOUR_UTC,
      status: 'BOOKED',
      start: slot.start.toISOString(),
      end: slot.end.toISOString(),
      description: input.description,
      handoverReportId: input.handover.reportId,
      patient: { nhsNumber: input.patient.nhsNumber, family: 'Quillfeather', given: ['Ottoline'], birthDate: '1947-09-13' },
    });

    // What the provider stored: the three contained resources, as spec 5.5–5.7 describe them.
    const [v1, ...others] = await storedFor(slotRef);
    expect(others).toEqual([]);
    expect(v1).toMatchObject({ tenant: 'harbour-uec', id: a.ref, versionId: a.version, bookedBy: 'RX8', current: true });
    const doc = contained(v1!.resource, 'DocumentReference');
    expect(doc).toMatchObject({
      identifier: [{ system: 'https://tools.ietf.org/html/rfc4122', value: input.handover.reportId }],
      status: 'current',
      type: { coding: [{ system: 'urn:oid:2.16.840.1.113883.2.1.3.2.4.18.17', code: 'POCD_MT200001GB02' }] },
      description: SUMMARY,
      author: [{ identifier: { system: 'https://fhir.nhs.uk/Id/ods-organization-code', value: 'RX8' } }],
      content: [{ attachment: { contentType: 'application/hl7-v3+xml', language: 'en-GB' } }],
    });
    const patient = contained(v1!.resource, 'Patient');
    expect(patient.identifier).toMatchObject([{ system: 'https://fhir.nhs.uk/Id/nhs-number', value: input.patient.nhsNumber, use: 'official' }]);
    expect(patient.telecom).toEqual([{ system: 'phone', value: PATIENT.phone, rank: 1 }]);
    expect(contained(v1!.resource, 'Slot')).toEqual({
      resourceType: 'Slot',
      id: slot.slotId,
      identifier: [{ system: 'https://tools.ietf.org/html/rfc4122', value: slot.identifier }],
      schedule: { reference: `Schedule/${slot.scheduleId}` },
      status: 'busy',
      start: slot.start.toISOString(),
      end: slot.end.toISOString(),
    });

    // How it was sent.
    const [post] = await requests('POST');
    expect(post!.headers).toMatchObject({
      'x-request-id': input.requestId,
      'ssp-interactionid': `${IA}:create:appointment`,
      'ssp-from': registry.consumerSystem.asid,
      'ssp-to': '200000000101',
      accept: 'application/fhir+json',
    });
    expect(post!.headers['content-type']).toMatch(/^application\/fhir\+json/);
    expect(claims(post!)).toMatchObject({
      requested_scope: 'patient/appointment.write',
      aud: system('harbour-uec').baseUrl,
      requesting_organization: { identifier: [{ system: 'https://fhir.nhs.uk/Id/ods-organization-code', value: 'RX8' }] },
    });

    // Read.
    await fetch(`${sim.url}/_sandbox/requests`, { method: 'DELETE' });
    const read = await readFlow(flow(), { system: 'harbour-uec', serviceId: HARBOUR_UTC, appointmentRef: a.ref });
    expect(read).toEqual({ code: 'FOUND', appointment: a, message: null, diagnostics: null });
    const [get] = await requests('GET');
    expect(get!.headers['ssp-interactionid']).toBe(`${IA}:read:appointment`);
    expect(claims(get!).requested_scope).toBe('patient/appointment.read');

    // Cancel: read, then PUT with If-Match, changing status only.
    await fetch(`${sim.url}/_sandbox/requests`, { method: 'DELETE' });
    const cancelRequestId = randomUUID();
    const cancelled = await cancelFlow(flow(), { system: 'harbour-uec', serviceId: HARBOUR_UTC, appointmentRef: a.ref, requestId: cancelRequestId });
    expect(cancelled).toMatchObject({ code: 'CANCELLED', appointment: { ref: a.ref, status: 'CANCELLED' } });
    expect(cancelled.appointment!.version).not.toBe(a.version);
    const [put] = await requests('PUT');
    expect(put!.headers).toMatchObject({ 'if-match': `W/"${a.version}"`, 'x-request-id': cancelRequestId, 'ssp-interactionid': `${IA}:update:appointment` });
    expect(claims(put!).requested_scope).toBe('patient/appointment.write');
    expect({ ...JSON.parse(put!.body), status: 'booked' }).toEqual(v1!.resource);

    const after = await readFlow(flow(), { system: 'harbour-uec', serviceId: HARBOUR_UTC, appointmentRef: a.ref });
    expect(after.appointment).toMatchObject({ status: 'CANCELLED', version: cancelled.appointment!.version });
    const versions = await storedFor(slotRef);
    expect(versions.map((v) => [v.resource['status'], v.current])).toEqual([['booked', false], ['cancelled', true]]);

    // The slot is free again.
    const from = new Date(slot.start.getTime() - 60_000);
    const again = await client.searchSlots(system('harbour-uec'), { serviceId: HARBOUR_UTC, from, to: new Date(from.getTime() + 120_000) }, { consumer: NHS111, traceId: '0b6f1c2e-8c7b-4d6e-9f0a-0000000000ff' });
    expect(again.resources.filter((r): r is FhirSlot => r.resourceType === 'Slot').map((s) => [s.id, s.status])).toEqual([[slot.slotId, 'free']]);
  });
});

// ---- booking ----------------------------------------------------------------------------------------------------

describe('booking a slot someone else has', () => {
  it('is SLOT_UNAVAILABLE at harbour (422 processing) and at meridian (409 conflict)', async () => {
    for (const [systemId, serviceId, status] of [['harbour-uec', HARBOUR_UTC, 422], ['meridian-ooh', '1402000103', 409]] as const) {
      const slotRef = await freeSlot(systemId, serviceId);
      expect((await bookFlow(flow({ system: systemId }), booking(slotRef, { system: systemId, serviceId }))).code).toBe('BOOKED');
      await fetch(`${sim.url}/_sandbox/requests`, { method: 'DELETE' });
      const second = await bookFlow(flow({ system: systemId }), booking(slotRef, { system: systemId, serviceId }));
      expect(second).toEqual({ code: 'SLOT_UNAVAILABLE', appointment: null, message: say.slotTaken, diagnostics: null });
      expect((await requests()).map((r) => [r.method, r.status])).toEqual([['POST', status]]);
      expect(await storedFor(slotRef)).toHaveLength(1);
    }
  });

  it('of ten simultaneous bookings of one slot, one is BOOKED and nine SLOT_UNAVAILABLE; one appointment is stored', async () => {
    const slotRef = await freeSlot('harbour-uec', '1402000104');
    const results = await Promise.all(Array.from({ length: 10 }, () => bookFlow(flow(), booking(slotRef, { serviceId: '1402000104' }))));
    expect(results.filter((r) => r.code === 'BOOKED')).toHaveLength(1);
    expect(results.filter((r) => r.code === 'SLOT_UNAVAILABLE')).toHaveLength(9);
    expect(await storedFor(slotRef)).toHaveLength(1);
    expect(await requests('POST')).toHaveLength(10);
  });

  it('a 409 "duplicate" on a first attempt is the provider\'s way of saying the slot is taken (GP Connect style)', async () => {
    const slotRef = await freeSlot();
    const duplicate = { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'duplicate', diagnostics: 'Slot already booked' }] };
    await fault({ pathPrefix: '/harbour/STU3/Appointment', method: 'POST', status: 409, body: duplicate, times: 1 });
    const r = await bookFlow(flow(), booking(slotRef));
    expect(r.code).toBe('SLOT_UNAVAILABLE');
    expect(await requests('POST')).toHaveLength(1);
  });
});

describe('when the answer to a booking is lost', () => {
  it('after the provider committed (connection reset): one retry with the same X-Request-ID, then BOOKED by reconciliation', async () => {
    const slotRef = await freeSlot();
    const input = booking(slotRef);
    await fault({ pathPrefix: '/harbour/STU3/Appointment', method: 'POST', afterHandling: true, reset: true, times: 1 });
    const r = await bookFlow(flow(), input);
    expect(r).toMatchObject({ code: 'BOOKED', message: say.bookedEarlier });
    const posts = await requests('POST');
    expect(posts.map((p) => p.headers['x-request-id'])).toEqual([input.requestId, input.requestId]);
    expect(posts[1]!.status).toBe(409);
    const [only, ...more] = await storedFor(slotRef);
    expect(more).toEqual([]);
    expect(r.appointment).toMatchObject({ ref: only!.id, version: only!.versionId, status: 'BOOKED' });
  });

  it('after the provider committed (no answer before our deadline): BOOKED by reconciliation, one appointment', async () => {
    const slotRef = await freeSlot();
    await fault({ pathPrefix: '/harbour/STU3/Appointment', method: 'POST', afterHandling: true, stall: true, times: 1 });
    const r = await bookFlow(flow({ deadlineMs: 400 }), booking(slotRef));
    expect(r).toMatchObject({ code: 'BOOKED', message: say.bookedEarlier });
    expect(await storedFor(slotRef)).toHaveLength(1);
    expect(await requests('POST')).toHaveLength(2);
  });

  it('before the provider saw it: the retry books it, once', async () => {
    const slotRef = await freeSlot();
    await fault({ pathPrefix: '/harbour/STU3/Appointment', method: 'POST', stall: true, times: 1 });
    const r = await bookFlow(flow({ deadlineMs: 400 }), booking(slotRef));
    expect(r).toMatchObject({ code: 'BOOKED', message: null });
    expect(await storedFor(slotRef)).toHaveLength(1);
  });

  it('twice over, with nothing booked: OUTCOME_UNKNOWN after two POSTs and the searches, never a third POST', async () => {
    const slotRef = await freeSlot();
    await fault({ pathPrefix: '/harbour/STU3/Appointment', method: 'POST', status: 503, times: 2 });
    const r = await bookFlow(flow(), booking(slotRef));
    expect(r).toEqual({ code: 'OUTCOME_UNKNOWN', appointment: null, message: say.outcomeUnknown('harbour-uec'), diagnostics: null });
    // By our booking reference, then by NHS number: neither finds a booking.
    expect((await requests()).map((q) => q.method)).toEqual(['POST', 'POST', 'GET', 'GET']);
    expect(await storedFor(slotRef)).toHaveLength(0);
  });

  it('without an NHS number, the booking is found by our booking reference: BOOKED, and still only one appointment', async () => {
    const slotRef = await freeSlot();
    const input = booking(slotRef, {}, { nhsNumber: null });
    await fault({ pathPrefix: '/harbour/STU3/Appointment', method: 'POST', afterHandling: true, reset: true, times: 1 });
    const r = await bookFlow(flow(), input);
    expect(r).toMatchObject({ code: 'BOOKED', message: say.bookedEarlier });
    const seen = await requests();
    expect(seen.map((q) => [q.method, q.status])).toEqual([['POST', undefined], ['POST', 409], ['GET', 200], ['GET', 200]]);
    // The search asked for our reference (the request id), which the appointment carries.
    expect(seen[2]!.query['identifier']).toEqual([`urn:nhs-booking-gateway:booking-reference|${input.requestId}`]);
    const stored = await storedFor(slotRef);
    expect(stored).toHaveLength(1);
    expect(stored[0]!.resource['identifier']).toEqual([{ system: 'urn:nhs-booking-gateway:booking-reference', value: input.requestId }]);
    expect(r.appointment!.ref).toBe(stored[0]!.id);
  });

  it('without an NHS number, at a provider that refuses the reference search: OUTCOME_UNKNOWN, one appointment', async () => {
    const slotRef = await freeSlot();
    await fault([
      { pathPrefix: '/harbour/STU3/Appointment', method: 'POST', afterHandling: true, reset: true, times: 1 },
      { pathPrefix: '/harbour/STU3/Appointment', method: 'GET', status: 400, times: 1 },
    ]);
    const r = await bookFlow(flow(), booking(slotRef, {}, { nhsNumber: null }));
    expect(r).toMatchObject({ code: 'OUTCOME_UNKNOWN', message: say.outcomeUnknown('harbour-uec') });
    expect(r.message).toMatch(/same idempotency key/);
    expect(await storedFor(slotRef)).toHaveLength(1);
  });

  it('reconciles against a registry-style search answer (slim entries, spec 2.7) by reading the candidate', async () => {
    const slotRef = await freeSlot();
    const slot = decodeSlotRef(slotRef)!;
    const input = booking(slotRef);
    expect((await bookFlow(flow(), input)).code).toBe('BOOKED');
    const [v] = await storedFor(slotRef);
    // The search answered as the registry-era page describes: no contained resources, a pointer to the real one.
    const base = system('harbour-uec').baseUrl;
    const slim = {
      resourceType: 'Bundle', type: 'searchset', total: 1,
      entry: [{ fullUrl: `${base}/Appointment/${v!.id}/_history/${v!.versionId}`, resource: {
        resourceType: 'Appointment', status: 'booked', start: slot.start.toISOString(), end: slot.end.toISOString(), created: new Date().toISOString(),
        identifier: [{ system: 'urn:ietf:rfc:3986', value: `${base}/Appointment/${v!.id}` }],
        participant: [{ actor: { identifier: { system: 'https://fhir.nhs.uk/Id/nhs-number', value: input.patient.nhsNumber } } }],
      } }],
    };
    await fault({ pathPrefix: '/harbour/STU3/Appointment', method: 'GET', status: 200, body: slim, times: 1 });
    await fetch(`${sim.url}/_sandbox/requests`, { method: 'DELETE' });
    const retry = await bookFlow(flow(), { ...input, mayHaveBooked: true });
    expect(retry).toMatchObject({ code: 'BOOKED', message: say.bookedEarlier, appointment: { ref: v!.id, version: v!.versionId } });
    expect((await requests()).map((q) => q.path.split('/').at(-1))).toEqual(['Appointment', v!.id]);
  });
});

describe('retrying a booking that may have been made (mayHaveBooked)', () => {
  it('finds the booking already made and returns it, without a second POST', async () => {
    const slotRef = await freeSlot();
    const input = booking(slotRef);
    const first = await bookFlow(flow(), input);
    expect(first.code).toBe('BOOKED');
    await fetch(`${sim.url}/_sandbox/requests`, { method: 'DELETE' });
    const again = await bookFlow(flow(), { ...input, mayHaveBooked: true });
    expect(again).toEqual({ code: 'BOOKED', appointment: first.appointment, message: say.bookedEarlier, diagnostics: null });
    expect(await requests('POST')).toEqual([]);
    expect(await storedFor(slotRef)).toHaveLength(1);
  });

  it('books when the earlier attempt never reached the provider', async () => {
    const slotRef = await freeSlot();
    const r = await bookFlow(flow(), booking(slotRef, { mayHaveBooked: true }));
    expect(r).toMatchObject({ code: 'BOOKED', message: null });
    expect((await requests()).map((q) => q.method)).toEqual(['GET', 'GET', 'POST']);
  });

  it('without an NHS number finds the booking by our reference: the same appointment, no second POST', async () => {
    const slotRef = await freeSlot();
    const input = booking(slotRef, {}, { nhsNumber: null });
    const first = await bookFlow(flow(), input);
    expect(first.code).toBe('BOOKED');
    await fetch(`${sim.url}/_sandbox/requests`, { method: 'DELETE' });
    const again = await bookFlow(flow(), { ...input, mayHaveBooked: true });
    expect(again).toMatchObject({ code: 'BOOKED', message: say.bookedEarlier, appointment: { ref: first.appointment!.ref } });
    expect(await requests('POST')).toEqual([]);
    expect(await storedFor(slotRef)).toHaveLength(1);
  });
});

describe('slot taken after an attempt that may have been ours', () => {
  it('is reconciled: a provider that does not recognise repeated X-Request-IDs still cannot make us book twice', async () => {
    const slotRef = await freeSlot();
    const input = booking(slotRef);
    expect((await bookFlow(flow(), input)).code).toBe('BOOKED');
    // The first search fails (both of its attempts); the POST, under a new X-Request-ID as a provider without
    // duplicate detection would treat ours, finds the slot taken; the search afterwards finds our booking.
    await fault({ pathPrefix: '/harbour/STU3/Appointment', method: 'GET', status: 503, times: 2 });
    await fetch(`${sim.url}/_sandbox/requests`, { method: 'DELETE' });
    const r = await bookFlow(flow(), { ...input, requestId: randomUUID(), mayHaveBooked: true });
    expect(r).toMatchObject({ code: 'BOOKED', message: say.bookedEarlier });
    // After the POST: our (new) reference is not found, the NHS-number search finds the booking, which is read.
    expect((await requests()).map((q) => [q.method, q.status])).toEqual([['GET', 503], ['GET', 503], ['POST', 422], ['GET', 200], ['GET', 200], ['GET', 200]]);
    expect(await storedFor(slotRef)).toHaveLength(1);
  });

  it('is SLOT_UNAVAILABLE when the search shows the booking is not ours', async () => {
    const slotRef = await freeSlot();
    expect((await bookFlow(flow(), booking(slotRef))).code).toBe('BOOKED');
    const r = await bookFlow(flow(), booking(slotRef, { mayHaveBooked: true }));
    expect(r).toMatchObject({ code: 'SLOT_UNAVAILABLE', message: say.slotTaken });
  });
});

describe('booking refusals', () => {
  it('429 is waited out (Retry-After) and the same request sent again with the same X-Request-ID: BOOKED', async () => {
    const slotRef = await freeSlot();
    await fault({ pathPrefix: '/harbour/STU3/Appointment', method: 'POST', status: 429, headers: { 'retry-after': '1' }, times: 1 });
    expect(await bookFlow(flow(), booking(slotRef))).toMatchObject({ code: 'BOOKED' });
    const posts = await requests('POST');
    expect(posts.map((q) => q.status)).toEqual([429, 201]);
    expect(posts[1]!.headers['x-request-id']).toBe(posts[0]!.headers['x-request-id']);
    expect(await storedFor(slotRef)).toHaveLength(1);
  });

  it('429 beyond the wait budget is SUPPLIER_UNAVAILABLE, one POST', async () => {
    const slotRef = await freeSlot();
    await fault({ pathPrefix: '/harbour/STU3/Appointment', method: 'POST', status: 429, headers: { 'retry-after': '60' }, times: 1 });
    expect(await bookFlow(flow(), booking(slotRef))).toMatchObject({ code: 'SUPPLIER_UNAVAILABLE' });
    expect(await requests('POST')).toHaveLength(1);
  });

  it('an HTML error page gives no diagnostics: no stack trace, internal URL or connection string', async () => {
    const slotRef = await freeSlot();
    const html = '<html><body><pre>java.sql.SQLException: jdbc:postgresql://db.harbour.internal:5432/booking\n\tat com.harbour.Dao.insert(Dao.java:12)</pre>http://10.1.2.3:8080/admin</body></html>';
    await fault({ pathPrefix: '/harbour/STU3/Appointment', method: 'POST', status: 400, body: html, headers: { 'content-type': 'text/html' }, times: 1 });
    const r = await bookFlow(flow(), booking(slotRef));
    expect(r).toMatchObject({ code: 'INVALID_REQUEST', diagnostics: null });
  });

  it('a patient the provider rejects is INVALID_PATIENT, with the provider\'s diagnostics', async () => {
    const slotRef = await freeSlot();
    const r = await bookFlow(flow(), booking(slotRef, {}, { nhsNumber: '9476719932' }));
    expect(r).toMatchObject({ code: 'INVALID_PATIENT', appointment: null, message: say.invalidPatient('harbour-uec') });
    expect(r.diagnostics).toMatch(/not a valid NHS number/);
    expect(await storedFor(slotRef)).toHaveLength(0);
  });

  it('a request the provider rejects is INVALID_REQUEST, with the provider\'s diagnostics', async () => {
    const slotRef = await freeSlot();
    const input = booking(slotRef);
    const r = await bookFlow(flow(), { ...input, handover: { ...input.handover, reportId: 'r'.repeat(40) } });
    expect(r).toMatchObject({ code: 'INVALID_REQUEST', message: say.invalidBooking('harbour-uec') });
    expect(r.diagnostics).toMatch(/DocumentReference/);
  });

  it('a slot ref we cannot decode is INVALID_REQUEST, and nothing is sent', async () => {
    const r = await bookFlow(flow(), booking('slot-1402000102-main-20260601T1015Z'));
    expect(r).toMatchObject({ code: 'INVALID_REQUEST', message: say.slotRefInvalid });
    expect(await requests()).toEqual([]);
  });
});

// ---- reading and cancelling --------------------------------------------------------------------------------------

async function bookOne(): Promise<{ ref: string; version: string; slotRef: string }> {
  const slotRef = await freeSlot();
  const r = await bookFlow(flow(), booking(slotRef));
  expect(r.code).toBe('BOOKED');
  await fetch(`${sim.url}/_sandbox/requests`, { method: 'DELETE' });
  return { ref: r.appointment!.ref, version: r.appointment!.version!, slotRef };
}

const cancelInput = (ref: string) => ({ system: 'harbour-uec', serviceId: HARBOUR_UTC, appointmentRef: ref, requestId: randomUUID() });
const readInput = (ref: string) => ({ system: 'harbour-uec', serviceId: HARBOUR_UTC, appointmentRef: ref });

describe('another organisation', () => {
  it('can neither read nor cancel our appointment: FORBIDDEN, and nothing changes', async () => {
    const { ref, slotRef } = await bookOne();
    const before = await storedFor(slotRef);
    expect(await readFlow(flow({ consumer: OTHER }), readInput(ref))).toMatchObject({ code: 'FORBIDDEN', appointment: null });
    expect(await cancelFlow(flow({ consumer: OTHER }), cancelInput(ref))).toMatchObject({ code: 'FORBIDDEN', appointment: null });
    expect(await requests('PUT')).toEqual([]);
    expect(await storedFor(slotRef)).toEqual(before);
  });
});

describe('cancelling', () => {
  it('a stale version (409) or missing If-Match (412) is read again and retried once, with a new X-Request-ID', async () => {
    for (const status of [409, 412]) {
      const { ref, slotRef } = await bookOne();
      await fault({ pathPrefix: `/harbour/STU3/Appointment/${ref}`, method: 'PUT', status, times: 1 });
      const input = cancelInput(ref);
      const r = await cancelFlow(flow(), input);
      expect(r).toMatchObject({ code: 'CANCELLED', appointment: { status: 'CANCELLED' } });
      const calls = await requests();
      expect(calls.map((c) => [c.method, c.status])).toEqual([['GET', 200], ['PUT', status], ['GET', 200], ['PUT', 200]]);
      expect(calls[1]!.headers['x-request-id']).toBe(input.requestId);
      expect(calls[3]!.headers['x-request-id']).not.toBe(input.requestId);
      expect((await storedFor(slotRef)).map((v) => v.resource['status'])).toEqual(['booked', 'cancelled']);
    }
  });

  it('stale twice over is CONFLICT, after exactly two PUTs, and the appointment stands', async () => {
    const { ref, slotRef } = await bookOne();
    await fault({ pathPrefix: `/harbour/STU3/Appointment/${ref}`, method: 'PUT', status: 409 });
    expect(await cancelFlow(flow(), cancelInput(ref))).toMatchObject({ code: 'CONFLICT', message: say.cancelConflict('harbour-uec') });
    expect(await requests('PUT')).toHaveLength(2);
    expect((await storedFor(slotRef)).map((v) => v.resource['status'])).toEqual(['booked']);
  });

  it('an appointment already cancelled is CANCELLED, without sending anything', async () => {
    const { ref } = await bookOne();
    expect((await cancelFlow(flow(), cancelInput(ref))).code).toBe('CANCELLED');
    await fetch(`${sim.url}/_sandbox/requests`, { method: 'DELETE' });
    expect(await cancelFlow(flow(), cancelInput(ref))).toMatchObject({ code: 'CANCELLED', appointment: { status: 'CANCELLED' } });
    expect((await requests()).map((c) => c.method)).toEqual(['GET']);
  });

  it('a lost answer after the provider cancelled: read again, CANCELLED', async () => {
    const { ref } = await bookOne();
    await fault({ pathPrefix: `/harbour/STU3/Appointment/${ref}`, method: 'PUT', afterHandling: true, reset: true, times: 1 });
    expect(await cancelFlow(flow(), cancelInput(ref))).toMatchObject({ code: 'CANCELLED', appointment: { status: 'CANCELLED' } });
    expect((await requests()).map((c) => c.method)).toEqual(['GET', 'PUT', 'GET']);
  });

  it('a 5xx without the provider cancelling: read again, still booked, so OUTCOME_UNKNOWN; never a blind second PUT', async () => {
    const { ref, slotRef } = await bookOne();
    await fault({ pathPrefix: `/harbour/STU3/Appointment/${ref}`, method: 'PUT', status: 500, times: 1 });
    expect(await cancelFlow(flow(), cancelInput(ref))).toMatchObject({ code: 'OUTCOME_UNKNOWN', message: say.cancelUnknown('harbour-uec') });
    expect((await requests()).map((c) => c.method)).toEqual(['GET', 'PUT', 'GET']);
    expect((await storedFor(slotRef)).map((v) => v.resource['status'])).toEqual(['booked']);
  });

  it('a 422 is INVALID_REQUEST with the provider\'s diagnostics', async () => {
    const { ref } = await bookOne();
    const body = { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'invalid', details: { coding: [{ code: 'MSG_VERSION_AWARE_CONFLICT' }] }, diagnostics: 'Differences detected' }] };
    await fault({ pathPrefix: `/harbour/STU3/Appointment/${ref}`, method: 'PUT', status: 422, body, times: 1 });
    expect(await cancelFlow(flow(), cancelInput(ref))).toMatchObject({ code: 'INVALID_REQUEST', diagnostics: 'Differences detected' });
  });

  it('an unknown appointment is NOT_FOUND', async () => {
    expect(await cancelFlow(flow(), cancelInput(randomUUID()))).toMatchObject({ code: 'NOT_FOUND', message: say.notFound('harbour-uec') });
  });
});

describe('reading', () => {
  it('an unknown appointment is NOT_FOUND; an unreachable provider SUPPLIER_UNAVAILABLE after one retry', async () => {
    expect(await readFlow(flow(), readInput(randomUUID()))).toMatchObject({ code: 'NOT_FOUND' });
    await fetch(`${sim.url}/_sandbox/requests`, { method: 'DELETE' });
    await fault({ pathPrefix: '/harbour/STU3/Appointment/', status: 503 });
    expect(await readFlow(flow(), readInput(randomUUID()))).toMatchObject({ code: 'SUPPLIER_UNAVAILABLE', message: say.unavailable('harbour-uec') });
    expect(await requests('GET')).toHaveLength(2);
  });

  it('a reference that is not a FHIR id is INVALID_REQUEST and never reaches the provider\'s URL', async () => {
    expect(await readFlow(flow(), readInput('../Slot?x=1'))).toMatchObject({ code: 'INVALID_REQUEST' });
    expect(await requests()).toEqual([]);
  });
});

describe('a patient\'s appointments', () => {
  it('lists what this organisation booked for the patient, at the right service', async () => {
    const slotRef = await freeSlot();
    const input = booking(slotRef);
    const booked = await bookFlow(flow(), input);
    const found = await patientAppointmentsFlow(flow(), { system: 'harbour-uec', nhsNumber: input.patient.nhsNumber! });
    expect(found).toEqual({ code: 'FOUND', message: null, appointments: [booked.appointment] });
    const theirs = await patientAppointmentsFlow(flow({ consumer: OTHER }), { system: 'harbour-uec', nhsNumber: input.patient.nhsNumber! });
    expect(theirs).toEqual({ code: 'FOUND', message: null, appointments: [] });
  });

  it('reads back the entries of a registry-style answer (spec 2.7) to list them in full', async () => {
    const input = booking(await freeSlot());
    const booked = await bookFlow(flow(), input);
    const ref = booked.appointment!.ref;
    const base = system('harbour-uec').baseUrl;
    const slim = {
      resourceType: 'Bundle', type: 'searchset', total: 1,
      entry: [{ fullUrl: `${base}/Appointment/${ref}/_history/${booked.appointment!.version}`, resource: {
        resourceType: 'Appointment', status: 'booked', start: booked.appointment!.start, end: booked.appointment!.end,
        identifier: [{ system: 'urn:ietf:rfc:3986', value: `${base}/Appointment/${ref}` }],
      } }],
    };
    await fault({ pathPrefix: '/harbour/STU3/Appointment', method: 'GET', status: 200, body: slim, times: 1 });
    const found = await patientAppointmentsFlow(flow(), { system: 'harbour-uec', nhsNumber: input.patient.nhsNumber! });
    expect(found).toEqual({ code: 'FOUND', message: null, appointments: [booked.appointment] });
  });

  it('leaves out, and counts, an appointment whose service it cannot tell', async () => {
    const input = booking(await freeSlot());
    await bookFlow(flow(), input);
    const fresh = await patientAppointmentsFlow(flow({ schedules: new ScheduleServices() }), { system: 'harbour-uec', nhsNumber: input.patient.nhsNumber! });
    expect(fresh).toEqual({ code: 'FOUND', message: say.leftOut(1), appointments: [] });
  });

  it('is NOT_SUPPORTED when the provider refuses the search, SUPPLIER_UNAVAILABLE when it cannot be reached', async () => {
    await fault({ pathPrefix: '/harbour/STU3/Appointment', method: 'GET', status: 400, times: 1 });
    expect(await patientAppointmentsFlow(flow(), { system: 'harbour-uec', nhsNumber: nhsNumber() })).toMatchObject({ code: 'NOT_SUPPORTED', appointments: [] });
    await fault({ pathPrefix: '/harbour/STU3/Appointment', method: 'GET', status: 503 });
    expect(await patientAppointmentsFlow(flow(), { system: 'harbour-uec', nhsNumber: nhsNumber() })).toMatchObject({ code: 'SUPPLIER_UNAVAILABLE', appointments: [] });
  });
});

// Last, over everything logged above: ids, statuses and codes only.
describe('logs', () => {
  it('never carry patient data or provider diagnostics', () => {
    const text = logLines.join('\n');
    expect(logLines.length).toBeGreaterThan(50);
    for (const secret of ['Quillfeather', 'Ottoline', '1947-09-13', 'Larkspur', '01632 960731', 'LS9 7TF', 'wrist swelling', '9476719932', 'not a valid NHS number']) {
      expect(text).not.toContain(secret);
    }
    expect(text).not.toMatch(/"nhsNumber"/);
  });
});
