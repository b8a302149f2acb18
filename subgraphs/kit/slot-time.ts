/**
 * A supplier API slot's times as the shared Slot gives them (Booking Standard, BaRS): the offset the supplier wrote
 * kept, the location's zone, the kind by length, and what can be said honestly about the times. These suppliers
 * serve services in England, so Europe/London is their zone, and an offset London did not have at that instant is
 * a defect (UTC is always allowed, as FHIR allows it).
 */
import { keepWrittenOffset, writtenOffsetMinutes } from '../../common/offset-time.js';
import { LONDON } from '../../common/zoned-time.js';
import { checkOffset } from './feeds/timezone.js';
import { sessionFlags, slotKind, type SlotQualityFlag, type SupplierSlotModel } from './slot-model.js';

export interface WrittenInstant {
  /** As the supplier wrote it (with its offset). */
  written: string;
  ms: number;
}

export function englishSlotTime(start: WrittenInstant, end: WrittenInstant): Pick<SupplierSlotModel, 'start' | 'end' | 'kind' | 'timeZone' | 'qualityFlags'> {
  const flags: SlotQualityFlag[] = [];
  if ([start, end].some((t) => !offsetOk(t))) flags.push('OFFSET_MISMATCH');
  flags.push(...sessionFlags(start.ms, end.ms));
  return {
    start: keepWrittenOffset(start.written, start.ms),
    end: keepWrittenOffset(end.written, end.ms),
    kind: slotKind(start.ms, end.ms),
    timeZone: LONDON,
    qualityFlags: flags,
  };
}

function offsetOk(t: WrittenInstant): boolean {
  const minutes = writtenOffsetMinutes(t.written);
  return minutes === null || checkOffset(LONDON, t.ms, minutes).ok;
}
