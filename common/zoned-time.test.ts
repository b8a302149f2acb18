/**
 * Temporal-backed zone rules, against two independent oracles: the simulator's own London arithmetic
 * (sandbox/lib/london-time.ts) and Intl's `longOffset` names, over many instants either side of the changes.
 */
import { describe, expect, it } from 'vitest';
import { londonOffsetMinutes } from '../sandbox/lib/london-time.js';
import { LONDON, compatibleInstant, instantsReading, isTimeZone, offsetMinutesAt, wallClockAt } from './zoned-time.js';

const formats = new Map<string, Intl.DateTimeFormat>();
function intlOffset(zone: string, ms: number): number {
  let f = formats.get(zone);
  if (!f) formats.set(zone, (f = new Intl.DateTimeFormat('en-US', { timeZone: zone, timeZoneName: 'longOffset' })));
  const name = f.formatToParts(ms).find((p) => p.type === 'timeZoneName')!.value;
  const m = /GMT([+-])(\d{2}):(\d{2})/.exec(name);
  return m ? (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3])) : 0;
}

const iso = (ms: number) => new Date(ms).toISOString();

describe('zoned time', () => {
  it('agrees with the simulator and with Intl at every hour around each UK change from 2024 to 2030, and at random instants', () => {
    const instants: number[] = [];
    for (let year = 2024; year <= 2030; year++) {
      for (const month of [2, 9]) {
        // Every 15 minutes through the last week of March and October, where the changes fall.
        for (let t = Date.UTC(year, month, 24); t < Date.UTC(year, month + 1, 1); t += 15 * 60_000) instants.push(t);
      }
    }
    let seed = 7;
    for (let i = 0; i < 2000; i++) {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      instants.push(Date.UTC(2020, 0, 1) + (seed / 2 ** 31) * 15 * 365 * 86_400_000);
    }
    const wrong = instants.filter((ms) => offsetMinutesAt(LONDON, ms) !== londonOffsetMinutes(ms) || offsetMinutesAt(LONDON, ms) !== intlOffset(LONDON, ms));
    expect(wrong.map(iso)).toEqual([]);
  });

  it('changes offset exactly at the transition instant', () => {
    expect(offsetMinutesAt(LONDON, Date.parse('2026-03-29T00:59:59.999Z'))).toBe(0);
    expect(offsetMinutesAt(LONDON, Date.parse('2026-03-29T01:00:00.000Z'))).toBe(60);
    expect(offsetMinutesAt(LONDON, Date.parse('2026-10-25T00:59:59.999Z'))).toBe(60);
    expect(offsetMinutesAt(LONDON, Date.parse('2026-10-25T01:00:00.000Z'))).toBe(0);
  });

  it('reads wall clocks in other zones too (a feed location in New York), from the cache or not', () => {
    const zone = 'America/New_York';
    for (const t of ['2026-03-08T06:59:00Z', '2026-03-08T07:00:00Z', '2026-11-01T05:59:00Z', '2026-11-01T06:00:00Z', '2026-07-04T16:00:00Z']) {
      const ms = Date.parse(t);
      expect(offsetMinutesAt(zone, ms), t).toBe(intlOffset(zone, ms));
    }
    expect(wallClockAt(zone, Date.parse('2026-07-04T16:00:00Z'))).toEqual({ date: '2026-07-04', minutes: 12 * 60, offset: -240 });
  });

  it('finds no instant in a gap, two in an overlap, one otherwise, and moves a gap time forward when one is needed', () => {
    expect(instantsReading(LONDON, '2026-03-29', 90)).toEqual([]);
    expect(instantsReading(LONDON, '2026-10-25', 90).map(iso)).toEqual(['2026-10-25T00:30:00.000Z', '2026-10-25T01:30:00.000Z']);
    expect(instantsReading(LONDON, '2026-06-01', 1440).map(iso)).toEqual(['2026-06-01T23:00:00.000Z']);
    expect(iso(compatibleInstant(LONDON, '2026-03-29', 90)!)).toBe('2026-03-29T01:30:00.000Z');
    expect(iso(compatibleInstant(LONDON, '2026-10-25', 90)!)).toBe('2026-10-25T00:30:00.000Z');
  });

  it('refuses impossible dates and unknown zones without throwing past its edge', () => {
    expect(instantsReading(LONDON, '2026-02-30', 0)).toEqual([]);
    expect(compatibleInstant(LONDON, 'not-a-date', 0)).toBeNull();
    expect(isTimeZone('Europe/London')).toBe(true);
    expect(isTimeZone('Mars/Olympus_Mons')).toBe(false);
    expect(isTimeZone('x'.repeat(10_000))).toBe(false);
  });

  it('keeps answering correctly when more zones are asked about than it remembers', () => {
    const zones = Intl.supportedValuesOf('timeZone').slice(0, 80);
    const ms = Date.parse('2026-07-01T12:00:00Z');
    const wrong = zones.filter((z) => offsetMinutesAt(z, ms) !== intlOffset(z, ms));
    expect(wrong).toEqual([]);
    expect(offsetMinutesAt(LONDON, ms)).toBe(60);
  });
});
