import { describe, expect, it } from 'vitest';
import { inWindow, spans, type SlotWindow } from './slot-windows.js';
import { readWindow } from '../../common/window-input.js';

const DAY = 86_400_000;
const t0 = Date.parse('2026-11-23T00:00:00Z');
const w = (fromDay: number, toDay: number): SlotWindow => ({ system: 's', serviceId: '1', from: new Date(t0 + fromDay * DAY), to: new Date(t0 + toDay * DAY) });

describe('spans', () => {
  it('merges one service\'s windows while the union stays within two weeks', () => {
    const a = w(0, 1);
    const b = w(0.5, 7);
    const c = w(3, 14);
    const [only, ...rest] = spans([c, a, b]);
    expect(rest).toEqual([]);
    expect(only!.window).toMatchObject({ from: a.from, to: c.to });
    expect(only!.members).toEqual([a, b, c]);
  });

  it('starts a new span when merging would pass two weeks', () => {
    const out = spans([w(0, 1), w(10, 15)]);
    expect(out.map((s) => [s.window.from.getTime(), s.window.to.getTime()])).toEqual([
      [t0, t0 + DAY],
      [t0 + 10 * DAY, t0 + 15 * DAY],
    ]);
  });
});

describe('window rules', () => {
  it('refuse an empty or backwards window and one over fourteen days', () => {
    const now = new Date(t0);
    const iso = (ms: number) => new Date(ms).toISOString();
    expect(() => readWindow({ from: iso(t0), to: iso(t0) }, now)).toThrow('to must be after from');
    expect(() => readWindow({ from: iso(t0), to: iso(t0 + 14 * DAY + 1) }, now)).toThrow('at most 14 days');
    expect(readWindow({ from: iso(t0), to: iso(t0 + 14 * DAY) }, now)).toEqual({ from: now, to: new Date(t0 + 14 * DAY) });
  });

  it('count a slot starting exactly at either end as inside', () => {
    const win = w(0, 1);
    expect(inWindow({ start: '2026-11-23T00:00:00Z' }, win)).toBe(true);
    expect(inWindow({ start: '2026-11-24T00:00:00+00:00' }, win)).toBe(true);
    expect(inWindow({ start: '2026-11-24T00:00:01Z' }, win)).toBe(false);
  });
});

describe('inWindow', () => {
  const at = (day: number) => new Date(t0 + day * DAY).toISOString();
  it('takes appointments by their start, inclusive at both ends', () => {
    expect([-0.01, 0, 0.5, 1, 1.01].map((d) => inWindow({ start: at(d), end: at(d + 0.01), kind: 'APPOINTMENT' }, w(0, 1)))).toEqual([false, true, true, true, false]);
    // An appointment that started before the window is not offered, however long it is said to run.
    expect(inWindow({ start: at(-1), end: at(3) }, w(0, 1))).toBe(false);
  });

  it('keeps a session that started before the window while it runs, until its end', () => {
    const fiveDays = { start: at(-2), end: at(3), kind: 'SESSION' as const };
    expect(inWindow(fiveDays, w(0, 1))).toBe(true);
    expect(inWindow(fiveDays, w(2.99, 4))).toBe(true);
    expect(inWindow(fiveDays, w(3, 4))).toBe(false);
    expect(inWindow(fiveDays, w(-4, -3))).toBe(false);
    // A session with a start string carrying an offset compares as an instant.
    expect(inWindow({ start: '2026-11-22T19:00:00-05:00', end: '2026-11-23T08:00:00-05:00', kind: 'SESSION' }, w(0.5, 1))).toBe(true);
  });
});
