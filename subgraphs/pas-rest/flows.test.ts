/**
 * The booking, cancel and lookup flows against the Oakfield simulator (real HTTP, in-process, port 0): what we are
 * told, and what the supplier actually holds (GET /_sandbox/bookings) and was sent (GET /_sandbox/requests). Faults
 * come from the simulator's fault injection, including "committed, then the answer was lost". The simulator's clock
 * is pinned to Tuesday 20 October 2026, the week the clocks go back.
 */
import { randomUUID } from 'node:crypto';
import { pino } from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Booking } from '../../sandbox/pas-rest/bookings.js';
import { startPasRestSimulator } from '../../sandbox/pas-rest/server.js';
import type { Fault, RecordedRequest, SandboxServer } from '../../sandbox/lib/http.js';
import type { ConsumerOrganisation } from '../../common/consumer.js';
import { loadRegistry, type PasRestSystem, type Registry } from '../kit/registry.js';
import { decodeSlotId } from '../../common/slot-id.js';
import { bookFlow } from './book.js';
import { cancelFlow } from './cancel.js';
import { PasRestClient } from './client.js';
import { ClinicDirectory } from './clinics.js';
import type { SupplierBookingInput, SupplierPatientInput } from './generated/resolvers.js';
import { patientAppointmentsFlow, readFlow } from './lookup.js';
import { mapSessions, type SlotModel } from './map.js';
import { say, type Flow } from './outcomes.js';
import { decodeSlotRef } from './slot-ref.js';
import { londonDate } from './wall-clock.js';

const NOW = new Date('2026-10-20T09:00:00Z');
const NHS111: ConsumerOrganisation = { odsCode: 'RX8', name: 'Yorkshire Ambulance Service NHS 111' };
const OTHER: ConsumerOrganisation = { odsCode: 'X26', name: 'NHS App (patient facing)' };
const LDI = '1402000107';
const HEADINGLEY = '1402000108';

let sim: SandboxServer;
let registry: Registry;
let client: PasRestClient;
let clinics: ClinicDirectory;
const logLines: string[] = [];
const logger = pino({ level: 'debug' }, { write: (line: string) => void logLines.push(line) });

beforeAll(async () => {
  sim = await startPasRestSimulator({ port: 0, now: () => NOW, apiKeys: ['sandbox-oakfield-key'], rateLimit: { perSecond: 1000 } });
  registry = loadRegistry(undefined, { SANDBOX_PAS_REST_URL: sim.url });
  client = PasRestClient.forRegistry(registry, { OAKFIELD_PAS_API_KEY: 'sandbox-oakfield-key' });
  clinics = new ClinicDirectory(client);
});
afterAll(() => sim.close());
beforeEach(async () => {
  await fetch(`${sim.url}/_sandbox/faults`, { method: 'DELETE' });
  await fetch(`${sim.url}/_sandbox/requests`, { method: 'DELETE' });
});

// ---- helpers ------------------------------------------------------------------------------------------------------

function system(overrides: Partial<PasRestSystem> = {}): PasRestSystem {
  return { ...(registry.system('oakfield-pas') as PasRestSystem), ...overrides };
}

function flow(o: { consumer?: ConsumerOrganisation; deadlineMs?: number } = {}): Flow {
  return {
    client,
    system: system(o.deadlineMs ? { deadlineMs: o.deadlineMs } : {}),
    call: { consumer: o.consumer ?? NHS111, traceId: randomUUID() },
    log: logger.child({ test: true }),
    clinics,
  };
}

/** The slots a search shows for a service between two instants, through the adapter's own client and mapping. */
async function slots(serviceId: string, from: Date, to: Date): Promise<SlotModel[]> {
  const call = { consumer: NHS111, traceId: 't' };
  const clinic = (await clinics.clinicsFor(system(), [serviceId], call)).get(serviceId)!;
  const found = await client.sessions(system(), clinic.id, londonDate(from.getTime()), londonDate(to.getTime()), call);
  return mapSessions({ system: 'oakfield-pas', serviceId, sessions: found.sessions, from, to, fetchedAt: found.fetchedAt }).slots;
}

const handedOut = new Set<string>();
/** A free slot with exactly `places` left, never one an earlier test used: its slot ref. */
async function freeSlot(places = 2, serviceId = LDI): Promise<string> {
  const found = await slots(serviceId, new Date('2026-10-21T00:00:00Z'), new Date('2026-10-24T00:00:00Z'));
  const slot = found.find((s) => s.capacity === places && !handedOut.has(s.id));
  if (!slot) throw new Error(`no slot with ${places} places left at ${serviceId}`);
  handedOut.add(slot.id);
  return decodeSlotId(slot.id)!.ref;
}

/** The places a search shows left at a slot now (0: not offered). */
async function placesLeft(slotRef: string, serviceId = LDI): Promise<number> {
  const ref = decodeSlotRef(slotRef)!;
  const found = await slots(serviceId, ref.start, ref.start);
  return found.find((s) => decodeSlotRef(decodeSlotId(s.id)!.ref)!.sessionId === ref.sessionId)?.capacity ?? 0;
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
const SUMMARY = 'Dental abscess; facial swelling spreading';

function booking(slotRef: string, o: Partial<SupplierBookingInput> = {}, patient: Partial<SupplierPatientInput> = {}): SupplierBookingInput {
  return {
    system: 'oakfield-pas',
    serviceId: LDI,
    slotRef,
    requestId: randomUUID(),
    mayHaveBooked: false,
    description: '111 referral: dental abscess',
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
  return all.filter((r) => r.path.includes('/bookings') && (!method || r.method === method));
}

/** What the supplier holds for this slot, every organisation's. */
async function storedFor(slotRef: string): Promise<(Booking & { idempotencyKey: string | null })[]> {
  const ref = decodeSlotRef(slotRef)!;
  const all = (await (await fetch(`${sim.url}/_sandbox/bookings`)).json()) as (Booking & { idempotencyKey: string | null })[];
  return all.filter((b) => b.sessionId === ref.sessionId && b.time === ref.time && (b.fold ?? 0) === ref.fold);
}

const cancelInput = (ref: string, serviceId = LDI) => ({ system: 'oakfield-pas', serviceId, appointmentRef: ref, requestId: randomUUID(), reason: 'Patient feels better' });
const readInput = (ref: string, serviceId = LDI) => ({ system: 'oakfield-pas', serviceId, appointmentRef: ref });

// ---- the whole life of a booking ------------------------------------------------------------------------------------

describe('book → read → cancel → read', () => {
  it('books what the consumer chose, stores the handover, reads it back, cancels it and frees the place', async () => {
    const slotRef = await freeSlot(2);
    const slot = decodeSlotRef(slotRef)!;
    const input = booking(slotRef);

    const booked = await bookFlow(flow(), input);
    expect(booked).toMatchObject({ code: 'BOOKED', message: null, diagnostics: null });
    const a = booked.appointment!;
    expect(a).toMatchObject({
      serviceId: LDI,
      status: 'BOOKED',
      description: input.description,
      version: '1',
      handoverReportId: input.handover.reportId,
      patient: { nhsNumber: input.patient.nhsNumber, family: 'Quillfeather', given: ['Ottoline'], birthDate: '1947-09-13' },
    });
    expect(Date.parse(a.start)).toBe(slot.start.getTime());
    expect(Date.parse(a.end)).toBe(slot.end.getTime());
    expect(await placesLeft(slotRef)).toBe(1);

    // What the supplier holds, and how it was asked.
    const [stored, ...others] = await storedFor(slotRef);
    expect(others).toEqual([]);
    expect(stored).toMatchObject({
      id: a.ref,
      bookedBy: 'RX8',
      idempotencyKey: input.requestId,
      patient: { nhsNumber: input.patient.nhsNumber, title: 'Ms', gender: '2', address: { lines: ['17 Larkspur Terrace'], town: 'Leeds', postcode: 'LS9 7TF' }, contactNumber: '01632 960731' },
      referral: { referrerOdsCode: 'RX8', reportId: input.handover.reportId, reportType: { code: 'POCD_MT200001GB02', display: 'Integrated Urgent Care Report' }, summary: SUMMARY },
    });
    const [post] = await requests('POST');
    expect(post!.headers).toMatchObject({ 'idempotency-key': input.requestId, 'x-requesting-organisation': 'RX8', 'content-type': 'application/json' });

    const read = await readFlow(flow(), readInput(a.ref));
    expect(read).toEqual({ code: 'FOUND', appointment: a, message: null, diagnostics: null });

    await fetch(`${sim.url}/_sandbox/requests`, { method: 'DELETE' });
    const cancelled = await cancelFlow(flow(), cancelInput(a.ref));
    expect(cancelled).toMatchObject({ code: 'CANCELLED', message: null, appointment: { ref: a.ref, status: 'CANCELLED', version: '2', start: a.start } });
    const [del, ...moreCalls] = await requests();
    expect(moreCalls).toEqual([]);
    expect([del!.method, del!.query['reasonCode']]).toEqual(['DELETE', ['REFERRER_CANCELLED']]);
    // The free text reason never reaches the supplier's URL.
    expect(JSON.stringify(del)).not.toContain('feels better');

    expect((await readFlow(flow(), readInput(a.ref))).appointment).toMatchObject({ status: 'CANCELLED' });
    expect(await placesLeft(slotRef)).toBe(2);
  });

  it('books the second pass through the repeated hour on the night the clocks go back, at its GMT instant', async () => {
    const night = await slots(LDI, new Date('2026-10-25T00:00:00Z'), new Date('2026-10-25T02:00:00Z'));
    const second = night.find((s) => s.start.endsWith('+00:00') && s.start.slice(11, 13) === '01' && !handedOut.has(s.id))!;
    handedOut.add(second.id);
    const ref = decodeSlotId(second.id)!.ref;
    expect(decodeSlotRef(ref)).toMatchObject({ fold: 1 });
    const r = await bookFlow(flow(), booking(ref));
    expect(r).toMatchObject({ code: 'BOOKED', appointment: { start: second.start, end: second.end } });
    const [stored] = await storedFor(ref);
    expect(stored).toMatchObject({ date: '2026-10-25', time: second.start.slice(11, 16), fold: 1 });
    expect(JSON.parse((await requests('POST'))[0]!.body)).toMatchObject({ time: second.start.slice(11, 16), fold: 1 });
  });
});

// ---- booking ----------------------------------------------------------------------------------------------------

describe('a time with no place left', () => {
  it('is SLOT_UNAVAILABLE, after one POST, and nothing more is stored', async () => {
    const slotRef = await freeSlot(1);
    expect((await bookFlow(flow(), booking(slotRef))).code).toBe('BOOKED');
    await fetch(`${sim.url}/_sandbox/requests`, { method: 'DELETE' });
    const second = await bookFlow(flow(), booking(slotRef));
    expect(second).toEqual({ code: 'SLOT_UNAVAILABLE', appointment: null, message: say.slotTaken, diagnostics: null });
    expect((await requests()).map((r) => [r.method, r.status])).toEqual([['POST', 409]]);
    expect(await storedFor(slotRef)).toHaveLength(1);
  });

  it('of ten simultaneous bookings of a single-place time, one is BOOKED and nine SLOT_UNAVAILABLE; one is stored', async () => {
    const slotRef = await freeSlot(1, HEADINGLEY);
    const results = await Promise.all(Array.from({ length: 10 }, () => bookFlow(flow(), booking(slotRef, { serviceId: HEADINGLEY }))));
    expect(results.filter((r) => r.code === 'BOOKED')).toHaveLength(1);
    expect(results.filter((r) => r.code === 'SLOT_UNAVAILABLE')).toHaveLength(9);
    expect(await storedFor(slotRef)).toHaveLength(1);
    expect(await requests('POST')).toHaveLength(10);
    expect(await placesLeft(slotRef, HEADINGLEY)).toBe(0);
  });
});

describe('when the answer to a booking is lost', () => {
  it('after the supplier committed (connection reset): the retry with the same key returns the same booking; one is held', async () => {
    const slotRef = await freeSlot(2);
    const input = booking(slotRef);
    await fault({ pathPrefix: '/api/v2/bookings', method: 'POST', afterHandling: true, reset: true, times: 1 });
    const r = await bookFlow(flow(), input);
    expect(r).toMatchObject({ code: 'BOOKED', message: say.bookedEarlier });
    const posts = await requests('POST');
    expect(posts.map((p) => p.headers['idempotency-key'])).toEqual([input.requestId, input.requestId]);
    expect(posts.map((p) => p.body)).toEqual([posts[0]!.body, posts[0]!.body]);
    expect(posts[1]!.status).toBe(200);
    const [only, ...more] = await storedFor(slotRef);
    expect(more).toEqual([]);
    expect(r.appointment).toMatchObject({ ref: only!.id, status: 'BOOKED' });
    // No search, no read: the same POST was the question.
    expect((await requests()).map((q) => q.method)).toEqual(['POST', 'POST']);
  });

  it('after the supplier committed (no answer before our deadline): BOOKED by the replay, one booking', async () => {
    const slotRef = await freeSlot(2);
    await fault({ pathPrefix: '/api/v2/bookings', method: 'POST', afterHandling: true, stall: true, times: 1 });
    const r = await bookFlow(flow({ deadlineMs: 400 }), booking(slotRef));
    expect(r).toMatchObject({ code: 'BOOKED', message: say.bookedEarlier });
    expect(await storedFor(slotRef)).toHaveLength(1);
  });

  it('before the supplier saw it (5xx): the retry books it, once', async () => {
    const slotRef = await freeSlot(2);
    await fault({ pathPrefix: '/api/v2/bookings', method: 'POST', status: 503, times: 1 });
    const r = await bookFlow(flow(), booking(slotRef));
    expect(r).toMatchObject({ code: 'BOOKED', message: null });
    expect((await requests('POST')).map((p) => p.status)).toEqual([503, 201]);
    expect(await storedFor(slotRef)).toHaveLength(1);
  });

  it('"a request with this key is still being processed" (409) is waited out like no answer: the retry books, once', async () => {
    const slotRef = await freeSlot(2);
    const inUse = { error: { code: 'IDEMPOTENCY_KEY_IN_USE', message: 'A request with this key is being processed' } };
    await fault({ pathPrefix: '/api/v2/bookings', method: 'POST', status: 409, body: inUse, times: 1 });
    const r = await bookFlow(flow(), booking(slotRef));
    expect(r).toMatchObject({ code: 'BOOKED' });
    expect((await requests('POST')).map((p) => p.status)).toEqual([409, 201]);
    expect(await storedFor(slotRef)).toHaveLength(1);
  });

  it('twice over: OUTCOME_UNKNOWN after exactly two POSTs, never a third', async () => {
    const slotRef = await freeSlot(2);
    await fault({ pathPrefix: '/api/v2/bookings', method: 'POST', status: 500, times: 2 });
    const r = await bookFlow(flow(), booking(slotRef));
    expect(r).toEqual({ code: 'OUTCOME_UNKNOWN', appointment: null, message: say.outcomeUnknown('oakfield-pas'), diagnostics: null });
    expect((await requests()).map((q) => q.method)).toEqual(['POST', 'POST']);
    expect(await storedFor(slotRef)).toHaveLength(0);
  });

  it('the gateway\'s next attempt (mayHaveBooked) after an unknown outcome settles it with the same key, NHS number or not', async () => {
    const slotRef = await freeSlot(2);
    const input = booking(slotRef, {}, { nhsNumber: null });
    await fault({ pathPrefix: '/api/v2/bookings', method: 'POST', afterHandling: true, reset: true, times: 2 });
    expect((await bookFlow(flow(), input)).code).toBe('OUTCOME_UNKNOWN');
    const again = await bookFlow(flow(), { ...input, mayHaveBooked: true });
    expect(again).toMatchObject({ code: 'BOOKED', message: say.bookedEarlier });
    const [only, ...more] = await storedFor(slotRef);
    expect(more).toEqual([]);
    expect(again.appointment!.ref).toBe(only!.id);
  });
});

describe('retrying a booking that may have been made (mayHaveBooked)', () => {
  it('returns the booking already made, without booking again and without any search', async () => {
    const slotRef = await freeSlot(2);
    const input = booking(slotRef);
    const first = await bookFlow(flow(), input);
    await fetch(`${sim.url}/_sandbox/requests`, { method: 'DELETE' });
    const again = await bookFlow(flow(), { ...input, mayHaveBooked: true });
    expect(again).toEqual({ code: 'BOOKED', appointment: first.appointment, message: say.bookedEarlier, diagnostics: null });
    expect((await requests()).map((q) => [q.method, q.status])).toEqual([['POST', 200]]);
    expect(await storedFor(slotRef)).toHaveLength(1);
  });

  it('books when the earlier attempt never reached the supplier', async () => {
    const slotRef = await freeSlot(2);
    const r = await bookFlow(flow(), booking(slotRef, { mayHaveBooked: true }));
    expect(r).toMatchObject({ code: 'BOOKED', message: null });
    expect((await requests()).map((q) => q.method)).toEqual(['POST']);
  });

  it('is OUTCOME_UNKNOWN, not "nothing was booked", when the supplier rate limits the retry beyond the wait budget', async () => {
    const slotRef = await freeSlot(2);
    await fault({ pathPrefix: '/api/v2/bookings', method: 'POST', status: 429, headers: { 'retry-after': '60' }, times: 1 });
    expect((await bookFlow(flow(), booking(slotRef, { mayHaveBooked: true }))).code).toBe('OUTCOME_UNKNOWN');
  });
});

describe('booking refusals', () => {
  it('429 is waited out (Retry-After) and the same request sent again with the same key: BOOKED', async () => {
    const slotRef = await freeSlot(2);
    await fault({ pathPrefix: '/api/v2/bookings', method: 'POST', status: 429, headers: { 'retry-after': '1' }, times: 1 });
    const started = Date.now();
    expect(await bookFlow(flow(), booking(slotRef))).toMatchObject({ code: 'BOOKED', message: null });
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    const posts = await requests('POST');
    expect(posts.map((q) => q.status)).toEqual([429, 201]);
    expect(posts[1]!.headers['idempotency-key']).toBe(posts[0]!.headers['idempotency-key']);
    expect(posts[1]!.body).toBe(posts[0]!.body);
  });

  it('429 with a Retry-After beyond the wait budget is SUPPLIER_UNAVAILABLE: nothing booked, POST not repeated', async () => {
    const slotRef = await freeSlot(2);
    await fault({ pathPrefix: '/api/v2/bookings', method: 'POST', status: 429, headers: { 'retry-after': '60' }, times: 1 });
    expect(await bookFlow(flow(), booking(slotRef))).toMatchObject({ code: 'SUPPLIER_UNAVAILABLE', message: say.bookingUnavailable('oakfield-pas') });
    expect(await requests('POST')).toHaveLength(1);
  });

  it('a patient the supplier rejects is INVALID_PATIENT, with the supplier\'s diagnostics', async () => {
    const slotRef = await freeSlot(2);
    const r = await bookFlow(flow(), booking(slotRef, {}, { nhsNumber: '9476719932', postcode: 'NOWHERE' }));
    expect(r).toMatchObject({ code: 'INVALID_PATIENT', appointment: null, message: say.invalidPatient('oakfield-pas') });
    expect(r.diagnostics).toMatch(/patient\.nhsNumber: .*check digit; patient\.address\.postcode/);
    expect(await storedFor(slotRef)).toHaveLength(0);
  });

  it('any other request the supplier rejects is INVALID_REQUEST, with its message', async () => {
    const slotRef = await freeSlot(2);
    const input = booking(slotRef);
    const r = await bookFlow(flow(), { ...input, handover: { ...input.handover, reportId: 'not-a-uuid' } });
    expect(r).toMatchObject({ code: 'INVALID_REQUEST', message: say.invalidBooking('oakfield-pas') });
    expect(r.diagnostics).toMatch(/referral\.reportId/);
  });

  it('the same key with another booking is INVALID_REQUEST; the first booking stands alone', async () => {
    const slotRef = await freeSlot(2);
    const input = booking(slotRef);
    expect((await bookFlow(flow(), input)).code).toBe('BOOKED');
    const r = await bookFlow(flow(), { ...input, description: 'another referral' });
    expect(r).toMatchObject({ code: 'INVALID_REQUEST', message: say.keyReused('oakfield-pas') });
    expect(await storedFor(slotRef)).toHaveLength(1);
  });

  it('a slot ref we cannot decode is INVALID_REQUEST, and nothing is sent', async () => {
    const r = await bookFlow(flow(), booking('SES-7R8MZ3-20261021-1@09:00'));
    expect(r).toMatchObject({ code: 'INVALID_REQUEST', message: say.slotRefInvalid });
    expect(await requests()).toEqual([]);
  });
});

// ---- reading and cancelling --------------------------------------------------------------------------------------

async function bookOne(serviceId = LDI): Promise<{ ref: string; slotRef: string; nhs: string }> {
  const slotRef = await freeSlot(2, serviceId);
  const input = booking(slotRef, { serviceId });
  const r = await bookFlow(flow(), input);
  expect(r.code).toBe('BOOKED');
  await fetch(`${sim.url}/_sandbox/requests`, { method: 'DELETE' });
  return { ref: r.appointment!.ref, slotRef, nhs: input.patient.nhsNumber! };
}

describe('another organisation', () => {
  it('can neither read nor cancel our booking: FORBIDDEN, and the booking stands', async () => {
    const { ref, slotRef } = await bookOne();
    expect(await readFlow(flow({ consumer: OTHER }), readInput(ref))).toMatchObject({ code: 'FORBIDDEN', appointment: null, message: say.forbiddenAppointment('oakfield-pas') });
    expect(await cancelFlow(flow({ consumer: OTHER }), cancelInput(ref))).toMatchObject({ code: 'FORBIDDEN', appointment: null });
    expect((await requests()).map((r) => [r.method, r.status])).toEqual([['GET', 403], ['DELETE', 403]]);
    expect((await storedFor(slotRef)).map((b) => b.status)).toEqual(['BOOKED']);
  });
});

describe('cancelling', () => {
  it('twice is CANCELLED twice: the second answer is the booking as the first left it', async () => {
    const { ref } = await bookOne();
    const first = await cancelFlow(flow(), cancelInput(ref));
    const second = await cancelFlow(flow(), cancelInput(ref));
    expect(first).toMatchObject({ code: 'CANCELLED', appointment: { status: 'CANCELLED', version: '2' } });
    expect(second).toEqual(first);
  });

  it('a lost answer after the supplier cancelled: DELETE once more, CANCELLED', async () => {
    const { ref, slotRef } = await bookOne();
    await fault({ pathPrefix: `/api/v2/bookings/${ref}`, method: 'DELETE', afterHandling: true, reset: true, times: 1 });
    expect(await cancelFlow(flow(), cancelInput(ref))).toMatchObject({ code: 'CANCELLED', appointment: { status: 'CANCELLED' } });
    expect((await requests()).map((c) => c.method)).toEqual(['DELETE', 'DELETE']);
    expect((await storedFor(slotRef)).map((b) => [b.status, b.version])).toEqual([['CANCELLED', 2]]);
  });

  it('no answer twice: OUTCOME_UNKNOWN, never a third DELETE', async () => {
    const { ref } = await bookOne();
    await fault({ pathPrefix: `/api/v2/bookings/${ref}`, method: 'DELETE', status: 502, times: 2 });
    expect(await cancelFlow(flow(), cancelInput(ref))).toMatchObject({ code: 'OUTCOME_UNKNOWN', message: say.cancelUnknown('oakfield-pas') });
    expect(await requests('DELETE')).toHaveLength(2);
  });

  it('an unknown booking is NOT_FOUND; a reference the supplier could not have issued is INVALID_REQUEST, unsent', async () => {
    expect(await cancelFlow(flow(), cancelInput('bk_unknown0000000000'))).toMatchObject({ code: 'NOT_FOUND', message: say.notFound('oakfield-pas') });
    await fetch(`${sim.url}/_sandbox/requests`, { method: 'DELETE' });
    expect(await cancelFlow(flow(), cancelInput('../clinics?x=1'))).toMatchObject({ code: 'INVALID_REQUEST', message: say.appointmentRefInvalid });
    expect(await requests()).toEqual([]);
  });

  it('frees the place: a fully booked time can be booked again once cancelled', async () => {
    const slotRef = await freeSlot(1);
    const first = await bookFlow(flow(), booking(slotRef));
    expect((await bookFlow(flow(), booking(slotRef))).code).toBe('SLOT_UNAVAILABLE');
    expect((await cancelFlow(flow(), cancelInput(first.appointment!.ref))).code).toBe('CANCELLED');
    expect(await placesLeft(slotRef)).toBe(1);
    expect((await bookFlow(flow(), booking(slotRef))).code).toBe('BOOKED');
  });
});

describe('reading', () => {
  it('an unknown booking is NOT_FOUND; an unreachable supplier SUPPLIER_UNAVAILABLE after one retry', async () => {
    expect(await readFlow(flow(), readInput('bk_unknown0000000000'))).toMatchObject({ code: 'NOT_FOUND' });
    await fetch(`${sim.url}/_sandbox/requests`, { method: 'DELETE' });
    await fault({ pathPrefix: '/api/v2/bookings/', status: 503 });
    expect(await readFlow(flow(), readInput('bk_unknown0000000000'))).toMatchObject({ code: 'SUPPLIER_UNAVAILABLE', message: say.unavailable('oakfield-pas') });
    expect(await requests('GET')).toHaveLength(2);
  });
});

describe('a patient\'s appointments', () => {
  it('lists what this organisation booked for the patient, each at its DoS service; another organisation sees none', async () => {
    const a = await bookOne(LDI);
    const slotRef = await freeSlot(1, HEADINGLEY);
    const b = await bookFlow(flow(), booking(slotRef, { serviceId: HEADINGLEY }, { nhsNumber: a.nhs }));
    const found = await patientAppointmentsFlow(flow(), { system: 'oakfield-pas', nhsNumber: a.nhs });
    expect(found.code).toBe('FOUND');
    expect(found.message).toBeNull();
    expect(found.appointments.map((x) => [x.ref, x.serviceId])).toEqual([[a.ref, LDI], [b.appointment!.ref, HEADINGLEY]]);
    expect(found.appointments[1]).toEqual(b.appointment);
    const theirs = await patientAppointmentsFlow(flow({ consumer: OTHER }), { system: 'oakfield-pas', nhsNumber: a.nhs });
    expect(theirs).toEqual({ code: 'FOUND', message: null, appointments: [] });
  });

  it('works out a clinic\'s service when no slot search taught it (a fresh process)', async () => {
    const a = await bookOne(LDI);
    const fresh = { ...flow(), clinics: new ClinicDirectory(client) };
    const found = await patientAppointmentsFlow(fresh, { system: 'oakfield-pas', nhsNumber: a.nhs });
    expect(found.appointments.map((x) => x.serviceId)).toEqual([LDI]);
  });

  it('is SUPPLIER_UNAVAILABLE when the supplier cannot be reached', async () => {
    await fault({ pathPrefix: '/api/v2/bookings', method: 'GET', status: 503 });
    expect(await patientAppointmentsFlow(flow(), { system: 'oakfield-pas', nhsNumber: nhsNumber() })).toMatchObject({ code: 'SUPPLIER_UNAVAILABLE', appointments: [] });
  });
});

// Last, over everything logged above: ids, statuses and codes only.
describe('logs', () => {
  it('never carry patient data or the supplier\'s diagnostics', () => {
    const text = logLines.join('\n');
    expect(logLines.length).toBeGreaterThan(50);
    for (const secret of ['Quillfeather', 'Ottoline', '1947-09-13', 'Larkspur', '01632 960731', 'LS9 7TF', 'facial swelling', '9476719932', 'check digit', 'sandbox-oakfield-key']) {
      expect(text).not.toContain(secret);
    }
    expect(text).not.toMatch(/"nhsNumber"/);
  });
});

describe('the service of a booking read or cancelled', () => {
  it("is the one Oakfield's record names (its clinic's), not the one the request says", async () => {
    const { ref } = await bookOne(LDI);
    expect((await readFlow(flow(), readInput(ref, HEADINGLEY))).appointment).toMatchObject({ serviceId: LDI });
    expect((await cancelFlow(flow(), cancelInput(ref, HEADINGLEY))).appointment).toMatchObject({ serviceId: LDI, status: 'CANCELLED' });
  });
});
