/**
 * What a Slot Provider system knows besides its slots: the services it holds (keyed by DoS service id), the
 * organisations and sites behind them, and its schedules (diaries) with their rotas and clinicians. Pure data derived
 * from the shared seed, so a service id means the same thing here as in the directory simulator.
 *
 * Rotas are written in UK local wall-clock time, as a rota manager would write them; diary.ts turns them into
 * instants. All names of people are fictional.
 */
import { SEED_SERVICES, type SeedService } from '../seed/services.js';
import { seededRandom } from './prng.js';
import type { TenantId } from './tenants.js';

export type DeliveryChannel = 'In-person' | 'Telephone' | 'Video';

/** A session in local time, `HH:MM`. An `end` at or before `start` means the next day (overnight, or 24 h). */
export interface Shift {
  start: string;
  end: string;
}

export interface Rota {
  /** Monday to Friday. */
  weekday: Shift[];
  /** Saturday and Sunday. */
  weekend: Shift[];
}

/** Slots starting in [from, to) local time are held back for the listed consumer organisations only. */
export interface Reservation {
  from: string;
  to: string;
  odsCodes: string[];
  why: string;
}

export interface ScheduleDef {
  id: string;
  /** The DoS service the diary belongs to (its first HealthcareService actor). */
  serviceId: string;
  /**
   * Further DoS services the provider maps this same diary to (Schedule.actor names each HealthcareService): a search
   * for any of them returns the same Slots, with the same ids, and a booking through any of them takes the one slot.
   */
  alsoServiceIds?: string[];
  name: string;
  slotMinutes: number;
  rota: Rota;
  /** Actors besides the HealthcareService (always present: assurance P13). */
  practitionerId?: string;
  practitionerRoleId?: string;
  locationId?: string;
  /** Weighted delivery channels; `null` = slot carries no delivery-channel extension. Absent = never carried. */
  channels?: Array<[DeliveryChannel | null, number]>;
  reservations?: Reservation[];
}

export interface OrganizationDef {
  id: string;
  odsCode: string;
  name: string;
}

export interface LocationDef {
  id: string;
  siteCode: string;
  name: string;
  address: SeedService['address'];
  lat: number;
  lon: number;
  organizationId: string;
}

export interface PractitionerDef {
  id: string;
  prefix: string[];
  given: string;
  family: string;
  gender: 'male' | 'female';
  sdsUserId: string;
  sdsRoleProfileId: string;
}

export interface PractitionerRoleDef {
  id: string;
  practitionerId: string;
  organizationId: string;
  /** CareConnect-SDSJobRoleName-1 code and display. */
  code: string;
  display: string;
  /** What the role is called locally. */
  text: string;
}

export interface ServiceDef {
  seed: SeedService;
  organizationId: string;
  locationId: string;
  scheduleIds: string[];
}

export interface Catalogue {
  tenantId: TenantId;
  services: Map<string, ServiceDef>;
  schedules: Map<string, ScheduleDef>;
  organizations: Map<string, OrganizationDef>;
  locations: Map<string, LocationDef>;
  practitioners: Map<string, PractitionerDef>;
  practitionerRoles: Map<string, PractitionerRoleDef>;
}

// ---- reference data ---------------------------------------------------------------------------------------------

/** Providing organisations by ODS organisation code (the first three characters of a trust site code). */
const ORGANISATION_NAMES: Record<string, string> = {
  RR8: 'Leeds Teaching Hospitals NHS Trust',
  RY6: 'Leeds Community Healthcare NHS Trust',
  NLK: 'Leeds Out of Hours GP Co-operative',
  RA7: 'University Hospitals Bristol and Weston NHS Foundation Trust',
  RVJ: 'North Bristol NHS Trust',
  NLX: 'BrisDoc Healthcare Services',
  RM1: 'Norfolk and Norwich University Hospitals NHS Foundation Trust',
  RY3: 'Norfolk Community Health and Care NHS Trust',
  NLY: 'Norfolk Out of Hours GP Service',
  RGP: 'James Paget University Hospitals NHS Foundation Trust',
};

const SITE_NAMES: Record<string, string> = {
  'site-ls9-sjuh': "St James's University Hospital",
  'site-ls1-lgi': 'Leeds General Infirmary',
  'site-ls10-stg': "St George's Centre",
  'site-ls21-wharf': 'Wharfedale Hospital',
  'site-ls14-seacroft': 'Seacroft Hospital',
  'site-bs2-bri': 'Bristol Royal Infirmary',
  'site-bs14-hengrove': 'South Bristol Community Hospital',
  'site-bs37-yate': 'Yate West Gate Centre',
  'site-bs15-cossham': 'Cossham Hospital',
  'site-bs5-eastgate': 'Eastgate Centre',
  'site-nr4-nnuh': 'Norfolk and Norwich University Hospital',
  'site-nr1-rouen': 'Rouen House',
  'site-nr27-cromer': 'Cromer Hospital',
  'site-nr28-nwalsham': 'North Walsham Hospital',
  'site-nr31-jpuh': 'James Paget University Hospital',
};

/** GP out-of-hours clinicians per service: two GPs and an advanced nurse practitioner (fictional people). */
const OOH_CLINICIANS: Record<string, Array<{ key: string; prefix: string[]; given: string; family: string; gender: 'male' | 'female' }>> = {
  '1402000103': [
    { key: 'gp1', prefix: ['Dr'], given: 'Priya', family: 'Raman', gender: 'female' },
    { key: 'gp2', prefix: ['Dr'], given: 'Thomas', family: 'Ashworth', gender: 'male' },
    { key: 'anp1', prefix: ['Mrs'], given: 'Hannah', family: 'Whitfield', gender: 'female' },
  ],
  '1403000202': [
    { key: 'gp1', prefix: ['Dr'], given: 'Olumide', family: 'Adeyemi', gender: 'male' },
    { key: 'gp2', prefix: ['Dr'], given: 'Catherine', family: 'Hale', gender: 'female' },
    { key: 'anp1', prefix: ['Mr'], given: 'Marcus', family: 'Bell', gender: 'male' },
  ],
  '1403000208': [
    { key: 'gp1', prefix: ['Dr'], given: 'Fiona', family: 'McAllister', gender: 'female' },
    { key: 'gp2', prefix: ['Dr'], given: 'Rhys', family: 'Morgan', gender: 'male' },
    { key: 'anp1', prefix: ['Ms'], given: 'Joanne', family: 'Pike', gender: 'female' },
  ],
  '1404000303': [
    { key: 'gp1', prefix: ['Dr'], given: 'Samuel', family: 'Okoro', gender: 'male' },
    { key: 'gp2', prefix: ['Dr'], given: 'Eleanor', family: 'Blake', gender: 'female' },
    { key: 'anp1', prefix: ['Mrs'], given: 'Lucy', family: 'Harrold', gender: 'female' },
  ],
};

const ALL_DAY: Shift[] = [{ start: '00:00', end: '00:00' }];

/**
 * St James's ED releases timed-arrival slots to everyone except in two sessions a day that are allocated to
 * NHS 111 (ODS RX8) alone: a real arrangement where a trust ring-fences capacity for 111 referrals.
 */
const RESTRICTED_SESSIONS: Record<string, Reservation[]> = {
  '1402000101': [
    { from: '10:00', to: '14:00', odsCodes: ['RX8'], why: 'late-morning timed arrivals ring-fenced for NHS 111' },
    { from: '18:00', to: '22:00', odsCodes: ['RX8'], why: 'evening timed arrivals ring-fenced for NHS 111' },
  ],
};

/**
 * Diaries the provider maps to more than one DoS service, as the DoS lists services in one building separately. At
 * Norfolk and Norwich the UTC's appointment diary is also the ED's: the ED streams patients who can be seen in the
 * co-located UTC there, so its DoS service is mapped to that diary as well as to its own timed arrivals.
 */
const SHARED_DIARIES: Record<string, string[]> = {
  'sch-1404000302-main': ['1404000301'],
};

/** Held by the provider but with nothing released: searches answer 200 with an empty bundle, not 404. */
const NO_SLOTS_RELEASED = new Set(['1404000305']);

// ---- building ---------------------------------------------------------------------------------------------------

export function buildCatalogue(tenantId: TenantId): Catalogue {
  const c: Catalogue = {
    tenantId,
    services: new Map(),
    schedules: new Map(),
    organizations: new Map(),
    locations: new Map(),
    practitioners: new Map(),
    practitionerRoles: new Map(),
  };
  for (const seed of SEED_SERVICES) {
    if (seed.endpoint?.supplierSystem !== tenantId) continue;
    const org = organisationFor(seed);
    if (!c.organizations.has(org.id)) c.organizations.set(org.id, org);
    const loc = locationFor(seed, org.id);
    // Services in one building share the Location, so an include returns it once for all of them.
    if (!c.locations.has(loc.id)) c.locations.set(loc.id, loc);
    const schedules = schedulesFor(seed, org.id, loc.id, c);
    for (const s of schedules) c.schedules.set(s.id, s);
    c.services.set(seed.id, { seed, organizationId: org.id, locationId: loc.id, scheduleIds: schedules.map((s) => s.id) });
  }
  for (const [scheduleId, others] of Object.entries(SHARED_DIARIES)) {
    const schedule = c.schedules.get(scheduleId);
    const mapped = others.filter((id) => c.services.has(id));
    if (!schedule || mapped.length === 0) continue;
    schedule.alsoServiceIds = mapped;
    for (const id of mapped) c.services.get(id)!.scheduleIds.push(scheduleId);
  }
  return c;
}

function organisationFor(seed: SeedService): OrganizationDef {
  const odsCode = seed.odsCode.slice(0, 3);
  return { id: `org-${odsCode}`, odsCode, name: ORGANISATION_NAMES[odsCode] ?? `Organisation ${odsCode}` };
}

function locationFor(seed: SeedService, organizationId: string): LocationDef {
  return {
    id: `loc-${seed.siteId.replace(/^site-/, '')}`,
    siteCode: seed.odsCode,
    name: SITE_NAMES[seed.siteId] ?? `${seed.address.lines[0] ?? seed.name}, ${seed.address.town}`,
    address: seed.address,
    lat: seed.lat,
    lon: seed.lon,
    organizationId,
  };
}

function schedulesFor(seed: SeedService, organizationId: string, locationId: string, c: Catalogue): ScheduleDef[] {
  const base = { serviceId: seed.id, locationId };
  if (NO_SLOTS_RELEASED.has(seed.id)) {
    return [{ ...base, id: `sch-${seed.id}-main`, name: 'Walk-in appointments (none released)', slotMinutes: 20, rota: { weekday: [], weekend: [] } }];
  }
  switch (seed.type) {
    case 'ED':
      return [{
        ...base,
        id: `sch-${seed.id}-ta`,
        name: 'ED timed arrivals',
        slotMinutes: 30,
        rota: { weekday: ALL_DAY, weekend: ALL_DAY },
        reservations: RESTRICTED_SESSIONS[seed.id],
      }];
    case 'UTC':
      return [{
        ...base,
        id: `sch-${seed.id}-main`,
        name: 'Urgent treatment centre appointments',
        slotMinutes: 15,
        rota: { weekday: [{ start: '08:00', end: '22:00' }], weekend: [{ start: '08:00', end: '22:00' }] },
      }];
    case 'MIU':
      return [{
        ...base,
        id: `sch-${seed.id}-main`,
        name: 'Minor injuries appointments',
        slotMinutes: 20,
        rota: { weekday: [{ start: '08:00', end: '20:00' }], weekend: [{ start: '08:00', end: '20:00' }] },
      }];
    case 'GP_OOH':
      return gpOutOfHoursSchedules(seed, organizationId, c);
    default:
      return [];
  }
}

/**
 * GP out-of-hours: the period 18:30–08:00 on weekdays and all weekend, covered by clinician diaries. Between them
 * the rotas cover the whole out-of-hours period; each diary is one clinician's.
 */
function gpOutOfHoursSchedules(seed: SeedService, organizationId: string, c: Catalogue): ScheduleDef[] {
  const people = OOH_CLINICIANS[seed.id] ?? [];
  const rotas: Record<string, Pick<ScheduleDef, 'name' | 'slotMinutes' | 'rota' | 'channels'>> = {
    // Evening / daytime base GP: mostly face to face.
    gp1: {
      name: 'GP base appointments',
      slotMinutes: 10,
      rota: { weekday: [{ start: '18:30', end: '23:00' }], weekend: [{ start: '08:00', end: '20:00' }] },
      channels: [['In-person', 5], ['Video', 2], [null, 3]],
    },
    // Overnight GP: telephone consultations.
    gp2: {
      name: 'GP overnight consultations',
      slotMinutes: 15,
      rota: { weekday: [{ start: '23:00', end: '08:00' }], weekend: [{ start: '20:00', end: '08:00' }] },
      channels: [['Telephone', 7], [null, 3]],
    },
    // ANP: the whole out-of-hours period, across midnight and (at weekends) the clock change.
    anp1: {
      name: 'Advanced nurse practitioner clinic',
      slotMinutes: 15,
      rota: { weekday: [{ start: '18:30', end: '08:00' }], weekend: [{ start: '08:00', end: '08:00' }] },
      channels: [['Telephone', 6], ['Video', 2], ['In-person', 2]],
    },
  };
  return people.map((p) => {
    const practitionerId = `pra-${seed.id}-${p.key}`;
    const practitionerRoleId = `prr-${seed.id}-${p.key}`;
    const isGp = p.key.startsWith('gp');
    c.practitioners.set(practitionerId, {
      id: practitionerId,
      prefix: p.prefix,
      given: p.given,
      family: p.family,
      gender: p.gender,
      sdsUserId: digits(`${seed.id}|${p.key}|user`, 12),
      sdsRoleProfileId: digits(`${seed.id}|${p.key}|role`, 12),
    });
    c.practitionerRoles.set(practitionerRoleId, {
      id: practitionerRoleId,
      practitionerId,
      organizationId,
      // R0260 is the SDS job role for a GP. SDS has no dedicated ANP job role in the CareConnect list; R8000
      // (Clinical Practitioner Access Role) is the RBAC role that covers nurse practitioners.
      code: isGp ? 'R0260' : 'R8000',
      display: isGp ? 'General Medical Practitioner' : 'Clinical Practitioner Access Role',
      text: isGp ? 'General Practitioner' : 'Advanced Nurse Practitioner',
    });
    const r = rotas[p.key]!;
    // Clinician diaries name the clinician instead of the site: Schedule.actor allows at most three entries.
    return { id: `sch-${seed.id}-${p.key}`, serviceId: seed.id, practitionerId, practitionerRoleId, ...r };
  });
}

/** A stable n-digit number derived from a name (SDS ids look like 12-digit numbers; no leading zero). */
function digits(name: string, n: number): string {
  const next = seededRandom(name);
  let out = String(1 + Math.floor(next() * 9));
  while (out.length < n) out += String(Math.floor(next() * 10));
  return out;
}
