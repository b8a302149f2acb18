/**
 * UK civil time (Europe/London) without a date library: the offset comes from the platform's tz database via Intl.
 *
 * Simulators build diaries in local wall-clock time ("the MIU opens at 08:00") and publish FHIR instants, so they
 * need both directions: wall clock → instant (to generate slots) and instant → `yyyy-mm-ddThh:mm:ss+hh:mm` with the
 * offset that applied at that instant (to publish them). The two daylight-saving change days are where naive code
 * loses or duplicates an hour; everything here works in instants and only labels them with local time at the edge.
 */

const LONDON = 'Europe/London';

/** A calendar date in UK local time. Months are 1-based, as people write them. */
export interface LocalDate {
  year: number;
  month: number;
  day: number;
}

export interface LocalDateTime extends LocalDate {
  hour: number;
  minute: number;
}

// Constructing a DateTimeFormat is expensive (tens of microseconds); formatting with one is cheap. Reuse it.
const parts = new Intl.DateTimeFormat('en-GB', {
  timeZone: LONDON,
  hourCycle: 'h23',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
});

/** UK local wall-clock reading of an instant. */
export function toLondon(ms: number): LocalDateTime & { second: number } {
  const offset = memoisedOffsetMinutes(ms);
  if (offset === undefined) return intlLondon(ms);
  const d = new Date(ms + offset * 60_000);
  return {
    year: d.getUTCFullYear(),
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    hour: d.getUTCHours(),
    minute: d.getUTCMinutes(),
    second: d.getUTCSeconds(),
  };
}

/** Minutes east of UTC in force in London at an instant: 0 (GMT) or 60 (BST). */
export function londonOffsetMinutes(ms: number): number {
  return memoisedOffsetMinutes(ms) ?? intlOffsetMinutes(ms);
}

const HOUR_MS = 3_600_000;
/**
 * Since 1972 every London clock change has happened on a whole UTC hour (01:00 UTC under EU rules, 02:00 GMT
 * before them), so one offset holds for a whole UTC hour. Reading it through Intl once per hour, not once per call,
 * took two thirds of the PAS simulator's CPU off a cold search (it reads a wall clock per session boundary) and a
 * twentieth of the Booking Standard simulator's (the date of now and of the window's ends, every request). Outside
 * 1972–2100 every call asks Intl (London's local mean time before 1847 is not a whole-minute offset).
 */
const MEMO_FROM_MS = Date.UTC(1972, 0, 1);
const MEMO_TO_MS = Date.UTC(2100, 0, 1);
/** Hours remembered: a few years of them; cleared whole past it, so it stays small however long a simulator runs. */
const MAX_HOURS = 50_000;
const offsetByHour = new Map<number, number>();

function memoisedOffsetMinutes(ms: number): number | undefined {
  if (!(ms >= MEMO_FROM_MS && ms < MEMO_TO_MS)) return undefined;
  const hour = Math.floor(ms / HOUR_MS);
  let offset = offsetByHour.get(hour);
  if (offset === undefined) {
    if (offsetByHour.size >= MAX_HOURS) offsetByHour.clear();
    offsetByHour.set(hour, (offset = intlOffsetMinutes(hour * HOUR_MS)));
  }
  return offset;
}

/** The platform's tz database, asked directly. */
function intlLondon(ms: number): LocalDateTime & { second: number } {
  const out: Record<string, number> = {};
  for (const p of parts.formatToParts(new Date(ms))) {
    if (p.type !== 'literal') out[p.type] = Number(p.value);
  }
  return {
    year: out['year']!,
    month: out['month']!,
    day: out['day']!,
    hour: out['hour']!,
    minute: out['minute']!,
    second: out['second']!,
  };
}

function intlOffsetMinutes(ms: number): number {
  const t = Math.floor(ms / 1000) * 1000;
  const l = intlLondon(t);
  const asUtc = Date.UTC(l.year, l.month - 1, l.day, l.hour, l.minute, l.second);
  return Math.round((asUtc - t) / 60_000);
}

/**
 * The instant at which London clocks read the given wall-clock time.
 *
 * Two wall-clock times need a rule: on the spring-forward day 01:00–01:59 never happens (we move forward by the gap,
 * as clocks do), and on the fall-back day 01:00–01:59 happens twice (we take the first, BST, occurrence). Diaries
 * here never start sessions in that hour, but the rule keeps the function total.
 */
export function londonToInstant(t: LocalDateTime): number {
  const naive = Date.UTC(t.year, t.month - 1, t.day, t.hour, t.minute);
  // The offset is one of the offsets in force within a day either side; try each and keep the ones that round-trip.
  const offsets = new Set([londonOffsetMinutes(naive - 86_400_000), londonOffsetMinutes(naive), londonOffsetMinutes(naive + 86_400_000)]);
  const valid = [...offsets]
    .map((off) => naive - off * 60_000)
    .filter((ms) => {
      const l = toLondon(ms);
      return l.year === t.year && l.month === t.month && l.day === t.day && l.hour === t.hour && l.minute === t.minute;
    })
    .sort((a, b) => a - b);
  if (valid.length > 0) return valid[0]!;
  // In the spring gap: read the wall clock with the offset from before the change, which lands after the gap.
  return naive - londonOffsetMinutes(naive - 86_400_000) * 60_000;
}

/** `yyyy-mm-ddThh:mm:ss+hh:mm` in UK local time: what a UK supplier system typically publishes. */
export function formatLondon(ms: number): string {
  const off = londonOffsetMinutes(ms);
  return formatWithOffset(ms, off);
}

/** `yyyy-mm-ddThh:mm:ss±hh:mm` for an instant written at a fixed offset (minutes east of UTC). */
export function formatWithOffset(ms: number, offsetMinutes: number): string {
  const d = new Date(ms + offsetMinutes * 60_000);
  const sign = offsetMinutes < 0 ? '-' : '+';
  const abs = Math.abs(offsetMinutes);
  return (
    `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}` +
    `T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}` +
    `${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`
  );
}

/** The UK calendar date an instant falls on. */
export function londonDateOf(ms: number): LocalDate {
  const l = toLondon(ms);
  return { year: l.year, month: l.month, day: l.day };
}

/** Calendar arithmetic on local dates (no time zone involved: a date is a date). */
export function addDays(d: LocalDate, n: number): LocalDate {
  const u = new Date(Date.UTC(d.year, d.month - 1, d.day + n));
  return { year: u.getUTCFullYear(), month: u.getUTCMonth() + 1, day: u.getUTCDate() };
}

/** 0 = Sunday … 6 = Saturday. */
export function dayOfWeek(d: LocalDate): number {
  return new Date(Date.UTC(d.year, d.month - 1, d.day)).getUTCDay();
}

/** `yyyy-mm-dd`. */
export function isoDate(d: LocalDate): string {
  return `${d.year}-${pad(d.month)}-${pad(d.day)}`;
}

/** Whole days from a to b (b − a). */
export function daysBetween(a: LocalDate, b: LocalDate): number {
  return Math.round((Date.UTC(b.year, b.month - 1, b.day) - Date.UTC(a.year, a.month - 1, a.day)) / 86_400_000);
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}
