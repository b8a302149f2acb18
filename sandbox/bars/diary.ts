/**
 * Diaries: one schedule's slots for one UK local day, a pure function of (service, schedule, date), and the live
 * store that keeps them once generated so bookings persist.
 *
 * Sessions are UK wall-clock times turned into instants once (sandbox/lib/london-time.ts, the sandbox's own
 * Europe/London implementation); slots are laid by stepping through real time from the session start. So the
 * spring-forward Sunday simply has an hour less of slots and the fall-back Sunday an hour more, none lost or doubled.
 * Every instant is published in UTC with `+00:00`, as BaRS requires.
 */
import { addDays, dayOfWeek, daysBetween, isoDate, londonDateOf, londonToInstant, type LocalDate } from '../lib/london-time.js';
import { seededRandom } from '../booking-standard/prng.js';
import { BARS_SERVICE_BY_ID, type BarsSchedule, type BarsService, type DeliveryChannel } from './services.js';

export type SlotStatus = 'free' | 'busy';

export interface BarsSlot {
  /** `<dosId>-<scheduleKey>-<yyyymmddThhmmZ>`: readable, stable, and it names the slot's schedule and start. */
  id: string;
  serviceId: string;
  scheduleKey: string;
  startMs: number;
  endMs: number;
  status: SlotStatus;
  channel: DeliveryChannel;
}

/** Share of slots already taken when a diary day is released. */
const BUSY_SHARE = 0.25;
export const DIARY_DAYS_BEFORE = 1;
export const DIARY_DAYS_AFTER = 28;

/** BaRS dateTime: UTC with an explicit `+00:00` offset, as the spec's examples write it. */
export function barsInstant(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, '+00:00');
}

export function generateDay(service: BarsService, schedule: BarsSchedule, date: LocalDate): BarsSlot[] {
  const random = seededRandom(`bars|${service.id}|${schedule.key}|${isoDate(date)}`);
  const dow = dayOfWeek(date);
  const shifts = dow === 0 || dow === 6 ? schedule.weekend : schedule.weekday;
  const step = schedule.slotMinutes * 60_000;
  const out: BarsSlot[] = [];
  for (const shift of shifts) {
    const [sh, sm] = hhmm(shift.start);
    const [eh, em] = hhmm(shift.end);
    const startMs = londonToInstant({ ...date, hour: sh, minute: sm });
    const endMs =
      eh === 24
        ? londonToInstant({ ...addDays(date, 1), hour: 0, minute: em })
        : eh * 60 + em <= sh * 60 + sm
          ? londonToInstant({ ...addDays(date, 1), hour: eh, minute: em })
          : londonToInstant({ ...date, hour: eh, minute: em });
    for (let s = startMs; s + step <= endMs; s += step) {
      const busy = random() < BUSY_SHARE;
      const channel = schedule.channels[Math.floor(random() * schedule.channels.length)] ?? 'In-person';
      out.push({
        id: `${service.id}-${schedule.key}-${utcStamp(s)}`,
        serviceId: service.id,
        scheduleKey: schedule.key,
        startMs: s,
        endMs: s + step,
        status: busy ? 'busy' : 'free',
        channel,
      });
    }
  }
  return out;
}

export interface StartWindow {
  lower: { ms: number; inclusive: boolean };
  upper: { ms: number; inclusive: boolean };
}

/** The live diaries of every BaRS service: days generated on first use and kept, statuses changed by bookings. */
export class DiaryStore {
  private readonly days = new Map<string, BarsSlot[]>();

  constructor(private readonly now: () => Date) {}

  /** A slot whose start has passed can no longer be booked: reported busy. */
  statusOf(slot: BarsSlot): SlotStatus {
    return slot.startMs <= this.now().getTime() ? 'busy' : slot.status;
  }

  slotsFor(serviceId: string, window: StartWindow): BarsSlot[] {
    const service = BARS_SERVICE_BY_ID.get(serviceId);
    if (!service) return [];
    const today = londonDateOf(this.now().getTime());
    let first = addDays(today, -DIARY_DAYS_BEFORE);
    let last = addDays(today, DIARY_DAYS_AFTER);
    const lo = addDays(londonDateOf(window.lower.ms), -1);
    const hi = londonDateOf(window.upper.ms);
    if (daysBetween(first, lo) > 0) first = lo;
    if (daysBetween(hi, last) > 0) last = hi;
    const out: BarsSlot[] = [];
    for (let d = first; daysBetween(d, last) >= 0; d = addDays(d, 1)) {
      for (const schedule of service.schedules) {
        for (const slot of this.day(service, schedule, d)) if (inWindow(slot.startMs, window)) out.push(slot);
      }
    }
    return out.sort((a, b) => a.startMs - b.startMs || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /** The slot with this id, if the service released it (within the diary horizon). */
  find(id: string): BarsSlot | undefined {
    const m = /^(\d+)-([a-z0-9]+)-(\d{8}T\d{4}Z)$/.exec(id);
    if (!m) return undefined;
    const [, serviceId, key, stamp] = m as unknown as [string, string, string, string];
    const service = BARS_SERVICE_BY_ID.get(serviceId);
    const schedule = service?.schedules.find((s) => s.key === key);
    if (!service || !schedule) return undefined;
    const startMs = Date.parse(`${stamp.slice(0, 4)}-${stamp.slice(4, 6)}-${stamp.slice(6, 8)}T${stamp.slice(9, 11)}:${stamp.slice(11, 13)}:00Z`);
    if (Number.isNaN(startMs)) return undefined;
    return this.findByStart(service, schedule, startMs);
  }

  /** The slot of a schedule starting at an instant (what a booking message quotes when it carries no slot id). */
  findByStart(service: BarsService, schedule: BarsSchedule, startMs: number): BarsSlot | undefined {
    const date = londonDateOf(startMs);
    for (const d of [date, addDays(date, -1)]) {
      if (!this.inHorizon(d)) continue;
      const hit = this.day(service, schedule, d).find((s) => s.startMs === startMs);
      if (hit) return hit;
    }
    return undefined;
  }

  private day(service: BarsService, schedule: BarsSchedule, date: LocalDate): BarsSlot[] {
    const key = `${service.id}|${schedule.key}|${isoDate(date)}`;
    let slots = this.days.get(key);
    if (!slots) this.days.set(key, (slots = generateDay(service, schedule, date)));
    return slots;
  }

  private inHorizon(d: LocalDate): boolean {
    const n = daysBetween(londonDateOf(this.now().getTime()), d);
    return n >= -DIARY_DAYS_BEFORE && n <= DIARY_DAYS_AFTER;
  }
}

function inWindow(ms: number, w: StartWindow): boolean {
  if (w.lower.inclusive ? ms < w.lower.ms : ms <= w.lower.ms) return false;
  if (w.upper.inclusive ? ms > w.upper.ms : ms >= w.upper.ms) return false;
  return true;
}

function utcStamp(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, '').slice(0, 13) + 'Z';
}

function hhmm(text: string): [number, number] {
  const [h, m] = text.split(':').map(Number);
  return [h!, m!];
}
