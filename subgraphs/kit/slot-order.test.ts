import { describe, expect, it } from 'vitest';
import { compareKeyed, rankService } from '../../common/top-slots.js';
import { sortByStart } from './slot-order.js';

describe('sortByStart', () => {
  // Offsets differ, so text order is not time order; ids tie on start and differ in case, where a locale's order is not code units'.
  const slots = [
    { id: 'b', start: '2026-11-23T10:00:00+01:00' },
    { id: 'B', start: '2026-11-23T09:00:00.000Z' },
    { id: 'a', start: '2026-11-23T09:00:00Z' },
    { id: '_x', start: '2026-11-23T08:59:59.999Z' },
    { id: 'A', start: '2026-11-23T10:00:00+01:00' },
  ];

  it('orders by instant, then id in code-unit order, in place', () => {
    const list = [...slots];
    expect(sortByStart(list)).toBe(list);
    expect(list.map((s) => s.id)).toEqual(['_x', 'A', 'B', 'a', 'b']);
  });

  it('is the order ranking compares in: a sorted list is kept as it is', () => {
    const list = sortByStart([...slots]);
    const keyed = list.map((slot) => ({ a: Date.parse(slot.start), b: 0, c: 0, id: slot.id, slot }));
    expect([...keyed].sort(compareKeyed).map((k) => k.id)).toEqual(list.map((s) => s.id));
    expect(rankService({ serviceId: 's', rank: 0, slots: list }, true).keyed.map((k) => k.slot)).toEqual(list);
  });
});
