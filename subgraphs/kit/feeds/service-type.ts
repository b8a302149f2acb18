/**
 * From a Schedule's serviceType (a CodeableConcept) to the code that names the service and our service type.
 *
 * Codes are trusted in their own code system only: HL7's service-type system (the original spec and the HL7 IG both
 * use it) and the SMART registry's (`covid19-immunization`). Feeds have been seen filling `system` with unrelated
 * URLs; such a coding is read as HL7's only when its code is one we know *and* its display says the same thing,
 * otherwise the service is OTHER. Either way the issue is flagged.
 */
import type { FeedServiceType } from './types.js';
import { list, object, text, type Note } from './values.js';

export const HL7_SERVICE_TYPE = 'http://terminology.hl7.org/CodeSystem/service-type';
/** The same code system under its pre-THO canonical (FHIR STU3 and early R4 examples). */
const HL7_SERVICE_TYPE_OLD = 'http://hl7.org/fhir/service-type';
export const SMART_SERVICE_TYPE = 'http://fhir-registry.smarthealthit.org/CodeSystem/service-type';

interface KnownCode {
  display: string;
  type: FeedServiceType;
  /** What a display for this code reads like (to recognise the code under a wrong system URL). */
  reads: RegExp;
}

const IMAGING = /radiolog|x-?ray|\bct\b|\bmri\b|magnetic resonance|ultrasound|sonograph|imaging|mammogra|\bscan\b|fluoroscop|nuclear med/i;

/** The HL7 service-type codes we classify, with their displays in that code system. All others are OTHER. */
const HL7_CODES: Readonly<Record<string, KnownCode>> = {
  '57': { display: 'Immunization', type: 'VACCINATION', reads: /immuni[sz]|vaccin/i },
  '124': { display: 'General Practice', type: 'GENERAL_PRACTICE', reads: /general practi|primary care|family (practice|medicine)|\bgp\b/i },
  // "Walk in Centre / non emergency": the closest HL7 code to an urgent treatment centre; feeds use it for urgent care.
  '556': { display: 'Walk-in Centre /Non-Emergency', type: 'URGENT_TREATMENT_CENTRE', reads: /walk.?in|urgent/i },
  '209': { display: 'Diag. Radiology /Xray /CT /Fluoroscopy', type: 'DIAGNOSTIC_IMAGING', reads: IMAGING },
  '210': { display: 'Diagnostic Ultrasound', type: 'DIAGNOSTIC_IMAGING', reads: IMAGING },
  '211': { display: 'Magnetic Resonance Imaging (MRI)', type: 'DIAGNOSTIC_IMAGING', reads: IMAGING },
  '212': { display: 'Nuclear Medicine', type: 'DIAGNOSTIC_IMAGING', reads: IMAGING },
  '213': { display: 'Obstetric/Gynaecological Ultrasound', type: 'DIAGNOSTIC_IMAGING', reads: IMAGING },
};

const SMART_CODES: Readonly<Record<string, KnownCode>> = {
  'covid19-immunization': { display: 'COVID-19 Immunization Appointment', type: 'VACCINATION', reads: /covid|immuni[sz]|vaccin/i },
};

/**
 * Codes publishers send under the HL7 system that the code system does not define. 363 is one: HL7's list goes
 * from 362 "Hospital To Home" to 364 "Hostel". The Culby example feed (our general-appointments data) uses it for
 * CT, MRI, X-ray, ultrasound and mammography; HL7's imaging codes are 209–213. We classify such a code by its
 * display alone, and flag it.
 */
const NOT_HL7_CODES: Readonly<Record<string, KnownCode>> = {
  '363': { display: '(not an HL7 service-type code)', type: 'DIAGNOSTIC_IMAGING', reads: IMAGING },
};

export interface ServiceTypeReading {
  /** The code that names the service; null when the feed gave none (the service id then says `other`). */
  code: string | null;
  /** The display (or the concept's text, or the code) to show. */
  name: string | null;
  type: FeedServiceType;
}

interface Coding {
  system: string | null;
  code: string | null;
  display: string | null;
}

export function readServiceType(concept: unknown, note: Note): ServiceTypeReading {
  const c = object(concept);
  const conceptText = text(c?.text, 'serviceType.text', note);
  const codings: Coding[] = list(c?.coding, 'serviceType.coding', note).flatMap((x) => {
    const o = object(x);
    if (!o) return [];
    return [{ system: text(o.system, 'coding.system', note), code: text(o.code, 'coding.code', note), display: text(o.display, 'coding.display', note) }];
  });
  const named = (cd: Coding, known?: KnownCode): string | null => cd.display ?? conceptText ?? known?.display ?? cd.code;

  const hl7 = codings.find((cd) => cd.code && (cd.system === HL7_SERVICE_TYPE || cd.system === HL7_SERVICE_TYPE_OLD));
  if (hl7) {
    const code = hl7.code!;
    const known = HL7_CODES[code];
    if (known) return { code, name: named(hl7, known), type: known.type };
    const misused = NOT_HL7_CODES[code];
    if (misused) {
      const reads = !!hl7.display && misused.reads.test(hl7.display);
      note(
        'unknown-code',
        reads ? 'normalised' : 'flagged',
        `service-type code ${code} is not in the HL7 service-type code system; ` +
          (reads ? `classified as ${misused.type} by its display "${hl7.display}"` : 'its display does not say what it is, so OTHER'),
      );
      return { code, name: named(hl7), type: reads ? misused.type : 'OTHER' };
    }
    return { code, name: named(hl7), type: 'OTHER' };
  }

  const smart = codings.find((cd) => cd.code && cd.system === SMART_SERVICE_TYPE);
  if (smart) {
    const known = SMART_CODES[smart.code!];
    return { code: smart.code, name: named(smart, known), type: known?.type ?? 'OTHER' };
  }

  const foreign = codings.find((cd) => cd.code);
  if (foreign) {
    const code = foreign.code!;
    const known = HL7_CODES[code] ?? SMART_CODES[code];
    const system = foreign.system ? `system "${foreign.system}"` : 'no system';
    if (known && foreign.display && known.reads.test(foreign.display)) {
      note('unknown-coding-system', 'normalised', `service-type coding has ${system}; code ${code} "${foreign.display}" read as the HL7/SMART code it matches`);
      return { code, name: named(foreign, known), type: known.type };
    }
    note('unknown-coding-system', 'flagged', `service-type coding has ${system}, not a service-type code system; classified OTHER`);
    return { code, name: named(foreign), type: 'OTHER' };
  }

  const display = codings.find((cd) => cd.display)?.display ?? conceptText;
  note('missing-field', 'flagged', `serviceType has no code${display ? ` (only "${display}")` : ''}; classified OTHER`);
  return { code: null, name: display, type: 'OTHER' };
}
