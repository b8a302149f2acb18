/**
 * Opaque cursors for `services`. A cursor names a position in one search's ordered results, and carries a
 * fingerprint of that search so it cannot be replayed against another, plus a check value so an edited cursor
 * is refused rather than silently skipping or repeating services.
 *
 * The check key is not a secret and needs none: the positions index public directory data. It only has to be the
 * same in every replica, so a cursor from one works on the next.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { canonicalJson } from '../../common/canonical-json.js';

const VERSION = 'c1';
const CHECK_KEY = 'directory-subgraph-cursor-v1';

/** A stable fingerprint of the search (filters, point, radius; never the page size). */
export function searchFingerprint(search: unknown): string {
  return createHash('sha256').update(canonicalJson(search)).digest('base64url').slice(0, 16);
}

export function encodeCursor(position: number, fingerprint: string): string {
  const payload = `${VERSION}:${position}:${fingerprint}`;
  return Buffer.from(`${payload}:${check(payload)}`, 'utf8').toString('base64url');
}

export type CursorProblem = 'MALFORMED' | 'OTHER_SEARCH';

/** The position a cursor names, or why it cannot be used with this search. */
export function decodeCursor(cursor: string, fingerprint: string): { position: number } | { problem: CursorProblem } {
  if (!/^[A-Za-z0-9_-]{1,200}$/.test(cursor)) return { problem: 'MALFORMED' };
  const parts = Buffer.from(cursor, 'base64url').toString('utf8').split(':');
  if (parts.length !== 4 || parts[0] !== VERSION || !/^\d{1,9}$/.test(parts[1]!)) return { problem: 'MALFORMED' };
  const payload = parts.slice(0, 3).join(':');
  const expected = Buffer.from(check(payload));
  const given = Buffer.from(parts[3]!);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { problem: 'MALFORMED' };
  if (parts[2] !== fingerprint) return { problem: 'OTHER_SEARCH' };
  return { position: Number(parts[1]) };
}

function check(payload: string): string {
  return createHmac('sha256', CHECK_KEY).update(payload).digest('base64url').slice(0, 16);
}

