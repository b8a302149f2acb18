import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeSlotId } from '../../common/slot-id.js';
import { compareKeyed, rankService } from '../../common/top-slots.js';
import type { FhirBundle, FhirResource } from './client.js';
import { classifyFailure, instant, mapSlots } from './map.js';
import { decodeSlotRef } from './slot-ref.js';

function resources(name: string): FhirResource[] {
  const bundle = JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8')) as FhirBundle;
  return (bundle.entry ?? []).map((e) => e.resource!).filter(Boolean);
}

const fetchedAt = new Date('2026-11-23T08:00:00Z');

describe('mapSlots on the NBA 2.0.4 search shape', () => {
  const result = mapSlots({
    system: 'harbour-uec',
    serviceId: '1402000101',
    resources: resources('search-nba-2.0.4.json'),
    from: new Date('2026-11-23T00:00:00Z'),
    to: new Date('2026-11-24T00:00:00Z'),
    fetchedAt,
  });

  it('maps every free slot, earliest first, in UTC', () => {
    expect(result.skipped).toEqual([]);
    expect(result.slots.map((s) => s.start)).toEqual(['2026-11-23T09:30:00.000Z', '2026-11-23T10:00:00.000Z']);
    expect(result.slots[0]).toMatchObject({
      serviceId: '1402000101',
      end: '2026-11-23T10:00:00.000Z',
      status: 'FREE',
      deliveryChannel: 'IN_PERSON',
      bookable: true,
      source: 'LIVE',
      fetchedAt: '2026-11-23T08:00:00.000Z',
    });
  });

  it('names the practitioner and role from the schedule actors', () => {
    expect(result.slots[0]!.practitioner).toEqual({ name: 'Dr Ada Okafor', role: 'General Medical Practitioner' });
  });

  it('issues opaque ids that decode to supplier, service and the copy of the slot a booking needs', () => {
    const id = decodeSlotId(result.slots[0]!.id)!;
    expect(id).toMatchObject({ system: 'harbour-uec', serviceId: '1402000101' });
    expect(decodeSlotRef(id.ref)).toEqual({
      slotId: 'slot002',
      scheduleId: 'sch1',
      start: new Date('2026-11-23T09:30:00Z'),
      end: new Date('2026-11-23T10:00:00Z'),
      identifier: 'f6b0a4a2-7d1c-4a57-9d7e-1d7a2a9c0002',
    });
    expect(result.slots[0]!.id).not.toContain('slot002');
  });

  it('maps the same slots when the provider ignored every _include (includes are optional for providers)', () => {
    const slotsOnly = resources('search-nba-2.0.4.json').filter((r) => r.resourceType === 'Slot');
    const bare = mapSlots({ system: 'harbour-uec', serviceId: '1402000101', resources: slotsOnly,
      from: new Date('2026-11-23T00:00:00Z'), to: new Date('2026-11-24T00:00:00Z'), fetchedAt });
    expect(bare.slots.map((s) => s.id)).toEqual(result.slots.map((s) => s.id));
    expect(bare.slots[0]!.practitioner).toBeNull();
  });
});

describe('mapSlots on provider quirks', () => {
  const result = mapSlots({
    system: 'meridian-ooh',
    serviceId: '1402000103',
    resources: resources('search-tkw-quirks.json'),
    from: new Date('2026-06-01T00:00:00Z'),
    to: new Date('2026-06-02T00:00:00Z'),
    fetchedAt,
  });

  it('keeps the UK summer-time offset the provider wrote (seconds always written), in Europe/London, unflagged', () => {
    expect(result.slots.map((s) => [s.start, s.end])).toEqual([
      ['2026-06-01T19:00:00+01:00', '2026-06-01T19:15:00+01:00'],
      ['2026-06-01T19:15:00+01:00', '2026-06-01T19:30:00+01:00'],
    ]);
    expect(result.slots.map((s) => Date.parse(s.start))).toEqual([Date.parse('2026-06-01T18:00:00Z'), Date.parse('2026-06-01T18:15:00Z')]);
    expect(result.slots.every((s) => s.timeZone === 'Europe/London' && s.kind === 'APPOINTMENT' && s.qualityFlags.length === 0)).toBe(true);
  });

  it('flags a winter offset on a summer date, and a slot of four hours or more as a session', () => {
    const summer = resources('search-tkw-quirks.json').find((r) => r.id === 's-summer')!;
    const mapped = mapSlots({
      system: 'meridian-ooh',
      serviceId: '1402000103',
      resources: [
        ...resources('search-tkw-quirks.json').filter((r) => r.resourceType !== 'Slot'),
        { ...summer, id: 's-winter-offset', start: '2026-06-01T19:00:00+00:00', end: '2026-06-01T19:15:00+00:00' } as FhirResource,
        { ...summer, id: 's-session', start: '2026-06-01T19:30:00+01:00', end: '2026-06-01T23:30:00+01:00' } as FhirResource,
      ],
      from: new Date('2026-06-01T00:00:00Z'),
      to: new Date('2026-06-02T00:00:00Z'),
      fetchedAt,
    });
    // +00:00 is UTC, which FHIR allows: not accused. Ordered by instant (18:30Z before 19:00Z), not by text.
    expect(mapped.slots.map((s) => [s.start, s.kind, s.qualityFlags])).toEqual([
      ['2026-06-01T19:30:00+01:00', 'SESSION', ['DAY_SESSION']],
      ['2026-06-01T19:00:00.000Z', 'APPOINTMENT', []],
    ]);
    const wrong = mapSlots({
      system: 'meridian-ooh',
      serviceId: '1402000103',
      resources: [...resources('search-tkw-quirks.json').filter((r) => r.resourceType !== 'Slot'), { ...summer, id: 's-gmt', start: '2026-06-01T13:00:00-05:00', end: '2026-06-01T13:15:00-05:00' } as FhirResource],
      from: new Date('2026-06-01T00:00:00Z'),
      to: new Date('2026-06-02T00:00:00Z'),
      fetchedAt,
    });
    expect(wrong.slots.map((s) => [s.start, s.qualityFlags])).toEqual([['2026-06-01T13:00:00-05:00', ['OFFSET_MISMATCH']]]);
  });

  it('reads the GP Connect delivery channel extension', () => {
    expect(result.slots.map((s) => s.deliveryChannel)).toEqual(['TELEPHONE', 'VIDEO']);
  });

  it('copies the schedule id from an absolute reference, and no identifier when the provider sent none', () => {
    const copy = decodeSlotRef(decodeSlotId(result.slots[0]!.id)!.ref)!;
    expect(copy).toMatchObject({ slotId: 's-summer', scheduleId: 'ooh1', identifier: null, start: new Date('2026-06-01T18:00:00Z') });
    expect(result.slots.every((s) => s.bookable)).toBe(true);
  });

  it('lists a slot without a schedule reference, but not as bookable (the provider could not find it)', () => {
    const orphan = { ...resources('search-tkw-quirks.json').find((r) => r.id === 's-summer')!, id: 's-orphan', schedule: undefined };
    const mapped = mapSlots({ system: 'meridian-ooh', serviceId: '1402000103', resources: [orphan],
      from: new Date('2026-06-01T00:00:00Z'), to: new Date('2026-06-02T00:00:00Z'), fetchedAt });
    expect(mapped.slots).toHaveLength(1);
    expect(mapped.slots[0]!.bookable).toBe(false);
    expect(decodeSlotRef(decodeSlotId(mapped.slots[0]!.id)!.ref)!.scheduleId).toBeNull();
  });

  it('follows an absolute schedule reference and a PractitionerRole to its Practitioner', () => {
    expect(result.slots[0]!.practitioner).toEqual({ name: 'Sam Patel', role: 'Advanced Nurse Practitioner' });
  });

  it('skips each malformed slot with a reason, drops busy and out-of-window slots, and keeps the rest', () => {
    expect(result.skipped).toEqual([
      { slotId: 's-no-offset', reason: 'start or end is not a FHIR instant with an offset' },
      { slotId: 's-backwards', reason: 'end is not after start' },
      { slotId: 's-odd-status', reason: 'unknown status busy-tentative' },
    ]);
    const refs = result.slots.map((s) => decodeSlotRef(decodeSlotId(s.id)!.ref)!.slotId);
    expect(refs).not.toContain('s-busy');
    expect(refs).not.toContain('s-outside');
  });
});

describe('instant', () => {
  it('accepts any offset and rejects times without one', () => {
    expect(instant('2026-03-29T01:30:00+00:00')?.toISOString()).toBe('2026-03-29T01:30:00.000Z');
    expect(instant('2026-03-29T02:30:00+01:00')?.toISOString()).toBe('2026-03-29T01:30:00.000Z');
    expect(instant('2026-03-29T01:30:00Z')).not.toBeNull();
    expect(instant('2026-03-29T01:30:00')).toBeNull();
    expect(instant('29/03/2026 01:30')).toBeNull();
    expect(instant(undefined)).toBeNull();
  });
});

describe('classifyFailure: the spec variants', () => {
  const taken422 = { code: 'processing', details: { coding: [{ code: 'MSG_RESOURCE_ID_FAIL' }] }, diagnostics: 'Slot no longer available' };

  it('treats 422 processing and 409 alike as slot taken when booking (NBA/TKW vs UEC)', () => {
    expect(classifyFailure(422, taken422, true)).toBe('SLOT_UNAVAILABLE');
    expect(classifyFailure(409, { code: 'conflict' }, true)).toBe('SLOT_UNAVAILABLE');
    expect(classifyFailure(409, undefined, true)).toBe('SLOT_UNAVAILABLE');
  });

  it('reads 409 on cancel as a stale version, and 422 differences as a conflict', () => {
    expect(classifyFailure(409, { code: 'invalid', details: { coding: [{ code: 'MSG_VERSION_AWARE_CONFLICT' }] } }, false)).toBe('CONFLICT');
    expect(classifyFailure(422, { code: 'invalid', details: { coding: [{ code: 'MSG_VERSION_AWARE_CONFLICT' }] } }, false)).toBe('CONFLICT');
    expect(classifyFailure(412, { code: 'not-supported' }, false)).toBe('CONFLICT');
  });

  it('treats 401 and 403 alike as an authorisation failure (assurance scripts vs NBA)', () => {
    expect(classifyFailure(401, undefined, false)).toBe('FORBIDDEN');
    expect(classifyFailure(403, { code: 'forbidden' }, true)).toBe('FORBIDDEN');
  });

  it('tells a reused X-Request-ID (409 duplicate) apart from a taken slot and a stale version', () => {
    const reused = { code: 'duplicate', details: { coding: [{ code: 'DUPLICATE_REJECTED' }] } };
    expect(classifyFailure(409, reused, true)).toBe('DUPLICATE_REQUEST');
    expect(classifyFailure(409, reused, false)).toBe('DUPLICATE_REQUEST');
    // The meridian simulator's slot taken: 409 with the same Spine code, but issue type conflict.
    expect(classifyFailure(409, { code: 'conflict', details: { coding: [{ code: 'DUPLICATE_REJECTED' }] } }, true)).toBe('SLOT_UNAVAILABLE');
  });

  it('reads a 422 on the patient\'s own details as INVALID_PATIENT, and one on how we built the resource as INVALID_REQUEST', () => {
    expect(classifyFailure(422, { code: 'invalid', details: { coding: [{ code: 'INVALID_RESOURCE' }] }, expression: ['Patient.birthDate'] }, true)).toBe('INVALID_PATIENT');
    expect(classifyFailure(422, { code: 'invalid', expression: ['Appointment.contained.Patient.address'] }, true)).toBe('INVALID_PATIENT');
    expect(classifyFailure(422, { code: 'invalid', details: { coding: [{ code: 'INVALID_PATIENT_DEMOGRAPHICS' }] } }, true)).toBe('INVALID_PATIENT');
    expect(classifyFailure(422, { code: 'invalid', expression: ['Patient.meta.profile'] }, true)).toBe('INVALID_REQUEST');
    expect(classifyFailure(422, { code: 'invalid', expression: ['Slot.status'] }, true)).toBe('INVALID_REQUEST');
  });

  it('classifies on status plus issue code, not on the details code alone', () => {
    expect(classifyFailure(422, { code: 'invalid', details: { coding: [{ code: 'INVALID_NHS_NUMBER' }] } }, true)).toBe('INVALID_PATIENT');
    expect(classifyFailure(422, { code: 'invalid', details: { coding: [{ code: 'MSG_BAD_FORMAT' }] } }, true)).toBe('INVALID_REQUEST');
    expect(classifyFailure(400, { code: 'invalid', details: { coding: [{ code: 'MSG_RESOURCE_ID_FAIL' }] } }, true)).toBe('INVALID_REQUEST');
    expect(classifyFailure(404, { code: 'not-found' }, false)).toBe('NOT_FOUND');
    expect(classifyFailure(500, { code: 'processing' }, true)).toBe('SUPPLIER_UNAVAILABLE');
    expect(classifyFailure(504, undefined, true)).toBe('SUPPLIER_UNAVAILABLE');
  });
});

describe('mapSlots: a slot whose schedule is mapped to several services', () => {
  const slot = (id: string, schedule: string): FhirResource =>
    ({ resourceType: 'Slot', id, schedule: { reference: `Schedule/${schedule}` }, status: 'free', start: '2026-11-23T09:00:00+00:00', end: '2026-11-23T09:15:00+00:00' }) as FhirResource;
  const schedule = (id: string, services: string[]): FhirResource =>
    ({ resourceType: 'Schedule', id, actor: [...services.map((s) => ({ reference: `HealthcareService/${s}` })), { reference: 'Location/loc-1' }] }) as FhirResource;
  const map = (serviceId: string, resources: FhirResource[]) =>
    mapSlots({ system: 'harbour-uec', serviceId, resources, from: new Date('2026-11-23T00:00:00Z'), to: new Date('2026-11-24T00:00:00Z'), fetchedAt }).slots;

  it('carries the provider Slot id as its native key, the same under each service, with a global id of each service', () => {
    const resources = [slot('s1', 'shared'), schedule('shared', ['utc', 'ed'])];
    const [asUtc] = map('utc', resources);
    const [asEd] = map('ed', resources);
    expect(asUtc!.nativeKey).toBe('s1');
    expect(asEd!.nativeKey).toBe('s1');
    expect(asUtc!.id).not.toBe(asEd!.id);
  });

  it('has no native key when its schedule names one service, or is not in the answer', () => {
    expect(map('utc', [slot('s1', 'own'), schedule('own', ['utc'])])[0]!.nativeKey).toBeUndefined();
    expect(map('utc', [slot('s1', 'gone')])[0]!.nativeKey).toBeUndefined();
  });
});

describe('mapSlots: the order every later merge reads, and what each schedule says', () => {
  // Four diaries, five slots each, most at the same minute: ties on start are the rule here. Diary sch3 is mapped to
  // two services, so its slots carry their native key.
  const at = '2026-11-23T09:00:00+00:00';
  const schedules = Array.from({ length: 4 }, (_, i): FhirResource => ({
    resourceType: 'Schedule',
    id: `sch${i}`,
    actor: [
      { reference: 'HealthcareService/1402000101' },
      ...(i === 3 ? [{ reference: 'HealthcareService/1402000102' }] : []),
      { reference: `Practitioner/p${i % 2}` },
    ],
  } as FhirResource));
  const practitioners = [0, 1].map((i): FhirResource => ({ resourceType: 'Practitioner', id: `p${i}`, name: [{ text: `Dr ${i}` }] } as FhirResource));
  const slots = Array.from({ length: 20 }, (_, i): FhirResource => ({
    resourceType: 'Slot',
    id: `Slot-${i}`,
    schedule: { reference: `Schedule/sch${i % 4}` },
    status: 'free',
    start: i % 3 === 0 ? '2026-11-23T08:45:00+00:00' : at,
    end: '2026-11-23T09:15:00+00:00',
  } as FhirResource));
  const result = mapSlots({
    system: 'harbour-uec',
    serviceId: '1402000101',
    resources: [...slots.reverse(), ...schedules, ...practitioners],
    from: new Date('2026-11-23T00:00:00Z'),
    to: new Date('2026-11-24T00:00:00Z'),
    fetchedAt,
  });

  it('is by start, then id in code-unit order (not a locale\'s), so ranking finds the list sorted and keeps it as it is', () => {
    expect(result.slots).toHaveLength(20);
    const keyed = result.slots.map((slot) => ({ a: Date.parse(slot.start), b: 0, c: 0, id: slot.id, slot }));
    expect(keyed.map((k) => k.id)).toEqual([...keyed].sort(compareKeyed).map((k) => k.id));
    const ranked = rankService({ serviceId: '1402000101', rank: 0, slots: result.slots }, true);
    expect(ranked.slots).toBe(result.slots);
  });

  it('gives every slot its own schedule\'s practitioner, and a native key only where the schedule serves several services', () => {
    for (const slot of result.slots) {
      const ref = decodeSlotRef(decodeSlotId(slot.id)!.ref)!;
      const diary = Number(ref.scheduleId!.slice(3));
      expect(slot.practitioner).toEqual({ name: `Dr ${diary % 2}`, role: null });
      expect(slot.nativeKey).toBe(diary === 3 ? ref.slotId : undefined);
    }
    expect(result.slots.filter((s) => s.nativeKey)).toHaveLength(5);
  });
});
