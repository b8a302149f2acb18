/**
 * The simulator's holds (API.md 6.5) over real HTTP: one place held per hold, 409 SLOT_HELD for the next organisation
 * when no free place is left, held places listed and not bookable without the hold's id, booking with it, release by
 * DELETE, and expiry by the clock alone. The clock is pinned and moved by the test.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SandboxServer } from '../lib/http.js';
import { startPasRestSimulator } from './server.js';
import { HoldStore, KEPT_AFTER_EXPIRY_MS } from './holds.js';
import type { Session } from './sessions.js';
import type { AppointmentTime } from './wall-clock.js';

let sim: SandboxServer;
let clock = new Date('2026-10-20T09:00:00Z');
const KEY = 'sandbox-oakfield-key';

beforeAll(async () => {
  sim = await startPasRestSimulator({ port: 0, now: () => clock, apiKeys: [KEY], rateLimit: { perSecond: 1000 } });
});
afterAll(() => sim.close());

interface Answer {
  status: number;
  body: any;
}

async function call(path: string, init: { method?: string; org?: string; body?: unknown; headers?: Record<string, string> } = {}): Promise<Answer> {
  const headers: Record<string, string> = { 'x-api-key': KEY, 'x-requesting-organisation': init.org ?? 'RX8', ...init.headers };
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${sim.url}/api/v2${path}`, { method: init.method ?? 'GET', headers, ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

const hold = (body: unknown, org = 'RX8') => call('/holds', { method: 'POST', body, org });
const book = (body: unknown, org = 'RX8') => call('/bookings', { method: 'POST', body, org, headers: { 'idempotency-key': randomUUID() } });

function bookingBody(sessionId: string, time: string, extra: Record<string, unknown> = {}) {
  return {
    sessionId,
    time,
    ...extra,
    patient: { familyName: 'Jones', givenNames: ['Sian'], dateOfBirth: '1984-02-29', gender: '2', address: { lines: ['1 Park Row'], postcode: 'LS1 5AB' } },
    referral: { referrerOdsCode: 'RX8', reportId: randomUUID(), reportType: { code: 'POCD_MT200001GB02', display: 'Integrated Urgent Care Report' }, summary: 'Toothache' },
  };
}

const countIn = (list: any[], time: string) => list.find((b: any) => b.time === time && !b.fold)?.count ?? 0;
const used = new Set<string>();
const toMin = (t: string) => Number(t.slice(0, 2)) * 60 + Number(t.slice(3));

/** An open session time, from tomorrow, with exactly `places` free and never used by this file before. */
async function freeTime(places: number): Promise<{ clinicId: string; sessionId: string; time: string; date: string }> {
  const clinicId = (await call('/clinics?externalId=dos:1402000107')).body.data[0].id as string;
  const r = await call(`/clinics/${clinicId}/sessions?from=2026-10-21&to=2026-10-23&limit=100`);
  for (const s of r.body.data) {
    if (s.status !== 'OPEN') continue;
    for (let m = toMin(s.start); m + s.slotMinutes <= toMin(s.end); m += s.slotMinutes) {
      const time = `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
      if (s.capacity - countIn(s.booked, time) - countIn(s.held, time) === places && !used.has(`${s.id}|${time}`)) {
        used.add(`${s.id}|${time}`);
        return { clinicId, sessionId: s.id, time, date: s.date };
      }
    }
  }
  throw new Error('no such time');
}

async function sessionOf(t: { clinicId: string; sessionId: string; date: string }) {
  const r = await call(`/clinics/${t.clinicId}/sessions?from=${t.date}&to=${t.date}`);
  return r.body.data.find((s: any) => s.id === t.sessionId);
}

describe('holds (API.md 6.5)', () => {
  it('holds the last place for one organisation: 201 with an expiry, then 409 SLOT_HELD for the next; listed as held', async () => {
    const t = await freeTime(1);
    const first = await hold({ sessionId: t.sessionId, time: t.time, seconds: 120 });
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ status: 'HELD', sessionId: t.sessionId, time: t.time, heldBy: 'RX8', bookingId: null });
    expect(Date.parse(first.body.expiresAt) - clock.getTime()).toBe(120_000);
    const second = await hold({ sessionId: t.sessionId, time: t.time, seconds: 60 }, 'A91');
    expect([second.status, second.body.error.code]).toEqual([409, 'SLOT_HELD']);
    expect(countIn((await sessionOf(t)).held, t.time)).toBe(1);
  });

  it('of many requests for the last place, exactly one is granted', async () => {
    const t = await freeTime(1);
    const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => hold({ sessionId: t.sessionId, time: t.time, seconds: 60 }, `X${i}1`)));
    expect(answers.filter((a) => a.status === 201)).toHaveLength(1);
    expect(answers.filter((a) => a.status === 409).every((a) => a.body.error.code === 'SLOT_HELD')).toBe(true);
  });

  it('a held place is booked only with its hold id, by its holder; the hold becomes CONVERTED', async () => {
    const t = await freeTime(1);
    const h = (await hold({ sessionId: t.sessionId, time: t.time, seconds: 120 })).body;
    expect((await book(bookingBody(t.sessionId, t.time), 'A91')).body.error.code).toBe('SLOT_HELD');
    expect((await book(bookingBody(t.sessionId, t.time))).body.error.code).toBe('SLOT_HELD');
    expect((await book(bookingBody(t.sessionId, t.time, { holdId: h.id }), 'A91')).body.error.code).toBe('HOLD_INVALID');
    const booked = await book(bookingBody(t.sessionId, t.time, { holdId: h.id }));
    expect(booked.status).toBe(201);
    expect((await call(`/holds/${h.id}`)).body).toMatchObject({ status: 'CONVERTED', bookingId: booked.body.id });
    const s = await sessionOf(t);
    expect([countIn(s.held, t.time), s.capacity - countIn(s.booked, t.time)]).toEqual([0, 0]);
  });

  it('a hold takes one place of several: the others stay free and bookable', async () => {
    const t = await freeTime(2);
    expect((await hold({ sessionId: t.sessionId, time: t.time, seconds: 60 })).status).toBe(201);
    expect((await book(bookingBody(t.sessionId, t.time), 'A91')).status).toBe(201);
    expect((await hold({ sessionId: t.sessionId, time: t.time, seconds: 60 }, 'A91')).body.error.code).toBe('SLOT_HELD');
  });

  it('DELETE releases at once (repeatable); expiry frees the place with no call at all', async () => {
    const t = await freeTime(1);
    const h = (await hold({ sessionId: t.sessionId, time: t.time, seconds: 30 })).body;
    expect((await call(`/holds/${h.id}`, { method: 'DELETE', org: 'A91' })).status).toBe(403);
    expect((await call(`/holds/${h.id}`, { method: 'DELETE' })).body.status).toBe('RELEASED');
    expect((await call(`/holds/${h.id}`, { method: 'DELETE' })).body.status).toBe('RELEASED');
    const other = await hold({ sessionId: t.sessionId, time: t.time, seconds: 30 }, 'A91');
    expect(other.status).toBe(201);

    clock = new Date(clock.getTime() + 30_000);
    try {
      expect((await call(`/holds/${other.body.id}`, { org: 'A91' })).body.status).toBe('EXPIRED');
      expect(countIn((await sessionOf(t)).held, t.time)).toBe(0);
      expect((await hold({ sessionId: t.sessionId, time: t.time, seconds: 30 })).status).toBe(201);
    } finally {
      clock = new Date('2026-10-20T09:00:00Z');
    }
  });

  it('refuses bad input naming the field, and unknown holds', async () => {
    const t = await freeTime(1);
    for (const [body, field] of [
      [{ sessionId: t.sessionId, time: t.time, seconds: 301 }, 'seconds'],
      [{ sessionId: t.sessionId, time: t.time, seconds: 0 }, 'seconds'],
      [{ sessionId: t.sessionId, time: '25:00', seconds: 10 }, 'time'],
      [{ time: t.time, seconds: 10 }, 'sessionId'],
    ] as const) {
      const r = await hold(body);
      expect([r.status, r.body.error.code, r.body.error.details[0].field]).toEqual([422, 'VALIDATION_FAILED', field]);
    }
    expect((await call('/holds/hd_nope')).status).toBe(404);
    expect((await book(bookingBody(t.sessionId, t.time, { holdId: 'not-a-hold' }))).body.error.details[0].field).toBe('holdId');
  });
});

describe('hold records', () => {
  it('are forgotten a day after they expire, so a long-running sandbox keeps no more than a day of them', () => {
    const store = new HoldStore();
    const session = { id: 'ses_1', clinicId: 'cl_1', date: '2026-12-02' } as unknown as Session;
    const at = { time: '09:00' } as unknown as AppointmentTime;
    const t0 = Date.parse('2026-12-02T08:00:00Z');
    const old = store.create({ organisation: 'RX8', session, at, seconds: 60, nowMs: t0 });
    store.create({ organisation: 'RX8', session, at, seconds: 60, nowMs: t0 + 1000 });
    expect(store.get(old.id, t0 + KEPT_AFTER_EXPIRY_MS)?.status).toBe('EXPIRED');
    const later = t0 + 60_000 + KEPT_AFTER_EXPIRY_MS + 500;
    const fresh = store.create({ organisation: 'RX8', session, at, seconds: 60, nowMs: later });
    expect(store.get(old.id, later)).toBeUndefined();
    expect(store.size).toBe(2);
    expect(store.get(fresh.id, later)?.status).toBe('HELD');
  });
});
