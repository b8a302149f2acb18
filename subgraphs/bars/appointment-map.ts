/**
 * A BaRS Appointment (R4, as examples/appointment/id/GET-success.json and as the receiver echoes it in a response
 * message) as the contract's SupplierAppointment. Pure; no I/O.
 */
import { identifierValue, instantOf, NHS_NUMBER_SYSTEM, UUID_IDENTIFIER_SYSTEM } from '../kit/fhir/identifiers.js';
import { BundleIndex, entries, isBundle } from '../kit/fhir/bundle.js';
import type { Appointment, Patient } from '../kit/fhir/r4.js';
import type { SupplierAppointment, SupplierAppointmentStatus } from './generated/resolvers.js';
import type { BarsSlotRef } from './slot-ref.js';

export function appointmentStatus(status: string | undefined): SupplierAppointmentStatus | null {
  switch (status) {
    case 'booked':
    case 'arrived':
    case 'fulfilled':
    case 'checked-in':
    case 'pending':
    case 'proposed':
    case 'waitlist':
      return 'BOOKED';
    case 'cancelled':
    case 'noshow':
      return 'CANCELLED';
    case 'entered-in-error':
      return 'ENTERED_IN_ERROR';
    default:
      return null;
  }
}

/** The contract's appointment, or why the resource cannot be one. `patient`: the message's Patient, when there is one. */
export function toSupplierAppointment(a: Appointment, serviceId: string, patient?: Patient): SupplierAppointment | { reason: string } {
  if (!a.id || !/^[A-Za-z0-9\-.]{1,64}$/.test(a.id)) return { reason: 'appointment has no usable id' };
  const status = appointmentStatus(a.status);
  if (!status) return { reason: `unknown status ${String(a.status)}` };
  const start = instantOf(a.start);
  const end = instantOf(a.end);
  if (!start || !end) return { reason: 'start or end missing or without an offset' };
  const created = instantOf(a.created);
  const actor = a.participant?.find((p) => p.actor?.identifier?.system === NHS_NUMBER_SYSTEM || /Patient/.test(p.actor?.reference ?? ''))?.actor;
  const nhsNumber = identifierValue(patient?.identifier, NHS_NUMBER_SYSTEM) ?? identifierValue(actor?.identifier, NHS_NUMBER_SYSTEM) ?? null;
  const name = patient?.name?.[0];
  const report = a.supportingInformation?.find((s) => s.identifier?.system === UUID_IDENTIFIER_SYSTEM && s.identifier.value);
  return {
    ref: a.id,
    serviceId,
    status,
    start: start.toISOString(),
    end: end.toISOString(),
    created: created ? created.toISOString() : null,
    description: a.description ?? null,
    version: a.meta?.versionId ?? null,
    patient: nhsNumber || name ? { nhsNumber, family: name?.family ?? null, given: name?.given ?? [], birthDate: patient?.birthDate ?? null } : null,
    handoverReportId: report?.identifier?.value ?? null,
  };
}

/** The Appointment (and its Patient) a response message carries: the MessageHeader's focus, else the first one. */
export function appointmentOfMessage(body: unknown): { appointment: Appointment; patient?: Patient } | null {
  if (!isBundle(body)) return null;
  const index = BundleIndex.of(body);
  const header = entries(body).find((e) => e.resource.resourceType === 'MessageHeader')?.resource as { focus?: { reference?: string }[] } | undefined;
  const focused = index.resolve(header?.focus?.[0]?.reference, 'Appointment') as unknown as Appointment | undefined;
  const appointment = focused ?? (entries(body).find((e) => e.resource.resourceType === 'Appointment')?.resource as unknown as Appointment | undefined);
  if (!appointment) return null;
  const patientRef = appointment.participant?.map((p) => p.actor?.reference).find((r) => typeof r === 'string');
  const patient =
    (index.resolve(patientRef, 'Patient') as unknown as Patient | undefined) ??
    (entries(body).find((e) => e.resource.resourceType === 'Patient')?.resource as unknown as Patient | undefined);
  return { appointment, ...(patient ? { patient } : {}) };
}

/** Whether `a` is a booking of this slot: its Slot reference names the slot's id, or (none readable) its times match. */
export function isBookingOf(a: Appointment, slot: BarsSlotRef): boolean {
  const refs = (a.slot ?? []).map((s) => s.reference ?? '');
  if (refs.some((r) => r === `Slot/${slot.slotId}` || r.endsWith(`/Slot/${slot.slotId}`))) return true;
  if (refs.some((r) => /(^|\/)Slot\//.test(r))) return false;
  return instantOf(a.start)?.getTime() === slot.start.getTime() && instantOf(a.end)?.getTime() === slot.end.getTime();
}
