/**
 * A feed snapshot as stored for every process to read (store.ts's body), and back. Only what ingest produced from
 * the publisher's files: services (locations and schedules), slots, the file list and the issues. Feeds carry no
 * patient data, and this codec has no field for any.
 *
 * Bounded: a body over `maxBytes` keeps its services and drops slots, past ones first, then the latest-starting,
 * with an issue saying how many were left out; issues are capped too. The version is a digest of what the content
 * was built from (the publication's transactionTime and each file's URL, download time and record count), so a poll
 * answered 304 changes the meta only, and no process re-reads or re-parses an unchanged body.
 */
import { createHash } from 'node:crypto';
import type { FeedMeta } from './store.js';
import type { FeedFile, FeedIssue, FeedService, FeedSlot, FeedSnapshot } from './types.js';

/** Default bound on a stored body (a large national feed is a few MB; the sandbox's largest under 4 MB). */
export const DEFAULT_MAX_SNAPSHOT_BYTES = 32 * 1024 * 1024;
/** Issues kept in a stored snapshot (they are for operators' logs, which the poller writes in full). */
export const MAX_STORED_ISSUES = 500;

type StoredSlot = Omit<FeedSlot, 'fetchedAt'>;

/**
 * What a body written before slots carried their published offsets and defects (an older release's, still in
 * Redis until the next poll rewrites it) is read with: UTC, no zone, no flags. Wrong only in saying too little.
 */
const BEFORE_QUALITY_FIELDS: Pick<FeedSlot, 'startOffset' | 'endOffset' | 'timeZone' | 'bookingLinkShared' | 'capacityCoerced' | 'placeholder' | 'phoneTruncated'> = {
  startOffset: 0,
  endOffset: 0,
  timeZone: null,
  bookingLinkShared: false,
  capacityCoerced: false,
  placeholder: false,
  phoneTruncated: false,
};

export interface SnapshotBody {
  version: string;
  systemId: string;
  manifestUrl: string;
  transactionTime: string | null;
  services: FeedService[];
  files: FeedFile[];
  issues: FeedIssue[];
  slots: StoredSlot[];
}

/** What a snapshot's content was built from: equal for two snapshots of the same download of the same files. */
export function snapshotVersion(s: Pick<FeedSnapshot, 'systemId' | 'manifestUrl' | 'transactionTime' | 'files'>): string {
  const basis = JSON.stringify([s.systemId, s.manifestUrl, s.transactionTime, s.files.map((f) => [f.type, f.url, f.downloadedAt, f.records])]);
  return createHash('sha256').update(basis).digest('hex').slice(0, 32);
}

export function encodeSnapshot(s: FeedSnapshot, opts: { maxBytes?: number; now?: Date } = {}): { version: string; body: string; droppedSlots: number } {
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_SNAPSHOT_BYTES;
  const version = snapshotVersion(s);
  const slotJson = s.slots.map((slot) => {
    const { fetchedAt: _fetchedAt, ...rest } = slot;
    return JSON.stringify(rest);
  });
  const issues = s.issues.slice(0, MAX_STORED_ISSUES);
  const head = (extra: FeedIssue[]) =>
    JSON.stringify({
      version,
      systemId: s.systemId,
      manifestUrl: s.manifestUrl,
      transactionTime: s.transactionTime,
      services: s.services,
      files: s.files,
      issues: [...issues, ...extra],
    }).slice(0, -1);
  const total = head([]).length + slotJson.reduce((n, j) => n + j.length + 1, 0) + 12;
  if (total <= maxBytes) return { version, body: `${head([])},"slots":[${slotJson.join(',')}]}`, droppedSlots: 0 };

  // Over the bound: drop slots that have ended, then keep the earliest-starting that fit.
  const now = (opts.now ?? new Date()).getTime();
  const notice: FeedIssue = {
    kind: 'suppressed',
    action: 'skipped',
    resourceType: 'Slot',
    file: null,
    line: null,
    id: null,
    reason: `the snapshot is over ${maxBytes} bytes: the slots starting latest were left out (999999999 of ${s.slots.length})`,
  };
  let budget = maxBytes - head([notice]).length - 12;
  const kept: string[] = [];
  for (let i = 0; i < s.slots.length; i++) {
    if (Date.parse(s.slots[i]!.end) < now) continue;
    const j = slotJson[i]!;
    if (j.length + 1 > budget) break;
    budget -= j.length + 1;
    kept.push(j);
  }
  const dropped = s.slots.length - kept.length;
  const final = { ...notice, reason: notice.reason.replace('999999999', String(dropped)) };
  return { version, body: `${head([final])},"slots":[${kept.join(',')}]}`, droppedSlots: dropped };
}

/** The stored body; null when it is not one this codec wrote (the next poll rewrites it). */
export function decodeSnapshot(body: string): SnapshotBody | null {
  try {
    const b = JSON.parse(body) as SnapshotBody;
    if (typeof b.version !== 'string' || !Array.isArray(b.services) || !Array.isArray(b.slots) || !Array.isArray(b.files)) return null;
    return b;
  } catch {
    return null;
  }
}

/**
 * The snapshot readers use: the body's content with the meta's times. Every slot's (and file's) `fetchedAt` is the
 * snapshot's fetch time (`checkedAt`, when the publisher last gave or confirmed the publication); `stale` says the
 * last poll failed.
 */
export function assembleSnapshot(b: SnapshotBody, meta: Pick<FeedMeta, 'checkedAt' | 'stale'>): FeedSnapshot {
  const checkedAt = meta.checkedAt ?? b.files[0]?.fetchedAt ?? new Date(0).toISOString();
  const slots: FeedSlot[] = b.slots.map((s) => ({ ...BEFORE_QUALITY_FIELDS, ...s, fetchedAt: checkedAt }));
  const slotsByService = new Map<string, FeedSlot[]>();
  for (const s of slots) {
    const list = slotsByService.get(s.serviceId);
    if (list) list.push(s);
    else slotsByService.set(s.serviceId, [s]);
  }
  return {
    systemId: b.systemId,
    manifestUrl: b.manifestUrl,
    transactionTime: b.transactionTime,
    checkedAt,
    services: b.services,
    slots,
    servicesById: new Map(b.services.map((s) => [s.id, s])),
    slotsByService,
    files: b.files.map((f) => ({ ...f, fetchedAt: checkedAt })),
    issues: b.issues,
    stale: meta.stale,
  };
}
