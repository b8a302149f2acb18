/**
 * Slot → Schedule → Location (and PractitionerRole), from parsed records to services and slots. Pure: the same
 * records give the same snapshot, so slot ids stay stable from one poll to the next.
 *
 * What is decided here, because it needs more than one record:
 * - ids are looked up per resource type (a publisher may reuse a location id as a schedule id); a second
 *   Location or Schedule with an id already seen is skipped (references to it would be ambiguous);
 * - slots that share an id (some publishers give every slot its location's id) are all kept, each keyed by its
 *   schedule and start;
 * - several locations under one name get their town added, so a list of them can be told apart;
 * - a deep link shared by several slots, or pointing at a site's home page, is flagged as generic;
 * - a slot time whose offset is not the location's at that instant is flagged (not corrected: see checkOffset).
 */
import { IssueLog, recordIssue } from './issues.js';
import { compareCodeUnits } from '../../../common/code-units.js';
import type { LocationRecord } from './records/location.js';
import type { PractitionerRoleRecord } from './records/practitioner-role.js';
import type { ScheduleRecord } from './records/schedule.js';
import type { SlotRecord } from './records/slot.js';
import { NO_SERVICE_TYPE_CODE, serviceId } from './service-id.js';
import { checkOffset, formatOffset } from './timezone.js';
import type { FeedIssue, FeedResourceType, FeedService, FeedServiceType, FeedSlot } from './types.js';

export interface ParsedFeed {
  locations: readonly LocationRecord[];
  schedules: readonly ScheduleRecord[];
  practitionerRoles: readonly PractitionerRoleRecord[];
  /** Slot records per file, with when that file was last given or confirmed by the publisher. */
  slotFiles: readonly { fetchedAt: string; records: readonly SlotRecord[] }[];
}

export interface Joined {
  services: FeedService[];
  slots: FeedSlot[];
  issues: FeedIssue[];
}

interface Placement {
  service: FeedService;
  location: LocationRecord;
  practitioner: FeedSlot['practitioner'];
}

export function joinFeed(systemId: string, feed: ParsedFeed): Joined {
  const log = new IssueLog();
  const locations = firstById(feed.locations, 'Location', log);
  const roles = firstById(feed.practitionerRoles, 'PractitionerRole', log);
  const schedules = firstById(feed.schedules, 'Schedule', log);

  const services = new Map<string, FeedService>();
  const names = new Map<string, Set<string>>();
  const placements = new Map<string, Placement[]>();

  for (const s of schedules.values()) {
    const wanted = s.locationIds.length ? s.locationIds : s.practitionerRoleIds.flatMap((r) => roles.get(r)?.locationIds ?? []);
    const found = wanted.map((id) => locations.get(id)).filter((l): l is LocationRecord => !!l);
    const missing = wanted.filter((id) => !locations.has(id));
    if (found.length === 0) {
      log.add(recordIssue('unresolved-reference', 'skipped', 'Schedule', s.at, s.id, `no Location in the feed for ${wanted.length ? wanted.map((l) => `Location/${l}`).join(', ') : 'its actors'}; its slots cannot be placed`));
      continue;
    }
    if (missing.length) log.add(recordIssue('unresolved-reference', 'flagged', 'Schedule', s.at, s.id, `Location/${missing.join(', Location/')} not in the feed; used its other location(s)`));
    if (feed.practitionerRoles.length) {
      for (const r of s.practitionerRoleIds.filter((id) => !roles.has(id))) {
        log.add(recordIssue('unresolved-reference', 'flagged', 'Schedule', s.at, s.id, `PractitionerRole/${r} not in the feed; the actor's display used`));
      }
    }
    const practitioner = practitionerOf(s, roles);
    for (const location of found) {
      for (const st of s.serviceTypes) {
        const id = serviceId(systemId, location.id, st.code);
        let service = services.get(id);
        if (!service) {
          service = newService(id, systemId, location, st.code, st.type);
          services.set(id, service);
          names.set(id, new Set());
        }
        if (!service.scheduleIds.includes(s.id)) service.scheduleIds.push(s.id);
        if (st.name) names.get(id)!.add(st.name);
        placements.set(s.id, [...(placements.get(s.id) ?? []), { service, location, practitioner }]);
      }
    }
  }
  for (const [id, service] of services) {
    service.serviceTypeName = [...names.get(id)!].join(', ') || (service.serviceTypeCode === NO_SERVICE_TYPE_CODE ? 'Other' : service.serviceTypeCode);
  }
  disambiguateNames([...services.values()], log);

  const slots = placeSlots(feed, schedules, placements, log);
  // Starts are UTC instants of one format here (the published offsets are kept beside them), so text order is time
  // order. Code-unit order, not a locale's: the same on every machine, and a feed's thousands of slots sort without
  // a collator call per comparison.
  const slotsOrdered = slots.sort(
    (a, b) => compareCodeUnits(a.start, b.start) || compareCodeUnits(a.serviceId, b.serviceId) || compareCodeUnits(a.id, b.id),
  );
  return { services: [...services.values()], slots: slotsOrdered, issues: log.list() };
}

function newService(id: string, systemId: string, l: LocationRecord, code: string | null, type: FeedServiceType): FeedService {
  return {
    id,
    systemId,
    locationId: l.id,
    name: l.name,
    serviceType: type,
    serviceTypeCode: code ?? NO_SERVICE_TYPE_CODE,
    serviceTypeName: '',
    address: l.address,
    position: l.position,
    phone: l.phone,
    website: l.website,
    timeZone: l.timeZone,
    identifiers: l.identifiers,
    scheduleIds: [],
  };
}

/** The first record with each id; later ones are skipped, since a reference to the id could mean either. */
function firstById<T extends { id: string; at: { file: string; line: number } }>(records: readonly T[], type: FeedResourceType, log: IssueLog): Map<string, T> {
  const out = new Map<string, T>();
  for (const r of records) {
    const first = out.get(r.id);
    if (first) {
      log.add(recordIssue('duplicate-id', 'skipped', type, r.at, r.id, `${type}/${r.id} already given at ${first.at.file}:${first.at.line}; references cannot tell them apart, the first kept`));
    } else {
      out.set(r.id, r);
    }
  }
  return out;
}

function practitionerOf(s: ScheduleRecord, roles: Map<string, PractitionerRoleRecord>): FeedSlot['practitioner'] {
  for (const id of s.practitionerRoleIds) {
    const r = roles.get(id);
    if (r && (r.name || r.role)) return { name: r.name ?? s.practitionerDisplay, role: r.role };
  }
  return s.practitionerDisplay ? { name: s.practitionerDisplay, role: null } : null;
}

/**
 * Locations published under one name ("SMART Pharmacy" for every store) get their town added, or their first
 * address line when they share a town too, or their id as a last resort.
 */
function disambiguateNames(services: FeedService[], log: IssueLog): void {
  const byName = new Map<string, Map<string, FeedService[]>>();
  for (const s of services) {
    const key = s.name.trim().toLowerCase();
    const group = byName.get(key) ?? new Map<string, FeedService[]>();
    group.set(s.locationId, [...(group.get(s.locationId) ?? []), s]);
    byName.set(key, group);
  }
  for (const group of byName.values()) {
    if (group.size < 2) continue;
    const sites = [...group.values()];
    const first = sites[0]![0]!;
    const distinct = (f: (s: FeedService) => string | null | undefined) =>
      sites.every((g) => f(g[0]!)) && new Set(sites.map((g) => f(g[0]!))).size === sites.length;
    const [by, suffix]: [string, (s: FeedService) => string] = distinct((s) => s.address.city)
      ? ['town', (s) => s.address.city!]
      : distinct((s) => s.address.lines[0])
        ? ['first address line', (s) => s.address.lines[0]!]
        : ['town and address (or id)', (s) => [s.address.city, s.address.lines[0]].filter(Boolean).join(', ') || `site ${s.locationId}`];
    const shared = first.name;
    for (const g of sites) for (const s of g) s.name = `${s.name} (${suffix(s)})`;
    log.add({
      kind: 'shared-name',
      action: 'normalised',
      resourceType: 'Location',
      file: null,
      line: null,
      id: null,
      reason: `${sites.length} locations are all named "${shared}"; each given its ${by} in brackets`,
    });
  }
}

function placeSlots(feed: ParsedFeed, schedules: Map<string, ScheduleRecord>, placements: Map<string, Placement[]>, log: IssueLog): FeedSlot[] {
  const idCounts = new Map<string, number>();
  const linkUses = new Map<string, number>();
  for (const f of feed.slotFiles) {
    for (const r of f.records) {
      if (r.publishedId !== null) idCounts.set(r.publishedId, (idCounts.get(r.publishedId) ?? 0) + 1);
      if (r.bookingLink) linkUses.set(r.bookingLink, (linkUses.get(r.bookingLink) ?? 0) + 1);
    }
  }
  for (const [id, n] of idCounts) {
    if (n > 1) log.add(recordIssue('duplicate-id', 'normalised', 'Slot', null, id, `${n} slots share the id "${id}"; each keyed by its schedule and start`));
  }
  const generic = new Set<string>();
  for (const [link, n] of linkUses) {
    const landing = isLandingPage(link);
    if (n > 1 || landing) {
      generic.add(link);
      log.add(recordIssue('generic-deep-link', 'flagged', 'Slot', null, null, landing ? `deep link ${link} is a site's home page, not a slot` : `${n} slots share the deep link ${link}: it cannot lead to any one of them`));
    }
  }

  const out: FeedSlot[] = [];
  const keys = new Set<string>();
  for (const f of feed.slotFiles) {
    for (const r of f.records) {
      if (!schedules.has(r.scheduleId)) {
        log.add(recordIssue('unresolved-reference', 'skipped', 'Slot', r.at, r.publishedId, `Schedule/${r.scheduleId} is not in the feed`));
        continue;
      }
      const places = placements.get(r.scheduleId);
      if (!places) {
        log.add(recordIssue('unresolved-reference', 'skipped', 'Slot', r.at, r.publishedId, `Schedule/${r.scheduleId} has no location in the feed`));
        continue;
      }
      const id = slotKey(r, idCounts, keys);
      const start = new Date(r.start.ms).toISOString();
      const end = new Date(r.end.ms).toISOString();
      for (const p of places) {
        const suspect = offsetSuspect(r, p.location, log);
        out.push({
          id,
          publishedId: r.publishedId,
          scheduleId: r.scheduleId,
          serviceId: p.service.id,
          start,
          end,
          startOffset: r.start.offsetMinutes,
          endOffset: r.end.offsetMinutes,
          timeZone: p.service.timeZone,
          status: r.status,
          capacity: r.capacity,
          bookingLink: r.bookingLink,
          bookingLinkGeneric: r.bookingLink !== null && generic.has(r.bookingLink),
          bookingLinkShared: r.bookingLink !== null && (linkUses.get(r.bookingLink) ?? 0) > 1,
          bookingPhone: r.bookingPhone,
          practitioner: p.practitioner,
          coarse: r.coarse,
          offsetSuspect: suspect,
          capacityCoerced: r.capacityCoerced,
          placeholder: r.placeholder,
          phoneTruncated: r.phoneTruncated,
          fetchedAt: f.fetchedAt,
        });
      }
    }
  }
  return out;
}

/** The published id when no other slot has it; otherwise a key from the id, schedule and start (stable across polls). */
function slotKey(r: SlotRecord, idCounts: Map<string, number>, keys: Set<string>): string {
  let key = r.publishedId !== null && idCounts.get(r.publishedId) === 1 ? r.publishedId : `${r.publishedId ?? ''}~${r.scheduleId}~${new Date(r.start.ms).toISOString()}`;
  if (keys.has(key)) {
    let n = 2;
    while (keys.has(`${key}~${n}`)) n++;
    key = `${key}~${n}`;
  }
  keys.add(key);
  return key;
}

/**
 * True when the slot's start or end is written with an offset the location's zone did not have at that instant.
 * Not corrected: "09:00-05:00" on a July day in Boston could be 09:00 local with the winter offset pasted on (the
 * usual bug), or a correct instant rendered in the wrong offset (10:00 local). One record cannot say which, and
 * moving a slot by an hour on a guess is worse than showing it as published and saying so.
 * A time written in UTC is never flagged: the spec allows UTC, so a publisher that labels local clock times `Z`
 * cannot be told from one that means it (the general-appointments data's primary-care slots start at 08:00Z,
 * 03:00 or 04:00 in Boston, which looks like exactly that; only a human can say).
 */
function offsetSuspect(r: SlotRecord, l: LocationRecord, log: IssueLog): boolean {
  if (!l.timeZone) return false;
  for (const t of [r.start, r.end]) {
    const v = checkOffset(l.timeZone, t.ms, t.offsetMinutes);
    if (!v.ok) {
      log.add(
        recordIssue(
          'wrong-offset',
          'flagged',
          'Slot',
          r.at,
          r.publishedId,
          `${t.written} is written at ${formatOffset(t.offsetMinutes)} but ${l.timeZone} is at ${formatOffset(v.expected)} then` +
            (v.dst ? ' (the other side of daylight saving)' : '') +
            '; kept as published, may be an hour out',
        ),
      );
      return true;
    }
  }
  return false;
}

function isLandingPage(link: string): boolean {
  try {
    const u = new URL(link);
    return (u.pathname === '/' || u.pathname === '') && u.search === '';
  } catch {
    return false;
  }
}
