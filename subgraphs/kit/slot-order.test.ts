import { describe, expect, it } from 'vitest';
import { compareKeyed, compareSlots, rankService } from '../../common/top-slots.js';
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
    // Not even copied: ranking keys only the slots an answer sends.
    expect(rankService({ serviceId: 's', rank: 0, slots: list }, true).slots).toBe(list);
  });

  it('sorts a list that came unsorted (a copy), and drops hand-offs only when asked, copying only then', () => {
    const list = sortByStart([...slots]);
    const reversed = [...list].reverse();
    const ranked = rankService({ serviceId: 's', rank: 0, slots: reversed }, true);
    expect(ranked.slots.map((s) => s.id)).toEqual(list.map((s) => s.id));
    expect(reversed.map((s) => s.id)).toEqual([...list].reverse().map((s) => s.id));
    const handoff = { id: 'h', start: list[1]!.start, bookable: false, bookingLink: 'https://provider.example/book' };
    const withHandoff = sortByStart([...list, handoff]);
    expect(rankService({ serviceId: 's', rank: 0, slots: withHandoff }, true).slots).toBe(withHandoff);
    const without = rankService({ serviceId: 's', rank: 0, slots: withHandoff }, false).slots;
    expect(without.map((s) => s.id)).toEqual(list.map((s) => s.id));
    expect([...without].sort(compareSlots)).toEqual(without);
  });
});
