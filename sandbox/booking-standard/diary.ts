/**
 * Diary generation: one schedule's slots for one local day, as a pure function of (tenant, schedule, date).
 *
 * A "diary day" is the local date a session starts on, so an overnight GP session that starts at 18:30 on Friday
 * belongs to Friday even though most of its slots fall on Saturday. Sessions are turned into instants once, at their
 * local start and end, and slots are laid by stepping through real time from the start. That is what keeps the
 * clock-change days honest: the spring-forward night simply has one hour less of slots and the fall-back night one
 * hour more, with no slot lost, none duplicated, and each labelled with the offset in force at its own instant.
 */
import {
  addDays,
  dayOfWeek,
  formatWithOffset,
  isoDate,
  londonOffsetMinutes,
  londonToInstant,
  type LocalDate,
} from '../lib/london-time.js';
import type { DeliveryChannel, Rota, ScheduleDef } from './catalogue.js';
import { seededRandom, uuidV5 } from './prng.js';
import type { TenantId } from './tenants.js';

export type SlotStatus = 'free' | 'busy';

export interface DiarySlot {
  /** FHIR logical id: stable, and unique across the tenant. */
  id: string;
  scheduleId: string;
  serviceId: string;
  startMs: number;
  endMs: number;
  /** FHIR instants in UK local time, e.g. `2026-06-01T09:00:00+01:00`. */
  start: string;
  end: string;
  /** Status as released in the diary; bookings change it in the slot store. */
  status: SlotStatus;
  deliveryChannel?: DeliveryChannel;
  /** When set, only these consumer organisations (ODS codes) may see or book the slot. */
  reservedFor?: readonly string[];
  /** Slot.identifier's UUID, once a response has needed it (uuidOf). */
  uuid?: string;
  /** Its searchset entry as last listed, kept by slot-search.ts (opaque here). */
  listed?: unknown;
}

/** Share of slots already taken when the diary is released (roughly what a busy UEC diary looks like). */
const BUSY_SHARE = 0.3;

export interface Session {
  startMs: number;
  endMs: number;
}

/** The sessions a rota gives on a local date, as instants. */
export function sessionsOn(rota: Rota, date: LocalDate): Session[] {
  const dow = dayOfWeek(date);
  const shifts = dow === 0 || dow === 6 ? rota.weekend : rota.weekday;
  return shifts.map((shift) => {
    const [sh, sm] = hhmm(shift.start);
    const [eh, em] = hhmm(shift.end);
    const overnight = eh * 60 + em <= sh * 60 + sm;
    const endDate = overnight ? addDays(date, 1) : date;
    return {
      startMs: londonToInstant({ ...date, hour: sh, minute: sm }),
      endMs: londonToInstant({ ...endDate, hour: eh, minute: em }),
    };
  });
}

export function generateDiaryDay(tenantId: TenantId, schedule: ScheduleDef, date: LocalDate): DiarySlot[] {
  const day = isoDate(date);
  // Seeded by schedule (which names its service) and date: the same day always comes out the same.
  const random = seededRandom(`${tenantId}|${schedule.id}|${day}`);
  const step = schedule.slotMinutes * 60_000;
  const slotKey = schedule.id.replace(/^sch-/, 'slot-');
  const out: DiarySlot[] = [];

  for (const session of sessionsOn(schedule.rota, date)) {
    // The UK offset changes at most twice a year, so one lookup per session end suffices unless the session spans
    // a change; then every slot asks for its own.
    const offStart = londonOffsetMinutes(session.startMs);
    const uniform = offStart === londonOffsetMinutes(session.endMs);
    const offsetAt = (ms: number) => (uniform ? offStart : londonOffsetMinutes(ms));

    for (let s = session.startMs; s + step <= session.endMs; s += step) {
      const e = s + step;
      // Draw the same number of values for every slot so one attribute never shifts another's sequence.
      const busyDraw = random();
      const channelDraw = random();
      const startOffset = offsetAt(s);
      const id = `${slotKey}-${utcStamp(s)}`;
      // Every field present from the start, the optional ones undefined: slots of one shape keep the property
      // reads of every search over them monomorphic (added later, each mix of fields was a shape of its own).
      out.push({
        id,
        scheduleId: schedule.id,
        serviceId: schedule.serviceId,
        startMs: s,
        endMs: e,
        start: formatWithOffset(s, startOffset),
        end: formatWithOffset(e, offsetAt(e)),
        status: busyDraw < BUSY_SHARE ? 'busy' : 'free',
        deliveryChannel: pickChannel(schedule.channels, channelDraw) ?? undefined,
        reservedFor: reservationAt(schedule, localClock(s, startOffset)),
        uuid: undefined,
        listed: undefined,
      });
    }
  }
  return out;
}

/**
 * RFC 4122 UUID for Slot.identifier: name-based on tenant and slot id, so it is stable without being stored (hashing
 * is the dearest part of generation, and only the slots actually returned need one).
 */
export function slotUuid(tenantId: TenantId, slotId: string): string {
  return uuidV5(`${tenantId}/Slot/${slotId}`);
}

/**
 * A diary slot's UUID, kept on the slot once asked for: a SHA-1 per slot listed was a tenth of this simulator's CPU
 * on a cold search, and the same slot is listed again and again (the slot lives as long as its diary day is held,
 * slot-store.ts). A slot belongs to one tenant, so the one it was first asked for is the one it keeps.
 */
export function uuidOf(tenantId: TenantId, slot: DiarySlot): string {
  return (slot.uuid ??= slotUuid(tenantId, slot.id));
}

function pickChannel(channels: ScheduleDef['channels'], draw: number): DeliveryChannel | null {
  if (!channels || channels.length === 0) return null;
  const total = channels.reduce((n, [, w]) => n + w, 0);
  let x = draw * total;
  for (const [channel, weight] of channels) {
    if (x < weight) return channel;
    x -= weight;
  }
  return channels[channels.length - 1]![0];
}

function reservationAt(schedule: ScheduleDef, clock: string): readonly string[] | undefined {
  return schedule.reservations?.find((r) => clock >= r.from && clock < r.to)?.odsCodes;
}

/** Local `HH:MM` of an instant, given the offset in force. */
function localClock(ms: number, offsetMinutes: number): string {
  const d = new Date(ms + offsetMinutes * 60_000);
  return `${String(d.getUTCHours()).padStart(2, '0')}:${String(d.getUTCMinutes()).padStart(2, '0')}`;
}

/** `20261025T0130Z`: ids use UTC because local wall-clock times repeat on the autumn change day. */
function utcStamp(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, '').slice(0, 13) + 'Z';
}

function hhmm(text: string): [number, number] {
  const [h, m] = text.split(':').map(Number);
  return [h!, m!];
}
