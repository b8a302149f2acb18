/**
 * The slot reference this adapter puts inside global slot ids (common/slot-id.ts `ref`): what a booking message needs of
 * the slot without a second search: the receiver's Slot id and Schedule id, and the slot's start and end (the
 * Appointment must carry the slot's times exactly). Format version 1:
 *
 *   b1~<slot id>~<schedule id>~<start>~<duration>
 *
 * ids verbatim (FHIR ids: [A-Za-z0-9-.]{1,64}); start epoch milliseconds and duration milliseconds, in base 36.
 * Pure; no I/O.
 */
export interface BarsSlotRef {
  slotId: string;
  scheduleId: string;
  start: Date;
  end: Date;
}

const ID = /^[A-Za-z0-9\-.]{1,64}$/;
const BASE36 = /^[0-9a-z]{1,10}$/;

export function encodeSlotRef(s: BarsSlotRef): string {
  if (!ID.test(s.slotId) || !ID.test(s.scheduleId)) throw new Error('slot or schedule id outside the FHIR id alphabet');
  const start = s.start.getTime();
  return ['b1', s.slotId, s.scheduleId, start.toString(36), (s.end.getTime() - start).toString(36)].join('~');
}

export function decodeSlotRef(ref: string): BarsSlotRef | null {
  if (typeof ref !== 'string' || ref.length > 200) return null;
  const parts = ref.split('~');
  if (parts.length !== 5 || parts[0] !== 'b1') return null;
  const [, slotId, scheduleId, start, duration] = parts as [string, string, string, string, string];
  if (!ID.test(slotId) || !ID.test(scheduleId) || !BASE36.test(start) || !BASE36.test(duration)) return null;
  const startMs = parseInt(start, 36);
  const durationMs = parseInt(duration, 36);
  if (!(durationMs > 0)) return null;
  return { slotId, scheduleId, start: new Date(startMs), end: new Date(startMs + durationMs) };
}
