import { describe, expect, it } from 'vitest';
import { decodeAppointmentId, decodeSlotId, encodeAppointmentId, encodeSlotId, idKeyFromEnv, slotIdSigner } from './slot-id.js';

/** An id with one of its fields edited and its MAC kept, as an attacker would (the MAC cannot be recomputed). */
function edit(id: string, index: number, value: string): string {
  const v = JSON.parse(Buffer.from(id, 'base64url').toString('utf8')) as string[];
  v[index] = value;
  return Buffer.from(JSON.stringify(v), 'utf8').toString('base64url');
}

describe('slot ids', () => {
  it('round-trips supplier, service and native reference, including awkward characters', () => {
    const ref = { system: 'harbour-uec', serviceId: '1402000101', ref: 'slot/2026-11-23|09:30 "a"' };
    expect(decodeSlotId(encodeSlotId(ref))).toEqual(ref);
  });

  it('signs many ids of one service as encodeSlotId does, character for character, awkward references included', () => {
    const key = idKeyFromEnv({ ID_SIGNING_KEY: 'a-signing-key-for-this-test-only-32+' });
    const refs = ['1~slot-1~sched~kf2~jag0~AAAAAAAAAAAAAAAAAAAAAA', 'a "quoted" \\ back\u0000slash', 'é~ünïcødé~😀', '%7E~%25', ' '];
    for (const [system, serviceId] of [['harbour-uec', '1402000101'], ['sys "q"', 'sérvice\\']] as const) {
      const sign = slotIdSigner(system, serviceId, key);
      for (const ref of refs) {
        expect(sign(ref)).toBe(encodeSlotId({ system, serviceId, ref }, key));
        expect(decodeSlotId(sign(ref), key)).toEqual({ system, serviceId, ref });
      }
    }
    // Its key is its own: an id it signs is refused under another.
    expect(decodeSlotId(slotIdSigner('harbour-uec', '1402000101', key)('r'), idKeyFromEnv({ ID_SIGNING_KEY: 'another-id-signing-key-of-32-chars-or-more' }))).toBeNull();
  });

  it('hands a remembered id only to the same system, service and reference under the same key', () => {
    const key = idKeyFromEnv({ ID_SIGNING_KEY: 'a-signing-key-for-this-test-only-32+' });
    const other = idKeyFromEnv({ ID_SIGNING_KEY: 'another-id-signing-key-of-32-chars-or-more' });
    const ref = '1~slot-1~sched~kf2~jag0~AAAAAAAAAAAAAAAAAAAAAA';
    // Signed twice by new signers: the second is a remembered id, still the one encodeSlotId writes.
    for (let round = 0; round < 2; round++) expect(slotIdSigner('harbour-uec', '1402000101', key)(ref)).toBe(encodeSlotId({ system: 'harbour-uec', serviceId: '1402000101', ref }, key));
    // The same key content in another Buffer (with a memo of its own) signs alike.
    expect(slotIdSigner('harbour-uec', '1402000101', Buffer.from(key))(ref)).toBe(encodeSlotId({ system: 'harbour-uec', serviceId: '1402000101', ref }, key));
    // Another key, service or system: never the remembered id.
    expect(slotIdSigner('harbour-uec', '1402000101', other)(ref)).toBe(encodeSlotId({ system: 'harbour-uec', serviceId: '1402000101', ref }, other));
    expect(decodeSlotId(slotIdSigner('harbour-uec', '1402000101', other)(ref), key)).toBeNull();
    expect(decodeSlotId(slotIdSigner('harbour-uec', '1402000102', key)(ref), key)).toEqual({ system: 'harbour-uec', serviceId: '1402000102', ref });
    expect(decodeSlotId(slotIdSigner('meridian-ooh', '1402000101', key)(ref), key)).toEqual({ system: 'meridian-ooh', serviceId: '1402000101', ref });
    // A ref longer than any remembered is not kept, and is still signed correctly each time.
    const long = 'x'.repeat(1_000);
    for (let round = 0; round < 2; round++) expect(slotIdSigner('harbour-uec', '1402000101', key)(long)).toBe(encodeSlotId({ system: 'harbour-uec', serviceId: '1402000101', ref: long }, key));
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

  it('is tamper-evident: an edited system, service or reference, a dropped or forged MAC, another key: all refused', () => {
    const id = encodeSlotId({ system: 'harbour-uec', serviceId: '1402000101', ref: 'slot001' });
    expect(decodeSlotId(edit(id, 1, 'meridian-ooh'))).toBeNull();
    expect(decodeSlotId(edit(id, 2, '1402000999'))).toBeNull();
    expect(decodeSlotId(edit(id, 3, 'slot002'))).toBeNull();
    expect(decodeSlotId(edit(id, 4, 'A'.repeat(22)))).toBeNull();
    // The unsigned first version of the same id.
    expect(decodeSlotId(Buffer.from(JSON.stringify(['s1', 'harbour-uec', '1402000101', 'slot001'])).toString('base64url'))).toBeNull();
    const other = idKeyFromEnv({ ID_SIGNING_KEY: 'another-id-signing-key-of-32-chars-or-more' });
    expect(decodeSlotId(id, other)).toBeNull();
    expect(decodeSlotId(encodeSlotId({ system: 'a', serviceId: 'b', ref: 'c' }, other), other)).toEqual({ system: 'a', serviceId: 'b', ref: 'c' });
  });
});

describe('appointment ids', () => {
  it('round-trip, and are never mistaken for slot ids (or the reverse)', () => {
    const ref = { system: 'meridian-ooh', serviceId: '1402000103', ref: 'appt-123' };
    const id = encodeAppointmentId(ref);
    expect(decodeAppointmentId(id)).toEqual(ref);
    expect(decodeSlotId(id)).toBeNull();
    expect(decodeAppointmentId(encodeSlotId(ref))).toBeNull();
    // Relabelling a slot id as an appointment id keeps a MAC made for the other kind.
    expect(decodeAppointmentId(edit(encodeSlotId(ref), 0, 'a2'))).toBeNull();
  });

  it('are tamper-evident', () => {
    const id = encodeAppointmentId({ system: 'meridian-ooh', serviceId: '1402000103', ref: 'appt-123' });
    expect(decodeAppointmentId(edit(id, 2, '1402000104'))).toBeNull();
    expect(decodeAppointmentId(edit(id, 3, 'appt-124'))).toBeNull();
  });
});

describe('the id key', () => {
  it('is its own key, or derived from INTERNAL_AUTH_KEY, and required (through either) in production', () => {
    expect(() => idKeyFromEnv({ NODE_ENV: 'production' })).toThrow(/INTERNAL_AUTH_KEY must be set in production/);
    expect(() => idKeyFromEnv({ ID_SIGNING_KEY: 'short' })).toThrow(/at least 32/);
    const derived = idKeyFromEnv({ NODE_ENV: 'production', INTERNAL_AUTH_KEY: 'an-internal-key-of-at-least-32-characters' });
    expect(derived.length).toBe(32);
    // Not the request-signing key itself.
    expect(derived.toString('utf8')).not.toContain('an-internal-key');
    expect(idKeyFromEnv({}).equals(derived)).toBe(false);
  });
});
