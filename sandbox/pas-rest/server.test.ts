/**
 * The simulator against its own documentation (API.md), over real HTTP: authentication and the organisation header,
 * paging, sessions on a clock-change night, idempotent booking, capacity, organisation scoping, cancelling and the
 * rate limit. The clock is pinned to Tuesday 20 October 2026, the week the clocks go back.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SandboxServer } from '../lib/http.js';
import { startPasRestSimulator } from './server.js';

let sim: SandboxServer;
let clock = new Date('2026-10-20T09:00:00Z');
const KEY = 'sandbox-oakfield-key';

beforeAll(async () => {
  sim = await startPasRestSimulator({ port: 0, now: () => clock, apiKeys: [KEY, 'second-integrator-key'], rateLimit: { perSecond: 1000 } });
});
afterAll(() => sim.close());

interface Answer {
  status: number;
  headers: Headers;
  body: any;
}

async function call(path: string, init: { method?: string; org?: string | null; key?: string | null; body?: unknown; headers?: Record<string, string> } = {}): Promise<Answer> {
  const headers: Record<string, string> = { ...init.headers };
  if (init.key !== null) headers['x-api-key'] = init.key ?? KEY;
  if (init.org !== null) headers['x-requesting-organisation'] = init.org ?? 'RX8';
  if (init.body !== undefined) headers['content-type'] ??= 'application/json';
  const res = await fetch(path.startsWith('http') ? path : `${sim.url}/api/v2${path}`, {
    method: init.method ?? 'GET',
    headers,
    ...(init.body !== undefined ? { body: typeof init.body === 'string' ? init.body : JSON.stringify(init.body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
}

async function clinicFor(dosId: string): Promise<string> {
  return (await call(`/clinics?externalId=dos:${dosId}`)).body.data[0].id as string;
}

async function session(clinicId: string, date: string, start: string): Promise<any> {
  const r = await call(`/clinics/${clinicId}/sessions?from=${date}&to=${date}`);
  return r.body.data.find((s: any) => s.start === start);
}

function request(sessionId: string, time: string, extra: Record<string, unknown> = {}) {
  return {
    sessionId,
    time,
    ...extra,
    patient: {
      nhsNumber: '9476719931',
      familyName: 'Jones',
      givenNames: ['Sian'],
      dateOfBirth: '1984-02-29',
      gender: '2',
      address: { lines: ['1 Park Row'], town: 'Leeds', postcode: 'LS1 5AB' },
      contactNumber: '0113 496 0000',
    },
    referral: {
      referrerOdsCode: 'RX8',
      reportId: randomUUID(),
      reportType: { code: 'POCD_MT200001GB02', display: 'Integrated Urgent Care Report' },
      summary: 'Dental abscess, facial swelling',
    },
    notes: '111 referral: dental abscess',
  };
}

function book(body: unknown, key: string = randomUUID(), org = 'RX8'): Promise<Answer> {
  return call('/bookings', { method: 'POST', body, org, headers: { 'idempotency-key': key } });
}

const count = (s: any, time: string, fold = 0) => s.booked.find((b: any) => b.time === time && (b.fold ?? 0) === fold)?.count ?? 0;

/** A time with exactly `places` free in an open session, never handed out before. */
const used = new Set<string>();
const toMin = (t: string) => Number(t.slice(0, 2)) * 60 + Number(t.slice(3));
async function freeTime(places: number, dosId = '1402000107', from = '2026-10-21', to = '2026-10-23'): Promise<{ sessionId: string; time: string }> {
  const clinic = await clinicFor(dosId);
  const r = await call(`/clinics/${clinic}/sessions?from=${from}&to=${to}&limit=100`);
  for (const s of r.body.data) {
    if (s.status !== 'OPEN') continue;
    for (let m = toMin(s.start); m + s.slotMinutes <= toMin(s.end); m += s.slotMinutes) {
      const time = `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
      if (s.capacity - count(s, time) === places && !used.has(`${s.id}|${time}`)) {
        used.add(`${s.id}|${time}`);
        return { sessionId: s.id, time };
      }
    }
  }
  throw new Error('no such time');
}

describe('authentication and the requesting organisation', () => {
  it('401 UNAUTHORISED without a key or with an unknown one, in the vendor envelope with the request id', async () => {
    for (const key of [null, 'wrong-key']) {
      const r = await call('/clinics', { key });
      expect(r.status).toBe(401);
      expect(r.body.error).toMatchObject({ code: 'UNAUTHORISED', requestId: r.headers.get('x-request-id') });
    }
  });

  it('400 ORGANISATION_REQUIRED without an ODS code', async () => {
    expect((await call('/clinics', { org: null })).body.error.code).toBe('ORGANISATION_REQUIRED');
    expect((await call('/clinics', { org: 'not an ods code' })).status).toBe(400);
  });

  it('404 NOT_FOUND outside the API, 405 for a wrong method', async () => {
    expect((await call(`${sim.url}/api/v1/clinics`)).body.error.code).toBe('NOT_FOUND');
    expect((await call('/clinics', { method: 'DELETE' })).body.error.code).toBe('METHOD_NOT_ALLOWED');
  });
});

describe('clinics', () => {
  it('one clinic per Oakfield DoS service, found by its DoS id; several ids at once; none for an unknown id', async () => {
    const one = await call('/clinics?externalId=dos:1402000107');
    expect(one.body.data).toHaveLength(1);
    expect(one.body.data[0]).toMatchObject({ name: 'Leeds Dental Institute Urgent Dental Care', externalIds: [{ system: 'dos', value: '1402000107' }] });
    expect(one.body.data[0].id).not.toContain('1402000107');
    const two = await call('/clinics?externalId=dos:1402000107&externalId=dos:1403000206');
    expect(two.body.data.map((c: any) => c.externalIds[0].value).sort()).toEqual(['1402000107', '1403000206']);
    expect((await call('/clinics?externalId=dos:1402000101')).body).toEqual({ data: [], next: null });
  });

  it('pages with an absolute next link to the end, every clinic once; a cursor is bound to its filters', async () => {
    const seen: string[] = [];
    let next: string | null = `${sim.url}/api/v2/clinics?limit=2`;
    let pages = 0;
    while (next) {
      const r: Answer = await call(next);
      expect(r.status).toBe(200);
      seen.push(...r.body.data.map((c: any) => c.id));
      next = r.body.next;
      pages++;
    }
    expect(pages).toBe(4);
    expect(seen).toHaveLength(7);
    expect(new Set(seen).size).toBe(7);
    expect([...seen].sort()).toEqual(seen);

    const first = await call('/clinics?limit=2');
    const cursor = new URL(first.body.next).searchParams.get('cursor');
    expect((await call(`/clinics?externalId=dos:1402000107&cursor=${cursor}`)).body.error.code).toBe('INVALID_CURSOR');
    expect((await call('/clinics?limit=0')).body.error.code).toBe('BAD_REQUEST');
  });
});

describe('sessions', () => {
  it('lists sessions by local date with capacity and the places taken; refuses long or backwards ranges', async () => {
    const clinic = await clinicFor('1402000107');
    const r = await call(`/clinics/${clinic}/sessions?from=2026-10-20&to=2026-10-20`);
    expect(r.body.data.map((s: any) => [s.start, s.end, s.mode])).toEqual([
      ['08:30', '12:30', 'FACE_TO_FACE'],
      ['13:30', '17:00', 'FACE_TO_FACE'],
      ['18:00', '20:00', 'TELEPHONE'],
    ]);
    for (const s of r.body.data) for (const b of s.booked) expect(b.count).toBeLessThanOrEqual(s.capacity);
    expect((await call(`/clinics/${clinic}/sessions?from=2026-10-01&to=2026-11-05`)).body.error.code).toBe('RANGE_TOO_LARGE');
    expect((await call(`/clinics/${clinic}/sessions?from=2026-10-21&to=2026-10-20`)).status).toBe(400);
    expect((await call(`/clinics/CL-NOPE00/sessions?from=2026-10-20&to=2026-10-20`)).body.error.code).toBe('CLINIC_NOT_FOUND');
  });

  it('releases 14 days ahead and keeps a week back', async () => {
    const clinic = await clinicFor('1402000107');
    const dates = async (from: string, to: string) =>
      [...new Set((await call(`/clinics/${clinic}/sessions?from=${from}&to=${to}&limit=100`)).body.data.map((s: any) => s.date))].sort();
    expect((await dates('2026-10-10', '2026-10-14'))[0]).toBe('2026-10-13');
    expect((await dates('2026-11-01', '2026-11-06')).at(-1)).toBe('2026-11-03');
  });

  it('on the night the clocks go back, the repeated hour is two sets of times told apart by fold', async () => {
    const clinic = await clinicFor('1402000107');
    const s = await session(clinic, '2026-10-25', '00:00');
    expect(s).toMatchObject({ end: '04:00', slotMinutes: 20, capacity: 2 });
    // Pick a repeated time with a place left in the second pass; book it there; only that pass changes.
    const time = ['01:00', '01:20', '01:40'].find((t) => count(s, t, 1) < 2)!;
    const before = [count(s, time, 0), count(s, time, 1)];
    const r = await book(request(s.id, time, { fold: 1 }));
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ date: '2026-10-25', time, fold: 1, durationMinutes: 20 });
    const after = await session(clinic, '2026-10-25', '00:00');
    expect([count(after, time, 0), count(after, time, 1)]).toEqual([before[0], before[1]! + 1]);
  });

  it('a time the clock never shows (spring gap) or a fold on a time that occurs once is TIME_NOT_IN_SESSION', async () => {
    clock = new Date('2026-03-24T09:00:00Z');
    try {
      const clinic = await clinicFor('1403000206');
      const s = await session(clinic, '2026-03-29', '00:00');
      const r = await book(request(s.id, '01:20'));
      expect([r.status, r.body.error.code]).toEqual([422, 'TIME_NOT_IN_SESSION']);
      const folded = await book(request(s.id, '02:20', { fold: 1 }));
      expect(folded.body.error.code).toBe('TIME_NOT_IN_SESSION');
    } finally {
      clock = new Date('2026-10-20T09:00:00Z');
    }
  });
});

describe('booking', () => {
  it('201 with Location and ETag; the same key and body again is 200 Idempotent-Replayed, the same booking, one stored', async () => {
    const { sessionId, time } = await freeTime(2);
    const key = randomUUID();
    const body = request(sessionId, time);
    const first = await book(body, key);
    expect(first.status).toBe(201);
    expect(first.headers.get('location')).toBe(`${sim.url}/api/v2/bookings/${first.body.id}`);
    expect(first.headers.get('etag')).toBe('W/"1"');
    expect(first.body).toMatchObject({ status: 'BOOKED', sessionId, time, bookedBy: 'RX8', version: 1, createdAt: '2026-10-20T09:00:00Z' });
    expect(first.body.fold).toBeUndefined();

    // Same JSON value, keys in another order.
    const reordered = Object.fromEntries(Object.entries(body).reverse());
    const again = await book(reordered, key);
    expect(again.status).toBe(200);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body.id).toBe(first.body.id);
    const stored = (await (await fetch(`${sim.url}/_sandbox/bookings`)).json()) as any[];
    expect(stored.filter((b) => b.sessionId === sessionId && b.time === time && b.status === 'BOOKED')).toHaveLength(1);
    expect(stored.find((b) => b.id === first.body.id).idempotencyKey).toBe(key);
  });

  it('the same key with another body is 422 IDEMPOTENCY_KEY_REUSED; no key is 400; keys are per organisation', async () => {
    const { sessionId, time } = await freeTime(2);
    const key = randomUUID();
    expect((await book(request(sessionId, time), key)).status).toBe(201);
    const other = await book({ ...request(sessionId, time), notes: 'changed' }, key);
    expect([other.status, other.body.error.code]).toEqual([422, 'IDEMPOTENCY_KEY_REUSED']);
    const noKey = await call('/bookings', { method: 'POST', body: request(sessionId, time) });
    expect([noKey.status, noKey.body.error.code]).toEqual([400, 'IDEMPOTENCY_KEY_REQUIRED']);
    // Another organisation's use of the same key string is its own key: it books (the second place).
    expect((await book(request(sessionId, time), key, 'NLO11')).status).toBe(201);
  });

  it('a key is kept for 24 hours from its first use', async () => {
    const { sessionId, time } = await freeTime(2, '1402000107', '2026-10-26', '2026-10-28'); // still ahead a day later
    const key = randomUUID();
    const body = request(sessionId, time);
    expect((await book(body, key)).status).toBe(201);
    clock = new Date(clock.getTime() + 24 * 3_600_000 - 1000);
    try {
      expect((await book(body, key)).status).toBe(200);
      clock = new Date(clock.getTime() + 1000);
      expect((await book(body, key)).status).toBe(201);
    } finally {
      clock = new Date('2026-10-20T09:00:00Z');
    }
  });

  it('409 SLOT_FULL once every place is taken; cancelling frees one at once', async () => {
    const { sessionId, time } = await freeTime(1);
    const first = await book(request(sessionId, time));
    expect(first.status).toBe(201);
    const full = await book(request(sessionId, time));
    expect([full.status, full.body.error.code]).toEqual([409, 'SLOT_FULL']);
    expect((await call(`/bookings/${first.body.id}`, { method: 'DELETE' })).status).toBe(200);
    expect((await book(request(sessionId, time))).status).toBe(201);
  });

  it('takes the last place exactly once under concurrent requests', async () => {
    const { sessionId, time } = await freeTime(1);
    const results = await Promise.all(Array.from({ length: 10 }, () => book(request(sessionId, time))));
    expect(results.map((r) => r.status).sort()).toEqual([201, ...Array(9).fill(409)]);
  });

  it('422 PATIENT_INVALID for the patient alone, VALIDATION_FAILED otherwise, listing every field, quoting no value', async () => {
    const { sessionId, time } = await freeTime(2);
    const body = request(sessionId, time);
    const r = await book({ ...body, patient: { ...body.patient, nhsNumber: '9476719932', gender: 'female', address: { lines: ['1 Park Row'], postcode: 'NOT A POSTCODE' } } });
    expect([r.status, r.body.error.code]).toEqual([422, 'PATIENT_INVALID']);
    expect(r.body.error.details.map((d: any) => d.field)).toEqual(['patient.nhsNumber', 'patient.gender', 'patient.address.postcode']);
    expect(JSON.stringify(r.body)).not.toContain('9476719932');
    const mixed = await book({ ...body, referral: { ...body.referral, reportId: 'not-a-uuid' }, patient: { ...body.patient, familyName: '' } });
    expect(mixed.body.error.code).toBe('VALIDATION_FAILED');
    expect(mixed.body.error.details.map((d: any) => d.field)).toEqual(['patient.familyName', 'referral.reportId']);
  });

  it('refuses malformed JSON (400), a body that is not JSON (415), a past time (422) and an unknown session (404)', async () => {
    const bad = await call('/bookings', { method: 'POST', body: '{"sessionId":', headers: { 'idempotency-key': 'k1' } });
    expect(bad.body.error.code).toBe('MALFORMED_JSON');
    const form = await call('/bookings', { method: 'POST', body: 'a=b', headers: { 'idempotency-key': 'k2', 'content-type': 'application/x-www-form-urlencoded' } });
    expect(form.status).toBe(415);
    const clinic = await clinicFor('1402000107');
    const today = (await call(`/clinics/${clinic}/sessions?from=2026-10-20&to=2026-10-20`)).body.data[0];
    expect((await book(request(today.id, '08:30'))).body.error.code).toBe('TIME_IN_PAST');
    expect((await book(request('SES-000000-20261021-1', '09:00'))).body.error.code).toBe('SESSION_NOT_FOUND');
  });
});

describe('bookings belong to the organisation that made them', () => {
  it('another organisation gets 403 for read and cancel, and does not find them by NHS number', async () => {
    const { sessionId, time } = await freeTime(1, '1404000306');
    const nhs = '9434765919';
    const body = request(sessionId, time);
    body.patient.nhsNumber = nhs;
    const made = await book(body);
    expect(made.status).toBe(201);
    const id = made.body.id;
    expect((await call(`/bookings/${id}`, { org: 'X26' })).body.error.code).toBe('BOOKING_FORBIDDEN');
    expect((await call(`/bookings/${id}`, { org: 'X26', method: 'DELETE' })).status).toBe(403);
    expect((await call(`/bookings?nhsNumber=${nhs}`, { org: 'X26' })).body.data).toEqual([]);
    const mine = await call(`/bookings?nhsNumber=${nhs}`);
    expect(mine.body.data.map((b: any) => b.id)).toEqual([id]);
    expect((await call(`/bookings/${id}`)).body.status).toBe('BOOKED');
    expect((await call('/bookings/bk_doesnotexist')).body.error.code).toBe('BOOKING_NOT_FOUND');
    expect((await call('/bookings?nhsNumber=123')).status).toBe(400);
  });

  it('DELETE is idempotent: the second answer is the same cancelled booking, unchanged', async () => {
    const { sessionId, time } = await freeTime(2, '1404000306');
    const made = await book(request(sessionId, time));
    expect(made.status).toBe(201);
    clock = new Date(clock.getTime() + 60_000);
    const first = await call(`/bookings/${made.body.id}?reasonCode=PATIENT_CANCELLED`, { method: 'DELETE' });
    clock = new Date(clock.getTime() + 60_000);
    const second = await call(`/bookings/${made.body.id}`, { method: 'DELETE' });
    clock = new Date('2026-10-20T09:00:00Z');
    expect(first.body).toMatchObject({ status: 'CANCELLED', cancellationReason: 'PATIENT_CANCELLED', version: 2, cancelledAt: '2026-10-20T09:01:00Z' });
    expect(second.status).toBe(200);
    expect(second.body).toEqual(first.body);
    expect((await call(`/bookings/${made.body.id}?reasonCode=BORED`, { method: 'DELETE' })).status).toBe(400);
  });
});

describe('a booking whose time has passed', () => {
  it('cannot be cancelled: 409 BOOKING_NOT_CANCELLABLE', async () => {
    const { sessionId, time } = await freeTime(2);
    const made = await book(request(sessionId, time));
    expect(made.status).toBe(201);
    clock = new Date('2026-10-24T09:00:00Z');
    try {
      expect((await call(`/bookings/${made.body.id}`, { method: 'DELETE' })).body.error.code).toBe('BOOKING_NOT_CANCELLABLE');
    } finally {
      clock = new Date('2026-10-20T09:00:00Z');
    }
  });
});

describe('rate limit', () => {
  it('429 RATE_LIMITED with Retry-After once the bucket is empty, per API key; admitted again after waiting', async () => {
    const limited = await startPasRestSimulator({ port: 0, apiKeys: [KEY, 'other'], rateLimit: { perSecond: 2 } });
    try {
      const get = (key = KEY) => fetch(`${limited.url}/api/v2/clinics`, { headers: { 'x-api-key': key, 'x-requesting-organisation': 'RX8' } });
      const [a, b, c] = [await get(), await get(), await get()];
      expect([a.status, b.status, c.status]).toEqual([200, 200, 429]);
      expect(a.headers.get('x-ratelimit-limit')).toBe('2');
      expect(c.headers.get('retry-after')).toBe('1');
      expect(((await c.json()) as any).error.code).toBe('RATE_LIMITED');
      expect((await get('other')).status).toBe(200); // another key has its own bucket
      await new Promise((r) => setTimeout(r, 1000));
      expect((await get()).status).toBe(200);
    } finally {
      await limited.close();
    }
  });
});
