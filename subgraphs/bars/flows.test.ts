/**
 * The BaRS client and flows against the BaRS receiver simulator (real HTTP, in-process, port 0): what we are told,
 * and what the receiver stored and was sent (GET /_sandbox/appointments, /_sandbox/requests). Faults come from the
 * simulator's fault injection ("processed, then the answer was lost"); the token's expiry from moving the
 * simulator's clock, as API-M's would pass.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { pino } from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startBarsSimulator, type BarsSimulator } from '../../sandbox/bars/server.js';
import type { RecordedRequest } from '../../sandbox/lib/http.js';
import type { ConsumerOrganisation } from '../../common/consumer.js';
import { loadRegistry, type Registry } from '../kit/registry.js';
import { repoRoot } from '../kit/schema.js';
import { decodeSlotId } from '../../common/slot-id.js';
import { bookFlow } from './book.js';
import { cancelFlow } from './cancel.js';
import { BarsClient } from './client.js';
import type { SupplierBookingInput } from './generated/resolvers.js';
import { KnownServices } from './known-services.js';
import { patientAppointmentsFlow, readFlow } from './lookup.js';
import { mapSlots, type SlotModel } from './map.js';
import type { Flow } from './outcomes.js';
import type { BarsSystem } from './system.js';
import { BarsTokens } from './token.js';

const SDEC = '1402000113'; // St James's Same Day Emergency Care
const GREAT_YARMOUTH = '1404000313';
const NHS111: ConsumerOrganisation = { odsCode: 'RX8', name: 'Yorkshire Ambulance Service NHS 111' };
const DAY = 86_400_000;

let sim: BarsSimulator;
let skewMs = 0;
let registry: Registry;
let system: BarsSystem;
let tokens: BarsTokens;
let client: BarsClient;
const services = new KnownServices();
const logLines: string[] = [];
const logger = pino({ level: 'debug' }, { write: (line: string) => void logLines.push(line) });

beforeAll(async () => {
  // A 2-minute token, and a clock the test can move past its expiry.
  sim = await startBarsSimulator({ port: 0, now: () => new Date(Date.now() + skewMs), tokenTtlSeconds: 120 });
  registry = loadRegistry(undefined, { SANDBOX_BARS_URL: sim.url });
  system = registry.system('bars-sandbox') as BarsSystem;
  tokens = new BarsTokens({ logger });
  client = new BarsClient(tokens);
});
afterAll(() => sim.close());
beforeEach(async () => {
  await fetch(`${sim.url}/_sandbox/faults`, { method: 'DELETE' });
  await fetch(`${sim.url}/_sandbox/requests`, { method: 'DELETE' });
});

function flow(o: { system?: BarsSystem; client?: BarsClient } = {}): Flow {
  return {
    client: o.client ?? client,
    system: o.system ?? system,
    call: { consumer: NHS111, traceId: randomUUID().replace(/-/g, '') },
    log: logger,
    services,
    sourceEndpoint: registry.consumerSystem.endpoint,
  };
}

async function freeSlots(serviceId: string, fromMs = Date.now() + DAY, days = 2): Promise<SlotModel[]> {
  const from = new Date(fromMs);
  const to = new Date(fromMs + days * DAY);
  const r = await client.searchSlots(system, { serviceId, from, to }, { consumer: NHS111, traceId: randomUUID() });
  return mapSlots({ system: system.id, serviceId, entries: r.entries, from, to, fetchedAt: r.fetchedAt }).slots;
}

function booking(slot: SlotModel, o: Partial<SupplierBookingInput> = {}): SupplierBookingInput {
  return {
    system: system.id,
    serviceId: slot.serviceId,
    slotRef: decodeSlotId(slot.id)!.ref,
    requestId: randomUUID(),
    mayHaveBooked: false,
    description: 'Abdominal pain, assessed by NHS 111',
    patient: { nhsNumber: '9476719931', family: 'Chalmers', given: ['Peter'], prefix: ['Mr'], birthDate: '1974-12-25', gender: 'male', addressLines: ['123 High Street'], city: 'Leeds', postcode: 'LS1 4HR', phone: '07736312544' },
    handover: { reportId: randomUUID(), reportTypeCode: 'POCD_MT200001GB02', reportTypeDisplay: 'Integrated Urgent Care Report', summary: 'Abdominal pain', authorOdsCode: 'RX8' },
    ...o,
  };
}

async function requests(): Promise<RecordedRequest[]> {
  return (await (await fetch(`${sim.url}/_sandbox/requests`)).json()) as RecordedRequest[];
}
async function stored(): Promise<any[]> {
  return (await (await fetch(`${sim.url}/_sandbox/appointments`)).json()) as any[];
}
async function fault(f: object): Promise<void> {
  const res = await fetch(`${sim.url}/_sandbox/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(f) });
  expect(res.ok).toBe(true);
}

describe('BaRS slots', () => {
  it('searches with status, two offset start bounds, the service and the required includes, and maps the answer', async () => {
    const slots = await freeSlots(GREAT_YARMOUTH);
    expect(slots.length).toBeGreaterThan(10);
    expect(new Set(slots.map((s) => s.deliveryChannel))).toEqual(new Set(['IN_PERSON', 'VIDEO']));
    const search = (await requests()).find((r) => r.path.endsWith('/Slot'))!;
    expect(search.query['status']).toEqual(['free']);
    expect(search.query['start']!.map((s) => s.slice(0, 2)).sort()).toEqual(['ge', 'le']);
    for (const s of search.query['start']!) expect(s).toMatch(/\+00:00$/);
    expect(search.query['Schedule.actor:HealthcareService']).toEqual([GREAT_YARMOUTH]);
    expect(search.query['_include']).toEqual(expect.arrayContaining(['Slot:schedule', 'Schedule:actor:HealthcareService']));
  });
});

describe('BaRS booking, read, list and cancel', () => {
  it('books with the patient, the handover and the consumer organisation, then reads, lists and cancels it', async () => {
    const [slot] = await freeSlots(SDEC);
    const input = booking(slot!);
    const booked = await bookFlow(flow(), input);
    expect(booked.code).toBe('BOOKED');
    expect(booked.appointment).toMatchObject({ serviceId: SDEC, status: 'BOOKED', start: slot!.start, end: slot!.end, handoverReportId: input.handover.reportId });

    const held = (await stored()).filter((a) => a.id === booked.appointment!.ref);
    expect(held).toHaveLength(1);
    expect(held[0]).toMatchObject({ serviceId: SDEC, bookingOds: 'RX8', nhsNumber: '9476719931', status: 'booked' });
    const message = held[0].messages[0];
    expect(message.requestId).toBe(input.requestId);
    const resources = message.bundle.entry.map((e: any) => e.resource);
    expect(resources.find((r: any) => r.resourceType === 'Patient').identifier[0].value).toBe('9476719931');
    expect(resources.find((r: any) => r.resourceType === 'Appointment').supportingInformation[0].identifier.value).toBe(input.handover.reportId);
    const sender = message.bundle.entry.find((e: any) => e.fullUrl === resources[0].sender.reference).resource;
    expect(sender.identifier[0].value).toBe('RX8');

    const read = await readFlow(flow(), { system: system.id, serviceId: SDEC, appointmentRef: booked.appointment!.ref });
    expect(read).toMatchObject({ code: 'FOUND', appointment: { ref: booked.appointment!.ref, status: 'BOOKED' } });
    const listed = await patientAppointmentsFlow(flow(), { system: system.id, nhsNumber: '9476719931' });
    expect(listed.code).toBe('FOUND');
    expect(listed.appointments.map((a) => a.ref)).toContain(booked.appointment!.ref);

    const cancelled = await cancelFlow(flow(), { system: system.id, serviceId: SDEC, appointmentRef: booked.appointment!.ref, requestId: randomUUID(), reason: null });
    expect(cancelled).toMatchObject({ code: 'CANCELLED', appointment: { status: 'CANCELLED' } });
    expect((await stored()).find((a) => a.id === booked.appointment!.ref).status).toBe('cancelled');
    // Cancelling again is safe: nothing is sent, the answer is the same.
    const again = await cancelFlow(flow(), { system: system.id, serviceId: SDEC, appointmentRef: booked.appointment!.ref, requestId: randomUUID(), reason: null });
    expect(again.code).toBe('CANCELLED');
  });

  it('a lost answer is settled by sending the same message with the same X-Request-Id: one booking, the receiver\'s own', async () => {
    const [, , slot] = await freeSlots(SDEC);
    await fault({ pathPrefix: '/booking-and-referral/FHIR/R4/$process-message', method: 'POST', afterHandling: true, reset: true, times: 1 });
    const input = booking(slot!);
    // A generous deadline: the one retry counted below is the lost answer's, never a busy machine's slow reply.
    const result = await bookFlow(flow({ system: { ...system, deadlineMs: 10_000 } }), input);
    expect(result.code).toBe('BOOKED');
    // Both handled, the second a replay: none throttled by the front (a throttled first POST would use up the fault
    // without the receiver ever replaying). This test runs before the fifty-booking one, which drains the front's
    // bucket; ahead of it fewer than the burst of 25 requests have been made.
    const posts = (await requests()).filter((r) => r.path.endsWith('/$process-message'));
    expect(posts.map((p) => p.status === 429)).toEqual([false, false]);
    expect(posts.map((p) => p.headers['x-request-id'])).toEqual([input.requestId, input.requestId]);
    expect(posts[0]!.body).toBe(posts[1]!.body);
    const slotId = decodeSlotId(slot!.id)!.ref.split('~')[1];
    const held = (await stored()).filter((a) => a.slotId === slotId);
    expect(held).toHaveLength(1);
    expect(result.appointment!.ref).toBe(held[0].id);
    // The gateway's retry with the same idempotency key (mayHaveBooked) gets the same appointment, nothing new.
    const retry = await bookFlow(flow(), { ...input, mayHaveBooked: true });
    expect(retry).toMatchObject({ code: 'BOOKED', appointment: { ref: held[0].id } });
    expect((await stored()).filter((a) => a.slotId === slotId)).toHaveLength(1);
  });

  it('a slot taken is SLOT_UNAVAILABLE: of 50 concurrent bookings of one slot exactly one is BOOKED', async () => {
    const [, slot] = await freeSlots(SDEC);
    // Fifty at once meet the front's 25 per second (429, waited out) on a machine that may be busy: a generous
    // deadline, so what is measured is the outcome, not the machine's speed.
    const patient = { ...system, deadlineMs: 10_000 };
    const outcomes = await Promise.all(Array.from({ length: 50 }, () => bookFlow(flow({ system: patient }), booking(slot!))));
    const codes = outcomes.map((o) => o.code);
    expect(codes.filter((c) => c === 'BOOKED'), codes.join()).toHaveLength(1);
    expect(codes.filter((c) => c === 'SLOT_UNAVAILABLE'), codes.join()).toHaveLength(49);
    const slotId = decodeSlotId(slot!.id)!.ref.split('~')[1];
    expect((await stored()).filter((a) => a.slotId === slotId && a.status === 'booked')).toHaveLength(1);
  });
});

describe('BaRS access token', () => {
  it('a refused client assertion is SUPPLIER_UNAVAILABLE, with an operator log line and never the key', async () => {
    const wrongKid: BarsSystem = { ...system, keyId: 'not-registered-kid' };
    const own = new BarsClient(new BarsTokens({ logger }));
    const [slot] = await freeSlots(GREAT_YARMOUTH);
    const before = logLines.length;
    const result = await bookFlow(flow({ system: wrongKid, client: own }), booking(slot!));
    expect(result.code).toBe('SUPPLIER_UNAVAILABLE');
    const lines = logLines.slice(before);
    const refusal = lines.map((l) => JSON.parse(l)).find((l) => /refused our client assertion/.test(l.msg));
    expect(refusal).toMatchObject({ level: 50, system: 'bars-sandbox', status: 401, error: 'invalid_request', kid: 'not-registered-kid' });
    const key = JSON.parse(readFileSync(`${repoRoot}config/dev-keys/bars-sandbox.private.jwk.json`, 'utf8'));
    for (const l of lines) {
      expect(l).not.toContain(key.d);
      expect(l).not.toContain(key.p);
      expect(l).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}/); // no assertion or token
    }
    expect((await stored()).filter((a) => a.slotId === decodeSlotId(slot!.id)!.ref.split('~')[1])).toHaveLength(0);
  });

  it('an expired token is refreshed once: one 401, one new token, the call answered', async () => {
    const own = new BarsClient(new BarsTokens({ logger }));
    const ask = () => patientAppointmentsFlow({ ...flow({ client: own }) }, { system: system.id, nhsNumber: '9476719931' });
    expect((await ask()).code).toBe('FOUND');
    // The receiver's clock passes the token's 2 minutes; ours still holds it as fresh.
    skewMs = 200_000;
    await fetch(`${sim.url}/_sandbox/requests`, { method: 'DELETE' });
    const answer = await ask();
    expect(answer.code).toBe('FOUND');
    const log = await requests();
    expect(log.filter((r) => r.path === '/oauth2/token')).toHaveLength(1);
    expect(log.filter((r) => r.status === 401)).toHaveLength((await services.of(system.id)).length);
    // Afterwards the new token serves every call: no further token requests, no 401.
    await fetch(`${sim.url}/_sandbox/requests`, { method: 'DELETE' });
    expect((await ask()).code).toBe('FOUND');
    expect((await requests()).filter((r) => r.path === '/oauth2/token' || r.status === 401)).toEqual([]);
  });
});
