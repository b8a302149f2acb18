/** Europe/London calendar days (the slot cache's unit), as `YYYY-MM-DD`, without depending on the cache's code. */

const LONDON = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/London', year: 'numeric', month: '2-digit', day: '2-digit' });

export function londonDate(ms: number): string {
  return LONDON.format(ms);
}

export function addDays(date: string, n: number): string {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d + n)).toISOString().slice(0, 10);
}

/** The instant a London day starts (London is UTC+0 or UTC+1). */
export function londonMidnight(date: string): number {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  for (const offsetHours of [0, 1]) {
    const t = Date.UTC(y, m - 1, d) - offsetHours * 3_600_000;
    if (londonDate(t) === date && londonDate(t - 1) !== date) return t;
  }
  throw new Error(`no London midnight found for ${date}`);
}

/** Every day from `first` to `last` inclusive. */
export function daysBetween(first: string, last: string): string[] {
  const out: string[] = [];
  for (let d = first; d <= last && out.length < 400; d = addDays(d, 1)) out.push(d);
  return out;
}
