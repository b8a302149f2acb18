/**
 * What every per-type parser shares: opening one NDJSON line as a resource of the file's type, and collecting the
 * record's issues. Parsers are pure: one line in, one record (or none) and its issues out.
 */
import { recordIssue, type RecordAt } from '../issues.js';
import type { FeedIssue, FeedResourceType } from '../types.js';
import { object, text, type Note } from '../values.js';

export interface Parsed<T> {
  record: T | null;
  issues: FeedIssue[];
}

export interface Opened {
  obj: Record<string, unknown>;
  id: string | null;
  note: Note;
  issues: FeedIssue[];
  /** Ends the record: skipped, with this reason. */
  skip(kind: FeedIssue['kind'], reason: string): Parsed<never>;
}

/**
 * Parses the line and checks it is a `type` resource. A missing resourceType is taken as the file's type (noted); a
 * different one is skipped: a Location line in a Slot file says the file is not what the manifest claims.
 */
export function open(line: string, type: FeedResourceType, at: RecordAt): Opened | Parsed<never> {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch {
    return { record: null, issues: [recordIssue('invalid-json', 'skipped', type, at, null, 'line is not JSON')] };
  }
  const obj = object(raw);
  if (!obj) return { record: null, issues: [recordIssue('invalid-json', 'skipped', type, at, null, 'line is not a JSON object')] };

  const issues: FeedIssue[] = [];
  let id: string | null = null;
  const note: Note = (kind, action, reason) => issues.push(recordIssue(kind, action, type, at, id, reason));
  id = text(obj.id, 'id', note);

  const rt = obj.resourceType;
  if (rt !== type) {
    if (rt === undefined || rt === null) {
      note('wrong-type', 'normalised', `no resourceType; taken as ${type}, the type the manifest gives this file`);
    } else {
      return { record: null, issues: [recordIssue('wrong-type', 'skipped', type, at, id, `a ${String(rt)} in a ${type} file`)] };
    }
  }
  return {
    obj,
    id,
    note,
    issues,
    skip: (kind, reason) => ({ record: null, issues: [...issues, recordIssue(kind, 'skipped', type, at, id, reason)] }),
  };
}

export function isParsed(x: Opened | Parsed<never>): x is Parsed<never> {
  return 'record' in x;
}
