/**
 * One NDJSON file, read as it streams: each line parsed by its type's parser, each bad line skipped with its
 * issue, the rest of the file unaffected.
 */
import { IssueLog } from './issues.js';
import { ndjsonLines } from './ndjson.js';
import { parseLocation, type LocationRecord } from './records/location.js';
import { parsePractitionerRole, type PractitionerRoleRecord } from './records/practitioner-role.js';
import { parseSchedule, type ScheduleRecord } from './records/schedule.js';
import { parseSlot, type SlotRecord } from './records/slot.js';
import type { Parsed } from './records/common.js';
import type { FeedIssue, FeedResourceType } from './types.js';

export type FileRecords =
  | { type: 'Location'; records: LocationRecord[] }
  | { type: 'Schedule'; records: ScheduleRecord[] }
  | { type: 'PractitionerRole'; records: PractitionerRoleRecord[] }
  | { type: 'Slot'; records: SlotRecord[] };

export type FileContent = FileRecords & { issues: FeedIssue[] };

/**
 * A file whose last line has no newline and is not JSON: the transfer ended mid-resource (a proxy's cut, a
 * publisher's partial write). Reading on would publish a feed missing everything after the cut, so the refresh fails
 * and the previous snapshot stands (reader.ts).
 */
export class TruncatedFileError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
  ) {
    super(`${file} ends mid-line at line ${line}: cut short`);
    this.name = 'TruncatedFileError';
  }
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

export async function readFile(type: FeedResourceType, body: AsyncIterable<Uint8Array>, file: string): Promise<FileContent> {
  switch (type) {
    case 'Location':
      return { type, ...(await read(body, file, type, parseLocation)) };
    case 'Schedule':
      return { type, ...(await read(body, file, type, parseSchedule)) };
    case 'PractitionerRole':
      return { type, ...(await read(body, file, type, parsePractitionerRole)) };
    case 'Slot':
      return { type, ...(await read(body, file, type, parseSlot)) };
  }
}

async function read<T>(
  body: AsyncIterable<Uint8Array>,
  file: string,
  type: FeedResourceType,
  parse: (line: string, at: { file: string; line: number }) => Parsed<T>,
): Promise<{ records: T[]; issues: FeedIssue[] }> {
  const log = new IssueLog();
  const records: T[] = [];
  for await (const item of ndjsonLines(body)) {
    if ('tooLong' in item) {
      log.add({ kind: 'line-too-long', action: 'skipped', resourceType: type, file, line: item.line, id: null, reason: 'line is too long to be one resource' });
      continue;
    }
    if (item.unterminated && !isJson(item.text)) throw new TruncatedFileError(file, item.line);
    const parsed = parse(item.text, { file, line: item.line });
    log.addAll(parsed.issues);
    if (parsed.record) records.push(parsed.record);
  }
  return { records, issues: log.list(file) };
}
