/**
 * A supplier API slot's times as the shared Slot gives them (Booking Standard, BaRS): the offset the supplier wrote
 * kept, the location's zone, the kind by length, and what can be said honestly about the times. These suppliers
 * serve services in England, so Europe/London is their zone, and an offset London did not have at that instant is
 * a defect (UTC is always allowed, as FHIR allows it).
 */
import { LRUCache } from 'lru-cache';
import { rfc3339AtOffset, writtenOffsetMinutes } from '../../common/offset-time.js';
import { LONDON } from '../../common/zoned-time.js';
import { checkOffset } from './feeds/timezone.js';
import { SESSION_MS, sessionFlags, slotKind, type SlotQualityFlag, type SupplierSlotModel } from './slot-model.js';

const NO_FLAGS: readonly SlotQualityFlag[] = Object.freeze([]);

export interface WrittenInstant {
  /** As the supplier wrote it (with its offset). */
  written: string;
  ms: number;
}

export function englishSlotTime(start: WrittenInstant, end: WrittenInstant): Pick<SupplierSlotModel, 'start' | 'end' | 'kind' | 'timeZone' | 'qualityFlags'> {
  const s = readWritten(start);
  const e = readWritten(end);
  // Most slots have no flag: they share one empty list, never changed (as a stored bucket's decoded slots do).
  const plain = s.offsetOk && e.offsetOk && end.ms - start.ms < SESSION_MS;
  const flags: SlotQualityFlag[] = plain ? (NO_FLAGS as SlotQualityFlag[]) : [...(s.offsetOk && e.offsetOk ? [] : ['OFFSET_MISMATCH' as const]), ...sessionFlags(start.ms, end.ms)];
  return { start: s.text, end: e.text, kind: slotKind(start.ms, end.ms), timeZone: LONDON, qualityFlags: flags };
}

/** What a written instant says, as a slot gives it: the instant at the supplier's offset, and whether London had it. */
interface ReadInstant {
  ms: number;
  text: string;
  offsetOk: boolean;
}

/**
 * Instants read, by the text the supplier wrote. A cold search reads every slot of every page (6,600 over a week of
 * the sandbox's Booking Standard services), and slots share their times: one look-up, where reading the offset,
 * writing RFC 3339 and checking London's offset were a tenth of mapping a slot. What a week's search reads fits many
 * times over.
 */
const readInstants = new LRUCache<string, ReadInstant>({ max: 4096 });
/**
 * The longest instant text remembered: `2026-03-29T02:30:00.123456+01:00`. FHIR allows a fraction of any length; a
 * longer text is read each time, so what a supplier sends can only ever pin a few thousand short strings.
 */
export const MAX_REMEMBERED_INSTANT_LENGTH = 32;

function readWritten(w: WrittenInstant): ReadInstant {
  const kept = readInstants.get(w.written);
  // The text fixes the instant; the check is against a caller passing another `ms` than it says.
  if (kept !== undefined && kept.ms === w.ms) return kept;
  const offset = writtenOffsetMinutes(w.written);
  const read: ReadInstant = { ms: w.ms, text: rfc3339AtOffset(w.ms, offset ?? 0), offsetOk: offsetOk(w.ms, offset) };
  if (w.written.length <= MAX_REMEMBERED_INSTANT_LENGTH) readInstants.set(w.written, read);
  return read;
}

function offsetOk(ms: number, minutes: number | null): boolean {
  return minutes === null || checkOffset(LONDON, ms, minutes).ok;
}
