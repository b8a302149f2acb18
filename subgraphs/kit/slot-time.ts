/**
 * A supplier API slot's times as the shared Slot gives them (Booking Standard, BaRS): the offset the supplier wrote
 * kept, the location's zone, the kind by length, and what can be said honestly about the times. These suppliers
 * serve services in England, so Europe/London is their zone, and an offset London did not have at that instant is
 * a defect (UTC is always allowed, as FHIR allows it).
 */
import { rfc3339AtOffset, writtenOffsetMinutes } from '../../common/offset-time.js';
import { LONDON } from '../../common/zoned-time.js';
import { checkOffset } from './feeds/timezone.js';
import { sessionFlags, slotKind, type SlotQualityFlag, type SupplierSlotModel } from './slot-model.js';

export interface WrittenInstant {
  /** As the supplier wrote it (with its offset). */
  written: string;
  ms: number;
}

export function englishSlotTime(start: WrittenInstant, end: WrittenInstant): Pick<SupplierSlotModel, 'start' | 'end' | 'kind' | 'timeZone' | 'qualityFlags'> {
  // Each offset read once: this runs for every slot of every page a supplier sends.
  const startOffset = writtenOffsetMinutes(start.written);
  const endOffset = writtenOffsetMinutes(end.written);
  const flags: SlotQualityFlag[] = [];
  if (!offsetOk(start.ms, startOffset) || !offsetOk(end.ms, endOffset)) flags.push('OFFSET_MISMATCH');
  flags.push(...sessionFlags(start.ms, end.ms));
  return {
    start: rfc3339AtOffset(start.ms, startOffset ?? 0),
    end: rfc3339AtOffset(end.ms, endOffset ?? 0),
    kind: slotKind(start.ms, end.ms),
    timeZone: LONDON,
    qualityFlags: flags,
  };
}

function offsetOk(ms: number, minutes: number | null): boolean {
  return minutes === null || checkOffset(LONDON, ms, minutes).ok;
}
