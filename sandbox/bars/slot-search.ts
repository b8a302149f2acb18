/**
 * GET /Slot (booking-and-referral.yaml, getSlots): `status` (required, comma-separated free/busy), `start` twice
 * (required: a lower bound `ge`/`gt` and an upper bound `le`/`lt`, each a dateTime with an offset),
 * `Schedule.actor:HealthcareService` (optional, the DoS id; the target's when absent) and `_include` (required, at
 * least `Slot:schedule` and `Schedule:actor:HealthcareService`, or `Slot:*`). Unsupported includes are ignored and
 * left out of the answer's self link, as the spec says.
 */
import type { DiaryStore, StartWindow } from './diary.js';
import { barsError } from './outcome.js';
import {
  entry,
  healthcareServiceResource,
  locationResource,
  organizationResource,
  practitionerResource,
  practitionerRoleResource,
  scheduleResource,
  slotResource,
  type Entry,
} from './resources.js';
import { BARS_SERVICE_BY_ID } from './services.js';

/** The widest start window one search may ask for (wider is 422 REC_UNPROCESSABLE_ENTITY too-costly). */
export const MAX_WINDOW_DAYS = 14;

const INCLUDES = {
  'Slot:schedule': 'Slot:schedule',
  'Schedule:actor:Practitioner': 'Schedule:actor:Practitioner',
  'Schedule:actor:PractitionerRole': 'Schedule:actor:PractitionerRole',
  'Schedule:actor:HealthcareService': 'Schedule:actor:HealthcareService',
  'HealthcareService:providedBy': 'HealthcareService:providedBy',
  // The CapabilityStatement example spells it with a dot.
  'HealthcareService.providedBy': 'HealthcareService:providedBy',
  'HealthcareService:location': 'HealthcareService:location',
} as const;
type Include = (typeof INCLUDES)[keyof typeof INCLUDES];
const ALL_INCLUDES: Include[] = [...new Set(Object.values(INCLUDES))];

export interface SlotSearch {
  statuses: Set<'free' | 'busy'>;
  window: StartWindow;
  serviceId: string;
  includes: Set<Include>;
  /** The search as honoured, for Bundle.link self. */
  honoured: URLSearchParams;
}

const DATE_TIME = /^(ge|gt|le|lt|eq)?(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)(Z|[+-]\d{2}:\d{2})?$/;

export function parseSlotSearch(query: URLSearchParams, targetServiceId: string): SlotSearch {
  const statusValues = query.getAll('status').flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean);
  if (statusValues.length === 0) throw barsError(400, 'REC_BAD_REQUEST', 'required', 'The parameter value was not included in the request: status.', { expression: 'status' });
  const statuses = new Set<'free' | 'busy'>();
  for (const s of statusValues) {
    if (s !== 'free' && s !== 'busy') throw barsError(400, 'SEND_BAD_REQUEST', 'value', `status value requested is invalid: "${s}" (free, busy).`, { expression: 'status' });
    statuses.add(s);
  }

  const starts = query.getAll('start');
  if (starts.length !== 2) {
    throw barsError(400, 'REC_BAD_REQUEST', 'required', 'start must be given twice: a lower bound (ge or gt) and an upper bound (le or lt).', { expression: 'start' });
  }
  let lower: StartWindow['lower'] | undefined;
  let upper: StartWindow['upper'] | undefined;
  for (const raw of starts) {
    const m = DATE_TIME.exec(raw);
    if (!m) throw barsError(400, 'REC_BAD_REQUEST', 'value', `start "${raw}" is not a FHIR dateTime with a prefix.`, { expression: 'start' });
    const [, prefix, local, offset] = m;
    if (!offset) throw barsError(400, 'REC_BAD_REQUEST', 'value', `start "${raw}" has no offset; BaRS dateTimes must carry one (+00:00).`, { expression: 'start' });
    const ms = Date.parse(`${local}${offset}`);
    if (Number.isNaN(ms)) throw barsError(400, 'REC_BAD_REQUEST', 'value', `start "${raw}" is not a valid dateTime.`, { expression: 'start' });
    if (prefix === 'ge' || prefix === 'gt') {
      if (lower) throw barsError(400, 'REC_BAD_REQUEST', 'invalid', 'start has two lower bounds.', { expression: 'start' });
      lower = { ms, inclusive: prefix === 'ge' };
    } else if (prefix === 'le' || prefix === 'lt') {
      if (upper) throw barsError(400, 'REC_BAD_REQUEST', 'invalid', 'start has two upper bounds.', { expression: 'start' });
      upper = { ms, inclusive: prefix === 'le' };
    } else {
      throw barsError(400, 'REC_BAD_REQUEST', 'value', `start "${raw}" needs a ge, gt, le or lt prefix.`, { expression: 'start' });
    }
  }
  if (!lower || !upper) throw barsError(400, 'REC_BAD_REQUEST', 'required', 'start needs both a lower (ge/gt) and an upper (le/lt) bound.', { expression: 'start' });
  if (upper.ms < lower.ms) throw barsError(400, 'REC_BAD_REQUEST', 'invalid', 'The start window ends before it begins.', { expression: 'start' });
  if (upper.ms - lower.ms > MAX_WINDOW_DAYS * 86_400_000) throw barsError(422, 'REC_UNPROCESSABLE_ENTITY', 'too-costly', 'The start time range requested is too wide.');

  const actorParam = query.get('Schedule.actor:HealthcareService');
  let serviceId = targetServiceId;
  if (actorParam !== null) {
    const value = actorParam.includes('|') ? actorParam.slice(actorParam.lastIndexOf('|') + 1) : actorParam;
    if (!/^\d{1,12}$/.test(value)) throw barsError(400, 'REC_BAD_REQUEST', 'value', 'the identifier was in the incorrect format.', { expression: 'Schedule.actor:HealthcareService' });
    serviceId = value;
  }

  const includeValues = [...query.getAll('_include'), ...query.getAll('_include:iterate'), ...query.getAll('_include:recurse')]
    .flatMap((v) => v.split(','))
    .map((v) => v.trim());
  const includes = new Set<Include>();
  for (const v of includeValues) {
    if (v === 'Slot:*') ALL_INCLUDES.forEach((i) => includes.add(i));
    else if (v in INCLUDES) includes.add(INCLUDES[v as keyof typeof INCLUDES]);
  }
  if (!includes.has('Slot:schedule') || !includes.has('Schedule:actor:HealthcareService')) {
    throw barsError(400, 'REC_BAD_REQUEST', 'required', '_include must name at least Slot:schedule and Schedule:actor:HealthcareService (or Slot:*).', { expression: '_include' });
  }

  const honoured = new URLSearchParams();
  honoured.set('status', [...statuses].join(','));
  for (const s of starts) honoured.append('start', s);
  honoured.set('Schedule.actor:HealthcareService', serviceId);
  for (const i of ALL_INCLUDES) if (includes.has(i)) honoured.append('_include', i);
  return { statuses, window: { lower, upper }, serviceId, includes, honoured };
}

export function searchSlots(search: SlotSearch, store: DiaryStore, selfBase: string, bundleId: string, nowIso: string): unknown {
  const service = BARS_SERVICE_BY_ID.get(search.serviceId);
  const matches: Entry[] = [];
  const included: Entry[] = [];
  if (service) {
    const used = new Set<string>();
    for (const slot of store.slotsFor(service.id, search.window)) {
      const status = store.statusOf(slot);
      if (!search.statuses.has(status)) continue;
      matches.push(entry(slotResource(service, slot, status), 'match'));
      used.add(slot.scheduleKey);
    }
    if (matches.length > 0) {
      const schedules = service.schedules.filter((s) => used.has(s.key));
      for (const s of schedules) included.push(entry(scheduleResource(service, s), 'include'));
      if (search.includes.has('Schedule:actor:HealthcareService')) included.push(entry(healthcareServiceResource(service), 'include'));
      if (search.includes.has('HealthcareService:location')) included.push(entry(locationResource(service), 'include'));
      if (search.includes.has('HealthcareService:providedBy')) included.push(entry(organizationResource(service), 'include'));
      for (const s of schedules.filter((x) => x.practitioner)) {
        if (search.includes.has('Schedule:actor:PractitionerRole')) included.push(entry(practitionerRoleResource(s), 'include'));
        if (search.includes.has('Schedule:actor:Practitioner')) included.push(entry(practitionerResource(s), 'include'));
      }
    }
  }
  return {
    resourceType: 'Bundle',
    id: bundleId,
    meta: { lastUpdated: nowIso, profile: ['https://fhir.hl7.org.uk/StructureDefinition/UKCore-Bundle'] },
    type: 'searchset',
    timestamp: nowIso,
    total: matches.length,
    link: [{ relation: 'self', url: `${selfBase}/Slot?${search.honoured.toString()}` }],
    entry: [...matches, ...included],
  };
}
