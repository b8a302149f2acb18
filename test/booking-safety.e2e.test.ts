/**
 * Issue 10, "Booking safety" and M1, through the real stack (gateway with a real redis-server, the subgraphs and the
 * sandbox simulators as separate processes). Each test reproduces what the review did and checks it now does no harm:
 *
 *   - a supplier's HTML error page (stack trace, internal URL, JDBC string) never reaches the client (M1);
 *   - a transient failure is not the key's final outcome: the retry with the same key books;
 *   - a 50-way race on one PAS slot, with the supplier answering 429 to many, gives 1 BOOKED and 49 SLOT_UNAVAILABLE;
 *   - a lost response for a patient without an NHS number is settled by the retry with the same key;
 *   - validation errors never repeat patient values, and refuse what they should.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { freePorts, startStack, type Stack } from '../scripts/stack.js';
import { devToken } from '../scripts/token.js';
import { clearSandbox, gql, injectFault, sandboxRequests } from './helpers.js';
import { startRedis, type TestRedis } from './redis.js';

let stack: Stack;
let redis: TestRedis;
let bs: string;
let pas: string;
let token: string;

const HARBOUR_SERVICE = '1402000102';
const PAS_SERVICE = '1402000107';

const BOOK = /* GraphQL */ `
  mutation Book($input: BookAppointmentInput!) {
    bookAppointment(input: $input) {
      outcome
      error { message field diagnostics }
      appointment { id status serviceId supplierSystem start end }
    }
  }
`;

const PATIENT = {
  nhsNumber: '9476719931',
  name: { family: 'Jones', given: ['Sian'] },
  birthDate: '1984-02-29',
  gender: 'FEMALE',
  address: { lines: ['1 Park Row'], city: 'Leeds', postcode: 'LS1 5AB' },
  phone: '0113 496 0000',
};
const NO_NHS_NUMBER = { ...PATIENT, nhsNumber: null, name: { family: 'Okonkwo-Sample', given: ['Ada'] }, birthDate: '1990-07-14' };
const HANDOVER = { reportId: '6f1f1c2e-8c7b-4d6e-9f0a-1b2c3d4e5f60', summary: 'Fall onto outstretched hand; wrist pain.', authorOdsCode: 'RX8' };

let keySeq = 0;
function input(slotId: string, change: Record<string, unknown> = {}) {
  return { slotId, patient: PATIENT, clinicalHandover: HANDOVER, description: '111 referral: wrist injury', idempotencyKey: `safety-${Date.now()}-${++keySeq}`, ...change };
}
const auth = () => ({ authorization: `Bearer ${token}` });
const book = (i: Record<string, unknown>) => gql(stack.gatewayUrl, BOOK, { input: i }, auth());

interface Slot { id: string; start: string; end: string; capacity?: number | null }

/** Free slots at a service from tomorrow on (clear of "now"), as the gateway reports them. */
async function freeSlots(serviceId: string, type: 'BookingStandardService' | 'PasRestService'): Promise<Slot[]> {
  const from = new Date(Date.now() + 24 * 3600_000);
  const res = await gql(
    stack.gatewayUrl,
    `query($id: ID!, $from: DateTime!, $to: DateTime!) { service(id: $id) { ... on ${type} { slots(from: $from, to: $to, first: 500, maxAge: 5) { nodes { id start end capacity } } } } }`,
    { id: serviceId, from: from.toISOString(), to: new Date(from.getTime() + 3 * 24 * 3600_000).toISOString() },
    auth(),
  );
  expect(res.errors).toBeUndefined();
  return res.data!.service.slots.nodes as Slot[];
}

const used = new Set<string>();
async function aFreeSlot(serviceId: string, type: 'BookingStandardService' | 'PasRestService', accept: (s: Slot) => boolean = () => true): Promise<Slot> {
  const slot = (await freeSlots(serviceId, type)).find((s) => !used.has(s.id) && accept(s));
  if (!slot) throw new Error(`no suitable free slot left at ${serviceId}`);
  used.add(slot.id);
  return slot;
}

const appointmentPosts = async () => (await sandboxRequests(bs)).filter((r) => r.method === 'POST' && r.path.endsWith('/Appointment'));
const bookingPosts = async () => (await sandboxRequests(pas)).filter((r) => r.method === 'POST' && r.path.endsWith('/bookings'));

/** The latest version of every appointment the Booking Standard provider holds at a slot start. */
async function heldAt(start: string): Promise<Record<string, any>[]> {
  const latest = new Map<string, Record<string, any>>();
  for (const a of (await (await fetch(`${bs}/_sandbox/appointments`)).json()) as { resource: Record<string, any> }[]) latest.set(a.resource.id, a.resource);
  return [...latest.values()].filter((r) => Date.parse(r.start) === Date.parse(start) && r.status === 'booked');
}

async function pasBookings(): Promise<Record<string, any>[]> {
  const res = await fetch(`${pas}/_sandbox/bookings`);
  expect(res.status).toBe(200);
  return (await res.json()) as Record<string, any>[];
}

beforeAll(async () => {
  redis = await startRedis();
  stack = await startStack({ ports: await freePorts(), env: { LOG_LEVEL: 'info', REDIS_URL: redis.url }, keepAllOutput: true, readyTimeoutMs: 90_000 });
  bs = stack.url('sandbox-booking-standard');
  pas = stack.url('sandbox-pas-rest');
  token = await devToken({ org: 'RX8' });
}, 120_000);

afterAll(async () => {
  await stack?.stopAll();
  await redis?.dispose();
});

beforeEach(async () => {
  await clearSandbox(bs);
  await clearSandbox(pas);
});

// What a Java application server's error page carries: none of it may reach a client.
const HTML_ERROR = `<!DOCTYPE html><html><head><title>HTTP Status 500 – Internal Server Error</title></head><body>
<h1>HTTP Status 500 – Internal Server Error</h1><pre>org.springframework.jdbc.CannotGetJdbcConnectionException: Failed to obtain JDBC Connection
\tat org.springframework.jdbc.datasource.DataSourceUtils.getConnection(DataSourceUtils.java:84)
\tat com.harbour.booking.AppointmentDao.insert(AppointmentDao.java:212)
Caused by: java.sql.SQLException: jdbc:postgresql://db-primary.harbour.internal:5432/booking?user=svc_booking&amp;password=Pr0d-S3cret
</pre><p>Build http://build-07.harbour.internal:8080/jenkins/job/booking-api/</p></body></html>`;
const LEAKS = ['harbour.internal', 'jdbc', 'postgresql', 'Pr0d-S3cret', 'svc_booking', 'AppointmentDao', 'springframework', 'SQLException', 'jenkins', '5432', 'DOCTYPE'];

function expectNoLeak(raw: string): void {
  for (const leak of LEAKS) expect(raw, `leaked ${leak}`).not.toContain(leak);
}

describe('M1: supplier diagnostics', () => {
  it('an HTML error page with a stack trace, an internal URL and a JDBC string never reaches the client', async () => {
    const html = { status: 500, body: HTML_ERROR, headers: { 'content-type': 'text/html;charset=utf-8' } };

    // A 500 on every booking POST at the Booking Standard provider: unknown outcome, and nothing of the page.
    const s1 = await aFreeSlot(HARBOUR_SERVICE, 'BookingStandardService');
    await injectFault(bs, { ...html, pathPrefix: '/harbour/STU3/Appointment', method: 'POST' });
    const r1 = await book(input(s1.id));
    expect(r1.errors).toBeUndefined();
    expect(r1.data!.bookAppointment.outcome).toBe('OUTCOME_UNKNOWN');
    expect((await appointmentPosts()).map((p) => p.status)).toEqual([500, 500]);
    expectNoLeak(r1.raw);

    // The same page with a 4xx (a refusal the client is shown): INVALID_REQUEST, and no diagnostics at all.
    await clearSandbox(bs);
    const s2 = await aFreeSlot(HARBOUR_SERVICE, 'BookingStandardService');
    await injectFault(bs, { ...html, status: 400, pathPrefix: '/harbour/STU3/Appointment', method: 'POST', times: 1 });
    const r2 = await book(input(s2.id));
    expect(r2.data!.bookAppointment).toMatchObject({ outcome: 'INVALID_REQUEST', error: { diagnostics: null } });
    expectNoLeak(r2.raw);

    // An OperationOutcome whose diagnostics carry the same internals: its explanation only, stripped and capped.
    await clearSandbox(bs);
    const s3 = await aFreeSlot(HARBOUR_SERVICE, 'BookingStandardService');
    const oo = { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'invalid', diagnostics: `Appointment.description rejected. ${HTML_ERROR}` }] };
    await injectFault(bs, { status: 422, body: oo, headers: { 'content-type': 'application/fhir+json' }, pathPrefix: '/harbour/STU3/Appointment', method: 'POST', times: 1 });
    const r3 = await book(input(s3.id));
    const out3 = r3.data!.bookAppointment;
    expect(out3.outcome).toBe('INVALID_REQUEST');
    expect(out3.error.diagnostics).toMatch(/^Appointment\.description rejected\./);
    expect(out3.error.diagnostics.length).toBeLessThanOrEqual(200);
    expectNoLeak(r3.raw);

    // And the PAS adapter: the vendor's 4xx as an HTML page gives no diagnostics either.
    const s4 = await aFreeSlot(PAS_SERVICE, 'PasRestService');
    await injectFault(pas, { ...html, status: 400, pathPrefix: '/api/v2/bookings', method: 'POST', times: 1 });
    const r4 = await book(input(s4.id));
    expect(r4.data!.bookAppointment).toMatchObject({ outcome: 'INVALID_REQUEST', error: { diagnostics: null } });
    expectNoLeak(r4.raw);
  }, 60_000);
});

describe('a transient failure is not a final outcome', () => {
  it('after SUPPLIER_UNAVAILABLE (a 429 beyond the wait budget), the retry with the same key books', async () => {
    const slot = await aFreeSlot(HARBOUR_SERVICE, 'BookingStandardService');
    await injectFault(bs, { status: 429, headers: { 'retry-after': '120' }, pathPrefix: '/harbour/STU3/Appointment', method: 'POST', times: 1 });
    const i = input(slot.id);
    const first = await book(i);
    expect(first.data!.bookAppointment.outcome).toBe('SUPPLIER_UNAVAILABLE');
    expect(await heldAt(slot.start)).toHaveLength(0);

    // The supplier has recovered: the same key is tried again, not answered from a 24-hour record.
    const retry = await book(i);
    expect(retry.data!.bookAppointment).toMatchObject({ outcome: 'BOOKED', appointment: { status: 'BOOKED' } });
    const posts = await appointmentPosts();
    expect(posts.map((p) => p.status)).toEqual([429, 201]);
    expect(posts[1]!.headers['x-request-id']).toBe(posts[0]!.headers['x-request-id']);
    expect(await heldAt(slot.start)).toHaveLength(1);

    // Now definitive: a third attempt is answered from the record, with no new POST.
    const third = await book(i);
    expect(third.data!.bookAppointment).toMatchObject({ outcome: 'BOOKED', appointment: { id: retry.data!.bookAppointment.appointment.id } });
    expect(await appointmentPosts()).toHaveLength(2);
  }, 60_000);
});

describe("honouring a supplier's 429 when booking", () => {
  it('50 concurrent bookings of one PAS place, with 429s from Oakfield: 1 BOOKED, 49 SLOT_UNAVAILABLE, one booking upstream', async () => {
    const slot = await aFreeSlot(PAS_SERVICE, 'PasRestService', (s) => s.capacity === 1);
    const before = (await pasBookings()).length;
    // Oakfield turns the first 15 booking requests away with its documented 429 and Retry-After (API.md section 2).
    await injectFault(pas, { status: 429, headers: { 'retry-after': '1' }, pathPrefix: '/api/v2/bookings', method: 'POST', times: 15 });

    const results = await Promise.all(Array.from({ length: 50 }, () => book(input(slot.id))));
    const outcomes = results.map((r) => r.data?.bookAppointment.outcome ?? `error: ${r.errors?.[0]?.message}`);
    const count = (o: string) => outcomes.filter((x) => x === o).length;
    expect({ BOOKED: count('BOOKED'), SLOT_UNAVAILABLE: count('SLOT_UNAVAILABLE'), other: outcomes.filter((o) => o !== 'BOOKED' && o !== 'SLOT_UNAVAILABLE') })
      .toEqual({ BOOKED: 1, SLOT_UNAVAILABLE: 49, other: [] });

    const posts = await bookingPosts();
    expect(posts.filter((p) => p.status === 429).length).toBeGreaterThanOrEqual(15);
    expect(posts.filter((p) => p.status === 201)).toHaveLength(1);
    // Every request turned away was sent again with its own Idempotency-Key, and settled.
    const keys = new Map<string, number[]>();
    for (const p of posts) keys.set(p.headers['idempotency-key']!, [...(keys.get(p.headers['idempotency-key']!) ?? []), p.status!]);
    expect(keys.size).toBe(50);
    for (const statuses of keys.values()) expect([201, 409]).toContain(statuses.at(-1));
    expect((await pasBookings()).length - before).toBe(1);
  }, 90_000);
});

describe('a lost response for a patient without an NHS number', () => {
  it('Booking Standard: OUTCOME_UNKNOWN, then the retry with the same key finds the same appointment by our reference; one booking', async () => {
    const slot = await aFreeSlot(HARBOUR_SERVICE, 'BookingStandardService');
    // The provider commits the booking and the answer is lost; the adapter's resend fails too, and so does its search.
    await injectFault(bs, [
      { pathPrefix: '/harbour/STU3/Appointment', method: 'POST', afterHandling: true, reset: true, times: 1 },
      { pathPrefix: '/harbour/STU3/Appointment', method: 'POST', status: 503, times: 1 },
      { pathPrefix: '/harbour/STU3/Appointment', method: 'GET', status: 503, times: 2 },
    ]);
    const i = input(slot.id, { patient: NO_NHS_NUMBER });
    const first = await book(i);
    expect(first.data!.bookAppointment.outcome).toBe('OUTCOME_UNKNOWN');
    const held = await heldAt(slot.start);
    expect(held).toHaveLength(1);

    const retry = await book(i);
    expect(retry.data!.bookAppointment).toMatchObject({ outcome: 'BOOKED', appointment: { status: 'BOOKED' } });
    expect(Date.parse(retry.data!.bookAppointment.appointment.start)).toBe(Date.parse(slot.start));
    // The appointment the provider holds, found by the booking reference it carries; no further booking POST.
    const posts = await appointmentPosts();
    expect(posts).toHaveLength(2);
    const search = (await sandboxRequests(bs)).filter((r) => r.method === 'GET' && r.path.endsWith('/Appointment') && r.status === 200);
    expect(search.at(-1)!.query['identifier']![0]).toBe(`urn:nhs-booking-gateway:booking-reference|${posts[0]!.headers['x-request-id']}`);
    const after = await heldAt(slot.start);
    expect(after.map((a) => a.id)).toEqual(held.map((a) => a.id));

    const again = await book(i);
    expect(again.data!.bookAppointment).toMatchObject({ outcome: 'BOOKED', appointment: { id: retry.data!.bookAppointment.appointment.id } });
    expect(await appointmentPosts()).toHaveLength(2);
  }, 60_000);

  it('PAS: the retry with the same key gets the same booking back (Idempotency-Key replay); one booking', async () => {
    const slot = await aFreeSlot(PAS_SERVICE, 'PasRestService');
    const before = (await pasBookings()).length;
    await injectFault(pas, [
      { pathPrefix: '/api/v2/bookings', method: 'POST', afterHandling: true, reset: true, times: 1 },
      { pathPrefix: '/api/v2/bookings', method: 'POST', status: 503, times: 1 },
    ]);
    const i = input(slot.id, { patient: NO_NHS_NUMBER });
    const first = await book(i);
    expect(first.data!.bookAppointment.outcome).toBe('OUTCOME_UNKNOWN');
    expect((await pasBookings()).length - before).toBe(1);

    const retry = await book(i);
    expect(retry.data!.bookAppointment).toMatchObject({ outcome: 'BOOKED', appointment: { status: 'BOOKED' } });
    const posts = await bookingPosts();
    expect(posts).toHaveLength(3);
    expect(new Set(posts.map((p) => p.headers['idempotency-key'])).size).toBe(1);
    expect((await pasBookings()).length - before).toBe(1);
  }, 60_000);
});

describe('validation', () => {
  const SECRETS = ['9476719931', 'Jones', 'Sian', '1984-02-29', 'Park Row', 'LS1 5AB', '0113 496 0000'];

  it('a booking without its handover is refused naming the field, without repeating the patient', async () => {
    const slot = (await freeSlots(HARBOUR_SERVICE, 'BookingStandardService'))[0]!;
    const { clinicalHandover: _omitted, ...withoutHandover } = input(slot.id);
    const res = await book(withoutHandover);
    expect(res.status).toBe(400);
    expect(res.errors![0]!.message).toMatch(/clinicalHandover/);
    for (const s of SECRETS) expect(res.raw).not.toContain(s);

    const badType = await book(input(slot.id, { patient: { ...PATIENT, nhsNumber: 9476719931 } }));
    expect(badType.status).toBe(400);
    expect(badType.errors![0]!.message).toMatch(/patient\.nhsNumber/);
    for (const s of SECRETS) expect(badType.raw).not.toContain(s);
    expect(await appointmentPosts()).toHaveLength(0);
  });

  it.each([
    ['an all-zero NHS number', { patient: { ...PATIENT, nhsNumber: '0000000000' } }, 'INVALID_PATIENT', 'patient.nhsNumber', '0000000000'],
    ['a repeated-digit NHS number', { patient: { ...PATIENT, nhsNumber: '111 111 1111' } }, 'INVALID_PATIENT', 'patient.nhsNumber', '1111111111'],
    ['six given names', { patient: { ...PATIENT, name: { family: 'Jones', given: ['Sian', 'B', 'C', 'D', 'E', 'F'] } } }, 'INVALID_PATIENT', 'patient.name.given', 'Sian'],
    ['six address lines', { patient: { ...PATIENT, address: { ...PATIENT.address, lines: ['1 Park Row', '2', '3', '4', '5', '6'] } } }, 'INVALID_PATIENT', 'patient.address.lines', 'Park Row'],
    ['a family name of 101 characters', { patient: { ...PATIENT, name: { family: `Jones${'x'.repeat(96)}`, given: ['Sian'] } } }, 'INVALID_PATIENT', 'patient.name.family', 'Jonesxxx'],
    ['a report id that is not a UUID', { clinicalHandover: { ...HANDOVER, reportId: 'report-2026-000123' } }, 'INVALID_REQUEST', 'clinicalHandover.reportId', 'report-2026-000123'],
  ])('refuses %s before any supplier call, naming the field, not the value', async (_what, change, outcome, field, value) => {
    const slot = (await freeSlots(HARBOUR_SERVICE, 'BookingStandardService'))[0]!;
    const res = await book(input(slot.id, change));
    expect(res.errors).toBeUndefined();
    expect(res.data!.bookAppointment).toMatchObject({ outcome, appointment: null, error: { field } });
    expect(res.raw).not.toContain(value);
    for (const s of SECRETS) expect(res.data!.bookAppointment.error.message).not.toContain(s);
    expect(await appointmentPosts()).toHaveLength(0);
  });

  it('no process logged a patient value in any of the above', () => {
    for (const name of ['gateway', 'booking-standard', 'pas-rest']) {
      const out = stack.output(name);
      expect(out.length).toBeGreaterThan(0);
      for (const s of ['9476719931', 'Okonkwo-Sample', '1990-07-14', 'Park Row', '0113 496 0000']) expect(out, `${name} logged ${s}`).not.toContain(s);
    }
  });
});
