/**
 * Moving recorded slot data into the coming days, by whole weeks so every slot keeps its weekday.
 *
 * The rule (weeksToShift): the data set's first slot day moves to the latest same weekday on or before today, so
 * today lies inside the data; if that would leave the last slot less than a day ahead (a one-week data set on its
 * last day), one week later instead. The vaccine-clinic set (4+ weeks) then always has weeks ahead; the one-week
 * general-appointments set has the rest of its week ahead, and always something in the next 24 hours.
 *
 * The transform (shiftLine) rewrites only the *date* of each `"start"` and `"end"` value, textually, and keeps the
 * written time and offset exactly as published. Why: the lines are served byte for byte otherwise (the defect
 * fixtures must reach clients with their defects intact, so no JSON re-encoding), and the instant moves by exactly
 * N × 7 × 24 h. The price: a time written in UTC keeps its UTC clock time, so its local time can move by an hour
 * across a daylight-saving change (both shared data sets write `…T14:00:00.000Z`: 09:00 in Boston in winter, 10:00
 * in summer); and a time written with a local offset keeps that offset, which is wrong on the far side of a DST
 * change (the "winter offset in summer" defect, which ingest flags). Neither shared data set uses local offsets.
 */

const DAY_MS = 86_400_000;
const WEEK_MS = 7 * DAY_MS;

/** Whole weeks to add to the data set whose slots start between `first` and `last`, as seen at `now`. */
export function weeksToShift(first: Date, last: Date, now: Date): number {
  const firstDay = Date.UTC(first.getUTCFullYear(), first.getUTCMonth(), first.getUTCDate());
  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  let weeks = Math.floor((today - firstDay) / WEEK_MS);
  if (last.getTime() + weeks * WEEK_MS < now.getTime() + DAY_MS) weeks += 1;
  return weeks;
}

const START_END = /("(?:start|end)"\s*:\s*")(\d{4})-(\d{2})-(\d{2})/g;

/** The line with the date of every "start"/"end" value moved by `weeks`; everything else untouched. */
export function shiftLine(line: string, weeks: number): string {
  if (weeks === 0) return line;
  return line.replace(START_END, (_m, prefix: string, y: string, mo: string, d: string) => prefix + shiftDate(Number(y), Number(mo), Number(d), weeks));
}

export function shiftDate(year: number, month: number, day: number, weeks: number): string {
  const t = new Date(Date.UTC(year, month - 1, day + weeks * 7));
  return `${String(t.getUTCFullYear()).padStart(4, '0')}-${String(t.getUTCMonth() + 1).padStart(2, '0')}-${String(t.getUTCDate()).padStart(2, '0')}`;
}

const START = /"start"\s*:\s*"(\d{4}-\d{2}-\d{2}T[^"]*)"/;

/** A slot line's start as a Date, when it has a readable one (used to find the data set's range). */
export function lineStart(line: string): Date | null {
  const m = START.exec(line);
  if (!m) return null;
  const t = Date.parse(m[1]!);
  return Number.isNaN(t) ? null : new Date(t);
}
