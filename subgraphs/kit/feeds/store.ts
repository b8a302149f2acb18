/**
 * Where a feed's poller lease and its last snapshot live, so that one poller serves every process and replica (the
 * smart-links subgraphs and the directory alike): Redis (store-redis.ts) when REDIS_URL is set, this process's
 * memory (store-memory.ts) otherwise. The policy (when to poll, what is stale) is in shared.ts, the same for both.
 *
 * Per feed:
 *   lease   who polls: a holder token, taken with SET NX PX, renewed by its holder, and free again when the holder
 *           stops renewing (it died, or lost Redis): another process then takes it over.
 *   meta    small and read by every process on every tick: the body's version, when the publisher last answered
 *           (the snapshot's fetch time), when the next poll is due, when the last one started, why it failed.
 *   body    the parsed snapshot (snapshot-codec.ts): locations, services and slots, bounded in size. Feeds hold no
 *           patient data, and nothing else is ever written here.
 *   want    the latest time a reader asked for fresher data than it got (a search's maxAge): the holder then polls
 *           at the floor rather than at the publisher's max-age.
 * Writes are fenced by the lease: a holder that lost it (a long pause) cannot overwrite its successor's snapshot.
 */
import { createHash } from 'node:crypto';
import type { UpstreamReason } from '../../../common/upstream.js';
import type { FeedStaleness } from './types.js';

export interface FeedMeta {
  /** Version of the stored body; null when there has never been a good poll. */
  bodyVersion: string | null;
  /** When the publisher last answered the manifest (200 or 304): the fetch time of every slot in the snapshot. */
  checkedAt: string | null;
  /** Epoch ms: no poll before this (the publisher's max-age after its last answer, never sooner than the floor). */
  nextPollAt: number;
  /** Epoch ms: when the last poll started (succeeded or not). No poll within a floor of it, whoever holds the lease. */
  attemptAt: number;
  /** Set when the last poll failed and the body is the one before it. */
  stale: FeedStaleness | null;
  /** Set when there is no body and the last poll failed: why (readers answer it as a supplier error). */
  failure: { reason: UpstreamReason; at: string } | null;
  /** Files the snapshot was built from (to size the time a refresh may take). */
  files: number;
}

export interface FeedState {
  meta: FeedMeta | null;
  /** Epoch ms of the latest demand for fresher data, or null. */
  wantedAt: number | null;
}

export interface FeedStore {
  /** Takes the lease when it is free (SET NX PX) or renews it when `holder` has it; false when another holds it. */
  lease(feed: string, holder: string, ttlMs: number): Promise<boolean>;
  /** Gives the lease up if `holder` still has it (a clean shutdown hands over at once). */
  release(feed: string, holder: string): Promise<void>;
  readState(feed: string): Promise<FeedState>;
  readBody(feed: string): Promise<string | null>;
  /**
   * Writes the meta (and the body, when given) only while `holder` holds the lease; both live `ttlMs`. False when
   * the lease is someone else's: nothing was written.
   */
  write(feed: string, holder: string, meta: FeedMeta, body: string | null, ttlMs: number): Promise<boolean>;
  /** Records a demand for fresher data at `at` (epoch ms), kept `ttlMs`. */
  want(feed: string, at: number, ttlMs: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * The store key of a feed: its registry id and manifest URL (a feed moved to a new URL starts afresh). Digested,
 * as the slot cache's keys are: short, uniform, no URLs in KEYS or MONITOR output.
 */
export function feedKey(systemId: string, manifestUrl: string): string {
  return createHash('sha256').update(`${systemId}\n${manifestUrl}`).digest('hex').slice(0, 32);
}

/** Meta as stored (JSON), and back; anything unreadable reads as no meta (the next poll rewrites it). */
export function encodeMeta(m: FeedMeta): string {
  return JSON.stringify(m);
}

export function decodeMeta(raw: string | null): FeedMeta | null {
  if (!raw) return null;
  try {
    const m = JSON.parse(raw) as Partial<FeedMeta>;
    if (typeof m.nextPollAt !== 'number' || typeof m.attemptAt !== 'number') return null;
    return {
      bodyVersion: typeof m.bodyVersion === 'string' ? m.bodyVersion : null,
      checkedAt: typeof m.checkedAt === 'string' ? m.checkedAt : null,
      nextPollAt: m.nextPollAt,
      attemptAt: m.attemptAt,
      stale: m.stale ?? null,
      failure: m.failure ?? null,
      files: typeof m.files === 'number' ? m.files : 0,
    };
  } catch {
    return null;
  }
}
