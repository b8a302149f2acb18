/**
 * PractitionerRole lines (HL7 IG): who a schedule's practitioner is and in what role, and where they work (for a
 * schedule whose only actor is the role).
 */
import type { RecordAt } from '../issues.js';
import { list, logicalId, object, text } from '../values.js';
import { isParsed, open, type Parsed } from './common.js';

export interface PractitionerRoleRecord {
  id: string;
  at: RecordAt;
  /** practitioner.display: the SMART files carry no Practitioner resources to dereference. */
  name: string | null;
  /** The first code's display or text, e.g. "Medical practitioner". */
  role: string | null;
  locationIds: string[];
}

export function parsePractitionerRole(line: string, at: RecordAt): Parsed<PractitionerRoleRecord> {
  const o = open(line, 'PractitionerRole', at);
  if (isParsed(o)) return o;
  const { obj, id, note } = o;
  if (!id) return o.skip('missing-field', 'PractitionerRole has no id, so no Schedule can point at it');

  const code = object(list(obj.code, 'code', note)[0]);
  const coding = object(list(code?.coding, 'code.coding', note)[0]);
  const locationIds = list(obj.location, 'location', note)
    .map((l) => logicalId(object(l)?.reference, 'Location'))
    .filter((l): l is string => l !== null);

  return {
    record: {
      id,
      at,
      name: text(object(obj.practitioner)?.display, 'practitioner.display', note),
      role: text(coding?.display, 'code.display', note) ?? text(code?.text, 'code.text', note),
      locationIds,
    },
    issues: o.issues,
  };
}
