/**
 * One provider's live diary: slots generated lazily per (schedule, local day) on first use and then kept, so that
 * bookings and cancellations (status changes) persist for the life of the simulator.
 *
 * The diary window is relative to `now()`: from yesterday to 14 days ahead (UK dates). Outside it the provider has
 * released nothing. A slot whose start has passed is no longer bookable, so it is reported as busy.
 */
import { addDays, daysBetween, londonDateOf, type LocalDate } from '../lib/london-time.js';
import type { Catalogue } from './catalogue.js';
import { generateDiaryDay, type DiarySlot, type SlotStatus } from './diary.js';

/** Days before and after today (UK) the diary holds. */
export const DIARY_DAYS_BEFORE = 1;
export const DIARY_DAYS_AFTER = 14;

/** A window on slot start: lower/upper in epoch ms, each inclusive or exclusive. Absent = unbounded. */
export interface StartWindow {
  lower?: { ms: number; inclusive: boolean };
  upper?: { ms: number; inclusive: boolean };
}

export class SlotStore {
  /** Diary days by date (`y-m-d`), then schedule: a day that falls out of the horizon is dropped whole. */
  private readonly days = new Map<string, Map<string, DiarySlot[]>>();

  constructor(
    readonly catalogue: Catalogue,
    private readonly now: () => Date,
  ) {}

  /** Status as a consumer sees it now: released status, changed by bookings, and busy once the start has passed. */
  statusOf(slot: DiarySlot): SlotStatus {
    return SlotStore.statusAt(slot, this.now().getTime());
  }

  /** Status at a given instant: a search reads every slot of its answer at the one instant it answers for. */
  static statusAt(slot: DiarySlot, nowMs: number): SlotStatus {
    return slot.startMs <= nowMs ? 'busy' : slot.status;
  }

  /** Whether a consumer organisation may see (and book) a slot. */
  static visibleTo(slot: DiarySlot, odsCode: string): boolean {
    return !slot.reservedFor || slot.reservedFor.includes(odsCode);
  }

  /** Every slot of a service whose start lies in the window, ordered by start then id. */
  slotsForService(serviceId: string, window: StartWindow): DiarySlot[] {
    const service = this.catalogue.services.get(serviceId);
    if (!service) return [];
    const out: DiarySlot[] = [];
    for (const date of this.datesFor(window)) {
      for (const scheduleId of service.scheduleIds) {
        for (const slot of this.day(scheduleId, date)) {
          if (inWindow(slot.startMs, window)) out.push(slot);
        }
      }
    }
    return out.sort(bySlotOrder);
  }

  /**
   * Finds a slot from what a consumer quotes back when booking: its schedule, start and id. The start may be written
   * at any offset; the diary day is the session's start date, which for an overnight session is the day before.
   */
  findSlot(scheduleId: string, startMs: number, id?: string): DiarySlot | undefined {
    if (!this.catalogue.schedules.has(scheduleId)) return undefined;
    const date = londonDateOf(startMs);
    for (const d of [date, addDays(date, -1)]) {
      if (!this.inHorizon(d)) continue;
      const hit = this.day(scheduleId, d).find((s) => s.startMs === startMs && (id === undefined || s.id === id));
      if (hit) return hit;
    }
    return undefined;
  }

  private day(scheduleId: string, date: LocalDate): DiarySlot[] {
    const dateKey = `${date.year}-${date.month}-${date.day}`;
    let schedules = this.days.get(dateKey);
    if (!schedules) {
      this.forgetPastDays();
      this.days.set(dateKey, (schedules = new Map()));
    }
    let slots = schedules.get(scheduleId);
    if (!slots) {
      const schedule = this.catalogue.schedules.get(scheduleId)!;
      slots = generateDiaryDay(this.catalogue.tenantId, schedule, date);
      schedules.set(scheduleId, slots);
    }
    return slots;
  }

  /**
   * Drops the days before the horizon when a new day is first asked for: no search or booking reaches them again
   * (both stay within it), and their slots, with what responses keep on them, would otherwise be held for as long as
   * the simulator runs.
   */
  private forgetPastDays(): void {
    const first = addDays(londonDateOf(this.now().getTime()), -DIARY_DAYS_BEFORE);
    for (const key of this.days.keys()) {
      const [year, month, day] = key.split('-').map(Number) as [number, number, number];
      if (daysBetween({ year, month, day }, first) > 0) this.days.delete(key);
    }
  }

  /** How many diary days are held (for tests: past days are dropped). */
  get heldDays(): number {
    return this.days.size;
  }

  /** Diary days that can hold a slot starting in the window: overnight sessions start the day before. */
  private datesFor(window: StartWindow): LocalDate[] {
    const today = londonDateOf(this.now().getTime());
    let first = addDays(today, -DIARY_DAYS_BEFORE);
    let last = addDays(today, DIARY_DAYS_AFTER);
    if (window.lower) {
      const d = addDays(londonDateOf(window.lower.ms), -1);
      if (daysBetween(first, d) > 0) first = d;
    }
    if (window.upper) {
      const d = londonDateOf(window.upper.ms);
      if (daysBetween(d, last) > 0) last = d;
    }
    const out: LocalDate[] = [];
    for (let d = first; daysBetween(d, last) >= 0; d = addDays(d, 1)) out.push(d);
    return out;
  }

  private inHorizon(d: LocalDate): boolean {
    const today = londonDateOf(this.now().getTime());
    const n = daysBetween(today, d);
    return n >= -DIARY_DAYS_BEFORE && n <= DIARY_DAYS_AFTER;
  }
}

function inWindow(ms: number, w: StartWindow): boolean {
  if (w.lower && (w.lower.inclusive ? ms < w.lower.ms : ms <= w.lower.ms)) return false;
  if (w.upper && (w.upper.inclusive ? ms > w.upper.ms : ms >= w.upper.ms)) return false;
  return true;
}

/** Search order: by start, then id (keyset paging relies on it being total). */
export function bySlotOrder(a: Pick<DiarySlot, 'startMs' | 'id'>, b: Pick<DiarySlot, 'startMs' | 'id'>): number {
  return a.startMs - b.startMs || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}
