/**
 * The slot reference this adapter puts inside global slot ids (common/slot-id.ts `ref`).
 *
 * The Booking Standard has no Slot read, yet a 2.x booking must contain a copy of the slot from the search (spec 2.4,
 * 5.6): its logical id, `Schedule/<id>`, start, end and identifier UUID. Rather than keep that copy in a cache the
 * booking may never find (another replica, a restart), the slot id carries it. Format version 1:
 *
 *   1~<slot id>~<schedule id>~<start>~<duration>~<identifier>
 *
 * - slot and schedule ids verbatim (FHIR ids: [A-Za-z0-9-.]{1,64}); `%` and `~` are percent-escaped in case a
 *   provider strays outside the id alphabet. The schedule id is empty when the slot had no readable schedule
 *   reference: such a slot is listed but cannot be booked.
 * - start: epoch milliseconds in base 36; duration: milliseconds in base 36 (a 15-minute slot is `jag0`). Instants
 *   only: the booking is sent in UTC (spec 3.6), so the provider's original offset need not travel.
 * - identifier: a lower-case RFC 4122 UUID as 22 base64url characters (its 16 bytes); any other value verbatim after
 *   `*` (escaped); empty when the slot had none.
 *
 * A typical sandbox ref is about 95 characters, the whole global slot id about 175. Pure; no I/O.
 */

export interface SlotCopy {
  /** The provider's logical Slot id: the contained Slot's id in the booking (TKW keys behaviour on it). */
  slotId: string;
  /** The Schedule's logical id, for `Schedule/<id>`; null when the search gave none we could read. */
  scheduleId: string | null;
  start: Date;
  end: Date;
  /** Slot.identifier value (system https://tools.ietf.org/html/rfc4122); null when the slot had none. */
  identifier: string | null;
}

const VERSION = '1';
const SEP = '~';
const CANONICAL_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const COMPACT_UUID = /^[A-Za-z0-9_-]{22}$/;
const RAW_MARK = '*';
/** Up to 10 base-36 digits: exact as a JS number (36^10 < 2^53), and far beyond any real instant or duration. */
const BASE36 = /^[0-9a-z]{1,10}$/;

export function encodeSlotRef(s: SlotCopy): string {
  const startMs = s.start.getTime();
  const durationMs = s.end.getTime() - startMs;
  if (!s.slotId || !Number.isInteger(startMs) || startMs < 0 || !(durationMs > 0)) {
    throw new RangeError('a slot ref needs a slot id, a start and an end after it');
  }
  return `${VERSION}${SEP}${escape(s.slotId)}${SEP}${escape(s.scheduleId ?? '')}${SEP}${base36(startMs)}${SEP}${base36(durationMs)}${SEP}${identifierField(s.identifier)}`;
}

/**
 * Base 36 of an instant or a duration, remembered: a search's slots share a few hundred starts and a handful of
 * durations, and writing a 13-digit number in base 36 was a third of encoding a ref. Bounded; cleared whole past it.
 */
const MAX_BASE36 = 4_096;
const base36s = new Map<number, string>();
function base36(n: number): string {
  let text = base36s.get(n);
  if (text === undefined) {
    if (base36s.size >= MAX_BASE36) base36s.clear();
    base36s.set(n, (text = n.toString(36)));
  }
  return text;
}

/** Null for anything that is not a version-1 ref this adapter wrote. */
export function decodeSlotRef(ref: string): SlotCopy | null {
  const parts = ref.split(SEP);
  if (parts.length !== 6 || parts[0] !== VERSION) return null;
  const [, slotField, scheduleField, startField, durationField, idField] = parts as [string, string, string, string, string, string];
  const slotId = unescape(slotField);
  const scheduleId = unescape(scheduleField);
  if (!slotId || scheduleId === null) return null;
  if (!BASE36.test(startField) || !BASE36.test(durationField)) return null;
  const startMs = parseInt(startField, 36);
  const durationMs = parseInt(durationField, 36);
  if (durationMs <= 0) return null;
  const identifier = parseIdentifier(idField);
  if (identifier === undefined) return null;
  return { slotId, scheduleId: scheduleId || null, start: new Date(startMs), end: new Date(startMs + durationMs), identifier };
}

function identifierField(value: string | null): string {
  if (!value) return '';
  if (CANONICAL_UUID.test(value)) return Buffer.from(value.replace(/-/g, ''), 'hex').toString('base64url');
  // Anything else (an upper-case UUID included) travels verbatim: the provider may compare it as a string.
  return RAW_MARK + escape(value);
}

/** The identifier, null for none, undefined for a malformed field. */
function parseIdentifier(field: string): string | null | undefined {
  if (field === '') return null;
  if (field.startsWith(RAW_MARK)) return unescape(field.slice(1)) || undefined;
  if (!COMPACT_UUID.test(field)) return undefined;
  const hex = Buffer.from(field, 'base64url').toString('hex');
  if (hex.length !== 32) return undefined;
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function escape(v: string): string {
  return v.replace(/%/g, '%25').replace(/~/g, '%7E');
}

/** Reverses `escape`; null when a `%` is not one of the two escapes we write. */
function unescape(v: string): string | null {
  if (/%(?!25|7E)/.test(v)) return null;
  return v.replace(/%(25|7E)/g, (m) => (m === '%25' ? '%' : '~'));
}
