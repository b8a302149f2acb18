/**
 * What feed ingest hands its users (the smart-links subgraph for slots, the directory for services). Everything here
 * is plain, immutable data: a snapshot is built whole and replaced whole, never patched in place, so a request that
 * holds one sees a consistent feed however long it takes.
 */
import type { UpstreamReason } from '../../../common/upstream.js';

/** The resource types ingest understands. Anything else a manifest lists (Device, HealthcareService...) is ignored, as the spec requires. */
export type FeedResourceType = 'Location' | 'Schedule' | 'PractitionerRole' | 'Slot';
export const FEED_RESOURCE_TYPES: readonly FeedResourceType[] = ['Location', 'Schedule', 'PractitionerRole', 'Slot'];

/** Our service types a feed's HL7 service-type codes map to (a subset of the directory's ServiceType). */
export type FeedServiceType = 'URGENT_TREATMENT_CENTRE' | 'GENERAL_PRACTICE' | 'VACCINATION' | 'DIAGNOSTIC_IMAGING' | 'OTHER';

/**
 * Something wrong (or tolerated) in the feed, tied to the record it came from. `action` says what ingest did:
 * `normalised` (the value was repaired and used), `flagged` (used as published, but not to be trusted blindly),
 * `skipped` (this one record, or this one file, was left out; the rest of the feed was not).
 */
export interface FeedIssue {
  kind: FeedIssueKind;
  action: 'normalised' | 'flagged' | 'skipped';
  /** The resource type of the record, or 'Manifest'. */
  resourceType: FeedResourceType | 'Manifest';
  /** The file's name (last path segment of its URL). */
  file: string | null;
  /** 1-based line in the file; null for issues about a whole file or several records. */
  line: number | null;
  /** The record's id as published, when it had one. */
  id: string | null;
  /** Human-readable, for logs and operators; never contains patient data (feeds hold none). */
  reason: string;
}

export type FeedIssueKind =
  /** A line that is not JSON, or not a JSON object. */
  | 'invalid-json'
  /** A line too long to be a single resource (guards memory against a file with no line breaks). */
  | 'line-too-long'
  /** A resource of another type than its file, or with no resourceType. */
  | 'wrong-type'
  /** A required element missing, empty or null. */
  | 'missing-field'
  /** A value of the wrong JSON type that could be read anyway (a number as a string, a bare string for an array). */
  | 'coerced'
  /** An impossible value: end before start, negative capacity, a status outside the value set, a non-URL link. */
  | 'invalid-value'
  /** An id used by more than one resource of the same type. */
  | 'duplicate-id'
  /** A reference to a resource that is not in the feed. */
  | 'unresolved-reference'
  /** A placeholder where a real value belongs ("unknown", "null", "N/A", position 0,0). */
  | 'placeholder'
  /** A coding whose system is not the code system its code and display belong to. */
  | 'unknown-coding-system'
  /** A code that is not in the code system it claims. */
  | 'unknown-code'
  /** A slot time whose UTC offset is not the location's offset at that instant (often winter time in summer). */
  | 'wrong-offset'
  /** A "slot" spanning several days. */
  | 'coarse-slot'
  /** A US ZIP code that lost its leading zero(s). */
  | 'postal-code'
  /** Several locations published under one name, so the name alone does not say which site. */
  | 'shared-name'
  /** A booking deep link that leads to a generic page, not to the slot. */
  | 'generic-deep-link'
  /** Something in the manifest: a bare-string state, a trailing slash, a missing transactionTime, publisher errors. */
  | 'manifest'
  /** A file the manifest lists that the publisher does not serve (404/410). */
  | 'missing-file'
  /** More issues of one kind in one file than are worth listing; this one counts the rest. */
  | 'suppressed';

export interface FeedAddress {
  lines: string[];
  city: string | null;
  district: string | null;
  state: string | null;
  postalCode: string | null;
  country: string | null;
}

/**
 * One service as a DoS-style directory sees it: a location and one service type offered there. A site offering
 * walk-in care and imaging is two services, as the DoS maps each service type at a site separately.
 */
export interface FeedService {
  /** `smart:<systemId>:<locationId>:<serviceTypeCode>` (see serviceId()). */
  id: string;
  systemId: string;
  locationId: string;
  /** The location's name, with its town added when several locations share one name. */
  name: string;
  serviceType: FeedServiceType;
  /** The service-type code as published; `other` when the feed gave none. */
  serviceTypeCode: string;
  /** The coding's display (or the concept's text), as published. */
  serviceTypeName: string;
  address: FeedAddress;
  /** WGS84; null when the Location has no usable `position` (neither shared data set has one). */
  position: { lat: number; lon: number } | null;
  /** Enquiries number from Location.telecom (not a booking line). */
  phone: string | null;
  /** Web page from Location.telecom. */
  website: string | null;
  /** IANA zone of the location, when it can be known (timezone extension, UK, or a single-zone US state). */
  timeZone: string | null;
  /** Location identifiers with placeholders removed. */
  identifiers: { system: string | null; value: string }[];
  /** Ids of the feed's Schedules behind this service. */
  scheduleIds: string[];
}

/** One slot of one service. A slot whose schedule serves several services appears once per service. */
export interface FeedSlot {
  /**
   * Unique among the snapshot's slots (per service): the published id when it is unique, otherwise a key made from
   * it, the schedule and the start, since some publishers give every slot the same id.
   */
  id: string;
  /** The id as published (null when the publisher gave none). */
  publishedId: string | null;
  scheduleId: string;
  serviceId: string;
  /** UTC instants (ISO 8601, `Z`), read from the published times with their own offsets: what sorting compares. */
  start: string;
  end: string;
  /** The UTC offsets (minutes east) the publisher wrote start and end with: what the client is shown. */
  startOffset: number;
  endOffset: number;
  /** IANA zone of the slot's location, when known (FeedService.timeZone). */
  timeZone: string | null;
  status: FeedSlotStatus;
  /** From slot-capacity; null when not published (or not a sane number). */
  capacity: number | null;
  bookingLink: string | null;
  /** True when the deep link goes to a generic page rather than this slot: shared by several slots, or a home page. */
  bookingLinkGeneric: boolean;
  /** True when several slots share the deep link (so it is generic). */
  bookingLinkShared: boolean;
  bookingPhone: string | null;
  practitioner: { name: string | null; role: string | null } | null;
  /** 'day' for a session of four hours or more within a day; 'multi-day' for one "slot" spanning days. */
  coarse: 'day' | 'multi-day' | null;
  /** True when the published offset is not the location's at that instant: the time may be an hour out. */
  offsetSuspect: boolean;
  /** slot-capacity was published as text (read as a number). */
  capacityCoerced: boolean;
  /** The slot's id is missing or placeholder text, or its booking phone is all zeros. */
  placeholder: boolean;
  /** The booking phone has too few digits to dial. */
  phoneTruncated: boolean;
  /** When the publisher last gave or confirmed the file this slot came from. */
  fetchedAt: string;
}

export type FeedSlotStatus = 'free' | 'busy' | 'busy-tentative' | 'busy-unavailable' | 'entered-in-error';

/** One file the snapshot was built from. */
export interface FeedFile {
  type: FeedResourceType;
  url: string;
  /** When its content was last downloaded (200). */
  downloadedAt: string;
  /** When the publisher last gave or confirmed it (200, 304, or a 304 on the manifest). */
  fetchedAt: string;
  /** Records read from it (null when the publisher no longer serves it). */
  records: number | null;
}

/** Why a snapshot is older than it should be: the last refresh failed, and this is the one before it. */
export interface FeedStaleness {
  /** When the first failing refresh after the last good one was tried. */
  since: string;
  reason: UpstreamReason;
  /** For logs only. */
  detail: string | null;
}

export interface FeedSnapshot {
  systemId: string;
  manifestUrl: string;
  /** The publisher's transactionTime, when it was a valid instant. */
  transactionTime: string | null;
  /** When the publisher last answered the manifest (200 or 304). */
  checkedAt: string;
  services: readonly FeedService[];
  /** Every slot, earliest first. Empty when the reader was told not to fetch Slot files. */
  slots: readonly FeedSlot[];
  servicesById: ReadonlyMap<string, FeedService>;
  /** Slots per service id, earliest first. */
  slotsByService: ReadonlyMap<string, readonly FeedSlot[]>;
  files: readonly FeedFile[];
  issues: readonly FeedIssue[];
  /** Null when the last refresh succeeded. */
  stale: FeedStaleness | null;
}
