/**
 * The BaRS receivers' services: DoS-style ids that extend the sandbox seed (sandbox/seed/services.ts) without
 * colliding with it. Three of them sit in buildings that already hold other sandbox services (the DoS maps each
 * service separately, so a consumer sees two entries at one address), one in a building of its own.
 *
 * Wall-clock rotas are UK local time; the diary publishes instants in UTC (`+00:00`), as BaRS requires of every
 * dateTime (booking-and-referral.yaml, GET /Slot `start`).
 */
import type { ServiceTypeCode } from '../seed/services.js';

export type DeliveryChannel = 'In-person' | 'Telephone' | 'Video';

export interface Shift {
  /** Local `HH:MM`; an end at or before the start runs past midnight; `00:00`–`24:00` is a whole day. */
  start: string;
  end: string;
}

export interface BarsPractitioner {
  id: string;
  sdsUserId: string;
  roleProfileId: string;
  family: string;
  given: string;
  prefix: string;
  /** http://terminology.hl7.org/CodeSystem/practitioner-role */
  roleCode: 'doctor' | 'nurse' | 'pharmacist';
  roleDisplay: string;
}

export interface BarsSchedule {
  /** Short key, unique within the service; part of every slot id. */
  key: string;
  slotMinutes: number;
  weekday: Shift[];
  weekend: Shift[];
  channels: DeliveryChannel[];
  practitioner?: BarsPractitioner;
}

export interface BarsService {
  /** DoS service id (the NHSD-Target-Identifier value and the HealthcareService id). */
  id: string;
  name: string;
  odsCode: string;
  providerName: string;
  type: ServiceTypeCode;
  /** Same site id as the sandbox seed's services in that building. */
  siteId: string;
  address: { lines: string[]; town: string; postcode: string };
  lat: number;
  lon: number;
  /** SNOMED-free service category as the spec's examples code it (http://terminology.hl7.org/CodeSystem/service-category). */
  category: { code: string; display: string };
  schedules: BarsSchedule[];
}

const ED = { code: '14', display: 'Emergency Department' };
const URGENT = { code: '35', display: 'Urgent Care' };
const DENTAL = { code: '10', display: 'Dental' };

export const BARS_SERVICES: readonly BarsService[] = [
  // Leeds, St James's University Hospital (site-ls9-sjuh): beside the ED (1402000101), UTC (1402000102) and GP OOH
  // (1402000103) the seed already maps there.
  {
    id: '1402000113', name: "St James's Same Day Emergency Care", odsCode: 'RR8SD', providerName: 'Leeds Teaching Hospitals NHS Trust',
    type: 'ED', siteId: 'site-ls9-sjuh', address: { lines: ['Beckett Street'], town: 'Leeds', postcode: 'LS9 7TF' }, lat: 53.8073, lon: -1.5205,
    category: ED,
    schedules: [
      {
        key: 'sdec', slotMinutes: 30, channels: ['In-person'],
        weekday: [{ start: '08:00', end: '20:00' }], weekend: [{ start: '10:00', end: '18:00' }],
        practitioner: { id: 'prac-rr8sd-1', sdsUserId: '555000101001', roleProfileId: '555000101002', family: 'Okafor', given: 'Amara', prefix: 'Dr', roleCode: 'doctor', roleDisplay: 'Doctor' },
      },
    ],
  },
  // Bristol Royal Infirmary (site-bs2-bri): beside the ED (1403000201) and BrisDoc GP OOH (1403000202). Open round the
  // clock, so its diary shows both clock changes in full.
  {
    id: '1403000212', name: 'Bristol Royal Infirmary Urgent Treatment Centre', odsCode: 'RA7U1', providerName: 'University Hospitals Bristol and Weston NHS Foundation Trust',
    type: 'UTC', siteId: 'site-bs2-bri', address: { lines: ['Upper Maudlin Street'], town: 'Bristol', postcode: 'BS2 8HW' }, lat: 51.4585, lon: -2.5965,
    category: URGENT,
    schedules: [
      {
        key: 'utc', slotMinutes: 30, channels: ['In-person'],
        weekday: [{ start: '00:00', end: '24:00' }], weekend: [{ start: '00:00', end: '24:00' }],
        practitioner: { id: 'prac-ra7u1-1', sdsUserId: '555000201001', roleProfileId: '555000201002', family: 'Hughes', given: 'Bethan', prefix: 'Ms', roleCode: 'nurse', roleDisplay: 'Nurse' },
      },
      {
        key: 'tel', slotMinutes: 20, channels: ['Telephone'],
        weekday: [{ start: '18:00', end: '23:00' }], weekend: [{ start: '09:00', end: '21:00' }],
      },
    ],
  },
  // Norwich Walk-in Centre, Rouen House (site-nr1-rouen): beside the walk-in centre (1404000304).
  {
    id: '1404000312', name: 'Norwich Urgent Dental Access at Rouen House', odsCode: 'RY3DA', providerName: 'Norfolk Community Health and Care NHS Trust',
    type: 'DENTAL', siteId: 'site-nr1-rouen', address: { lines: ['Rouen House', 'Rouen Road'], town: 'Norwich', postcode: 'NR1 1RB' }, lat: 52.6260, lon: 1.2990,
    category: DENTAL,
    schedules: [
      {
        key: 'dent', slotMinutes: 15, channels: ['In-person'],
        weekday: [{ start: '09:00', end: '12:30' }, { start: '13:30', end: '17:00' }], weekend: [],
        practitioner: { id: 'prac-ry3da-1', sdsUserId: '555000301001', roleProfileId: '555000301002', family: 'Patel', given: 'Ravi', prefix: 'Dr', roleCode: 'doctor', roleDisplay: 'Doctor' },
      },
    ],
  },
  // Great Yarmouth, Northgate Hospital: a building no other sandbox service uses.
  {
    id: '1404000313', name: 'Great Yarmouth Urgent Treatment Centre', odsCode: 'RGPU1', providerName: 'James Paget University Hospitals NHS Foundation Trust',
    type: 'UTC', siteId: 'site-nr30-northgate', address: { lines: ['Northgate Street'], town: 'Great Yarmouth', postcode: 'NR30 1BU' }, lat: 52.6160, lon: 1.7270,
    category: URGENT,
    schedules: [
      {
        key: 'utc', slotMinutes: 20, channels: ['In-person', 'Video'],
        weekday: [{ start: '08:00', end: '22:00' }], weekend: [{ start: '08:00', end: '22:00' }],
      },
    ],
  },
];

export const BARS_SERVICE_BY_ID: ReadonlyMap<string, BarsService> = new Map(BARS_SERVICES.map((s) => [s.id, s]));
