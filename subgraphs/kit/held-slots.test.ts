import { describe, expect, it } from 'vitest';
import { heldByOthers, withoutHeld } from './held-slots.js';

const holds = [
  { hid: '1', slotId: 'a', consumer: 'RX8' },
  { hid: '2', slotId: 'b', consumer: 'A91' },
  { hid: '3', slotId: 's', consumer: 'A91' },
];

describe('held slots as another consumer sees them', () => {
  const slots = [{ id: 'a' }, { id: 'b' }, { id: 's', capacity: 3 }, { id: 'c' }];

  it('hides a slot another consumer holds, keeps the holder\'s own, and takes one place of a session per hold', () => {
    expect(withoutHeld(slots, heldByOthers(holds, 'RX8'))).toEqual([{ id: 'a' }, { id: 's', capacity: 2 }, { id: 'c' }]);
    expect(withoutHeld(slots, heldByOthers(holds, 'A91'))).toEqual([{ id: 'b' }, { id: 's', capacity: 3 }, { id: 'c' }]);
  });

  it('a session whose every place is held by others goes; no holds, nothing changes', () => {
    const two = [...holds, { hid: '4', slotId: 's', consumer: 'B22' }, { hid: '5', slotId: 's', consumer: 'B22' }];
    expect(withoutHeld(slots, heldByOthers(two, 'RX8')).map((s) => s.id)).toEqual(['a', 'c']);
    expect(withoutHeld(slots, new Map())).toBe(slots);
  });
});
