/**
 * Pure mapping from a BaRS slot search (an R4 searchset: Slots, then the included Schedule, HealthcareService,
 * Practitioner, PractitionerRole, Location, Organization; references by `urn:uuid:` fullUrl as the spec's example
 * has them, or `Type/id`) to the shared Slot contract. Every slot is checked on its own: one bad slot is skipped with
 * a reason, never the bundle.
 */
import { BundleIndex, type BundleEntryLike } from '../kit/fhir/bundle.js';
import { DOS_SERVICE_ID_SYSTEM, identifierValue, instantOf } from '../kit/fhir/identifiers.js';
import type { HealthcareService, Practitioner, PractitionerRole, Schedule, Slot } from '../kit/fhir/r4.js';
import { encodeSlotId } from '../../common/slot-id.js';
import { encodeSlotRef } from './slot-ref.js';
import type { ApiBookedSlotModel, DeliveryChannel, SkippedSlot } from '../kit/slot-model.js';
import { englishSlotTime } from '../kit/slot-time.js';
import { sortByStart } from '../kit/slot-order.js';

export type SlotModel = ApiBookedSlotModel;

export interface MapInput {
  system: string;
  serviceId: string;
  /** Every entry of every page (fullUrl and resource). */
  entries: readonly BundleEntryLike[];
  /** Only slots starting in [from, to] are kept: the receiver filters, but a consumer checks. */
  from: Date;
  to: Date;
  fetchedAt: Date;
}

/** UK Core's delivery channel (Slot extension, valueCode In-person | Telephone | Video). */
export const DELIVERY_CHANNEL_URL = 'https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-DeliveryChannel';

export function mapSlots(input: MapInput): { slots: SlotModel[]; skipped: SkippedSlot[] } {
  const index = new BundleIndex(input.entries);
  const slots: SlotModel[] = [];
  const skipped: SkippedSlot[] = [];
  for (const e of input.entries) {
    if (e.resource?.resourceType !== 'Slot') continue;
    const r = mapSlot(e.resource as unknown as Slot, index, input);
    if (!r) continue;
    if ('reason' in r) skipped.push(r);
    else slots.push(r);
  }
  return { slots: sortByStart(slots), skipped };
}

function mapSlot(slot: Slot, index: BundleIndex, input: MapInput): SlotModel | SkippedSlot | null {
  const slotId = slot.id ?? '(no id)';
  if (!slot.id || !/^[A-Za-z0-9\-.]{1,64}$/.test(slot.id)) return { slotId, reason: 'slot has no usable id' };
  const start = instantOf(slot.start);
  const end = instantOf(slot.end);
  if (!start || !end) return { slotId, reason: 'start or end is not a dateTime with an offset' };
  if (end.getTime() <= start.getTime()) return { slotId, reason: 'end is not after start' };
  if (!['free', 'busy', 'busy-unavailable', 'busy-tentative', 'entered-in-error'].includes(String(slot.status))) return { slotId, reason: `unknown status ${String(slot.status)}` };
  // Asked for free slots only; anything else is dropped, never shown as bookable.
  if (slot.status !== 'free') return null;
  if (start < input.from || start > input.to) return null;

  const schedule = index.resolve(slot.schedule?.reference, 'Schedule') as unknown as Schedule | undefined;
  if (!schedule?.id || !/^[A-Za-z0-9\-.]{1,64}$/.test(schedule.id)) return { slotId, reason: 'the slot\'s Schedule is not in the answer with an id' };
  // A receiver answering for another service than the one asked (its HealthcareService names another DoS id): not ours.
  const service = (schedule.actor ?? []).map((a) => index.resolve(a.reference, 'HealthcareService') as unknown as HealthcareService | undefined).find(Boolean);
  const dosId = service ? (identifierValue(service.identifier, DOS_SERVICE_ID_SYSTEM) ?? service.id) : undefined;
  if (dosId !== undefined && dosId !== input.serviceId && service?.identifier?.some((i) => i.system === DOS_SERVICE_ID_SYSTEM)) {
    return { slotId, reason: `the slot's HealthcareService is DoS service ${dosId}` };
  }
  const ref = encodeSlotRef({ slotId: slot.id, scheduleId: schedule.id, start, end });
  return {
    id: encodeSlotId({ system: input.system, serviceId: input.serviceId, ref }),
    serviceId: input.serviceId,
    // As written by the supplier (its offset kept), with the kind and what is doubtful about the times.
    ...englishSlotTime({ written: slot.start!, ms: start.getTime() }, { written: slot.end!, ms: end.getTime() }),
    status: 'FREE',
    deliveryChannel: deliveryChannel(slot),
    practitioner: practitioner(schedule, index),
    capacity: null,
    bookingLink: null,
    bookingPhone: null,
    bookable: true,
    fetchedAt: input.fetchedAt.toISOString(),
    source: 'LIVE',
  };
}

export function deliveryChannel(slot: Pick<Slot, 'extension'>): DeliveryChannel {
  const ext = slot.extension?.find((e) => e.url === DELIVERY_CHANNEL_URL);
  const code = (ext?.valueCode ?? ext?.valueCodeableConcept?.coding?.[0]?.code ?? '').toLowerCase();
  if (code.startsWith('tele')) return 'TELEPHONE';
  if (code.startsWith('video')) return 'VIDEO';
  return 'IN_PERSON';
}

function practitioner(schedule: Schedule, index: BundleIndex): SlotModel['practitioner'] {
  let person: Practitioner | undefined;
  let role: PractitionerRole | undefined;
  for (const a of schedule.actor ?? []) {
    person ??= index.resolve(a.reference, 'Practitioner') as unknown as Practitioner | undefined;
    role ??= index.resolve(a.reference, 'PractitionerRole') as unknown as PractitionerRole | undefined;
  }
  if (!person && role) person = index.resolve(role.practitioner?.reference, 'Practitioner') as unknown as Practitioner | undefined;
  const name = person ? practitionerName(person) : null;
  const roleName = role ? (role.code?.[0]?.coding?.[0]?.display ?? role.code?.[0]?.text ?? null) : null;
  return name || roleName ? { name, role: roleName } : null;
}

export function practitionerName(p: Practitioner): string | null {
  const n = p.name?.[0];
  if (!n) return null;
  if (n.text) return n.text;
  const parts = [...(n.prefix ?? []), ...(n.given ?? []), n.family].filter((x): x is string => !!x);
  return parts.length ? parts.join(' ') : null;
}
