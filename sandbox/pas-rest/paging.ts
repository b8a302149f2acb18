/**
 * Cursor paging (API.md section 2). A cursor is opaque to clients: base64url JSON holding the offset and a hash of
 * the filters it was issued for, so a cursor replayed against other filters is refused rather than silently
 * skipping items. `next` is an absolute URL repeating the filters and limit.
 */
import { createHash } from 'node:crypto';

export const DEFAULT_LIMIT = 25;
export const MAX_LIMIT = 100;

export interface PageRequest {
  limit: number;
  offset: number;
}

export type PageParse = { ok: true; page: PageRequest } | { ok: false; code: 'BAD_REQUEST' | 'INVALID_CURSOR'; message: string };

/** The filters of a list request: every query parameter except the paging ones, order-insensitive. */
function filtersHash(query: URLSearchParams): string {
  const pairs = [...query].filter(([k]) => k !== 'cursor' && k !== 'limit').map(([k, v]) => `${k}=${v}`).sort();
  return createHash('sha256').update(pairs.join('&')).digest('base64url').slice(0, 16);
}

export function parsePage(query: URLSearchParams): PageParse {
  const rawLimit = query.get('limit');
  let limit = DEFAULT_LIMIT;
  if (rawLimit !== null) {
    if (!/^\d{1,3}$/.test(rawLimit) || Number(rawLimit) < 1 || Number(rawLimit) > MAX_LIMIT) {
      return { ok: false, code: 'BAD_REQUEST', message: `limit must be a whole number from 1 to ${MAX_LIMIT}` };
    }
    limit = Number(rawLimit);
  }
  const cursor = query.get('cursor');
  if (cursor === null) return { ok: true, page: { limit, offset: 0 } };
  try {
    const c = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { v?: unknown; o?: unknown; f?: unknown };
    if (c.v === 1 && typeof c.o === 'number' && Number.isInteger(c.o) && c.o >= 0 && c.f === filtersHash(query)) {
      return { ok: true, page: { limit, offset: c.o } };
    }
  } catch {
    // fall through
  }
  return { ok: false, code: 'INVALID_CURSOR', message: 'The cursor was not issued for this list and these filters' };
}

/** One page of `items` and the absolute URL of the next, or null on the last page. */
export function pageOf<T>(items: readonly T[], page: PageRequest, url: URL, origin: string): { data: T[]; next: string | null } {
  const data = items.slice(page.offset, page.offset + page.limit);
  const nextOffset = page.offset + data.length;
  if (nextOffset >= items.length || data.length === 0) return { data, next: null };
  const q = new URLSearchParams(url.searchParams);
  q.set('limit', String(page.limit));
  q.set('cursor', Buffer.from(JSON.stringify({ v: 1, o: nextOffset, f: filtersHash(url.searchParams) })).toString('base64url'));
  return { data, next: `${origin}${url.pathname}?${q.toString()}` };
}
