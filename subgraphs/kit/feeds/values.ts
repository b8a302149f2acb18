/**
 * Reading single values out of records published by people who honour the spec loosely: numbers as strings, a bare
 * value where an array belongs, `null` for "not known", placeholder text. Each reader returns the value it could
 * make sense of (or null) and tells `note` what it had to do, so the record's issues say so. A value that cannot be
 * read is dropped (`normalised`: the record is still used); whether the record can live without it is the
 * caller's decision (`skipped`).
 */
import type { FeedIssue, FeedIssueKind } from './types.js';

/** Where the per-record parsers report what they tolerated. */
export type Note = (kind: FeedIssueKind, action: FeedIssue['action'], reason: string) => void;

/** A trimmed, non-empty string; numbers and booleans are accepted as their text (noted). */
export function text(v: unknown, field: string, note: Note): string | null {
  if (v === undefined || v === null) return null;
  if (typeof v === 'string') {
    const t = v.trim();
    return t === '' ? null : t;
  }
  if (typeof v === 'number' || typeof v === 'boolean') {
    note('coerced', 'normalised', `${field} was a ${typeof v}, read as text`);
    return String(v);
  }
  note('invalid-value', 'normalised', `${field} is not text; ignored`);
  return null;
}

// Values people type when they have nothing to say. Deliberately not "0": the reference data uses 0 as a real id.
const PLACEHOLDER = /^(null|nil|undefined|none|n\/?a|na|unknown(\b.*)?|not (known|available|applicable)|tbd|tba|to be (confirmed|determined)|x+|-+|\?+|\.+)$/i;

/** True for text that stands in for a missing value ("unknown PIN", "null", "N/A", "-"). */
export function isPlaceholder(s: string): boolean {
  return PLACEHOLDER.test(s.trim());
}

/** An integer, from a number or a string of digits (noted); null for anything else, with the reason noted. */
export function integer(v: unknown, field: string, note: Note): number | null {
  if (v === undefined || v === null) return null;
  if (typeof v === 'number') {
    if (Number.isInteger(v)) return v;
    note('invalid-value', 'normalised', `${field} ${v} is not a whole number; ignored`);
    return null;
  }
  if (typeof v === 'string' && /^\s*[-+]?\d+\s*$/.test(v)) {
    note('coerced', 'normalised', `${field} was the string "${v.trim()}", read as a number`);
    return Number(v);
  }
  note('invalid-value', 'normalised', `${field} ${JSON.stringify(v).slice(0, 40)} is not a number; ignored`);
  return null;
}

/** A decimal, from a number or a numeric string (noted). */
export function decimal(v: unknown, field: string, note: Note): number | null {
  if (v === undefined || v === null) return null;
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) {
    note('coerced', 'normalised', `${field} was a string, read as a number`);
    return Number(v);
  }
  note('invalid-value', 'normalised', `${field} is not a number; ignored`);
  return null;
}

/** The elements of an array (nulls dropped); a lone value where an array belongs is taken as a list of one (noted). */
export function list(v: unknown, field: string, note: Note): unknown[] {
  if (v === undefined || v === null) return [];
  if (Array.isArray(v)) return v.filter((x) => x !== null && x !== undefined);
  note('coerced', 'normalised', `${field} was a single value, not an array`);
  return [v];
}

export function object(v: unknown): Record<string, unknown> | null {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
}

/** A FHIR instant as published: the moment, and the offset it was written with (minutes east of UTC). */
export interface Instant {
  ms: number;
  offsetMinutes: number;
  written: string;
}

const INSTANT = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * A date-time with an explicit offset. A time without one is refused: it could be any of 24+ hours depending on
 * a zone the record does not name, and a slot an hour out is worse than a slot not shown.
 */
export function instant(v: unknown): Instant | null {
  if (typeof v !== 'string') return null;
  const s = v.trim();
  const m = INSTANT.exec(s);
  if (!m) return null;
  const ms = Date.parse(s);
  if (Number.isNaN(ms)) return null;
  // Date.parse rolls 2026-02-30 over to March; a real date round-trips in its own offset.
  const offsetMinutes = m[7] === 'Z' ? 0 : (m[7]!.startsWith('-') ? -1 : 1) * (Number(m[7]!.slice(1, 3)) * 60 + Number(m[7]!.slice(4, 6)));
  const local = new Date(ms + offsetMinutes * 60_000);
  if (local.getUTCFullYear() !== Number(m[1]) || local.getUTCMonth() + 1 !== Number(m[2]) || local.getUTCDate() !== Number(m[3])) return null;
  return { ms, offsetMinutes, written: s };
}

/** An absolute http(s) URL, or null. */
export function httpUrl(v: string | null): string | null {
  if (!v) return null;
  try {
    const u = new URL(v);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.toString() : null;
  } catch {
    return null;
  }
}

/**
 * The logical id in a reference to `type`: `Type/id`, `Type/id/_history/v`, or an absolute URL ending in either;
 * a trailing slash is tolerated. Null for a reference to another type.
 */
export function logicalId(reference: unknown, type: string): string | null {
  if (typeof reference !== 'string') return null;
  const m = reference.trim().replace(/\/+$/, '').match(/(?:^|\/)([A-Za-z]+)\/([^/]+)(?:\/_history\/[^/]+)?$/);
  if (!m || m[1] !== type) return null;
  try {
    return decodeURIComponent(m[2]!);
  } catch {
    return m[2]!;
  }
}

/** The resource type a reference points at (`Location/1` → Location), or null. */
export function referenceType(reference: unknown): string | null {
  if (typeof reference !== 'string') return null;
  const m = reference.trim().replace(/\/+$/, '').replace(/\/_history\/[^/]+$/, '').match(/(?:^|\/)([A-Za-z]+)\/[^/]+$/);
  return m ? m[1]! : null;
}
