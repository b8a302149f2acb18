import { describe, expect, it } from 'vitest';
import { decodeSlotId, encodeSlotId } from './slot-id.js';

describe('slot ids', () => {
  it('round-trips supplier, service and native reference, including awkward characters', () => {
    const ref = { system: 'harbour-uec', serviceId: '1402000101', ref: 'slot/2026-11-23|09:30 "a"' };
    expect(decodeSlotId(encodeSlotId(ref))).toEqual(ref);
  });

  it('is URL-safe and opaque', () => {
    const id = encodeSlotId({ system: 'harbour-uec', serviceId: '1402000101', ref: 'slot001' });
    expect(id).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(id).not.toContain('harbour');
  });

  it('rejects anything we did not issue', () => {
    expect(decodeSlotId('')).toBeNull();
    expect(decodeSlotId('not base64 !!')).toBeNull();
    expect(decodeSlotId(Buffer.from('["s0","a","b","c"]').toString('base64url'))).toBeNull();
    expect(decodeSlotId(Buffer.from('["s1","a","b"]').toString('base64url'))).toBeNull();
    expect(decodeSlotId(Buffer.from('["s1","a","",""]').toString('base64url'))).toBeNull();
    expect(decodeSlotId(Buffer.from('{"x":1}').toString('base64url'))).toBeNull();
  });
});

describe('appointment ids', () => {
  it('round-trip, and are never mistaken for slot ids (or the reverse)', async () => {
    const { encodeAppointmentId, decodeAppointmentId } = await import('./slot-id.js');
    const ref = { system: 'meridian-ooh', serviceId: '1402000103', ref: 'appt-123' };
    const id = encodeAppointmentId(ref);
    expect(decodeAppointmentId(id)).toEqual(ref);
    expect(decodeSlotId(id)).toBeNull();
    expect(decodeAppointmentId(encodeSlotId(ref))).toBeNull();
  });
});
