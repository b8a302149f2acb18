import { describe, expect, it } from 'vitest';
import { decodeSlotRef, encodeSlotRef } from './slot-ref.js';

const slot = { sessionId: 'SES-7R8MZ3-20261025-1', time: '01:20', fold: 1 as const, start: new Date('2026-10-25T01:20:00Z'), end: new Date('2026-10-25T01:40:00Z') };

describe('slot refs', () => {
  it('round-trip the session, the wall-clock time with its fold, and the instants', () => {
    const ref = encodeSlotRef(slot);
    expect(ref).toBe(`1~SES-7R8MZ3-20261025-1~0120~1~${slot.start.getTime().toString(36)}~${(20 * 60_000).toString(36)}`);
    expect(decodeSlotRef(ref)).toEqual(slot);
    expect(decodeSlotRef(encodeSlotRef({ ...slot, fold: 0 }))).toEqual({ ...slot, fold: 0 });
  });

  it('escape a separator or percent in a session id', () => {
    const odd = { ...slot, sessionId: 'a~b%c' };
    expect(decodeSlotRef(encodeSlotRef(odd))).toEqual(odd);
  });

  it('refuse what this adapter did not write', () => {
    for (const bad of ['', 'x', '2~S~0120~0~1~1', '1~S~2460~0~1~1', '1~S~0120~2~1~1', '1~S~0120~0~ZZ~1', '1~S~0120~0~1~0', '1~~0120~0~1~1', '1~a%41~0120~0~1~1']) {
      expect(decodeSlotRef(bad)).toBeNull();
    }
    expect(() => encodeSlotRef({ ...slot, end: slot.start })).toThrow(RangeError);
  });
});
