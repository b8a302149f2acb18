/**
 * The vendor's time rules (API.md section 3), over the sandbox's Europe/London helpers: wall-clock dates and times in,
 * instants out, and back. A session runs in elapsed time from its local start to its local end; a boundary in the
 * spring gap moves forward by the gap, a boundary in the autumn overlap is its first occurrence; appointment times in
 * the second pass through the repeated hour carry fold 1.
 */
import { addDays, isoDate, londonToInstant, toLondon, type LocalDate } from '../lib/london-time.js';

export type Fold = 0 | 1;

export interface AppointmentTime {
  /** `HH:mm` on the wall clock. */
  time: string;
  /** 1 for the second occurrence of a wall-clock time that happens twice (clocks going back), else 0. */
  fold: Fold;
  startMs: number;
  endMs: number;
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const TIME = /^([01]\d|2[0-3]):([0-5]\d)$/;

/** A real calendar date in `YYYY-MM-DD`, or null. */
export function parseDate(text: string | null | undefined): LocalDate | null {
  const m = DATE.exec(text ?? '');
  if (!m) return null;
  const d = { year: Number(m[1]), month: Number(m[2]), day: Number(m[3]) };
  const u = new Date(Date.UTC(d.year, d.month - 1, d.day));
  return u.getUTCFullYear() === d.year && u.getUTCMonth() + 1 === d.month && u.getUTCDate() === d.day ? d : null;
}

/** Minutes after midnight of `HH:mm` (and of `24:00` when `allowMidnightEnd`), or null. */
export function parseTime(text: string | null | undefined, allowMidnightEnd = false): number | null {
  if (allowMidnightEnd && text === '24:00') return 24 * 60;
  const m = TIME.exec(text ?? '');
  return m ? Number(m[1]) * 60 + Number(m[2]) : null;
}

export function formatTime(minutes: number): string {
  return `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
}

/**
 * The instant a session boundary means: `minutes` after midnight on `date` (24:00 is the next midnight). A reading in
 * the spring gap is moved forward by the gap; one in the autumn overlap is its first occurrence.
 */
export function boundaryInstant(date: LocalDate, minutes: number): number {
  const d = minutes >= 24 * 60 ? addDays(date, 1) : date;
  const m = minutes % (24 * 60);
  return londonToInstant({ ...d, hour: Math.floor(m / 60), minute: m % 60 });
}

/** The wall-clock reading of an instant, with fold 1 when the same reading already happened earlier that night. */
export function wallClockOf(ms: number): { date: string; time: string; fold: Fold } {
  const l = toLondon(ms);
  const first = londonToInstant(l);
  return { date: isoDate(l), time: formatTime(l.hour * 60 + l.minute), fold: first < ms ? 1 : 0 };
}

/**
 * A session's appointment times: from its start, every `slotMinutes` of elapsed time, while an appointment still
 * ends by the session's end. The spring night simply has fewer, the autumn night more, none lost or repeated.
 */
export function appointmentTimes(date: LocalDate, startMinutes: number, endMinutes: number, slotMinutes: number): AppointmentTime[] {
  const startMs = boundaryInstant(date, startMinutes);
  const endMs = boundaryInstant(date, endMinutes);
  const step = slotMinutes * 60_000;
  const out: AppointmentTime[] = [];
  for (let s = startMs; s + step <= endMs; s += step) {
    const w = wallClockOf(s);
    out.push({ time: w.time, fold: w.fold, startMs: s, endMs: s + step });
  }
  return out;
}
