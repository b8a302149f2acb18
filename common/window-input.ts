/**
 * Slot windows as clients send them (`slots`, `capacity`, `nextAvailable`, `availability`), checked the same way
 * wherever they enter a process: in the gateway before anything is planned, and again in every subgraph, which must
 * not trust that it is only ever called through the gateway.
 *
 * Bounds: no instant more than a day in the past or a year ahead. Suppliers release diaries weeks ahead at most, and a
 * window outside that range can only be a mistake or an attack (a window in year 9999 once looped the day iteration
 * forever); the two-week span cap then bounds every loop over a window's days.
 */
import { userInputError } from './errors.js';
import { isRfc3339 } from './scalars.js';

export const DAY_MS = 24 * 60 * 60 * 1000;
/** GP Connect's consumer rule, which providers size for: never ask for more than two weeks at once. */
export const MAX_WINDOW_DAYS = 14;
export const WINDOW_PAST_LIMIT_MS = DAY_MS;
export const WINDOW_FUTURE_LIMIT_MS = 366 * DAY_MS;

/** An RFC 3339 instant from a client, strictly read (no rolled-over dates), within the bounds above. */
export function readInstant(value: string, field: string, now: Date): Date {
  if (typeof value !== 'string' || !isRfc3339(value)) {
    throw userInputError(`${field} must be an RFC 3339 date-time with an offset, e.g. 2026-11-21T14:30:00Z`, field);
  }
  const at = new Date(value);
  checkInstant(at, field, now);
  return at;
}

export function checkInstant(at: Date, field: string, now: Date): void {
  const t = at.getTime();
  if (!Number.isFinite(t) || t < now.getTime() - WINDOW_PAST_LIMIT_MS) {
    throw userInputError(`${field} may be at most a day in the past`, field);
  }
  if (t > now.getTime() + WINDOW_FUTURE_LIMIT_MS) throw userInputError(`${field} may be at most a year ahead`, field);
}

export interface WindowArgs {
  from?: string | null;
  to?: string | null;
}

/**
 * The window [from, to] a client asked for: `from` defaults to now, `to` to a day after `from`. `prefix` names the
 * fields as the client wrote them ("search." for availability's input object).
 */
export function readWindow(args: WindowArgs, now: Date, prefix = ''): { from: Date; to: Date } {
  const from = args.from ? readInstant(args.from, `${prefix}from`, now) : now;
  const to = args.to ? readInstant(args.to, `${prefix}to`, now) : new Date(from.getTime() + DAY_MS);
  if (to.getTime() <= from.getTime()) throw userInputError(`${prefix}to must be after ${prefix}from`, `${prefix}to`);
  if (to.getTime() - from.getTime() > MAX_WINDOW_DAYS * DAY_MS) {
    throw userInputError(`The window may span at most ${MAX_WINDOW_DAYS} days`, `${prefix}to`);
  }
  return { from, to };
}
