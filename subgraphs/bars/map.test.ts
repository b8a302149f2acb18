import { describe, expect, it } from 'vitest';
import { decodeSlotId } from '../../common/slot-id.js';
import { mapSlots } from './map.js';
import { decodeSlotRef } from './slot-ref.js';
import { specExample } from './spec-examples.test-support.js';

const example = specExample('slots/GET-success.json');
const base = {
  system: 'bars-sandbox',
  serviceId: '2000099999',
  entries: example.entry,
  from: new Date('2021-10-06T00:00:00Z'),
  to: new Date('2021-10-07T00:00:00Z'),
  fetchedAt: new Date('2021-10-05T12:00:00Z'),
};

describe('BaRS slot mapping, on the specification\'s example (slots/GET-success.json)', () => {
  it('maps its three free slots with their schedule, clinician and delivery channel', () => {
    const { slots, skipped } = mapSlots(base);
    expect(skipped).toEqual([]);
    expect(slots.map((s) => [s.start, s.end])).toEqual([
      ['2021-10-06T09:00:00.000Z', '2021-10-06T10:00:00.000Z'],
      ['2021-10-06T10:00:00.000Z', '2021-10-06T10:30:00.000Z'],
      ['2021-10-06T11:00:00.000Z', '2021-10-06T11:30:00.000Z'],
    ]);
    for (const s of slots) {
      expect(s).toMatchObject({ serviceId: '2000099999', status: 'FREE', bookable: true, deliveryChannel: 'TELEPHONE', source: 'LIVE', fetchedAt: '2021-10-05T12:00:00.000Z' });
      // The urn:uuid references resolve to the included Practitioner and PractitionerRole.
      expect(s.practitioner).toEqual({ name: 'Dr Joe Bloggs', role: 'Doctor' });
    }
  });

  it('puts what a booking message needs in the signed slot id: the Slot id, its Schedule id and the exact times', () => {
    const [first] = mapSlots(base).slots;
    const global = decodeSlotId(first!.id);
    expect(global).toMatchObject({ system: 'bars-sandbox', serviceId: '2000099999' });
    expect(decodeSlotRef(global!.ref)).toEqual({
      slotId: 'slot001',
      scheduleId: 'sched1111',
      start: new Date('2021-10-06T09:00:00Z'),
      end: new Date('2021-10-06T10:00:00Z'),
    });
  });

  it('keeps only slots starting in the window asked, and never a busy one', () => {
    expect(mapSlots({ ...base, from: new Date('2021-10-06T09:30:00Z') }).slots).toHaveLength(2);
    const busy = structuredClone(example.entry);
    busy[0].resource.status = 'busy';
    expect(mapSlots({ ...base, entries: busy }).slots.map((s) => s.start)).not.toContain('2021-10-06T09:00:00.000Z');
  });

  it('skips, with a reason, a slot without an offset or whose Schedule is not in the answer', () => {
    const bad = structuredClone(example.entry);
    bad[0].resource.start = '2021-10-06T09:00:00';
    bad[1].resource.schedule.reference = 'urn:uuid:00000000-0000-4000-8000-000000000000';
    const { slots, skipped } = mapSlots({ ...base, entries: bad });
    expect(slots).toHaveLength(1);
    expect(skipped.map((s) => s.slotId).sort()).toEqual(['slot001', 'slot002']);
  });

  it('refuses slots whose HealthcareService carries another DoS service id', () => {
    const other = structuredClone(example.entry);
    const hs = other.find((e: any) => e.resource.resourceType === 'HealthcareService').resource;
    hs.identifier.push({ system: 'https://fhir.nhs.uk/Id/dos-service-id', value: '1403000212' });
    const { slots, skipped } = mapSlots({ ...base, serviceId: '1402000113', entries: other });
    expect(slots).toEqual([]);
    expect(skipped).toHaveLength(3);
  });
});
