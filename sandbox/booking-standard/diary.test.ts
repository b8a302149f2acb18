import { describe, expect, it } from 'vitest';
import { addDays, formatLondon, londonOffsetMinutes, londonToInstant, type LocalDate } from '../lib/london-time.js';
import { buildCatalogue, type ScheduleDef } from './catalogue.js';
import { generateDiaryDay, slotUuid, type DiarySlot } from './diary.js';

// 2026: clocks go forward on Sunday 29 March (01:00 GMT → 02:00 BST) and back on Sunday 25 October (02:00 BST → 01:00 GMT).
const SPRING: LocalDate = { year: 2026, month: 3, day: 29 };
const AUTUMN: LocalDate = { year: 2026, month: 10, day: 25 };

const harbour = buildCatalogue('harbour-uec');
const meridian = buildCatalogue('meridian-ooh');
const schedule = (c: typeof harbour, id: string): ScheduleDef => {
  const s = c.schedules.get(id);
  if (!s) throw new Error(`no schedule ${id}`);
  return s;
};
const edLgi = schedule(harbour, 'sch-1402000104-ta');
const edStJames = schedule(harbour, 'sch-1402000101-ta');
const anpLeeds = schedule(meridian, 'sch-1402000103-anp1');

/** Slots of consecutive diary days for one schedule, in order. */
function days(s: ScheduleDef, first: LocalDate, n: number, tenant: 'harbour-uec' | 'meridian-ooh' = 'harbour-uec'): DiarySlot[] {
  return Array.from({ length: n }, (_, i) => generateDiaryDay(tenant, s, addDays(first, i))).flat();
}

/** Asserts slots tile time exactly: each starts where the previous ended. */
function expectContiguous(slots: DiarySlot[]): void {
  for (let i = 1; i < slots.length; i++) expect(slots[i]!.startMs, `gap or overlap before ${slots[i]!.start}`).toBe(slots[i - 1]!.endMs);
}

describe('Europe/London time', () => {
  it('labels instants with the offset in force: +01:00 in summer, +00:00 in winter', () => {
    expect(formatLondon(Date.UTC(2026, 5, 1, 8, 0))).toBe('2026-06-01T09:00:00+01:00');
    expect(formatLondon(Date.UTC(2026, 0, 15, 9, 0))).toBe('2026-01-15T09:00:00+00:00');
  });

  it('switches exactly at 01:00 UTC on both change days', () => {
    expect(londonOffsetMinutes(Date.UTC(2026, 2, 29, 0, 59))).toBe(0);
    expect(londonOffsetMinutes(Date.UTC(2026, 2, 29, 1, 0))).toBe(60);
    expect(londonOffsetMinutes(Date.UTC(2026, 9, 25, 0, 59))).toBe(60);
    expect(londonOffsetMinutes(Date.UTC(2026, 9, 25, 1, 0))).toBe(0);
  });

  it('turns wall-clock times into instants, with rules for the missing and the repeated hour', () => {
    expect(londonToInstant({ ...SPRING, hour: 8, minute: 0 })).toBe(Date.UTC(2026, 2, 29, 7, 0));
    expect(londonToInstant({ ...SPRING, hour: 0, minute: 30 })).toBe(Date.UTC(2026, 2, 29, 0, 30));
    // 01:30 does not exist on the spring day: clocks jump, so it reads as 02:30 BST.
    expect(londonToInstant({ ...SPRING, hour: 1, minute: 30 })).toBe(Date.UTC(2026, 2, 29, 1, 30));
    // 01:30 happens twice on the autumn day: the first (BST) occurrence is taken.
    expect(londonToInstant({ ...AUTUMN, hour: 1, minute: 30 })).toBe(Date.UTC(2026, 9, 25, 0, 30));
  });
});

describe('diary generation across the clock changes', () => {
  it('a 24-hour ED diary has 46 half-hour slots on the spring day, none lost, offsets switching at 02:00 BST', () => {
    const slots = generateDiaryDay('harbour-uec', edLgi, SPRING);
    expect(slots).toHaveLength(46);
    expectContiguous(slots);
    const starts = slots.map((s) => s.start);
    expect(starts[0]).toBe('2026-03-29T00:00:00+00:00');
    expect(starts).toContain('2026-03-29T00:30:00+00:00');
    expect(starts[starts.indexOf('2026-03-29T00:30:00+00:00') + 1]).toBe('2026-03-29T02:00:00+01:00');
    expect(starts.some((s) => s.startsWith('2026-03-29T01:'))).toBe(false);
    expect(slots.at(-1)!.end).toBe('2026-03-30T00:00:00+01:00');
  });

  it('has 50 slots on the autumn day: the repeated hour appears twice, told apart by its offset', () => {
    const slots = generateDiaryDay('harbour-uec', edLgi, AUTUMN);
    expect(slots).toHaveLength(50);
    expectContiguous(slots);
    const starts = slots.map((s) => s.start);
    for (const t of ['01:00:00+01:00', '01:30:00+01:00', '01:00:00+00:00', '01:30:00+00:00']) expect(starts).toContain(`2026-10-25T${t}`);
    expect(new Set(slots.map((s) => s.startMs)).size).toBe(50);
    expect(new Set(slots.map((s) => s.id)).size).toBe(50);
    // The slot that straddles the change starts in BST and ends in GMT.
    expect(slots.find((s) => s.start === '2026-10-25T01:30:00+01:00')!.end).toBe('2026-10-25T01:00:00+00:00');
  });

  it('joins day to day with no gap or overlap through both changes', () => {
    expectContiguous(days(edLgi, addDays(SPRING, -2), 5));
    expectContiguous(days(edLgi, addDays(AUTUMN, -2), 5));
  });

  it('an overnight weekend clinician diary crossing the change is 23 h (spring) and 25 h (autumn) long', () => {
    // Saturday 08:00 GMT → Sunday 08:00 BST is 23 hours of 15-minute slots; the autumn weekend is 25 hours.
    expect(generateDiaryDay('meridian-ooh', anpLeeds, addDays(SPRING, -1))).toHaveLength(92);
    expect(generateDiaryDay('meridian-ooh', anpLeeds, addDays(AUTUMN, -1))).toHaveLength(100);
  });

  it('the ANP rota covers Friday 18:30 to Monday 08:00 continuously over a change weekend', () => {
    const friday = addDays(SPRING, -2);
    const slots = days(anpLeeds, friday, 3, 'meridian-ooh');
    expectContiguous(slots);
    expect(slots[0]!.start).toBe('2026-03-27T18:30:00+00:00');
    expect(slots.at(-1)!.end).toBe('2026-03-30T08:00:00+01:00');
  });

  it('weekday GP out-of-hours sessions run 18:30 to 08:00 the next morning', () => {
    const monday = { year: 2026, month: 6, day: 1 };
    const slots = generateDiaryDay('meridian-ooh', anpLeeds, monday);
    expect(slots[0]!.start).toBe('2026-06-01T18:30:00+01:00');
    expect(slots.at(-1)!.end).toBe('2026-06-02T08:00:00+01:00');
  });
});

describe('diary content', () => {
  const june = { year: 2026, month: 6, day: 1 };

  it('is deterministic: the same schedule and day give identical slots', () => {
    expect(generateDiaryDay('harbour-uec', edLgi, june)).toEqual(generateDiaryDay('harbour-uec', edLgi, june));
    const statuses = (d: LocalDate) => generateDiaryDay('harbour-uec', edLgi, d).map((s) => s.status).join();
    expect(statuses(june)).not.toBe(statuses(addDays(june, 1)));
  });

  it('releases roughly 30% of slots already busy', () => {
    const slots = days(edLgi, june, 28);
    const busy = slots.filter((s) => s.status === 'busy').length / slots.length;
    expect(busy).toBeGreaterThan(0.22);
    expect(busy).toBeLessThan(0.38);
  });

  it('gives every slot a distinct RFC 4122 UUID', () => {
    const uuids = days(edLgi, june, 3).map((s) => slotUuid('harbour-uec', s.id));
    for (const u of uuids) expect(u).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(new Set(uuids).size).toBe(uuids.length);
    expect(slotUuid('harbour-uec', 'slot-x')).toBe(slotUuid('harbour-uec', 'slot-x'));
  });

  it('uses the opening hours of each service type', () => {
    const first = (id: string) => generateDiaryDay('harbour-uec', schedule(harbour, id), june);
    const utc = first('sch-1402000102-main');
    expect([utc.length, utc[0]!.start, utc.at(-1)!.end]).toEqual([56, '2026-06-01T08:00:00+01:00', '2026-06-01T22:00:00+01:00']);
    const miu = first('sch-1402000106-main');
    expect([miu.length, miu[0]!.start, miu.at(-1)!.end]).toEqual([36, '2026-06-01T08:00:00+01:00', '2026-06-01T20:00:00+01:00']);
    expect(first('sch-1404000305-main')).toEqual([]); // Cromer MIU: held, nothing released
  });

  it('reserves St James\'s ED timed arrivals 10:00–14:00 and 18:00–22:00 local for NHS 111 (RX8) only', () => {
    for (const d of [june, SPRING, AUTUMN]) {
      for (const s of generateDiaryDay('harbour-uec', edStJames, d)) {
        const clock = s.start.slice(11, 16);
        const reserved = (clock >= '10:00' && clock < '14:00') || (clock >= '18:00' && clock < '22:00');
        expect(s.reservedFor, s.start).toEqual(reserved ? ['RX8'] : undefined);
      }
    }
    expect(generateDiaryDay('harbour-uec', edLgi, june).every((s) => s.reservedFor === undefined)).toBe(true);
  });

  it('puts a delivery channel on some GP out-of-hours slots and none on ED slots', () => {
    const gp = days(schedule(meridian, 'sch-1402000103-gp1'), june, 7, 'meridian-ooh');
    const channels = new Set(gp.map((s) => s.deliveryChannel ?? 'none'));
    expect(channels).toEqual(new Set(['In-person', 'Video', 'none']));
    expect(generateDiaryDay('harbour-uec', edLgi, june).every((s) => s.deliveryChannel === undefined)).toBe(true);
  });
});
