/**
 * The slot reference this adapter puts inside global slot ids (common/slot-id.ts `ref`): what booking needs, so no
 * cache has to survive between the search and the booking (another replica, a restart). Format version 1:
 *
 *   1~<session id>~<HHmm>~<fold>~<start>~<duration>
 *
 * - session id verbatim (Oakfield's: `SES-...`), with `%` and `~` percent-escaped in case one ever strays;
 * - the appointment time as Oakfield names it: wall-clock `HHmm` and fold (0, or 1 for the second pass through the
 *   hour the clocks go back). This is what the booking request carries; the session's date is implied by its id;
 * - start (epoch milliseconds) and duration (milliseconds), both base 36: the instants our slot showed, so the
 *   booking flow can check that what the supplier booked is what the consumer chose.
 *
 * About 45 characters. Pure; no I/O.
 */
import type { Fold } from './wall-clock.js';

export interface SlotRefParts {
  sessionId: string;
  /** `HH:mm`, wall clock. */
  time: string;
  fold: Fold;
  start: Date;
  end: Date;
}

const VERSION = '1';
const SEP = '~';
const BASE36 = /^[0-9a-z]{1,10}$/;

export function encodeSlotRef(s: SlotRefParts): string {
  const startMs = s.start.getTime();
  const durationMs = s.end.getTime() - startMs;
  if (!s.sessionId || !/^\d{2}:\d{2}$/.test(s.time) || !Number.isInteger(startMs) || startMs < 0 || !(durationMs > 0)) {
    throw new RangeError('a slot ref needs a session, an HH:mm time, a start and an end after it');
  }
  return [VERSION, escape(s.sessionId), s.time.replace(':', ''), String(s.fold), startMs.toString(36), durationMs.toString(36)].join(SEP);
}

/** Null for anything that is not a version-1 ref this adapter wrote. */
export function decodeSlotRef(ref: string): SlotRefParts | null {
  const parts = ref.split(SEP);
  if (parts.length !== 6 || parts[0] !== VERSION) return null;
  const [, sessionField, timeField, foldField, startField, durationField] = parts as [string, string, string, string, string, string];
  const sessionId = unescape(sessionField);
  if (!sessionId) return null;
  const t = /^([01]\d|2[0-3])([0-5]\d)$/.exec(timeField);
  if (!t) return null;
  if (foldField !== '0' && foldField !== '1') return null;
  if (!BASE36.test(startField) || !BASE36.test(durationField)) return null;
  const startMs = parseInt(startField, 36);
  const durationMs = parseInt(durationField, 36);
  if (durationMs <= 0) return null;
  return {
    sessionId,
    time: `${t[1]}:${t[2]}`,
    fold: foldField === '1' ? 1 : 0,
    start: new Date(startMs),
    end: new Date(startMs + durationMs),
  };
}

function escape(v: string): string {
  return v.replace(/%/g, '%25').replace(/~/g, '%7E');
}

/** Reverses `escape`; null when a `%` is not one of the two escapes we write. */
function unescape(v: string): string | null {
  if (/%(?!25|7E)/.test(v)) return null;
  return v.replace(/%(25|7E)/g, (m) => (m === '%25' ? '%' : '~'));
}
