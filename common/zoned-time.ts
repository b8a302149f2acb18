/**
 * Time-zone rules through Temporal (temporal-polyfill until Node ships it): offsets at an instant, wall-clock
 * readings, and the instants a local date and time can mean (none in a spring gap, two in an autumn overlap).
 *
 * Temporal owns the rules; this module only keeps them cheap on the hot path. A zone's offset is constant between
 * two transitions, so each zone keeps the few offset periods it has been asked about (transition to transition) and
 * answers an instant inside one without calling Temporal again: the slot cache asks for the London day of every
 * slot it splits into buckets, and a Temporal conversion per slot would cost more than the rest of the split.
 * The simulators keep their own independent implementation (sandbox/lib), so a mistake here cannot hide behind the
 * same mistake there.
 */
import { Temporal } from 'temporal-polyfill';

export const LONDON = 'Europe/London';

const MINUTE_MS = 60_000;
/** Periods kept per zone: a request spans at most a year ahead, two transitions a year in the UK. */
const PERIODS_PER_ZONE = 16;
/** Zones remembered: feeds name zones from their data, so the table is bounded (oldest dropped first). */
const ZONES_KEPT = 64;

interface Period {
  /** First instant of the period (ms), inclusive; -Infinity before the zone's first transition. */
  from: number;
  /** First instant of the next period (ms), exclusive; Infinity after the last known transition. */
  to: number;
  offsetMs: number;
}

const periods = new Map<string, Period[]>();

function periodAt(zone: string, ms: number): Period {
  let list = periods.get(zone);
  if (list) {
    for (const p of list) if (ms >= p.from && ms < p.to) return p;
  } else {
    if (periods.size >= ZONES_KEPT) periods.delete(periods.keys().next().value!);
    list = [];
    periods.set(zone, list);
  }
  // Temporal takes whole milliseconds; the period holding the floor holds the instant.
  const at = Temporal.Instant.fromEpochMilliseconds(Math.floor(ms)).toZonedDateTimeISO(zone);
  // 'previous' from one nanosecond later: the latest transition at or before `ms` (itself, when `ms` is one).
  const before = at.add({ nanoseconds: 1 }).getTimeZoneTransition('previous');
  const after = at.getTimeZoneTransition('next');
  const p: Period = {
    from: before ? before.epochMilliseconds : -Infinity,
    to: after ? after.epochMilliseconds : Infinity,
    offsetMs: at.offsetNanoseconds / 1e6,
  };
  if (list.length >= PERIODS_PER_ZONE) list.shift();
  list.push(p);
  return p;
}

/** How long `zone`'s offset has been what it is at `ms`: since its last transition (Infinity before the first). */
export function msSinceTransition(zone: string, ms: number): number {
  return ms - periodAt(zone, ms).from;
}

/** True when the runtime knows this IANA zone. */
export function isTimeZone(zone: string): boolean {
  if (zone.length === 0 || zone.length > 64) return false;
  try {
    new Temporal.ZonedDateTime(0n, zone);
    return true;
  } catch {
    return false;
  }
}

/** Minutes east of UTC in force in `zone` at an instant (RangeError for an unknown zone or instant). */
export function offsetMinutesAt(zone: string, ms: number): number {
  return periodAt(zone, ms).offsetMs / MINUTE_MS;
}

/** The wall-clock reading of an instant in `zone`: its local date, minutes after local midnight, and the offset. */
export function wallClockAt(zone: string, ms: number): { date: string; minutes: number; offset: number } {
  const offsetMs = periodAt(zone, ms).offsetMs;
  const local = new Date(ms + offsetMs);
  const iso = local.toISOString();
  if (iso.length !== 24) throw new RangeError(`no four-digit-year date at ${iso}`);
  return { date: iso.slice(0, 10), minutes: local.getUTCHours() * 60 + local.getUTCMinutes(), offset: offsetMs / MINUTE_MS };
}

function localDateTime(date: string, minutes: number): Temporal.PlainDateTime | null {
  try {
    return Temporal.PlainDate.from(date, { overflow: 'reject' }).toPlainDateTime().add({ minutes });
  } catch {
    return null;
  }
}

/**
 * Every instant at which `zone`'s clocks read `minutes` after midnight on `date` (`YYYY-MM-DD`), earliest first:
 * none in a spring gap, two in an autumn overlap, one otherwise. `minutes` may be 1440 (24:00, the next midnight).
 */
export function instantsReading(zone: string, date: string, minutes: number): number[] {
  const wall = localDateTime(date, minutes);
  if (!wall) return [];
  const earlier = wall.toZonedDateTime(zone, { disambiguation: 'earlier' });
  const later = wall.toZonedDateTime(zone, { disambiguation: 'later' });
  if (earlier.epochMilliseconds === later.epochMilliseconds) return [earlier.epochMilliseconds];
  // Two candidates: an overlap when both read back as `wall`, a gap (neither does) otherwise.
  return Temporal.PlainDateTime.compare(earlier.toPlainDateTime(), wall) === 0 ? [earlier.epochMilliseconds, later.epochMilliseconds] : [];
}

/**
 * The instant a local time means when it must mean one: the first reading; in a spring gap, the instant with the
 * offset in force before the change (01:30 in the gap is what the clock would have shown had it not jumped, 02:30).
 * Temporal's 'compatible' disambiguation, as RFC 5545 and java.time resolve it. Null for an impossible date.
 */
export function compatibleInstant(zone: string, date: string, minutes: number): number | null {
  const wall = localDateTime(date, minutes);
  return wall ? wall.toZonedDateTime(zone, { disambiguation: 'compatible' }).epochMilliseconds : null;
}
