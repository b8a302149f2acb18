/**
 * FeedReader: one publisher's feed (one SMART_LINKS system in the registry), kept current by polling politely.
 *
 * - `snapshot()` answers from memory until a poll is due: `Cache-Control: max-age` from the manifest, never sooner
 *   than the system's `pollFloorSeconds` (no-cache/no-store or no header: at the floor). So the publisher sees at
 *   most one manifest request per floor, however many requests we serve.
 * - Single flight: callers arriving while a refresh runs share it.
 * - Conditional GETs everywhere: the manifest with If-None-Match / If-Modified-Since; a 304 means the publication
 *   is unchanged, and every file is re-used without a request (the manifest's transactionTime is the
 *   publication's version, so a publisher that changes a file changes the manifest). After a changed manifest,
 *   each file is asked for conditionally and only re-read when it changed.
 * - Files are streamed and parsed line by line, each call under the system's deadline.
 * - A refresh is all or nothing: if the manifest or any file cannot be had (timeout, 5xx, reset), the previous
 *   snapshot is kept, marked stale with the reason, and the next attempt waits for the floor (no retries inside a
 *   poll: the floor counts requests, not successes). Only a file the publisher says is gone (404/410) is dropped
 *   from an otherwise good refresh, as an issue. With no previous snapshot the failure is thrown, and remembered
 *   until the floor so a dead feed is not hammered.
 * - An empty or broken publication is not "no availability": a manifest that suddenly lists no files, or a file
 *   that ends mid-line (cut short), fails the refresh the same way, the last good snapshot standing.
 * - Feed issues are logged when they first appear, not again with every republication that still has them.
 */
import type { Logger } from 'pino';
import type { SmartLinksSystem } from '../registry.js';
import { upstreamFetch } from '../supplier-http.js';
import { UpstreamError } from '../../../common/upstream.js';
import { pollIntervalSeconds } from './cache-control.js';
import { TruncatedFileError, readFile, type FileContent } from './file.js';
import { conditionalHeaders, streamGet, type Validators } from './http.js';
import { joinFeed, type ParsedFeed } from './join.js';
import { fileName, parseManifest, type Manifest } from './manifest.js';
import type { LocationRecord } from './records/location.js';
import type { PractitionerRoleRecord } from './records/practitioner-role.js';
import type { ScheduleRecord } from './records/schedule.js';
import { FEED_RESOURCE_TYPES, type FeedFile, type FeedIssue, type FeedResourceType, type FeedSlot, type FeedSnapshot } from './types.js';

export interface FeedReaderOptions {
  /**
   * Resource types to fetch (default: all four). The directory needs Location, Schedule and PractitionerRole and
   * should leave out Slot, by far the largest files. Services need Location and Schedule.
   */
  types?: readonly FeedResourceType[];
  logger?: Logger;
  /** Clock for polling decisions and timestamps (tests move it; deadlines use real time). */
  now?: () => Date;
  /** Files fetched at once after a changed manifest (default 4). */
  concurrency?: number;
}

export interface SnapshotOptions {
  /**
   * The caller wants data confirmed within this many seconds: a refresh is made sooner than max-age would
   * (never sooner than the poll floor) when the snapshot is older.
   */
  maxAgeSeconds?: number;
}

interface CachedFile {
  type: FeedResourceType;
  url: string;
  validators: Validators;
  downloadedAt: string;
  fetchedAt: string;
  /** Null when the publisher answered 404/410. */
  content: FileContent | null;
  missingIssue: FeedIssue | null;
}

const MANIFEST_ACCEPT = 'application/json';
const FILE_ACCEPT = 'application/fhir+ndjson';

export class FeedReader {
  private readonly types: ReadonlySet<FeedResourceType>;
  private readonly now: () => Date;
  private readonly logger: Logger | undefined;
  private readonly concurrency: number;

  private manifest: Manifest | null = null;
  private manifestIssues: FeedIssue[] = [];
  private manifestValidators: Validators = { etag: null, lastModified: null };
  private manifestCacheControl: string | null = null;
  private files = new Map<string, CachedFile>();

  private current: FeedSnapshot | null = null;
  private failure: UpstreamError | null = null;
  private nextPollAt = 0;
  private lastAttemptAt = Number.NEGATIVE_INFINITY;
  private inflight: Promise<FeedSnapshot> | null = null;
  /** Issues of the last publication logged (issueKey), so a persisting defect is logged once. */
  private reported = new Set<string>();

  constructor(
    readonly system: SmartLinksSystem,
    opts: FeedReaderOptions = {},
  ) {
    this.types = new Set(opts.types ?? FEED_RESOURCE_TYPES);
    this.now = opts.now ?? (() => new Date());
    this.logger = opts.logger?.child({ system: system.id });
    this.concurrency = Math.max(1, opts.concurrency ?? 4);
  }

  /** The current feed, refreshed first when a poll is due. Throws UpstreamError only when there has never been one. */
  snapshot(opts: SnapshotOptions = {}): Promise<FeedSnapshot> {
    if (this.inflight) return this.inflight;
    if (!this.due(opts)) {
      if (this.current) return Promise.resolve(this.current);
      if (this.failure) return Promise.reject(this.failure);
    }
    this.inflight = this.refresh().finally(() => {
      this.inflight = null;
    });
    return this.inflight;
  }

  /** The snapshot in hand, without polling; null before the first successful refresh. */
  peek(): FeedSnapshot | null {
    return this.current;
  }

  /**
   * Refreshes now, whatever the reader's own schedule says (single flight): for a poller that keeps the schedule
   * elsewhere (shared.ts, where it is shared by every process through the feed store). Same outcomes as
   * snapshot(): the previous feed marked stale when the refresh fails, an UpstreamError when there is none.
   */
  poll(): Promise<FeedSnapshot> {
    if (this.inflight) return this.inflight;
    this.inflight = this.refresh().finally(() => {
      this.inflight = null;
    });
    return this.inflight;
  }

  /** When the publisher may be asked again (epoch ms): its max-age after the last answer, never before the floor. */
  nextPollTime(): number {
    return this.nextPollAt;
  }

  private due(opts: SnapshotOptions): boolean {
    const now = this.now().getTime();
    if (now >= this.nextPollAt) return true;
    if (opts.maxAgeSeconds === undefined || !this.current) return false;
    const age = now - Date.parse(this.current.checkedAt);
    return age > opts.maxAgeSeconds * 1000 && now - this.lastAttemptAt >= this.system.pollFloorSeconds * 1000;
  }

  private async refresh(): Promise<FeedSnapshot> {
    const started = this.now().getTime();
    this.lastAttemptAt = started;
    try {
      const next = await this.load();
      this.current = next;
      this.failure = null;
      return next;
    } catch (err) {
      const e = err instanceof UpstreamError ? err : new UpstreamError(this.system.id, 'INVALID_RESPONSE', undefined, (err as Error).message);
      this.nextPollAt = started + this.system.pollFloorSeconds * 1000;
      this.logger?.warn({ reason: e.reason, status: e.status, detail: e.detail, kept: !!this.current }, 'feed refresh failed');
      if (!this.current) {
        this.failure = e;
        throw e;
      }
      const since = this.current.stale?.since ?? new Date(started).toISOString();
      this.current = { ...this.current, stale: { since, reason: e.reason, detail: e.detail ?? null } };
      return this.current;
    }
  }

  private async load(): Promise<FeedSnapshot> {
    const { system } = this;
    const res = await upstreamFetch(system.manifestUrl, {
      system: system.id,
      deadlineMs: system.deadlineMs,
      headers: conditionalHeaders(MANIFEST_ACCEPT, this.manifest ? this.manifestValidators : null),
      // The floor applies to retries too: a failed poll waits for the next one, the previous snapshot serving.
      retries: 0,
    });
    const answeredAt = this.now();
    const at = answeredAt.toISOString();
    let changed = false;

    if (res.status === 304 && this.manifest) {
      // The publication is unchanged: so is every file in it, confirmed now.
      this.files = new Map([...this.files].map(([url, f]) => [url, { ...f, fetchedAt: at }]));
      this.manifestValidators = validatorsOf(res.headers, this.manifestValidators);
    } else if (res.status === 200) {
      const parsed = parseManifest(res.text, system.manifestUrl);
      if (!parsed.ok) throw new UpstreamError(system.id, 'INVALID_RESPONSE', 200, parsed.reason);
      if (this.current && this.wantedCount(this.manifest) > 0 && this.wantedCount(parsed.manifest) === 0) {
        // A publication that suddenly lists nothing is a broken publish far more often than every clinic closing at
        // once: keep the last good feed, flagged stale (STALE in coverage), until files are listed again.
        throw new UpstreamError(system.id, 'INVALID_RESPONSE', 200, 'the manifest suddenly lists no files; the last good publication is kept');
      }
      const files = await this.fetchFiles(parsed.manifest, at);
      // Committed only now: a manifest whose files could not all be read must not count as seen, or its ETag
      // would get a 304 next time and the new publication would never be read.
      this.manifest = parsed.manifest;
      this.manifestIssues = parsed.issues;
      this.manifestValidators = validatorsOf(res.headers, null);
      this.files = files;
      changed = true;
    } else {
      throw new UpstreamError(system.id, res.status >= 400 && res.status < 500 ? 'REJECTED' : 'INVALID_RESPONSE', res.status, `manifest answered ${res.status}`);
    }
    this.manifestCacheControl = res.headers.get('cache-control') ?? (res.status === 304 ? this.manifestCacheControl : null);
    const interval = pollIntervalSeconds(this.manifestCacheControl, res.headers.get('age'), system.pollFloorSeconds);
    this.nextPollAt = answeredAt.getTime() + interval * 1000;

    const snapshot = this.build(at);
    if (changed) this.report(snapshot);
    return snapshot;
  }

  private wantedCount(manifest: Manifest | null): number {
    return manifest ? manifest.outputs.filter((o) => this.types.has(o.type as FeedResourceType)).length : 0;
  }

  /** Every wanted file of a (changed) manifest, in manifest order; files it no longer lists are forgotten. */
  private async fetchFiles(manifest: Manifest, at: string): Promise<Map<string, CachedFile>> {
    const wanted = manifest.outputs.filter((o): o is typeof o & { type: FeedResourceType } => this.types.has(o.type as FeedResourceType));
    const next = new Map<string, CachedFile>();
    let i = 0;
    let failed = false;
    const worker = async () => {
      // Once one file has failed the refresh has failed: take no new files (the previous snapshot stands).
      while (i < wanted.length && !failed) {
        const o = wanted[i++]!;
        try {
          next.set(o.url, await this.fetchFile(o.url, o.type, at));
        } catch (err) {
          failed = true;
          throw err;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, wanted.length) }, worker));
    // In manifest order, whatever order the downloads finished in.
    return new Map(wanted.map((o) => [o.url, next.get(o.url)!]));
  }

  private async fetchFile(url: string, type: FeedResourceType, at: string): Promise<CachedFile> {
    const { system } = this;
    const cached = this.files.get(url);
    const usable = cached?.type === type && cached.content ? cached : undefined;
    const file = fileName(url);
    const res = await streamGet(url, { system: system.id, deadlineMs: system.deadlineMs, accept: FILE_ACCEPT, validators: usable?.validators ?? null });

    if (res.status === 304 && usable) {
      await res.discard();
      return { ...usable, fetchedAt: at };
    }
    if (res.status === 404 || res.status === 410) {
      await res.discard();
      return {
        type,
        url,
        validators: { etag: null, lastModified: null },
        downloadedAt: at,
        fetchedAt: at,
        content: null,
        missingIssue: { kind: 'missing-file', action: 'skipped', resourceType: type, file, line: null, id: null, reason: `the manifest lists ${file} but the publisher answers ${res.status}` },
      };
    }
    if (res.status !== 200) {
      await res.discard();
      throw new UpstreamError(system.id, res.status >= 400 && res.status < 500 ? 'REJECTED' : 'INVALID_RESPONSE', res.status, `${file} answered ${res.status}`);
    }
    let content: FileContent;
    try {
      content = await readFile(type, res.body, file);
    } catch (err) {
      if (err instanceof TruncatedFileError) throw new UpstreamError(system.id, 'INVALID_RESPONSE', 200, err.message);
      throw err;
    }
    const done = this.now().toISOString();
    return { type, url, validators: validatorsOf(res.headers, null), downloadedAt: done, fetchedAt: done, content, missingIssue: null };
  }

  private build(checkedAt: string): FeedSnapshot {
    const locations: LocationRecord[] = [];
    const schedules: ScheduleRecord[] = [];
    const roles: PractitionerRoleRecord[] = [];
    const slotFiles: ParsedFeed['slotFiles'][number][] = [];
    const files: FeedFile[] = [];
    const fileIssues: FeedIssue[] = [];
    for (const f of this.files.values()) {
      if (f.missingIssue) fileIssues.push(f.missingIssue);
      const c = f.content;
      if (c) {
        fileIssues.push(...c.issues);
        if (c.type === 'Location') locations.push(...c.records);
        else if (c.type === 'Schedule') schedules.push(...c.records);
        else if (c.type === 'PractitionerRole') roles.push(...c.records);
        else slotFiles.push({ fetchedAt: f.fetchedAt, records: c.records });
      }
      files.push({
        type: f.type,
        url: f.url,
        downloadedAt: f.downloadedAt,
        fetchedAt: f.fetchedAt,
        records: c ? c.records.length : null,
      });
    }
    const joined = joinFeed(this.system.id, { locations, schedules, practitionerRoles: roles, slotFiles });
    const slotsByService = new Map<string, FeedSlot[]>();
    for (const s of joined.slots) {
      const list = slotsByService.get(s.serviceId);
      if (list) list.push(s);
      else slotsByService.set(s.serviceId, [s]);
    }
    return {
      systemId: this.system.id,
      manifestUrl: this.system.manifestUrl,
      transactionTime: this.manifest?.transactionTime ?? null,
      checkedAt,
      services: joined.services,
      slots: joined.slots,
      servicesById: new Map(joined.services.map((s) => [s.id, s])),
      slotsByService,
      files,
      issues: [...this.manifestIssues, ...fileIssues, ...joined.issues],
      stale: null,
    };
  }

  /**
   * Logs a changed feed: a summary, and each issue that was not in the previous publication (already capped per kind
   * and file). A publisher republishing every few minutes with the same defects gets them logged once, when they
   * first appear, not at every poll; the summary counts the ones that persist.
   */
  private report(s: FeedSnapshot): void {
    const seen = new Set(s.issues.map(issueKey));
    if (this.logger) {
      let fresh = 0;
      for (const i of s.issues) {
        if (this.reported.has(issueKey(i))) continue;
        fresh++;
        this.logger.warn({ kind: i.kind, action: i.action, resourceType: i.resourceType, file: i.file, line: i.line, id: i.id, reason: i.reason }, 'feed issue');
      }
      this.logger.info(
        { transactionTime: s.transactionTime, files: s.files.length, services: s.services.length, slots: s.slots.length, issues: s.issues.length, newIssues: fresh },
        'feed refreshed',
      );
    }
    // Only the current publication's issues: bounded by the per-kind caps, as the snapshot's own list is.
    this.reported = seen;
  }
}

/** The same defect in two publications: its line may move as records are added, so the line is left out. */
function issueKey(i: FeedIssue): string {
  return `${i.kind}\u0000${i.resourceType}\u0000${i.file ?? ''}\u0000${i.id ?? ''}\u0000${i.reason}`;
}

function validatorsOf(headers: Headers, previous: Validators | null): Validators {
  // A 304 may omit the validators; the ones we sent are still current then.
  return {
    etag: headers.get('etag') ?? previous?.etag ?? null,
    lastModified: headers.get('last-modified') ?? previous?.lastModified ?? null,
  };
}
