import { describe, expect, it } from 'vitest';
import { addDays, londonDay } from '../../common/london-day.js';
import { splitByDay } from './split-by-day.js';

const slot = (ms: number, id: string) => ({ id, start: new Date(ms).toISOString() });

describe('splitByDay', () => {
  it('puts each slot on its London day, as londonDay says, over both clock changes, whatever order they come in', () => {
    // Every 37 minutes over the weeks of both changes: 23-hour and 25-hour days included, shuffled.
    for (const first of ['2026-03-26', '2026-10-22']) {
      const days = Array.from({ length: 7 }, (_, i) => addDays(first, i));
      const from = Date.parse(`${first}T00:00:00Z`) - 3 * 3_600_000;
      const slots = Array.from({ length: (9 * 24 * 60) / 37 }, (_, i) => slot(from + i * 37 * 60_000, `s${i}`));
      for (let i = slots.length - 1; i > 0; i--) {
        const j = (i * 7919) % (i + 1);
        [slots[i], slots[j]] = [slots[j]!, slots[i]!];
      }
      const byDay = splitByDay(slots, days);
      expect([...byDay.keys()]).toEqual(days);
      for (const day of days) {
        const expected = slots.filter((s) => londonDay(Date.parse(s.start)) === day).map((s) => s.start).sort();
        expect(byDay.get(day)!.map((s) => s.start)).toEqual(expected);
      }
      // What falls outside the days asked is dropped, not put on the nearest.
      const kept = [...byDay.values()].reduce((n, l) => n + l.length, 0);
      expect(kept).toBe(slots.filter((s) => days.includes(londonDay(Date.parse(s.start)))).length);
      expect(kept).toBeLessThan(slots.length);
    }
  });

  it('drops a slot with no readable start, and keeps each day in order of start', () => {
    const byDay = splitByDay([slot(Date.parse('2026-12-02T10:00:00Z'), 'b'), { id: 'x', start: 'not a time' }, slot(Date.parse('2026-12-02T09:00:00Z'), 'a')], ['2026-12-02']);
    expect(byDay.get('2026-12-02')!.map((s) => s.id)).toEqual(['a', 'b']);
  });
});
