/**
 * Sessions → slots on recorded Oakfield payloads (fixtures/, from the simulator) and on hand-written sessions: the two
 * clock-change nights with every start, offset and place count written out, and the sessions a supplier can send that
 * the adapter must refuse to guess at.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeSlotId } from '../../common/slot-id.js';
import type { PasSession } from './client.js';
import { appointmentTimes, deliveryChannel, mapSessions, type SlotModel } from './map.js';
import { decodeSlotRef } from './slot-ref.js';

function fixture<T>(name: string): T {
  return JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8')) as T;
}
const sessions = (name: string) => fixture<{ data: PasSession[] }>(name).data;

const fetchedAt = new Date('2026-10-20T12:00:00Z');
const map = (list: PasSession[], from: string, to: string, serviceId = '1402000107') =>
  mapSessions({ system: 'oakfield-pas', serviceId, sessions: list, from: new Date(from), to: new Date(to), fetchedAt });
const startsAndPlaces = (slots: SlotModel[]) => slots.map((s) => [s.start, s.capacity]);

function session(overrides: Partial<PasSession> = {}): PasSession {
  return { id: 'SES-T', clinicId: 'CL-T', date: '2026-11-01', start: '00:00', end: '04:00', slotMinutes: 20, capacity: 2, mode: 'FACE_TO_FACE', status: 'OPEN', booked: [], ...overrides };
}

describe('the night the clocks go forward (recorded: Bristol Dental Hospital, 29 March 2026)', () => {
  const night = sessions('sessions-2026-03-29.json').filter((s) => s.date === '2026-03-29' && s.start === '00:00');
  const { slots, skipped } = map(night, '2026-03-28T23:00:00Z', '2026-03-29T05:00:00Z', '1403000206');

  it('offers nine times, GMT before the jump and BST after, none in the hour that does not exist', () => {
    expect(skipped).toEqual([]);
    expect(startsAndPlaces(slots)).toEqual([
      ['2026-03-29T00:00:00+00:00', 1],
      ['2026-03-29T00:20:00+00:00', 2],
      ['2026-03-29T00:40:00+00:00', 1],
      ['2026-03-29T02:00:00+01:00', 1],
      ['2026-03-29T02:20:00+01:00', 2],
      ['2026-03-29T02:40:00+01:00', 2],
      ['2026-03-29T03:00:00+01:00', 2],
      ['2026-03-29T03:20:00+01:00', 1],
      ['2026-03-29T03:40:00+01:00', 2],
    ]);
  });

  it('lays the slots back to back in real time: three hours, twenty minutes each, no gap and no overlap', () => {
    for (let i = 0; i < slots.length; i++) {
      expect(Date.parse(slots[i]!.end) - Date.parse(slots[i]!.start)).toBe(20 * 60_000);
      if (i > 0) expect(Date.parse(slots[i]!.start)).toBe(Date.parse(slots[i - 1]!.end));
    }
    expect(Date.parse(slots.at(-1)!.end) - Date.parse(slots[0]!.start)).toBe(3 * 3_600_000);
    // The slot across the jump ends on the other side of it, with the other offset.
    expect(slots[2]!.end).toBe('2026-03-29T02:00:00+01:00');
  });
});

describe('the night the clocks go back (recorded: Leeds Dental Institute, 25 October 2026)', () => {
  const recorded = sessions('sessions-2026-10-25.json');
  const night = recorded.filter((s) => s.date === '2026-10-25' && s.start === '00:00');
  const { slots, skipped } = map(night, '2026-10-24T22:00:00Z', '2026-10-25T05:00:00Z');

  it('offers the repeated hour twice, BST then GMT, with the places of each pass (full times left out)', () => {
    expect(skipped).toEqual([]);
    // Recorded `booked`: 00:00 ×2, 00:20 ×1, 01:20 fold 1 ×2, 01:40 fold 1 ×1, 02:40 ×2, 03:00 ×1, 03:20 ×1, 03:40 ×2.
    expect(startsAndPlaces(slots)).toEqual([
      ['2026-10-25T00:20:00+01:00', 1],
      ['2026-10-25T00:40:00+01:00', 2],
      ['2026-10-25T01:00:00+01:00', 2],
      ['2026-10-25T01:20:00+01:00', 2], // first pass: free, although 01:20 in the second pass is full
      ['2026-10-25T01:40:00+01:00', 2],
      ['2026-10-25T01:00:00+00:00', 2],
      ['2026-10-25T01:40:00+00:00', 1],
      ['2026-10-25T02:00:00+00:00', 2],
      ['2026-10-25T02:20:00+00:00', 2],
      ['2026-10-25T03:00:00+00:00', 1],
      ['2026-10-25T03:20:00+00:00', 1],
    ]);
  });

  it('carries the supplier\'s name for each time, fold included, in the slot id', () => {
    const refs = slots.map((s) => decodeSlotRef(decodeSlotId(s.id)!.ref)!);
    expect(refs.map((r) => `${r.time}${r.fold ? '+1' : ''}`)).toEqual(['00:20', '00:40', '01:00', '01:20', '01:40', '01:00+1', '01:40+1', '02:00', '02:20', '03:00', '03:20']);
    expect(refs.every((r) => r.sessionId === 'SES-7R8MZ3-20261025-1')).toBe(true);
    expect(refs[5]!.start.toISOString()).toBe('2026-10-25T01:00:00.000Z');
  });

  it('maps the whole recorded weekend: the suspended session offers nothing, the evening runs to midnight', () => {
    const all = map(recorded, '2026-10-24T00:00:00Z', '2026-10-25T23:00:00Z');
    expect(all.skipped).toEqual([]);
    const evening = all.slots.filter((s) => s.start.startsWith('2026-10-24'));
    expect(evening[0]!.start).toBe('2026-10-24T19:20:00+01:00'); // 19:00 is full
    expect(evening.at(-1)!.end).toBe('2026-10-25T00:00:00+01:00');
    expect(evening.filter((s) => s.start < '2026-10-24T19')).toEqual([]); // the suspended 09:00-12:00
    const ids = all.slots.map((s) => s.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect([...all.slots].sort((a, b) => Date.parse(a.start) - Date.parse(b.start))).toEqual(all.slots);
  });

  it('fills in the shared Slot fields', () => {
    expect(slots[0]).toMatchObject({
      serviceId: '1402000107',
      end: '2026-10-25T00:40:00+01:00',
      status: 'FREE',
      deliveryChannel: 'IN_PERSON',
      practitioner: { name: 'Dental on-call team', role: 'Dentist' },
      bookingLink: null,
      bookingPhone: null,
      bookable: true,
      fetchedAt: '2026-10-20T12:00:00.000Z',
      source: 'LIVE',
    });
    expect(decodeSlotId(slots[0]!.id)).toMatchObject({ system: 'oakfield-pas', serviceId: '1402000107' });
  });
});

describe('no slot lost, duplicated or mis-offset, with nothing booked', () => {
  const counts = (date: string) => {
    const { slots } = map([session({ date })], `${date}T00:00:00+01:00`, `${date}T06:00:00Z`);
    return { n: slots.length, offsets: [...new Set(slots.map((s) => s.start.slice(-6)))], starts: new Set(slots.map((s) => Date.parse(s.start))).size };
  };

  it('twelve on an ordinary night, nine in spring, fifteen in autumn, each start once', () => {
    expect(counts('2026-11-01')).toEqual({ n: 12, offsets: ['+00:00'], starts: 12 });
    expect(counts('2026-03-29')).toEqual({ n: 9, offsets: ['+00:00', '+01:00'], starts: 9 });
    expect(counts('2026-10-25')).toEqual({ n: 15, offsets: ['+01:00', '+00:00'], starts: 15 });
    expect(counts('2027-03-28')).toEqual({ n: 9, offsets: ['+00:00', '+01:00'], starts: 9 });
    expect(counts('2027-10-31')).toEqual({ n: 15, offsets: ['+01:00', '+00:00'], starts: 15 });
  });

  it('a session starting in the spring gap starts an hour later by the clock (01:30 is 02:30 BST)', () => {
    const { slots } = map([session({ date: '2026-03-29', start: '01:30', end: '03:30', slotMinutes: 30 })], '2026-03-29T00:00:00Z', '2026-03-29T06:00:00Z');
    expect(slots.map((s) => s.start)).toEqual(['2026-03-29T02:30:00+01:00', '2026-03-29T03:00:00+01:00']);
  });

  it('a session starting in the repeated hour starts at its first occurrence, and runs through the second', () => {
    const { slots } = map([session({ date: '2026-10-25', start: '01:30', end: '02:00', slotMinutes: 30 })], '2026-10-24T23:00:00Z', '2026-10-25T06:00:00Z');
    expect(slots.map((s) => s.start)).toEqual(['2026-10-25T01:30:00+01:00', '2026-10-25T01:00:00+00:00', '2026-10-25T01:30:00+00:00']);
  });

  it('times derived for a 24:00 end stop at the next midnight', () => {
    const times = appointmentTimes(session({ date: '2026-03-28', start: '23:00', end: '24:00', slotMinutes: 30 }));
    expect('times' in times && times.times.map((t) => new Date(t.endMs).toISOString())).toEqual(['2026-03-28T23:30:00.000Z', '2026-03-29T00:00:00.000Z']);
  });
});

describe('sessions the adapter will not guess at', () => {
  const window = ['2026-10-31T00:00:00Z', '2026-11-02T00:00:00Z'] as const;

  it('skips, with a reason, a session whose booked times are not its appointment times (a misread would offer a full time)', () => {
    const r = map([session({ booked: [{ time: '01:10', count: 2 }] }), session({ id: 'SES-OK' })], ...window);
    expect(r.skipped).toEqual([{ sessionId: 'SES-T', reason: "booked time 01:10 is not one of the session's appointment times" }]);
    expect(r.slots).toHaveLength(12);
    expect(map([session({ booked: [{ time: '01:20', fold: 1, count: 1 }] })], ...window).skipped[0]!.reason).toMatch(/fold 1/);
  });

  it('skips unreadable sessions: bad date or times, an end before the start, no id, an unknown status, bad capacity', () => {
    const bad: [Partial<PasSession>, RegExp][] = [
      [{ date: '2026-02-30' }, /date/],
      [{ start: '9:00' }, /HH:mm/],
      [{ start: '20:00', end: '02:00' }, /not after start/],
      [{ slotMinutes: 0 }, /slotMinutes/],
      [{ capacity: 1.5 }, /capacity/],
      [{ status: 'PROVISIONAL' }, /unknown status/],
      [{ id: '' }, /no id/],
      [{ booked: [{ time: '00:20', count: -1 }] }, /booked entry/],
    ];
    for (const [o, reason] of bad) {
      const r = map([session(o)], ...window);
      expect(r.slots).toEqual([]);
      expect(r.skipped[0]!.reason).toMatch(reason);
    }
  });

  it('offers nothing from a suspended session, and says nothing about it', () => {
    expect(map([session({ status: 'SUSPENDED' })], ...window)).toEqual({ slots: [], skipped: [] });
  });

  it('keeps only slots starting inside the window, ends included', () => {
    const r = map([session()], '2026-11-01T01:00:00Z', '2026-11-01T02:00:00Z');
    expect(r.slots.map((s) => s.start)).toEqual(['2026-11-01T01:00:00+00:00', '2026-11-01T01:20:00+00:00', '2026-11-01T01:40:00+00:00', '2026-11-01T02:00:00+00:00']);
  });
});

describe('delivery channel', () => {
  it('is in person unless the supplier says telephone or video', () => {
    expect([deliveryChannel('TELEPHONE'), deliveryChannel('VIDEO'), deliveryChannel('FACE_TO_FACE'), deliveryChannel(undefined), deliveryChannel('HOME_VISIT')]).toEqual([
      'TELEPHONE',
      'VIDEO',
      'IN_PERSON',
      'IN_PERSON',
      'IN_PERSON',
    ]);
    const { slots } = map([session({ mode: 'TELEPHONE', clinician: { role: 'Dental Nurse' } })], '2026-11-01T00:00:00Z', '2026-11-01T01:00:00Z');
    expect(slots[0]).toMatchObject({ deliveryChannel: 'TELEPHONE', practitioner: { name: null, role: 'Dental Nurse' } });
  });
});

describe('held places (API.md 6.5)', () => {
  const window = ['2026-11-01T00:00:00Z', '2026-11-01T04:00:00Z'] as const;
  const held = session({ booked: [{ time: '00:20', count: 1 }], held: [{ time: '00:00', count: 2 }, { time: '00:20', count: 1 }] });

  it('are not free: a time held in full is not offered, a half-held one has a place less', () => {
    const { slots, skipped } = map([held], ...window);
    expect(skipped).toEqual([]);
    expect(startsAndPlaces(slots).slice(0, 2)).toEqual([['2026-11-01T00:40:00+00:00', 2], ['2026-11-01T01:00:00+00:00', 2]]);
  });

  it('except those our consumers hold: they stay in the shared answer (the hold store hides them from others)', () => {
    const all = map([session()], ...window).slots;
    const first = all[0]!.id;
    const ours = mapSessions({ system: 'oakfield-pas', serviceId: '1402000107', sessions: [held], from: new Date(window[0]), to: new Date(window[1]), fetchedAt, ours: new Map([[first, 1]]) });
    expect(startsAndPlaces(ours.slots).slice(0, 2)).toEqual([['2026-11-01T00:00:00+00:00', 1], ['2026-11-01T00:40:00+00:00', 2]]);
  });

  it('a held entry naming no time of the session skips the session, as a booked one does', () => {
    expect(map([session({ held: [{ time: '00:10', count: 1 }] })], ...window).skipped[0]!.reason).toMatch(/held time/);
  });
});
