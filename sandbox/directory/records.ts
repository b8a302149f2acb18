/**
 * The seed as the DoS REST API shows it: one JSON record per service, in DoS field style. Pure: the record for a
 * service at a moment depends only on the seed, the moment the sandbox started (when the seed's "set N minutes
 * ago" capacity statuses were set) and the moment asked about.
 */
import { SERVICE_TYPES, type SeedService } from '../seed/services.js';

export interface DosEndpointRecord {
  id: number;
  /** The order the DoS lists endpoints in; consumers must not rely on it to pick the booking endpoint. */
  order: number;
  transport: string;
  format: string;
  interaction: string;
  businessScenario: 'Primary' | 'Copy';
  /** `ASID:<12 digits>` for Spine-routed booking endpoints; `ODS:<code>` otherwise. */
  address: string;
  comment: string | null;
  isCompressionEnabled: boolean;
  /** The supplier system behind the endpoint (the sandbox's stand-in for an SDS lookup of the ASID). */
  supplierSystem?: string;
}

export type RagStatus = 'GREEN' | 'AMBER' | 'RED';

export interface DosCapacityRecord {
  status: RagStatus;
  /** The CheckCapacitySummary words for the same thing: High, Low, None. */
  human: 'High' | 'Low' | 'None';
  hex: string;
  /** When the status was last set (ISO 8601, UTC). */
  updated: string;
  /** When the DoS will put a non-green status back to green. */
  resetDateTime: string | null;
}

export interface DosServiceRecord {
  id: number;
  name: string;
  publicName: string;
  odsCode: string;
  serviceType: { id: number; name: string };
  address: { lines: string[]; town: string; postcode: string };
  location: { latitude: number; longitude: number };
  /** Services in one building share a site; the DoS still maps each as its own service. */
  siteId: string;
  endpoints: DosEndpointRecord[];
  /** Null when the status was last set more than 24 hours ago: the DoS REST API does not report stale RAGs. */
  capacity: DosCapacityRecord | null;
  attributes: { name: string; value: boolean | string }[];
  /** Age ranges the service accepts, in days as the DoS stores them. */
  ageRange: { daysFrom: number; daysTo: number }[];
}

const MINUTE = 60_000;
const CAPACITY_REPORTED_FOR_MS = 24 * 60 * MINUTE;
const ALL_AGES = { daysFrom: 0, daysTo: 47_481 }; // 0 to 129 years, the DoS's upper bound

const HUMAN: Record<RagStatus, DosCapacityRecord['human']> = { GREEN: 'High', AMBER: 'Low', RED: 'None' };
const HEX: Record<RagStatus, string> = { GREEN: '#00B050', AMBER: '#FFC000', RED: '#FF0000' };

// Post-event (handover) messages to urgent care services travel as ITK CDA documents, a second endpoint beside the
// booking one; listing it first makes consumers pick the booking endpoint by what it is, not by position.
const ITK_INTERACTION: Partial<Record<SeedService['type'], string>> = {
  ED: 'urn:nhs-itk:interaction:primaryEmergencyDepartmentRecipientNHS111CDADocument-v2-0',
  UTC: 'urn:nhs-itk:interaction:primaryEmergencyDepartmentRecipientNHS111CDADocument-v2-0',
  MIU: 'urn:nhs-itk:interaction:primaryEmergencyDepartmentRecipientNHS111CDADocument-v2-0',
  GP_OOH: 'urn:nhs-itk:interaction:primaryOutOfHourRecipientNHS111CDADocument-v2-0',
};

/**
 * The capacity status as the DoS holds it at `now`. Amber and red reset to green on their own at the reset time
 * (that reset is itself an update), and a status not updated for 24 hours is not reported at all.
 */
export function capacityAt(seed: SeedService['capacity'], startedAt: Date, now: Date): DosCapacityRecord | null {
  let status: RagStatus = seed.status;
  let updated = startedAt.getTime() - seed.setMinutesAgo * MINUTE;
  let resetAt = status !== 'GREEN' && seed.resetInMinutes !== undefined ? updated + seed.resetInMinutes * MINUTE : null;
  if (resetAt !== null && now.getTime() >= resetAt) {
    status = 'GREEN';
    updated = resetAt;
    resetAt = null;
  }
  if (now.getTime() - updated > CAPACITY_REPORTED_FOR_MS) return null;
  return {
    status,
    human: HUMAN[status],
    hex: HEX[status],
    updated: new Date(updated).toISOString(),
    resetDateTime: resetAt === null ? null : new Date(resetAt).toISOString(),
  };
}

function endpointsOf(s: SeedService): DosEndpointRecord[] {
  const base = Number(s.id.slice(-4)) * 10;
  const out: DosEndpointRecord[] = [];
  const itk = ITK_INTERACTION[s.type];
  if (itk) {
    out.push({
      id: base + 1, order: 1, transport: 'itk', format: 'CDA', interaction: itk, businessScenario: 'Primary',
      address: `ODS:${s.odsCode}`, comment: 'NHS 111 post-event message', isCompressionEnabled: false,
    });
  }
  if (s.endpoint) {
    out.push({
      id: base + 2, order: out.length + 1, transport: s.endpoint.transport, format: s.endpoint.format,
      interaction: s.endpoint.interaction, businessScenario: 'Primary', address: s.endpoint.address,
      comment: 'Appointment booking', isCompressionEnabled: false, supplierSystem: s.endpoint.supplierSystem,
    });
  }
  return out;
}

export function toDosRecord(s: SeedService, startedAt: Date, now: Date): DosServiceRecord {
  const type = SERVICE_TYPES[s.type];
  return {
    id: Number(s.id),
    name: s.name,
    publicName: s.name,
    odsCode: s.odsCode,
    serviceType: { id: type.id, name: type.name },
    address: { lines: [...s.address.lines], town: s.address.town, postcode: s.address.postcode },
    location: { latitude: s.lat, longitude: s.lon },
    siteId: s.siteId,
    endpoints: endpointsOf(s),
    capacity: capacityAt(s.capacity, startedAt, now),
    attributes: s.requireBooking ? [{ name: 'requirebooking', value: true }] : [],
    ageRange: [ALL_AGES],
  };
}
