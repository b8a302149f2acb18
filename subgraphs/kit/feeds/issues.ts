/**
 * Collects FeedIssues with a cap per kind, so a publisher that gets one thing wrong on every one of 50,000 slots
 * yields a readable list (the first few, then one line counting the rest), not a second copy of the feed.
 */
import type { FeedIssue, FeedIssueKind, FeedResourceType } from './types.js';

export const ISSUES_PER_KIND = 20;

/** Where a record came from, for its issues. */
export interface RecordAt {
  file: string;
  line: number;
}

export class IssueLog {
  private readonly kept: FeedIssue[] = [];
  private readonly counts = new Map<FeedIssueKind, number>();

  constructor(private readonly limit = ISSUES_PER_KIND) {}

  add(issue: FeedIssue): void {
    const n = (this.counts.get(issue.kind) ?? 0) + 1;
    this.counts.set(issue.kind, n);
    if (n <= this.limit) this.kept.push(issue);
  }

  addAll(issues: Iterable<FeedIssue>): void {
    for (const i of issues) this.add(i);
  }

  /** The kept issues, then one `suppressed` issue per kind that went over the cap. */
  list(file: string | null = null): FeedIssue[] {
    const out = [...this.kept];
    for (const [kind, n] of this.counts) {
      if (n > this.limit) {
        out.push({
          kind: 'suppressed',
          action: 'flagged',
          resourceType: this.kept.find((i) => i.kind === kind)?.resourceType ?? 'Manifest',
          file,
          line: null,
          id: null,
          reason: `${n - this.limit} more "${kind}" issues not listed`,
        });
      }
    }
    return out;
  }
}

/** Builds one issue about one record. */
export function recordIssue(
  kind: FeedIssueKind,
  action: FeedIssue['action'],
  resourceType: FeedResourceType,
  at: RecordAt | null,
  id: string | null,
  reason: string,
): FeedIssue {
  return { kind, action, resourceType, file: at?.file ?? null, line: at?.line ?? null, id, reason };
}

const SUPPRESSED = /^(\d+) more "([^"]+)" issues not listed$/;

/** Issues by kind, the ones IssueLog.list left unlisted counted back in from its `suppressed` lines. */
export function issueCounts(issues: readonly FeedIssue[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const i of issues) {
    const m = i.kind === 'suppressed' ? SUPPRESSED.exec(i.reason) : null;
    const kind = m ? m[2]! : i.kind;
    counts[kind] = (counts[kind] ?? 0) + (m ? Number(m[1]) : 1);
  }
  return counts;
}
