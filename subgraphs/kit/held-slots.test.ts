import { describe, expect, it } from 'vitest';
import { heldByOthers, withoutHeld } from './held-slots.js';

const h = (hid: string, slotId: string, consumer: string) => ({ hid, slotId, serviceId: 'svc', ref: slotId, consumer });
const holds = [h('1', 'a', 'RX8'), h('2', 'b', 'A91'), h('3', 's', 'A91')];

describe('held slots as another consumer sees them', () => {
  const slots = [{ id: 'a' }, { id: 'b' }, { id: 's', capacity: 3 }, { id: 'c' }];

  it('hides a slot another consumer holds, keeps the holder\'s own, and takes one place of a session per hold', () => {
    expect(withoutHeld(slots, heldByOthers(holds, 'RX8'))).toEqual([{ id: 'a' }, { id: 's', capacity: 2 }, { id: 'c' }]);
    expect(withoutHeld(slots, heldByOthers(holds, 'A91'))).toEqual([{ id: 'b' }, { id: 's', capacity: 3 }, { id: 'c' }]);
  });

  it('a session whose every place is held by others goes; no holds, nothing changes', () => {
    const two = [...holds, h('4', 's', 'B22'), h('5', 's', 'B22')];
    expect(withoutHeld(slots, heldByOthers(two, 'RX8')).map((s) => s.id)).toEqual(['a', 'c']);
    expect(withoutHeld(slots, new Map())).toBe(slots);
  });

  it('a hold taken through another listing of the same physical slot holds this listing too', () => {
    const elsewhere = [{ hid: '6', slotId: 'ed:x', serviceId: 'ed', ref: 'x', consumer: 'B22' }];
    const idHere = (l: { ref: string }) => `utc:${l.ref}`;
    expect(withoutHeld([{ id: 'utc:x' }, { id: 'utc:y' }], heldByOthers(elsewhere, 'RX8', idHere))).toEqual([{ id: 'utc:y' }]);
  });
});
