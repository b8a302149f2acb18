/**
 * Reads the sandbox simulators' request logs (sandbox/lib/http.ts `GET /_sandbox/requests`) and says which upstream
 * calls were made for which service and London day: a Booking Standard slot search names the service and its
 * `start` range; an Oakfield session search names a clinic (mapped back to its DoS service) and a date range; feed
 * polls are per feed, not per service.
 */
import { addDays, daysBetween, londonDate, londonMidnight } from './days.js';

export interface LoggedRequest {
  method: string;
  path: string;
  query: Record<string, string[]>;
  status?: number;
}

export async function sandboxLog(base: string): Promise<LoggedRequest[]> {
  const res = await fetch(`${base}/_sandbox/requests`);
  if (!res.ok) throw new Error(`${base}/_sandbox/requests answered ${res.status}`);
  return (await res.json()) as LoggedRequest[];
}

/**
 * Until no simulator has logged a request for `quietMs`: work a row's warm-up left running in the background (a stale
 * bucket's refresh) has reached its supplier, so emptying Redis afterwards cannot be undone by its late write. At
 * most `maxMs`; false when the simulators never went quiet.
 */
export async function upstreamSettled(bases: readonly string[], quietMs = 1000, maxMs = 20_000): Promise<boolean> {
  const mark = async () => (await Promise.all(bases.map(sandboxLog))).map((l) => `${l.length}:${JSON.stringify(l.at(-1) ?? null)}`).join('|');
  const until = performance.now() + maxMs;
  let last = await mark();
  let since = performance.now();
  while (performance.now() < until) {
    await new Promise((r) => setTimeout(r, 100));
    const now = await mark();
    if (now !== last) {
      last = now;
      since = performance.now();
    } else if (performance.now() - since >= quietMs) return true;
  }
  return false;
}

export async function clearSandboxLog(base: string): Promise<void> {
  await fetch(`${base}/_sandbox/requests`, { method: 'DELETE' });
}

export interface UpstreamCount {
  total: number;
  /** Calls by what they were (slot search, next page, session search, clinic look-up, feed manifest or file...). */
  byKind: Map<string, number>;
  /**
   * `${serviceId} ${day}` → how many times the most-fetched instant of that service and day was searched. A search
   * cut into disjoint time slices (Booking Standard's parallel parts) fetches each instant once, so it counts once.
   */
  perServiceDay: Map<string, number>;
  /** serviceId → slot searches naming it (one search may cover several days). */
  perService: Map<string, number>;
  /** Calls answered with a status other than 2xx/304 (a simulator's 429 counts as a call too). */
  failed: number;
}

function bump<K>(m: Map<K, number>, k: K, by = 1): void {
  m.set(k, (m.get(k) ?? 0) + by);
}

/**
 * Counts the calls in the three supplier simulators' logs. `clinicService` maps Oakfield clinic ids to DoS service
 * ids (from `GET /clinics?externalId=`).
 */
export function countUpstream(
  logs: { bookingStandard: LoggedRequest[]; pas: LoggedRequest[]; feeds: LoggedRequest[] },
  clinicService: ReadonlyMap<string, string>,
): UpstreamCount {
  const out: UpstreamCount = { total: 0, byKind: new Map(), perServiceDay: new Map(), perService: new Map(), failed: 0 };
  const ranges = new Map<string, { from: number; to: number }[]>();
  /** A search of `serviceId` for starts in [from, to] (epoch ms, inclusive). */
  const cover = (serviceId: string, from: number, to: number) => {
    bump(out.perService, serviceId);
    ranges.set(serviceId, [...(ranges.get(serviceId) ?? []), { from, to }]);
  };
  const seen = (r: LoggedRequest, kind: string) => {
    out.total += 1;
    bump(out.byKind, kind);
    if (r.status !== undefined && !(r.status >= 200 && r.status < 300) && r.status !== 304) out.failed += 1;
  };

  for (const r of logs.bookingStandard) {
    if (!r.path.endsWith('/Slot')) {
      seen(r, `booking-standard ${r.method} ${r.path.split('/').slice(-1)[0]}`);
      continue;
    }
    const serviceId = r.query['schedule.actor:healthcareservice']?.[0];
    const range = (r.query.start ?? []).map((s) => ({ op: s.slice(0, 2), at: Date.parse(s.slice(2)) }));
    const ge = range.find((x) => x.op === 'ge')?.at;
    const le = range.find((x) => x.op === 'le')?.at;
    // A `next` link repeats the search's parameters and adds `_page`: a further page of the same search.
    if (r.query._page || !serviceId || ge === undefined || le === undefined) {
      seen(r, 'booking-standard slot search, next page');
      continue;
    }
    seen(r, 'booking-standard slot search');
    cover(serviceId, ge, le);
  }

  for (const r of logs.pas) {
    const sessions = /\/clinics\/([^/]+)\/sessions$/.exec(r.path);
    if (sessions) {
      const from = r.query.from?.[0];
      const to = r.query.to?.[0];
      if (r.query.cursor) {
        seen(r, 'oakfield session search, next page');
        continue;
      }
      seen(r, 'oakfield session search');
      const serviceId = clinicService.get(decodeURIComponent(sessions[1]!)) ?? `clinic ${sessions[1]}`;
      if (from && to) cover(serviceId, londonMidnight(from), londonMidnight(addDays(to, 1)) - 1);
      continue;
    }
    seen(r, r.path.endsWith('/clinics') ? 'oakfield clinic look-up' : `oakfield ${r.method} ${r.path}`);
  }

  for (const r of logs.feeds) {
    const feed = r.path.split('/')[1] ?? '?';
    seen(r, r.path.includes('bulk-publish') ? `feed manifest (${feed})` : `feed file (${feed})`);
  }

  for (const [serviceId, list] of ranges) {
    for (const r of list) {
      // The deepest overlap inside this range: how many searches fetched its most-fetched instant.
      const starts = list.filter((o) => o.from <= r.to && o.to >= r.from).map((o) => Math.max(o.from, r.from));
      const depth = Math.max(...starts.map((t) => list.filter((o) => o.from <= t && o.to >= t).length));
      for (const d of daysBetween(londonDate(r.from), londonDate(r.to))) {
        const key = `${serviceId} ${d}`;
        out.perServiceDay.set(key, Math.max(out.perServiceDay.get(key) ?? 0, depth));
      }
    }
  }
  return out;
}

/** The service-days a search asked for: every service, every London day of the window. */
export function askedServiceDays(serviceIds: readonly string[], firstDay: string, days: number): string[] {
  const out: string[] = [];
  for (const id of serviceIds) for (let i = 0; i < days; i++) out.push(`${id} ${addDays(firstDay, i)}`);
  return out;
}
