/**
 * $process-message bookings and cancellations built from the specification's example message, the reads limited
 * to the booking organisation, idempotent replays by X-Request-Id, and the 50-way race for one slot. Clock pinned to
 * Tuesday 20 October 2026; bookings go into the following days' diaries.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBarsSimulator, type BarsSimulator } from './server.js';
import {
  assertion,
  barsCall,
  bookingMessage,
  cancelMessage,
  client,
  errorOf,
  specExample,
  testKey,
  tokenForm,
  type Answer,
  type CallOptions,
  type SlotRef,
} from './test-support.js';

let sim: BarsSimulator;
const clock = new Date('2026-10-20T09:00:00Z');
let token: string;
const DOS = '1402000113';
const NHS = '9476719931';

beforeAll(async () => {
  const key = await testKey('k1');
  sim = await startBarsSimulator({ port: 0, now: () => clock, rateLimit: { perSecond: 10_000 }, clients: [client('app', [key])] });
  const a = await assertion({ clientId: 'app', key, aud: `${sim.url}/oauth2/token`, nowMs: clock.getTime() });
  const res = await fetch(`${sim.url}/oauth2/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: tokenForm(a) });
  token = ((await res.json()) as { access_token: string }).access_token;
});
afterAll(() => sim.close());

const call = (path: string, o: CallOptions = {}) => barsCall(sim.url, path, { token, ...o });
const post = (body: unknown, o: CallOptions = {}) => call('/$process-message', { body, ...o });

/** Free slots of a service on one UTC day, never handed out before in this file. */
const used = new Set<string>();
async function freeSlot(dosId = DOS, day = '2026-10-21'): Promise<SlotRef> {
  const next = new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
  const r = await call(
    `/Slot?status=free&start=ge${day}T00:00:00%2B00:00&start=lt${next}T00:00:00%2B00:00&_include=Slot:schedule&_include=Schedule:actor:HealthcareService`,
    { dosId },
  );
  const byUrl = new Map(r.body.entry.map((e: any) => [e.fullUrl, e.resource]));
  const slot = r.body.entry.map((e: any) => e.resource).find((s: any) => s.resourceType === 'Slot' && !used.has(s.id));
  if (!slot) throw new Error(`no free slot left on ${day}`);
  used.add(slot.id);
  return { id: slot.id, start: slot.start, end: slot.end, scheduleId: (byUrl.get(slot.schedule.reference) as any).id };
}

async function slotStatus(slot: SlotRef, dosId = DOS): Promise<string | undefined> {
  const end = new Date(Date.parse(slot.start) + 1000).toISOString().replace('.000Z', '+00:00');
  const r = await call(`/Slot?status=free,busy&start=ge${encodeURIComponent(slot.start)}&start=le${encodeURIComponent(end)}&_include=Slot:schedule&_include=Schedule:actor:HealthcareService`, { dosId });
  return r.body.entry.find((e: any) => e.resource.id === slot.id)?.resource.status;
}

const appointmentOf = (a: Answer) => a.body.entry.map((e: any) => e.resource).find((r: any) => r.resourceType === 'Appointment');
const stored = async () => (await (await fetch(`${sim.url}/_sandbox/appointments`)).json()) as any[];

describe('booking with $process-message', () => {
  it('books the example message (Slot by id): 200, the message echoed with receiver ids, the slot busy, the receiver holding it', async () => {
    const slot = await freeSlot();
    const requestId = randomUUID();
    const correlationId = randomUUID();
    const r = await post(bookingMessage(DOS, slot), { headers: { 'x-request-id': requestId, 'x-correlation-id': correlationId } });
    expect(r.status).toBe(200);
    expect(r.headers.get('x-request-id')).toBe(requestId);
    expect(r.headers.get('x-correlation-id')).toBe(correlationId);
    const example = specExample('process_message/POST-success.json');
    expect(r.body).toMatchObject({ resourceType: 'Bundle', type: 'message' });
    // The message comes back entry for entry (the example answer shows the same resources, less the patient's GP).
    const sent = bookingMessage(DOS, slot).entry.map((e: any) => e.resource.resourceType);
    expect(r.body.entry.map((e: any) => e.resource.resourceType)).toEqual(sent);
    expect(new Set(sent)).toEqual(new Set(example.entry.map((e: any) => e.resource.resourceType)));
    const appt = appointmentOf(r);
    expect(appt.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(appt).toMatchObject({ status: 'booked', start: slot.start, end: slot.end, slot: [{ reference: `Slot/${slot.id}` }], description: 'Reason for calling-' });
    expect(appt.participant[0].actor.identifier).toEqual({ system: 'https://fhir.nhs.uk/Id/nhs-number', value: NHS });
    expect(r.body.entry.find((e: any) => e.resource.resourceType === 'Slot').resource).toMatchObject({ id: slot.id, status: 'busy' });
    expect(await slotStatus(slot)).toBe('busy');

    const held = (await stored()).find((a) => a.id === appt.id);
    expect(held).toMatchObject({ serviceId: DOS, slotId: slot.id, bookingOds: 'RX8', nhsNumber: NHS, status: 'booked', clientId: 'app' });
    expect(held.messages).toHaveLength(1);
    expect(held.messages[0].requestId).toBe(requestId);
    expect(JSON.stringify(held.messages[0].bundle)).toContain('Chalmers');
  });

  it('books a Slot given only by its Schedule and start, as the example message itself does', async () => {
    const slot = await freeSlot();
    const r = await post(bookingMessage(DOS, slot, { bySchedule: true }));
    expect(r.status).toBe(200);
    expect(appointmentOf(r).slot).toEqual([{ reference: `Slot/${slot.id}` }]);
    expect(await slotStatus(slot)).toBe('busy');
  });

  it('books a patient without an NHS number when name and birth date are there', async () => {
    const slot = await freeSlot();
    const r = await post(bookingMessage(DOS, slot, { nhsNumber: null }));
    expect(r.status).toBe(200);
    expect(appointmentOf(r).participant[0].actor.identifier).toBeUndefined();
  });

  it('409 REC_CONFLICT (conflict) for a slot already taken, the first booking untouched', async () => {
    const slot = await freeSlot();
    expect((await post(bookingMessage(DOS, slot))).status).toBe(200);
    const second = await post(bookingMessage(DOS, slot, { nhsNumber: '9434765919' }));
    expect(errorOf(second)).toMatchObject({ status: 409, code: 'REC_CONFLICT', issue: 'conflict', system: 'https://fhir.nhs.uk/Codesystem/http-error-codes' });
    expect((await stored()).filter((a) => a.slotId === slot.id)).toHaveLength(1);
  });

  it('50 concurrent bookings of one slot: exactly one 200 and 49 409 REC_CONFLICT, one appointment held', async () => {
    const slot = await freeSlot(DOS, '2026-10-22');
    const answers = await Promise.all(
      Array.from({ length: 50 }, () => post(bookingMessage(DOS, slot), { ods: 'RX8' })),
    );
    const statuses = answers.map((a) => a.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s === 409)).toHaveLength(49);
    expect(answers.filter((a) => a.status === 409).every((a) => errorOf(a).code === 'REC_CONFLICT')).toBe(true);
    expect((await stored()).filter((a) => a.slotId === slot.id)).toHaveLength(1);
  });

  it('validates the message as the MessageDefinition and the spec say', async () => {
    const slot = await freeSlot();
    const cases: Array<[string, (m: any) => unknown, { status: number; code: string; issue: string }]> = [
      ['not a Bundle', () => ({ resourceType: 'Appointment' }), { status: 400, code: 'REC_BAD_REQUEST', issue: 'invalid' }],
      ['not a message', (m) => ({ ...m, type: 'collection' }), { status: 400, code: 'REC_BAD_REQUEST', issue: 'invalid' }],
      ['MessageHeader not first', (m) => ({ ...m, entry: [...m.entry.slice(1), m.entry[0]] }), { status: 400, code: 'REC_BAD_REQUEST', issue: 'invalid' }],
      ['unknown event', (m) => (m.entry[0].resource.eventCoding.code = 'booking-teleport', m), { status: 400, code: 'REC_BAD_REQUEST', issue: 'invariant' }],
      ['referral event', (m) => (m.entry[0].resource.eventCoding.code = 'servicerequest-request', m), { status: 400, code: 'REC_BAD_REQUEST', issue: 'not-supported' }],
      ['destination elsewhere', (m) => (m.entry[0].resource.destination[0].endpoint = 'http://fhir.nhs.uk/Id/dos-service-id|1404000313', m), { status: 400, code: 'REC_BAD_REQUEST', issue: 'invariant' }],
      ['focus unresolved', (m) => (m.entry[0].resource.focus[0].reference = 'urn:uuid:nothing', m), { status: 400, code: 'REC_BAD_REQUEST', issue: 'invalid' }],
      ['no Patient', (m) => ({ ...m, entry: m.entry.filter((e: any) => e.resource.resourceType !== 'Patient') }), { status: 400, code: 'REC_BAD_REQUEST', issue: 'required' }],
      ['no Schedule', (m) => ({ ...m, entry: m.entry.filter((e: any) => e.resource.resourceType !== 'Schedule') }), { status: 400, code: 'REC_BAD_REQUEST', issue: 'required' }],
      ['bad NHS number', (m) => (m.entry.find((e: any) => e.resource.resourceType === 'Patient').resource.identifier[0].value = '9476719932', m), { status: 400, code: 'REC_BAD_REQUEST', issue: 'value' }],
      ['status proposed', (m) => (m.entry[1].resource.status = 'proposed', m), { status: 400, code: 'REC_BAD_REQUEST', issue: 'value' }],
      ['unknown slot', (m) => (m.entry.find((e: any) => e.resource.resourceType === 'Slot').resource.id = `${DOS}-sdec-20261021T0315Z`, m), { status: 422, code: 'REC_UNPROCESSABLE_ENTITY', issue: 'processing' }],
      ['times differ from the slot', (m) => (m.entry[1].resource.start = '2026-10-21T05:00:00+00:00', m), { status: 422, code: 'REC_UNPROCESSABLE_ENTITY', issue: 'processing' }],
    ];
    for (const [name, edit, expected] of cases) {
      const r = await post(edit(bookingMessage(DOS, slot)));
      expect(errorOf(r), name).toMatchObject(expected);
    }
    expect(errorOf(await post('{"resourceType":"Bundle",'))).toMatchObject({ status: 400, code: 'REC_BAD_REQUEST', issue: 'invalid' });
    // None of them booked anything.
    expect(await slotStatus(slot)).toBe('free');
  });

  it("422 for another service's slot and for a slot that has started", async () => {
    const elsewhere = await freeSlot('1404000313');
    const r1 = await post(bookingMessage(DOS, elsewhere));
    expect(errorOf(r1)).toMatchObject({ status: 422, code: 'REC_UNPROCESSABLE_ENTITY' });
    const today = await call(`/Slot?status=free,busy&start=ge2026-10-20T07:00:00%2B00:00&start=le2026-10-20T08:30:00%2B00:00&_include=Slot:schedule&_include=Schedule:actor:HealthcareService`);
    const past = today.body.entry.find((e: any) => e.resource.resourceType === 'Slot').resource;
    expect(past.status).toBe('busy'); // started slots show busy
    const r2 = await post(bookingMessage(DOS, { id: past.id, start: past.start, end: past.end, scheduleId: `sched-${DOS}-sdec` }));
    expect(errorOf(r2)).toMatchObject({ status: 422, code: 'REC_UNPROCESSABLE_ENTITY' });
  });

  it('400 SEND_BAD_REQUEST without the use-context header the spec requires on $process-message', async () => {
    const slot = await freeSlot();
    const r = await post(bookingMessage(DOS, slot), { headers: { 'use-context': null } });
    expect(errorOf(r)).toMatchObject({ status: 400, code: 'SEND_BAD_REQUEST', issue: 'required' });
  });
});

describe('idempotency', () => {
  it('the same X-Request-Id with the same message gets the first answer again, and books once', async () => {
    const slot = await freeSlot();
    const body = JSON.stringify(bookingMessage(DOS, slot));
    const requestId = randomUUID();
    const first = await post(body, { headers: { 'x-request-id': requestId } });
    const again = await post(body, { headers: { 'x-request-id': requestId } });
    expect(first.status).toBe(200);
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first.body);
    expect(again.headers.get('x-request-id')).toBe(requestId);
    // Re-serialised (indented, keys in another order) it is still the same message.
    const reordered = JSON.stringify(Object.fromEntries(Object.entries(JSON.parse(body)).reverse()), null, 2);
    const third = await post(reordered, { headers: { 'x-request-id': requestId } });
    expect(third.body).toEqual(first.body);
    expect((await stored()).filter((a) => a.slotId === slot.id)).toHaveLength(1);
  });

  it('replays a settled refusal too, and refuses the X-Request-Id reused for a different message (422)', async () => {
    const slot = await freeSlot();
    await post(bookingMessage(DOS, slot));
    const requestId = randomUUID();
    const body = JSON.stringify(bookingMessage(DOS, slot));
    const r1 = await post(body, { headers: { 'x-request-id': requestId } });
    const r2 = await post(body, { headers: { 'x-request-id': requestId } });
    expect(errorOf(r1).code).toBe('REC_CONFLICT');
    expect(r2.body).toEqual(r1.body);
    const other = await freeSlot();
    const r3 = await post(bookingMessage(DOS, other), { headers: { 'x-request-id': requestId } });
    expect(errorOf(r3)).toMatchObject({ status: 422, code: 'REC_UNPROCESSABLE_ENTITY' });
    expect(await slotStatus(other)).toBe('free');
  });

  it('the same message (Bundle.id) under a new X-Request-Id is 409 REC_CONFLICT duplicate, as the spec example says', async () => {
    const slot = await freeSlot();
    const message = bookingMessage(DOS, slot);
    expect((await post(message)).status).toBe(200);
    const again = await post(message);
    expect(errorOf(again)).toMatchObject({ status: 409, code: 'REC_CONFLICT', issue: 'duplicate' });
    expect(again.body.issue[0].diagnostics).toBe(specExample('conflict.json').issue[0].diagnostics);
  });

  it('a booking whose response was lost (fault after handling) is settled by resending with the same X-Request-Id', async () => {
    const slot = await freeSlot();
    await fetch(`${sim.url}/_sandbox/faults`, { method: 'POST', body: JSON.stringify({ pathPrefix: '/booking-and-referral/FHIR/R4/$process-message', afterHandling: true, status: 504, times: 1 }) });
    const body = JSON.stringify(bookingMessage(DOS, slot));
    const requestId = randomUUID();
    const lost = await post(body, { headers: { 'x-request-id': requestId } });
    expect(lost.status).toBe(504);
    expect(await slotStatus(slot)).toBe('busy'); // it did book
    const retry = await post(body, { headers: { 'x-request-id': requestId } });
    expect(retry.status).toBe(200);
    const held = (await stored()).filter((a) => a.slotId === slot.id);
    expect(held).toHaveLength(1);
    expect(appointmentOf(retry).id).toBe(held[0].id);
  });
});

describe('reads and cancellation, limited to the booking organisation', () => {
  let booked: any;
  let slot: SlotRef;

  beforeAll(async () => {
    slot = await freeSlot(DOS, '2026-10-23');
    booked = appointmentOf(await post(bookingMessage(DOS, slot), { ods: 'NLO11' }));
  });

  it('GET /Appointment/{id}: the booking organisation reads it, in the example shape; others and other targets get 404 REC_NOT_FOUND', async () => {
    const r = await call(`/Appointment/${booked.id}`, { ods: 'NLO11' });
    expect(r.status).toBe(200);
    const example = specExample('appointment/id/GET-success.json');
    expect(Object.keys(r.body)).toEqual(expect.arrayContaining(Object.keys(example).filter((k) => k !== 'basedOn')));
    expect(r.body).toMatchObject({ id: booked.id, status: 'booked', start: slot.start, slot: [{ reference: `Slot/${slot.id}` }] });
    expect(errorOf(await call(`/Appointment/${booked.id}`, { ods: 'RX8' }))).toMatchObject({ status: 404, code: 'REC_NOT_FOUND', issue: 'not-found' });
    expect(errorOf(await call(`/Appointment/${booked.id}`, { ods: 'NLO11', dosId: '1404000313' }))).toMatchObject({ status: 404, code: 'REC_NOT_FOUND' });
    expect(errorOf(await call(`/Appointment/${randomUUID()}`, { ods: 'NLO11' }))).toMatchObject({ status: 404, code: 'REC_NOT_FOUND' });
  });

  it('GET /Appointment?patient:identifier: a searchset like the example, only the asking organisation\'s bookings', async () => {
    const id = encodeURIComponent(`https://fhir.nhs.uk/Id/nhs-number|${NHS}`);
    const mine = await call(`/Appointment?patient:identifier=${id}`, { ods: 'NLO11' });
    expect(mine.status).toBe(200);
    const example = specExample('appointment/GET-success.json');
    expect(mine.body).toMatchObject({ resourceType: example.resourceType, type: example.type });
    expect(mine.body.entry.map((e: any) => e.resource.id)).toEqual([booked.id]);
    expect(mine.body.entry[0]).toMatchObject({ fullUrl: expect.stringMatching(new RegExp(`/Appointment/${booked.id}$`)), search: { mode: 'match' } });
    const theirs = await call(`/Appointment?patient:identifier=${id}`, { ods: 'RX8' });
    expect(theirs.body.entry.map((e: any) => e.resource.id)).not.toContain(booked.id);
    expect(theirs.body.total).toBeGreaterThan(0); // RX8's own bookings of this patient
    expect(errorOf(await call('/Appointment', { ods: 'NLO11' }))).toMatchObject({ status: 400, code: 'REC_BAD_REQUEST', issue: 'required' });
    expect(errorOf(await call(`/Appointment?patient:identifier=${encodeURIComponent('https://example.org/mrn|123')}`))).toMatchObject({ status: 400, code: 'REC_BAD_REQUEST', issue: 'value' });
  });

  it('another organisation cannot cancel it (404); the booking organisation cancels it, freeing the slot; cancelling again is the same answer', async () => {
    expect(errorOf(await post(cancelMessage(DOS, booked), { ods: 'RX8' }))).toMatchObject({ status: 404, code: 'REC_NOT_FOUND' });
    expect(await slotStatus(slot)).toBe('busy');
    const r = await post(cancelMessage(DOS, booked), { ods: 'NLO11' });
    expect(r.status).toBe(200);
    expect(appointmentOf(r)).toMatchObject({ id: booked.id, status: 'cancelled', meta: { versionId: '2' } });
    expect(await slotStatus(slot)).toBe('free');
    expect((await call(`/Appointment/${booked.id}`, { ods: 'NLO11' })).body.status).toBe('cancelled');
    const again = await post(cancelMessage(DOS, booked), { ods: 'NLO11' });
    expect(appointmentOf(again)).toMatchObject({ status: 'cancelled', meta: { versionId: '2' } });
    const held = (await stored()).find((a) => a.id === booked.id);
    expect(held.messages).toHaveLength(3);
  });

  it('refuses a cancellation without an Appointment id (400) or with reason "new" (400 invariant)', async () => {
    const { id: _drop, ...noId } = booked;
    expect(errorOf(await post(cancelMessage(DOS, noId), { ods: 'NLO11' }))).toMatchObject({ status: 400, code: 'REC_BAD_REQUEST', issue: 'required' });
    const m = cancelMessage(DOS, booked);
    m.entry[0].resource.reason.coding[0].code = 'new';
    expect(errorOf(await post(m, { ods: 'NLO11' }))).toMatchObject({ status: 400, code: 'REC_BAD_REQUEST', issue: 'invariant' });
  });
});
