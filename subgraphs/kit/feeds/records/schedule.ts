/**
 * Schedule lines: which location(s) and practitioner role a schedule belongs to, and which service type(s) it offers.
 * The original spec allows exactly one `Location` actor; the HL7 IG allows several actors (a Location and a
 * PractitionerRole, a Device...), so every actor is read and the kinds we do not use are ignored.
 */
import type { RecordAt } from '../issues.js';
import { readServiceType, type ServiceTypeReading } from '../service-type.js';
import { list, logicalId, object, referenceType, text } from '../values.js';
import { isParsed, open, type Parsed } from './common.js';

export interface ScheduleRecord {
  id: string;
  at: RecordAt;
  locationIds: string[];
  practitionerRoleIds: string[];
  /** The display of a PractitionerRole or Practitioner actor, for when the role itself is not in the feed. */
  practitionerDisplay: string | null;
  /** At least one; distinct by code. */
  serviceTypes: ServiceTypeReading[];
}

export function parseSchedule(line: string, at: RecordAt): Parsed<ScheduleRecord> {
  const o = open(line, 'Schedule', at);
  if (isParsed(o)) return o;
  const { obj, id, note } = o;
  if (!id) return o.skip('missing-field', 'Schedule has no id, so no Slot can point at it');

  const locationIds: string[] = [];
  const practitionerRoleIds: string[] = [];
  let practitionerDisplay: string | null = null;
  for (const a of list(obj.actor, 'actor', note)) {
    const actor = object(a);
    const ref = actor?.reference;
    const type = referenceType(ref);
    if (type === 'Location') {
      const lid = logicalId(ref, 'Location');
      if (lid && !locationIds.includes(lid)) locationIds.push(lid);
    } else if (type === 'PractitionerRole' || type === 'Practitioner') {
      const rid = type === 'PractitionerRole' ? logicalId(ref, 'PractitionerRole') : null;
      if (rid) practitionerRoleIds.push(rid);
      practitionerDisplay ??= text(actor?.display, 'actor.display', note);
    } else if (type === null) {
      note('invalid-value', 'normalised', `actor reference ${JSON.stringify(ref ?? null)} is not a reference; ignored`);
    }
  }
  if (locationIds.length === 0 && practitionerRoleIds.length === 0) {
    return o.skip('missing-field', 'Schedule has no Location or PractitionerRole actor, so no one knows where it is');
  }

  const serviceTypes: ServiceTypeReading[] = [];
  for (const concept of list(obj.serviceType, 'serviceType', note)) {
    const reading = readServiceType(concept, note);
    if (!serviceTypes.some((s) => s.code === reading.code)) serviceTypes.push(reading);
  }
  if (serviceTypes.length === 0) {
    note('missing-field', 'flagged', 'no serviceType; classified OTHER');
    serviceTypes.push({ code: null, name: null, type: 'OTHER' });
  }

  return { record: { id, at, locationIds, practitionerRoleIds, practitionerDisplay, serviceTypes }, issues: o.issues };
}
