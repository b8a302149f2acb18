import { describe, expect, it } from 'vitest';
import { decodeSlotId, encodeSlotId } from '../../common/slot-id.js';
import { decodeSlotRef, encodeSlotRef, type SlotCopy } from './slot-ref.js';

const sandboxSlot: SlotCopy = {
  slotId: 'slot-1402000101-main-20261123T0930Z',
  scheduleId: 'sch-1402000101-main',
  start: new Date('2026-11-23T09:30:00Z'),
  end: new Date('2026-11-23T09:45:00Z'),
  identifier: '6f1c2b1e-3c4d-5e6f-8a9b-0c1d2e3f4a5b',
};

describe('slot refs (format 1)', () => {
  it('round-trips everything a booking copies from the slot', () => {
    expect(decodeSlotRef(encodeSlotRef(sandboxSlot))).toEqual(sandboxSlot);
  });

  it('is compact: the UUID in 22 characters, times in base 36', () => {
    const ref = encodeSlotRef(sandboxSlot);
    expect(ref).toBe(`1~slot-1402000101-main-20261123T0930Z~sch-1402000101-main~${Date.parse('2026-11-23T09:30:00Z').toString(36)}~jag0~bxwrHjxNXm-KmwwdLj9KWw`);
    const id = encodeSlotId({ system: 'harbour-uec', serviceId: '1402000101', ref });
    // The MAC that makes the id tamper-evident (slot-id.ts) adds about 30 characters to what was under 180.
    expect(id.length).toBeLessThan(220);
    expect(decodeSlotId(id)?.ref).toBe(ref);
  });

  it('still fits a global slot id at the FHIR id length limit', () => {
    const longest = { ...sandboxSlot, slotId: 'a'.repeat(64), scheduleId: 'b'.repeat(64), identifier: 'urn:x:'.padEnd(64, 'c') };
    const id = encodeSlotId({ system: 'x'.repeat(41), serviceId: '1'.repeat(20), ref: encodeSlotRef(longest) });
    expect(decodeSlotRef(decodeSlotId(id)!.ref)).toEqual(longest);
  });

  it('keeps an identifier that is not a lower-case UUID verbatim, and a missing one or schedule as null', () => {
    for (const identifier of ['6F1C2B1E-3C4D-5E6F-8A9B-0C1D2E3F4A5B', 'local-42', 'a~b%7E%c', null]) {
      expect(decodeSlotRef(encodeSlotRef({ ...sandboxSlot, identifier }))?.identifier).toBe(identifier);
    }
    expect(decodeSlotRef(encodeSlotRef({ ...sandboxSlot, scheduleId: null }))?.scheduleId).toBeNull();
  });

  it('escapes the separator in ids from providers that stray outside the FHIR id alphabet', () => {
    const odd = { ...sandboxSlot, slotId: 'a~b%25c', scheduleId: '~' };
    expect(decodeSlotRef(encodeSlotRef(odd))).toEqual(odd);
  });

  it('keeps millisecond precision and long sessions exact', () => {
    const s = { ...sandboxSlot, start: new Date('2026-03-29T00:59:59.123Z'), end: new Date('2026-03-30T01:00:00.001Z') };
    expect(decodeSlotRef(encodeSlotRef(s))).toEqual(s);
  });

  it('refuses to encode a slot without an id or with end not after start', () => {
    expect(() => encodeSlotRef({ ...sandboxSlot, slotId: '' })).toThrow(RangeError);
    expect(() => encodeSlotRef({ ...sandboxSlot, end: sandboxSlot.start })).toThrow(RangeError);
  });

  it('rejects anything else: the pre-format plain slot id, another version, damaged fields', () => {
    const good = encodeSlotRef(sandboxSlot).split('~');
    const variant = (i: number, v: string) => good.map((p, j) => (j === i ? v : p)).join('~');
    expect(decodeSlotRef('slot002')).toBeNull();
    expect(decodeSlotRef('')).toBeNull();
    expect(decodeSlotRef(variant(0, '2'))).toBeNull();
    expect(decodeSlotRef(variant(1, ''))).toBeNull();
    expect(decodeSlotRef(variant(1, 'a%41'))).toBeNull();
    expect(decodeSlotRef(variant(3, 'NOT-B36'))).toBeNull();
    expect(decodeSlotRef(variant(3, 'zzzzzzzzzzz'))).toBeNull();
    expect(decodeSlotRef(variant(4, '0'))).toBeNull();
    expect(decodeSlotRef(variant(5, 'short'))).toBeNull();
    expect(decodeSlotRef(variant(5, '*'))).toBeNull();
    expect(decodeSlotRef(`${good.join('~')}~extra`)).toBeNull();
  });
});
