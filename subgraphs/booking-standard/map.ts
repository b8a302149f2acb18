/**
 * Pure mapping from Booking Standard STU3 payloads to the shared Slot contract. Providers honour the standard
 * loosely (spec 10), so every slot is checked on its own: one bad slot is skipped with a reason, never the bundle.
 */
import { LRUCache } from 'lru-cache';
import { slotIdSigner } from '../../common/slot-id.js';
import { encodeSlotRef } from './slot-ref.js';
import type {
  FhirPractitioner,
  FhirPractitionerRole,
  FhirResource,
  FhirSchedule,
  FhirSlot,
} from './client.js';
import type { ApiBookedSlotModel, DeliveryChannel, SkippedSlot } from '../kit/slot-model.js';
import { MAX_REMEMBERED_INSTANT_LENGTH, englishSlotTime } from '../kit/slot-time.js';
import { sortByStart } from '../kit/slot-order.js';

export type SlotModel = ApiBookedSlotModel;

export interface MapResult {
  slots: SlotModel[];
  skipped: SkippedSlot[];
}

export interface MapInput {
  system: string;
  serviceId: string;
  resources: FhirResource[];
  /** Only slots starting in [from, to] are kept: providers must filter, but a consumer checks (assurance P23). */
  from: Date;
  to: Date;
  fetchedAt: Date;
}

// GP Connect's delivery-channel extension; the Booking Standard does not require it, so absence means in person.
const DELIVERY_CHANNEL_URLS = [
  'https://fhir.nhs.uk/STU3/StructureDefinition/Extension-GPConnect-DeliveryChannel-2',
  'https://fhir.nhs.uk/STU3/StructureDefinition/Extension-GPConnect-DeliveryChannel-1',
];

export function mapSlots(input: MapInput): MapResult {
  // What slots refer to (schedules and their actors), not the slots themselves: nothing refers to a slot.
  const index = new Map<string, FhirResource>();
  for (const r of input.resources) if (r.id && r.resourceType !== 'Slot') index.set(`${r.resourceType}/${r.id}`, r);

  const run: MapRun = { index, input, signId: slotIdSigner(input.system, input.serviceId), fetchedAt: input.fetchedAt.toISOString(), schedules: new Map() };
  const slots: SlotModel[] = [];
  const skipped: SkippedSlot[] = [];
  for (const r of input.resources) {
    if (r.resourceType !== 'Slot') continue;
    const result = mapSlot(r as FhirSlot, run);
    if (!result) continue;
    if ('reason' in result) skipped.push(result);
    else slots.push(result);
  }
  return { slots: sortByStart(slots), skipped };
}

/** What one bundle's slots share: its resources, the id key, and what each Schedule says (read once per Schedule). */
interface MapRun {
  index: Map<string, FhirResource>;
  input: MapInput;
  signId: (ref: string) => string;
  fetchedAt: string;
  schedules: Map<string, ScheduleFacts>;
}

interface ScheduleFacts {
  practitioner: SlotModel['practitioner'];
  shared: boolean;
}

function scheduleFacts(run: MapRun, reference: string | undefined): ScheduleFacts {
  const key = reference ?? '';
  let facts = run.schedules.get(key);
  if (!facts) {
    const schedule = ref<FhirSchedule>(run.index, reference, 'Schedule');
    facts = { practitioner: schedule ? practitioner(schedule, run.index) : null, shared: !!schedule && servicesOf(schedule) > 1 };
    run.schedules.set(key, facts);
  }
  return facts;
}

function mapSlot(slot: FhirSlot, run: MapRun): SlotModel | SkippedSlot | null {
  const { input } = run;
  const slotId = slot.id ?? '(no id)';
  if (!slot.id) return { slotId, reason: 'slot has no id' };
  const startMs = instantMs(slot.start);
  const endMs = instantMs(slot.end);
  if (startMs === null || endMs === null) return { slotId, reason: 'start or end is not a FHIR instant with an offset' };
  if (endMs <= startMs) return { slotId, reason: 'end is not after start' };
  if (slot.status !== 'free' && slot.status !== 'busy') return { slotId, reason: `unknown status ${String(slot.status)}` };
  // Asked for free slots only; a provider that returns busy ones gets them dropped, not shown as bookable.
  if (slot.status !== 'free') return null;
  if (startMs < input.from.getTime() || startMs > input.to.getTime()) return null;

  const facts = scheduleFacts(run, slot.schedule?.reference);
  // The id carries the copy of the slot a booking must contain (slot-ref.ts). Without a schedule reference the
  // provider cannot tell which diary the slot is in, so such a slot is shown but not offered for booking.
  const scheduleId = logicalId(slot.schedule?.reference, 'Schedule');
  const slotRef = encodeSlotRef({ slotId: slot.id, scheduleId, start: new Date(startMs), end: new Date(endMs), identifier: slotIdentifier(slot) });
  // As written by the supplier (its offset kept), with the kind and what is doubtful about the times.
  const time = englishSlotTime({ written: slot.start!, ms: startMs }, { written: slot.end!, ms: endMs });
  const model: SlotModel = {
    id: run.signId(slotRef),
    serviceId: input.serviceId,
    start: time.start,
    end: time.end,
    kind: time.kind,
    timeZone: time.timeZone,
    qualityFlags: time.qualityFlags,
    status: 'FREE',
    deliveryChannel: deliveryChannel(slot),
    practitioner: facts.practitioner,
    capacity: null,
    bookingLink: null,
    bookingPhone: null,
    bookable: scheduleId !== null,
    fetchedAt: run.fetchedAt,
    source: 'LIVE',
  };
  // A schedule mapped to several DoS services lists this same Slot under each: its logical id says which it is.
  if (facts.shared) model.nativeKey = slot.id;
  return model;
}

/** How many HealthcareServices a Schedule names among its actors (STU3: one Reference or a list). */
function servicesOf(schedule: FhirSchedule): number {
  const actors = Array.isArray(schedule.actor) ? schedule.actor : schedule.actor ? [schedule.actor] : [];
  const ids = new Set<string>();
  for (const a of actors) {
    const id = logicalId(a.reference, 'HealthcareService');
    if (id !== null) ids.add(id);
  }
  return ids.size;
}

/** Accepts any offset (spec 3.6) but requires one: a time without an offset is ambiguous across UK DST. */
export function instant(value: string | undefined): Date | null {
  const ms = instantMs(value);
  return ms === null ? null : new Date(ms);
}

const FHIR_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;
/**
 * Instants read, by their text: every slot of a search is read, and slots share their times (one look-up where the
 * pattern and the parse were a twentieth of mapping a slot), bounded as the kit's slot times are.
 */
const instants = new LRUCache<string, number>({ max: 4096 });

/** instant() as epoch ms, without a Date per call. */
function instantMs(value: string | undefined): number | null {
  if (typeof value !== 'string') return null;
  const kept = instants.get(value);
  if (kept !== undefined) return kept;
  const ms = FHIR_INSTANT.test(value) ? Date.parse(value) : NaN;
  const read = Number.isNaN(ms) ? null : ms;
  // Only well-formed text of an instant's length is kept: nothing else a provider sends is remembered.
  if (read !== null && value.length <= MAX_REMEMBERED_INSTANT_LENGTH) instants.set(value, read);
  return read;
}

export function deliveryChannel(slot: FhirSlot): DeliveryChannel {
  const ext = slot.extension?.find((e) => e.url !== undefined && DELIVERY_CHANNEL_URLS.includes(e.url));
  const code = (ext?.valueCode ?? ext?.valueCodeableConcept?.coding?.[0]?.code ?? '').toLowerCase();
  if (code.startsWith('tele')) return 'TELEPHONE';
  if (code.startsWith('video')) return 'VIDEO';
  return 'IN_PERSON';
}

function practitioner(schedule: FhirSchedule, index: Map<string, FhirResource>): SlotModel['practitioner'] {
  let person: FhirPractitioner | undefined;
  let role: FhirPractitionerRole | undefined;
  // STU3 types actor as one Reference or a list (@types/fhir r3); providers send a list, a lone one is read too.
  for (const a of Array.isArray(schedule.actor) ? schedule.actor : schedule.actor ? [schedule.actor] : []) {
    person ??= ref<FhirPractitioner>(index, a.reference, 'Practitioner');
    role ??= ref<FhirPractitionerRole>(index, a.reference, 'PractitionerRole');
  }
  if (!person && role) person = ref<FhirPractitioner>(index, role.practitioner?.reference, 'Practitioner');
  const name = person ? practitionerName(person) : null;
  const roleName = role ? (role.code?.[0]?.coding?.[0]?.display ?? role.code?.[0]?.text ?? null) : null;
  return name || roleName ? { name, role: roleName } : null;
}

export function practitionerName(p: FhirPractitioner): string | null {
  const n = p.name?.[0];
  if (!n) return null;
  if (n.text) return n.text;
  const parts = [...(n.prefix ?? []), ...(n.given ?? []), n.family].filter((x): x is string => !!x);
  return parts.length ? parts.join(' ') : null;
}

/** Resolves `Type/id` (or an absolute URL ending in it) against the bundle's included resources. */
function ref<T extends FhirResource>(index: Map<string, FhirResource>, reference: string | undefined, type: T['resourceType']): T | undefined {
  const id = logicalId(reference, type);
  return id === null ? undefined : (index.get(`${type}/${id}`) as T | undefined);
}

/** The logical id in `Type/id`, `Type/id/_history/v` or an absolute URL ending in either; null for another type. */
export function logicalId(reference: string | undefined, type: string): string | null {
  const m = reference?.match(/([A-Za-z]+)\/([^/]+)(?:\/_history\/[^/]+)?$/);
  return m && m[1] === type ? m[2]! : null;
}

/** Slot and DocumentReference identifiers are UUIDs under this system (spec 5.11). */
export const UUID_SYSTEM = 'https://tools.ietf.org/html/rfc4122';

/** Slot.identifier as the profile defines it (system rfc4122, spec 5.1); another system's value is not a copy of it. */
function slotIdentifier(slot: FhirSlot): string | null {
  return slot.identifier?.find((i) => i.system === UUID_SYSTEM && i.value)?.value ?? null;
}

// ---- provider failures -----------------------------------------------------------------------------------

export type FailureCode =
  | 'SLOT_UNAVAILABLE'
  /** 409 `duplicate`: the provider has already processed this X-Request-ID (UEC); the first request may have acted. */
  | 'DUPLICATE_REQUEST'
  | 'INVALID_PATIENT'
  | 'INVALID_REQUEST'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'SUPPLIER_UNAVAILABLE';

export interface OutcomeIssue {
  code?: string;
  details?: { coding?: { code?: string }[] };
  diagnostics?: string;
  /** FHIRPath of the element at fault (STU3 `expression`, or the older `location`). */
  expression?: string[];
  location?: string[];
}

const PATIENT_DETAILS = /^(Appointment\.contained\.)?Patient\.(identifier|name|gender|birthDate|address|telecom)\b/;

/**
 * Classifies a provider's error answer on HTTP status plus issue.code, never on the details code alone (spec
 * 4.2), because providers disagree: slot taken is 422 `processing` (NBA, TKW) or 409 (UEC); a bad JWT is 403 or 401.
 * `duringBooking` decides what a 409 means: on POST it is the slot, on PUT a stale version; either way a 409 whose
 * issue type is `duplicate` is a reused X-Request-ID.
 */
export function classifyFailure(status: number, issue: OutcomeIssue | undefined, duringBooking: boolean): FailureCode {
  const detail = (issue?.details?.coding?.[0]?.code ?? '').toUpperCase();
  const text = (issue?.diagnostics ?? '').toLowerCase();
  if (status === 401 || status === 403) return 'FORBIDDEN';
  if (status === 404) return 'NOT_FOUND';
  // A reused X-Request-ID (UEC: 409) is told apart from "slot taken" and "stale version" by its issue type alone.
  if (status === 409 && issue?.code === 'duplicate') return 'DUPLICATE_REQUEST';
  if (status === 409) return duringBooking ? 'SLOT_UNAVAILABLE' : 'CONFLICT';
  if (status === 422) {
    if (detail.includes('NHS_NUMBER') || text.includes('nhs number')) return 'INVALID_PATIENT';
    // A rule failing on the patient's own details (not on how we built the resource, e.g. its meta.profile).
    if (detail.includes('PATIENT') || [...(issue?.expression ?? []), ...(issue?.location ?? [])].some((e) => PATIENT_DETAILS.test(e))) {
      return 'INVALID_PATIENT';
    }
    if (issue?.code === 'processing' || detail === 'MSG_RESOURCE_ID_FAIL' || text.includes('no longer available')) {
      return duringBooking ? 'SLOT_UNAVAILABLE' : 'INVALID_REQUEST';
    }
    if (!duringBooking && detail === 'MSG_VERSION_AWARE_CONFLICT') return 'CONFLICT';
    return 'INVALID_REQUEST';
  }
  if (status === 412) return 'CONFLICT';
  if (status >= 400 && status < 500) return 'INVALID_REQUEST';
  return 'SUPPLIER_UNAVAILABLE';
}
