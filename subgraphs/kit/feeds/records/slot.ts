/**
 * Slot lines. A slot is skipped only when it cannot be placed or timed: no schedule reference, no status, no
 * readable start or end, or an end not after its start. Everything else (capacity as a string, a negative
 * capacity, a link that is not a URL, a capitalised status) is repaired or dropped, and the slot kept.
 */
import type { RecordAt } from '../issues.js';
import type { FeedSlotStatus } from '../types.js';
import { httpUrl, instant, integer, isPlaceholder, list, logicalId, object, text, type Instant, type Note } from '../values.js';
import { isParsed, open, type Parsed } from './common.js';
import { DAY_MS, SESSION_MS } from '../../slot-model.js';

export interface SlotRecord {
  publishedId: string | null;
  at: RecordAt;
  scheduleId: string;
  status: FeedSlotStatus;
  start: Instant;
  end: Instant;
  capacity: number | null;
  bookingLink: string | null;
  bookingPhone: string | null;
  coarse: 'day' | 'multi-day' | null;
  /** slot-capacity was published as text and read as a number. */
  capacityCoerced: boolean;
  /** The slot's id is missing or placeholder text, or its booking phone is all zeros. */
  placeholder: boolean;
  /** The booking phone has too few digits to be a whole number (see isTruncatedPhone). */
  phoneTruncated: boolean;
}

const STATUSES: ReadonlySet<string> = new Set<FeedSlotStatus>(['free', 'busy', 'busy-tentative', 'busy-unavailable', 'entered-in-error']);

// Extensions are matched on their name after StructureDefinition/: publishers vary http/https and hosts.
const DEEP_LINK = 'booking-deep-link';
const PHONE = 'booking-phone';
const CAPACITY = 'slot-capacity';

export function parseSlot(line: string, at: RecordAt): Parsed<SlotRecord> {
  const o = open(line, 'Slot', at);
  if (isParsed(o)) return o;
  const { obj, id, note } = o;
  if (!id) note('missing-field', 'normalised', 'Slot has no id; keyed by its schedule and start');

  const scheduleRef = typeof obj.schedule === 'string' ? obj.schedule : object(obj.schedule)?.reference;
  if (typeof obj.schedule === 'string') note('coerced', 'normalised', 'schedule was a bare string, not a Reference');
  const scheduleId = logicalId(scheduleRef, 'Schedule');
  if (!scheduleId) return o.skip('missing-field', `no Schedule reference (${JSON.stringify(scheduleRef ?? null)})`);

  const rawStatus = text(obj.status, 'status', note);
  if (!rawStatus) return o.skip('missing-field', 'no status, so no one knows whether it is free');
  const status = rawStatus.toLowerCase();
  if (!STATUSES.has(status)) return o.skip('invalid-value', `status "${rawStatus}" is not a Slot status`);
  if (status !== rawStatus) note('coerced', 'normalised', `status "${rawStatus}" read as "${status}"`);

  if (obj.start === undefined || obj.start === null || obj.end === undefined || obj.end === null) {
    return o.skip('missing-field', 'no start or no end');
  }
  const start = instant(obj.start);
  const end = instant(obj.end);
  if (!start || !end) return o.skip('invalid-value', 'start or end is not a date-time with a UTC offset');
  if (end.ms <= start.ms) return o.skip('invalid-value', `end ${end.written} is not after start ${start.written}`);

  const ext = extensions(obj.extension, note);
  let capacityCoerced = false;
  const capacity = readCapacity(ext.get(CAPACITY), (kind, action, reason) => {
    if (kind === 'coerced') capacityCoerced = true;
    note(kind, action, reason);
  });
  const bookingPhone = readPhone(ext.get(PHONE), note);
  // Not "0": the reference data uses 0 as a real id (values.ts).
  const idPlaceholder = id === null || isPlaceholder(id);
  if (id !== null && idPlaceholder) note('placeholder', 'flagged', `slot id "${id}" is a placeholder`);
  // Phone defects are kept as published and carried on the slot (its quality flags, counted for operators) rather
  // than logged per record: a publisher that puts 000-000-0000 on every slot would fill the log with one line each.
  const phonePlaceholder = bookingPhone !== null && isZeros(bookingPhone);
  const phoneTruncated = bookingPhone !== null && !phonePlaceholder && isTruncatedPhone(bookingPhone);

  let coarse: SlotRecord['coarse'] = null;
  const span = end.ms - start.ms;
  if (span > DAY_MS) {
    coarse = 'multi-day';
    note('coarse-slot', 'flagged', `one slot spans ${(span / DAY_MS).toFixed(1)} days${capacity !== null ? ` with capacity ${capacity}` : ''}`);
  } else if (span >= SESSION_MS) {
    coarse = 'day';
  }

  return {
    record: {
      publishedId: id,
      at,
      scheduleId,
      status: status as FeedSlotStatus,
      start,
      end,
      capacity,
      bookingLink: readLink(ext.get(DEEP_LINK), note),
      bookingPhone,
      coarse,
      capacityCoerced,
      placeholder: idPlaceholder || phonePlaceholder,
      phoneTruncated,
    },
    issues: o.issues,
  };
}

/** Slot extensions by name; the first of each wins. */
function extensions(v: unknown, note: Note): Map<string, Record<string, unknown>> {
  const out = new Map<string, Record<string, unknown>>();
  for (const e of list(v, 'extension', note)) {
    const ext = object(e);
    const url = typeof ext?.url === 'string' ? ext.url.trim().replace(/\/+$/, '') : '';
    const name = url.slice(url.lastIndexOf('/') + 1);
    if (ext && name && !out.has(name)) out.set(name, ext);
  }
  return out;
}

function readCapacity(ext: Record<string, unknown> | undefined, note: Note): number | null {
  if (!ext) return null;
  const value = ext.valueInteger ?? ext.valueUnsignedInt ?? ext.valuePositiveInt ?? ext.valueString ?? ext.valueDecimal;
  const n = integer(value, 'slot-capacity', note);
  if (n !== null && n < 0) {
    note('invalid-value', 'normalised', `slot-capacity ${n} is impossible; capacity unknown`);
    return null;
  }
  return n;
}

function readLink(ext: Record<string, unknown> | undefined, note: Note): string | null {
  if (!ext) return null;
  if (ext.valueUrl === undefined && (ext.valueUri !== undefined || ext.valueString !== undefined)) {
    note('coerced', 'normalised', 'booking-deep-link is not a valueUrl');
  }
  const raw = text(ext.valueUrl ?? ext.valueUri ?? ext.valueString, 'booking-deep-link', note);
  if (!raw || isPlaceholder(raw)) return null;
  const url = httpUrl(raw);
  if (!url) note('invalid-value', 'normalised', `booking-deep-link "${raw.slice(0, 80)}" is not an http(s) URL; dropped`);
  return url;
}

function readPhone(ext: Record<string, unknown> | undefined, note: Note): string | null {
  if (!ext) return null;
  const raw = text(ext.valueString, 'booking-phone', note);
  if (!raw) return null;
  if (isPlaceholder(raw)) {
    note('placeholder', 'normalised', `booking-phone "${raw}" is a placeholder; dropped`);
    return null;
  }
  return raw;
}

/** Text of zeros and separators only ("0", "000-000-0000"): a value typed to fill a field. */
function isZeros(s: string): boolean {
  return /^[\s0().+-]*0[\s0().+-]*$/.test(s);
}

// Three-digit service numbers are whole numbers: NHS 111 and 119, 999 and 112, and the US N11 codes (211...911).
const SERVICE_NUMBER = /^(?:[1-9]11|119|999|112)$/;

/**
 * A phone number with fewer digits than any whole number has: under 10 digits (a UK number has 10 or 11 with its
 * leading 0, a North American one 10, and with a country code more) and not a three-digit service number. An
 * extension after "x" or "ext" is not counted. Written for the UK and North America, where the feeds come from.
 */
export function isTruncatedPhone(phone: string): boolean {
  const main = phone.split(/\s*(?:x|ext\.?|extension)\s*\d/i)[0]!;
  const digits = main.replace(/\D/g, '');
  if (digits.length === 0) return false;
  if (SERVICE_NUMBER.test(digits)) return false;
  return digits.length < 10;
}
