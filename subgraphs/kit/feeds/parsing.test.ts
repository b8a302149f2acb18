/**
 * The pure pieces of ingest on single values and records: service types (and what 363 is), zones and offsets,
 * manifests, and the per-type parsers on lines they must not choke on.
 */
import { describe, expect, it } from 'vitest';
import { parseManifest } from './manifest.js';
import { parseLocation } from './records/location.js';
import { parseSchedule } from './records/schedule.js';
import { parseSlot } from './records/slot.js';
import { parseServiceId, serviceId } from './service-id.js';
import { readServiceType } from './service-type.js';
import { checkOffset, zoneFor } from './timezone.js';
import type { FeedIssue } from './types.js';
import type { Note } from './values.js';

const AT = { file: 'f.ndjson', line: 3 };
const HL7 = 'http://terminology.hl7.org/CodeSystem/service-type';

function reading(concept: unknown) {
  const notes: [string, string][] = [];
  const note: Note = (kind, action) => notes.push([kind, action]);
  return { ...readServiceType(concept, note), notes };
}

describe('service types', () => {
  it.each([
    ['556', 'Walk-in', 'URGENT_TREATMENT_CENTRE'],
    ['124', 'General Practice', 'GENERAL_PRACTICE'],
    ['57', 'Immunization', 'VACCINATION'],
    ['209', 'Diag. Radiology /Xray /CT /Fluoroscopy', 'DIAGNOSTIC_IMAGING'],
    ['211', 'Magnetic Resonance Imaging (MRI)', 'DIAGNOSTIC_IMAGING'],
    ['165', 'Cardiology', 'OTHER'],
  ])('HL7 %s "%s" → %s', (code, display, type) => {
    expect(reading({ coding: [{ system: HL7, code, display }] })).toMatchObject({ code, name: display, type, notes: [] });
  });

  it('363 is not an HL7 service-type code: imaging by its display, flagged; OTHER when the display says nothing', () => {
    expect(reading({ coding: [{ system: HL7, code: '363', display: 'MRI Scan' }] })).toMatchObject({ code: '363', type: 'DIAGNOSTIC_IMAGING', notes: [['unknown-code', 'normalised']] });
    expect(reading({ coding: [{ system: HL7, code: '363', display: 'Clinic' }] })).toMatchObject({ code: '363', type: 'OTHER', notes: [['unknown-code', 'flagged']] });
  });

  it('prefers the HL7 coding to the SMART one, and knows the SMART code alone', () => {
    const both = { coding: [{ system: 'http://fhir-registry.smarthealthit.org/CodeSystem/service-type', code: 'covid19-immunization' }, { system: HL7, code: '57', display: 'Immunization' }] };
    expect(reading(both)).toMatchObject({ code: '57', type: 'VACCINATION' });
    expect(reading({ coding: [both.coding[0]] })).toMatchObject({ code: 'covid19-immunization', type: 'VACCINATION' });
  });

  it('a number for a code, and a concept with only text', () => {
    expect(reading({ coding: [{ system: HL7, code: 57 }] })).toMatchObject({ code: '57', name: 'Immunization', type: 'VACCINATION', notes: [['coerced', 'normalised']] });
    expect(reading({ text: 'Travel clinic' })).toMatchObject({ code: null, name: 'Travel clinic', type: 'OTHER', notes: [['missing-field', 'flagged']] });
  });
});

describe('service ids', () => {
  it('round-trip, with a colon in a defective location id', () => {
    const id = serviceId('smart-vaccines', 'store:42', null);
    expect(id).toBe('smart:smart-vaccines:store%3A42:other');
    expect(parseServiceId(id)).toEqual({ systemId: 'smart-vaccines', locationId: 'store:42', serviceTypeCode: 'other' });
    expect(parseServiceId('1402000101')).toBeNull();
  });
});

describe('zones and offsets', () => {
  it('knows single-zone US states, the UK and the timezone extension; not split states', () => {
    expect(zoneFor({ extensionZone: null, state: 'MA', country: null })).toBe('America/New_York');
    expect(zoneFor({ extensionZone: null, state: 'TX', country: 'US' })).toBeNull();
    expect(zoneFor({ extensionZone: null, state: null, country: 'GB' })).toBe('Europe/London');
    expect(zoneFor({ extensionZone: 'America/Chicago', state: 'MA', country: null })).toBe('America/Chicago');
    expect(zoneFor({ extensionZone: 'Mars/Olympus', state: null, country: null })).toBeNull();
  });

  it('tells the winter offset in summer from a plain wrong one, and accepts UTC', () => {
    const july = Date.parse('2026-07-15T14:00:00Z');
    expect(checkOffset('America/New_York', july, -240)).toEqual({ ok: true });
    expect(checkOffset('America/New_York', july, 0)).toEqual({ ok: true });
    expect(checkOffset('America/New_York', july, -300)).toEqual({ ok: false, dst: true, expected: -240 });
    expect(checkOffset('Europe/London', july, 0)).toEqual({ ok: true });
    expect(checkOffset('Europe/London', Date.parse('2026-01-15T09:00:00Z'), 60)).toEqual({ ok: false, dst: true, expected: 0 });
    expect(checkOffset('America/New_York', july, 180)).toEqual({ ok: false, dst: false, expected: -240 });
  });
});

describe('manifest', () => {
  it('refuses what is not a manifest, and reads relative URLs and odd type case', () => {
    expect(parseManifest('<html>', 'https://p.example/$bulk-publish')).toEqual({ ok: false, reason: 'manifest is not JSON' });
    expect(parseManifest('{"output": null}', 'https://p.example/$bulk-publish')).toEqual({ ok: false, reason: 'manifest has no output list' });
    const r = parseManifest(JSON.stringify({ transactionTime: 'yesterday', output: [{ type: 'slot', url: 'slots/w1.ndjson' }], error: [{ x: 1 }] }), 'https://p.example/feed/$bulk-publish');
    expect(r.ok && r.manifest).toEqual({ transactionTime: null, outputs: [{ type: 'Slot', url: 'https://p.example/feed/slots/w1.ndjson', states: null }] });
    expect(r.ok && r.issues.map((i: FeedIssue) => i.action)).toEqual(['flagged', 'flagged', 'normalised']);
  });
});

describe('records', () => {
  it('a Location with an id as a number, a lone address line, a 0,0 position and no name', () => {
    const p = parseLocation(JSON.stringify({ resourceType: 'Location', id: 5, address: { line: '1 Elm St', city: 'Lynn', state: 'MA', postalCode: '01901' }, position: { latitude: 0, longitude: 0 } }), AT);
    expect(p.record).toMatchObject({ id: '5', name: '1 Elm St, Lynn', address: { lines: ['1 Elm St'] }, position: null, timeZone: 'America/New_York' });
    expect(p.issues.map((i) => i.kind)).toEqual(['coerced', 'coerced', 'missing-field', 'placeholder']);
  });

  it('a Location with nothing to find it by is skipped', () => {
    expect(parseLocation('{"resourceType":"Location","id":"x"}', AT)).toMatchObject({ record: null, issues: [{ kind: 'missing-field', action: 'skipped', line: 3, id: 'x' }] });
  });

  it('a Schedule whose only actor is a PractitionerRole, and one with no usable actor', () => {
    const p = parseSchedule(JSON.stringify({ resourceType: 'Schedule', id: 's', actor: { reference: 'PractitionerRole/9', display: 'Dr Who' } }), AT);
    expect(p.record).toMatchObject({ locationIds: [], practitionerRoleIds: ['9'], practitionerDisplay: 'Dr Who', serviceTypes: [{ code: null, type: 'OTHER' }] });
    expect(parseSchedule('{"resourceType":"Schedule","id":"s","actor":[{"reference":"Device/x"}]}', AT).record).toBeNull();
  });

  it('a Slot with an absolute schedule reference, a deep link as valueString, and a date that does not exist', () => {
    const base = { resourceType: 'Slot', id: 'a', schedule: { reference: 'https://p.example/fhir/Schedule/10/' }, status: 'free', start: '2026-12-01T09:00:00Z', end: '2026-12-01T09:15:00Z' };
    const ok = parseSlot(JSON.stringify({ ...base, extension: [{ url: 'https://fhir-registry.smarthealthit.org/StructureDefinition/booking-deep-link', valueString: 'https://portal.example/b?x=1' }] }), AT);
    expect(ok.record).toMatchObject({ scheduleId: '10', bookingLink: 'https://portal.example/b?x=1' });
    expect(ok.issues.map((i) => i.kind)).toEqual(['coerced']);
    expect(parseSlot(JSON.stringify({ ...base, start: '2026-02-30T09:00:00Z' }), AT).record).toBeNull();
    expect(parseSlot(JSON.stringify({ ...base, extension: [{ url: 'x/booking-deep-link', valueUrl: 'javascript:alert(1)' }] }), AT).record!.bookingLink).toBeNull();
  });
});
