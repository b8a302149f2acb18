/**
 * Session generation: a clinic's sessions on one local date, as a pure function of (clinic, date). Which sessions
 * run comes from the rota; which places were already taken when the session was released, and the odd suspended
 * session, come from a PRNG seeded by clinic, date and session, so every run and every process agrees.
 *
 * Places taken through the API are added on top by the booking store; nothing here knows about them.
 */
import { seededRandom } from '../booking-standard/prng.js';
import { dayOfWeek, isoDate, type LocalDate } from '../lib/london-time.js';
import type { Clinic, SessionMode, SessionTemplate } from './clinics.js';
import { appointmentTimes, parseTime, type AppointmentTime, type Fold } from './wall-clock.js';

export interface Session {
  id: string;
  clinicId: string;
  date: string;
  start: string;
  end: string;
  slotMinutes: number;
  capacity: number;
  mode: SessionMode;
  status: 'OPEN' | 'SUSPENDED';
  label: string;
  clinician?: { name: string; role: string };
  /** Every appointment time of the session, in order (wall-clock rules in wall-clock.ts). */
  times: AppointmentTime[];
  /** Places already taken at release, by `timeKey`. */
  prebooked: Map<string, number>;
}

/** Share of places already taken when a session is released. */
const TAKEN_SHARE = 0.35;
/** Share of sessions the clinic has suspended (staff sickness, equipment failure). */
const SUSPENDED_SHARE = 0.03;

export function timeKey(time: string, fold: Fold): string {
  return fold ? `${time}+1` : time;
}

export function sessionsOn(clinic: Clinic, date: LocalDate): Session[] {
  const dow = dayOfWeek(date);
  const day = isoDate(date);
  return clinic.rota
    .filter((t) => t.days.includes(dow))
    .sort((a, b) => a.start.localeCompare(b.start))
    .map((t, i) => buildSession(clinic, date, day, t, i + 1));
}

function buildSession(clinic: Clinic, date: LocalDate, day: string, t: SessionTemplate, n: number): Session {
  const id = `SES-${clinic.id.slice(3)}-${day.replace(/-/g, '')}-${n}`;
  // Seeded by the session id (which names clinic, date and position): the same session always comes out the same.
  const random = seededRandom(id);
  const suspended = random() < SUSPENDED_SHARE;
  const times = appointmentTimes(date, parseTime(t.start)!, parseTime(t.end, true)!, t.slotMinutes);
  const prebooked = new Map<string, number>();
  for (const a of times) {
    // Draw once per place at every time, so the number of draws never depends on earlier outcomes.
    let taken = 0;
    for (let p = 0; p < t.capacity; p++) if (random() < TAKEN_SHARE) taken++;
    if (taken > 0) prebooked.set(timeKey(a.time, a.fold), taken);
  }
  return {
    id,
    clinicId: clinic.id,
    date: day,
    start: t.start,
    end: t.end,
    slotMinutes: t.slotMinutes,
    capacity: t.capacity,
    mode: t.mode,
    status: suspended ? 'SUSPENDED' : 'OPEN',
    label: t.label,
    ...(t.clinician ? { clinician: t.clinician } : {}),
    times,
    prebooked,
  };
}

/** `SES-<clinic>-<yyyymmdd>-<n>` → the clinic id and date it names, or null. */
export function parseSessionId(id: string): { clinicId: string; date: string } | null {
  const m = /^SES-([A-Z0-9]{6})-(\d{4})(\d{2})(\d{2})-\d{1,2}$/.exec(id);
  return m ? { clinicId: `CL-${m[1]}`, date: `${m[2]}-${m[3]}-${m[4]}` } : null;
}
