/**
 * Oakfield's clinics: one per seed DoS service whose booking endpoint is Oakfield (the urgent dental services), each
 * carrying its DoS service id as an external reference, plus one clinic with no DoS reference (so a lookup by
 * external id has something to leave out). Each clinic has a weekly rota of session templates.
 *
 * Clinic ids are Oakfield's own (hashed from the service id, so stable across runs), deliberately not the DoS id: an
 * integrator has to look the clinic up, as with a real PAS.
 */
import { SEED_SERVICES } from '../seed/services.js';
import { hashSeed } from '../booking-standard/prng.js';

export type SessionMode = 'FACE_TO_FACE' | 'TELEPHONE' | 'VIDEO';

/** A recurring session: on which weekdays (0 = Sunday), local times, appointment length and places per time. */
export interface SessionTemplate {
  days: readonly number[];
  label: string;
  start: string;
  end: string;
  slotMinutes: number;
  capacity: number;
  mode: SessionMode;
  clinician?: { name: string; role: string };
}

export interface Clinic {
  id: string;
  name: string;
  siteOdsCode: string;
  specialty: 'URGENT_DENTAL' | 'ORTHODONTICS';
  status: 'ACTIVE' | 'INACTIVE';
  address: { lines: string[]; town: string; postcode: string };
  externalIds: { system: string; value: string }[];
  rota: readonly SessionTemplate[];
}

const WEEKDAYS = [1, 2, 3, 4, 5];
const dentist = { name: 'Urgent care dentist', role: 'Dentist' };
const nurse = { name: 'Dental triage nurse', role: 'Dental Nurse' };

/** Hospital and community dental services: two chairs, evening telephone triage, weekend and out-of-hours cover. */
const HOSPITAL_ROTA: SessionTemplate[] = [
  { days: WEEKDAYS, label: 'Urgent dental assessment (morning)', start: '08:30', end: '12:30', slotMinutes: 15, capacity: 2, mode: 'FACE_TO_FACE', clinician: dentist },
  { days: WEEKDAYS, label: 'Urgent dental assessment (afternoon)', start: '13:30', end: '17:00', slotMinutes: 15, capacity: 2, mode: 'FACE_TO_FACE', clinician: dentist },
  { days: WEEKDAYS, label: 'Telephone triage', start: '18:00', end: '20:00', slotMinutes: 10, capacity: 1, mode: 'TELEPHONE', clinician: nurse },
  { days: [6], label: 'Weekend urgent dental', start: '09:00', end: '12:00', slotMinutes: 20, capacity: 2, mode: 'FACE_TO_FACE', clinician: dentist },
  // Saturday night into Sunday as two sessions, since a session never crosses midnight. The Sunday one spans
  // 01:00-02:00, which is where the clocks change on the last Sundays of March and October.
  { days: [6], label: 'Out-of-hours dental on-call', start: '19:00', end: '24:00', slotMinutes: 20, capacity: 2, mode: 'FACE_TO_FACE', clinician: { name: 'Dental on-call team', role: 'Dentist' } },
  { days: [0], label: 'Out-of-hours dental on-call', start: '00:00', end: '04:00', slotMinutes: 20, capacity: 2, mode: 'FACE_TO_FACE', clinician: { name: 'Dental on-call team', role: 'Dentist' } },
  { days: [0], label: 'Weekend urgent dental', start: '10:00', end: '12:00', slotMinutes: 20, capacity: 1, mode: 'FACE_TO_FACE', clinician: dentist },
];

/** High-street practices offering urgent access: one chair, working hours, Saturday morning. */
const PRACTICE_ROTA: SessionTemplate[] = [
  { days: WEEKDAYS, label: 'Urgent access (morning)', start: '09:00', end: '12:00', slotMinutes: 20, capacity: 1, mode: 'FACE_TO_FACE', clinician: dentist },
  { days: WEEKDAYS, label: 'Urgent access (afternoon)', start: '14:00', end: '16:40', slotMinutes: 20, capacity: 1, mode: 'FACE_TO_FACE', clinician: dentist },
  { days: [6], label: 'Saturday urgent access', start: '09:00', end: '11:00', slotMinutes: 20, capacity: 1, mode: 'FACE_TO_FACE', clinician: dentist },
];

/** Hospital and community services by DoS id: these run the out-of-hours rota. */
const HOSPITAL_SERVICES = new Set(['1402000107', '1403000206', '1404000306']);

function clinicId(key: string): string {
  return `CL-${hashSeed(`oakfield|${key}`).toString(36).toUpperCase().padStart(7, '0').slice(-6)}`;
}

export function buildClinics(): Clinic[] {
  const fromSeed: Clinic[] = SEED_SERVICES.filter((s) => s.endpoint?.supplierSystem === 'oakfield-pas').map((s) => ({
    id: clinicId(s.id),
    name: s.name,
    siteOdsCode: s.odsCode,
    specialty: 'URGENT_DENTAL',
    status: 'ACTIVE',
    address: { lines: [...s.address.lines], town: s.address.town, postcode: s.address.postcode },
    externalIds: [{ system: 'dos', value: s.id }],
    rota: HOSPITAL_SERVICES.has(s.id) ? HOSPITAL_ROTA : PRACTICE_ROTA,
  }));
  const unmapped: Clinic = {
    id: clinicId('orthodontics'),
    name: 'Oakfield Orthodontic Assessment Clinic',
    siteOdsCode: 'V81999',
    specialty: 'ORTHODONTICS',
    status: 'ACTIVE',
    address: { lines: ['3 Mill Lane'], town: 'Leeds', postcode: 'LS6 2AL' },
    externalIds: [],
    rota: [{ days: [2, 4], label: 'Orthodontic assessment', start: '09:00', end: '12:00', slotMinutes: 30, capacity: 1, mode: 'FACE_TO_FACE' }],
  };
  // Listed in id order, as the API documents.
  return [...fromSeed, unmapped].sort((a, b) => a.id.localeCompare(b.id));
}
