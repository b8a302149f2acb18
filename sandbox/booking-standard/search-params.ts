/**
 * Slot search parameters (spec §2.3), parsed strictly where the standard is precise and leniently where the sources
 * disagree: malformed values are a 400, unknown parameters are ignored, and every published `_include` spelling is
 * understood.
 */
import { badParameter } from './errors.js';
import type { StartWindow } from './slot-store.js';

export const SERVICE_PARAM = 'schedule.actor:healthcareservice';
export const PAGE_PARAM = '_page';
export const DEFAULT_COUNT = 50;
export const MAX_COUNT = 100;

/** The include relations understood, in canonical (STU3 colon) form. */
export type IncludeTarget =
  | 'Slot:schedule'
  | 'Schedule:actor:HealthcareService'
  | 'Schedule:actor:Practitioner'
  | 'Schedule:actor:PractitionerRole'
  | 'Schedule:actor:Location'
  | 'HealthcareService:providedBy'
  | 'HealthcareService:location';

export interface SlotSearch {
  serviceId: string;
  /** Slot statuses wanted; null = any. */
  statuses: ReadonlySet<string> | null;
  window: StartWindow;
  includes: ReadonlySet<IncludeTarget>;
  /** Page size after capping; 0 = count only. */
  count: number;
  /** Continue after this slot (from a `next` link). */
  after?: PageCursor;
}

export interface PageCursor {
  startMs: number;
  id: string;
}

/** STU3 SlotStatus codes; searching on any of them is valid even though this diary only uses free and busy. */
const SLOT_STATUSES = new Set(['busy', 'free', 'busy-unavailable', 'busy-tentative', 'entered-in-error']);
const SLOT_STATUS_SYSTEM = 'http://hl7.org/fhir/slotstatus';
const INCLUDE_PARAMS = ['_include', '_include:recurse', '_include:iterate'];

export function parseSlotSearch(query: URLSearchParams, nowMs: number): SlotSearch {
  return {
    serviceId: parseService(query),
    statuses: parseStatuses(query),
    window: parseStartWindow(query.getAll('start'), nowMs),
    includes: parseIncludes(query),
    count: parseCount(query.get('_count')),
    ...cursorPart(query.get(PAGE_PARAM)),
  };
}

function parseService(query: URLSearchParams): string {
  const values = query.getAll(SERVICE_PARAM);
  if (values.length === 0) {
    throw badParameter(SERVICE_PARAM, `Missing required search parameter ${SERVICE_PARAM} (the DoS service id)`);
  }
  if (values.length > 1) throw badParameter(SERVICE_PARAM, `${SERVICE_PARAM} may be given only once`);
  // A reference parameter may name the type; the bare DoS id is what the standard sends.
  const value = values[0]!.trim().replace(/^HealthcareService\//, '');
  if (value.includes(',')) throw badParameter(SERVICE_PARAM, `${SERVICE_PARAM} takes one service id per search`);
  if (!/^[A-Za-z0-9\-.]{1,64}$/.test(value)) {
    throw badParameter(SERVICE_PARAM, `${SERVICE_PARAM} must be a service id, got "${values[0]}"`);
  }
  return value;
}

/** Comma-separated values are OR (free,busy); repeating the parameter is AND, as everywhere in FHIR search. */
function parseStatuses(query: URLSearchParams): Set<string> | null {
  let result: Set<string> | null = null;
  for (const raw of query.getAll('status')) {
    const before: Set<string> | null = result;
    const set = new Set<string>();
    for (const token of raw.split(',')) {
      const code = token.trim().replace(`${SLOT_STATUS_SYSTEM}|`, '');
      if (!SLOT_STATUSES.has(code)) {
        throw badParameter('status', `Unknown slot status "${token}"; expected one of ${[...SLOT_STATUSES].join(', ')}`);
      }
      set.add(code);
    }
    result = before ? new Set([...before].filter((s) => set.has(s))) : set;
  }
  return result;
}

// yyyy-mm-ddThh:mm:ss+hh:mm exactly (spec §2.3): seconds present, no fraction, explicit numeric offset.
const START_VALUE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})([+-])(\d{2}):(\d{2})$/;

/**
 * `start` is repeated: lower bound ge/gt, upper bound le/lt. Several bounds on one side narrow the window. Both
 * bounds in the past is a 400 (UEC er_overview.md); a past lower bound alone is fine.
 */
export function parseStartWindow(values: string[], nowMs: number): StartWindow {
  const window: StartWindow = {};
  for (const raw of values) {
    const prefix = raw.slice(0, 2);
    if (!['ge', 'gt', 'le', 'lt'].includes(prefix)) {
      throw badParameter('start', `start="${raw}": a prefix ge, gt, le or lt is required`);
    }
    const ms = parseInstant(raw.slice(2), raw);
    if (prefix === 'ge' || prefix === 'gt') {
      const inclusive = prefix === 'ge';
      if (!window.lower || ms > window.lower.ms || (ms === window.lower.ms && !inclusive)) window.lower = { ms, inclusive };
    } else {
      const inclusive = prefix === 'le';
      if (!window.upper || ms < window.upper.ms || (ms === window.upper.ms && !inclusive)) window.upper = { ms, inclusive };
    }
  }
  if (window.lower && window.upper && window.lower.ms > window.upper.ms) {
    throw badParameter('start', 'The start window is empty: its lower bound is after its upper bound');
  }
  if (window.upper && window.upper.ms < nowMs) {
    throw badParameter('start', 'Both bounds of the start window are in the past; no slot there can be booked');
  }
  return window;
}

function parseInstant(text: string, raw: string): number {
  const m = START_VALUE.exec(text);
  if (!m) {
    // Name the usual culprits: they are what a consumer built on Date.toISOString() or a naive URL builder sends.
    let hint = 'expected yyyy-mm-ddThh:mm:ss+hh:mm';
    if (/ \d{2}:\d{2}$/.test(text)) hint += "; the offset's '+' arrived as a space, so it must be sent percent-encoded (%2B)";
    else if (/Z$/.test(text)) hint += '; write UTC as +00:00, not Z';
    else if (/\.\d+/.test(text)) hint += '; fractional seconds are not accepted';
    throw badParameter('start', `start="${raw}" is not a valid date-time: ${hint}`);
  }
  const [y, mo, d, h, mi, s, sign, oh, om] = [...m.slice(1, 7).map(Number), m[7], Number(m[8]), Number(m[9])] as [
    number, number, number, number, number, number, string, number, number,
  ];
  const local = Date.UTC(y, mo - 1, d, h, mi, s);
  const check = new Date(local);
  const valid =
    check.getUTCFullYear() === y && check.getUTCMonth() === mo - 1 && check.getUTCDate() === d &&
    h < 24 && mi < 60 && s < 60 && oh <= 14 && om < 60;
  if (!valid) throw badParameter('start', `start="${raw}" is not a real date and time`);
  const offset = (sign === '-' ? -1 : 1) * (oh * 60 + om);
  return local - offset * 60_000;
}

/**
 * Includes in every published spelling (spec §2.3, §10.2): `_include`, `_include:recurse` (STU3) and
 * `_include:iterate` (R4); `Source:param[:Target]` or `Source.param`; and the 2.0.4 text's target-type-as-parameter
 * forms (`HealthcareService:Organization`, `HealthcareService:Location`). Unknown values are ignored, never an error.
 */
function parseIncludes(query: URLSearchParams): Set<IncludeTarget> {
  const out = new Set<IncludeTarget>();
  for (const name of INCLUDE_PARAMS) {
    for (const value of query.getAll(name)) for (const t of includeTargets(value)) out.add(t);
  }
  return out;
}

export function includeTargets(value: string): IncludeTarget[] {
  const [source, param, target, ...rest] = value.trim().split(/[:.]/).map((p) => p.toLowerCase());
  if (rest.length > 0 || !source || !param) return [];
  if (source === 'slot' && param === 'schedule' && (!target || target === 'schedule')) return ['Slot:schedule'];
  if (source === 'schedule' && param === 'actor') {
    const actors: Record<string, IncludeTarget> = {
      healthcareservice: 'Schedule:actor:HealthcareService',
      practitioner: 'Schedule:actor:Practitioner',
      practitionerrole: 'Schedule:actor:PractitionerRole',
      location: 'Schedule:actor:Location',
    };
    if (!target) return Object.values(actors);
    return actors[target] ? [actors[target]] : [];
  }
  if (source === 'healthcareservice') {
    if ((param === 'providedby' || param === 'organization') && (!target || target === 'organization')) return ['HealthcareService:providedBy'];
    if (param === 'location' && (!target || target === 'location')) return ['HealthcareService:location'];
  }
  return [];
}

function parseCount(raw: string | null): number {
  if (raw === null || raw === '') return DEFAULT_COUNT;
  if (!/^\d+$/.test(raw)) throw badParameter('_count', `_count must be a non-negative integer, got "${raw}"`);
  // A server may return fewer than asked (FHIR search paging); this one caps pages at MAX_COUNT.
  return Math.min(Number(raw), MAX_COUNT);
}

export function encodeCursor(c: PageCursor): string {
  return Buffer.from(`${c.startMs}~${c.id}`, 'utf8').toString('base64url');
}

function cursorPart(raw: string | null): { after?: PageCursor } {
  if (raw === null) return {};
  const text = /^[A-Za-z0-9_-]+$/.test(raw) ? Buffer.from(raw, 'base64url').toString('utf8') : '';
  const m = /^(\d{1,15})~([A-Za-z0-9\-.]{1,64})$/.exec(text);
  if (!m) throw badParameter(PAGE_PARAM, `${PAGE_PARAM} is not a page token this server issued`);
  return { after: { startMs: Number(m[1]), id: m[2]! } };
}
