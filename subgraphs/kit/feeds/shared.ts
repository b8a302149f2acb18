/**
 * Feed ingest off the request path: one background poller per feed across every process and replica, and one
 * snapshot they all read (the smart-links subgraphs for slots, the directory for services).
 *
 * Every process runs a tick per feed (a quarter of the poll floor, 250 ms to 1 s):
 *   1. take or renew the feed's lease (store.ts: SET NX PX, renewed by its holder; when the holder dies its lease
 *      lapses and another process takes it over on its next tick);
 *   2. the holder polls when a poll is due: the publisher's max-age after its last answer, never sooner than the
 *      poll floor after the last attempt (whoever made it), sooner (still at the floor) when a reader asked for
 *      fresher data (a search's maxAge). The poll is FeedReader's: conditional GETs, streaming ingest that tolerates
 *      the known feed defects, all or nothing. It writes the parsed snapshot (bounded, snapshot-codec.ts) and its
 *      fetch time to the store, fenced by the lease;
 *   3. everyone else reads the small meta, and the body only when its version changed, into memory.
 * So a publisher sees one manifest request per floor (or per max-age) however many processes read its feed, and a
 * request only ever reads memory: it never waits for a poll, and a slow or failing publisher delays nobody.
 *
 * First start: before any snapshot exists anywhere, a request waits for the first one, but only until
 * `firstSnapshotWaitMs` (default 2 s) after this process started; after that, and whenever the first poll failed,
 * it gets an UpstreamError (smart-links answers the supplier as UNAVAILABLE, or the poll's own reason; the directory
 * lists no services of that feed) until a snapshot exists.
 *
 * Store outage (Redis away): each process serves the snapshot it holds; once the store has been away longer than a
 * lease lasts, each polls for itself (same floor, same rules) until it is back, then they share again.
 *
 * Staleness (answer marked `stale`, slots still served with their true fetch time): the last poll failed; or the
 * poll due is overdue by more than a refresh can take (a publisher that stalls, or no poller alive); or the
 * snapshot is older than the search's maxAge.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { OutageLog } from '../../../common/redis.js';
import type { SmartLinksSystem } from '../registry.js';
import { UpstreamError } from '../../../common/upstream.js';
import { FeedReader } from './reader.js';
import { assembleSnapshot, decodeSnapshot, encodeSnapshot, snapshotVersion, type SnapshotBody } from './snapshot-codec.js';
import { feedKey, type FeedMeta, type FeedState, type FeedStore } from './store.js';
import type { FeedSnapshot } from './types.js';

export const DEFAULT_FIRST_SNAPSHOT_WAIT_MS = 2000;
/** How long a stored snapshot outlives its last write (a deployment with no poller left keeps it a week). */
const RETAIN_MS = 7 * 24 * 3600 * 1000;
/** Files fetched at once in a poll (FeedReader's default), for the time a refresh may take. */
const FILE_CONCURRENCY = 4;

export interface SharedFeedsOptions {
  store: FeedStore;
  systems: readonly SmartLinksSystem[];
  logger?: Logger;
  /** Clock for poll decisions and timestamps (tests pin it); ticks and waits use real time. */
  now?: () => Date;
  /** Per feed: how often the lease, the schedule and the store are looked at. Default: floor/4, 250 ms to 1 s. */
  tickMs?: number;
  /** Lease lifetime without renewal: how soon a dead holder's feed is taken over. Default 10 s (at least 4 ticks). */
  leaseMs?: number;
  /** First start only: how long after start() a request may wait for the very first snapshot. */
  firstSnapshotWaitMs?: number;
  maxSnapshotBytes?: number;
  /** Called with store failures (Redis away); default: a warning at most every ten seconds. */
  onStoreError?: (err: unknown) => void;
  /** Close the store with close() (it was made for these feeds). */
  ownsStore?: boolean;
  /**
   * Whether the store's connection is up, waiting up to the given ms: the first tick waits for it (at most
   * `firstSnapshotWaitMs`), so a process starting beside a healthy Redis does not report it away because its first
   * command raced the connection.
   */
  storeReady?: (timeoutMs: number) => Promise<boolean>;
}

export class SharedFeeds {
  private readonly feeds = new Map<string, SharedFeed>();

  constructor(private readonly opts: SharedFeedsOptions) {
    const holder = randomUUID();
    const outage = opts.logger ? new OutageLog(opts.logger, 'feed snapshots are not shared: this process serves the snapshot it has, marked stale once overdue') : null;
    const onStoreError = opts.onStoreError ?? ((err: unknown) => outage?.report(err));
    for (const system of opts.systems) this.feeds.set(system.id, new SharedFeed(system, { ...opts, onStoreError }, holder));
  }

  /** Starts every feed's tick (the first at once). */
  start(): this {
    for (const f of this.feeds.values()) f.start();
    return this;
  }

  feed(systemId: string): SharedFeed | undefined {
    return this.feeds.get(systemId);
  }

  all(): SharedFeed[] {
    return [...this.feeds.values()];
  }

  /** Stops polling, hands the leases over (released, not left to lapse) and closes the store if it owns it. */
  async close(): Promise<void> {
    await Promise.all([...this.feeds.values()].map((f) => f.stop()));
    if (this.opts.ownsStore) await this.opts.store.close();
  }
}

export interface Freshness {
  stale: boolean;
  /** Seconds since the publisher last gave or confirmed the snapshot. */
  ageSeconds: number;
}

export class SharedFeed {
  readonly key: string;
  private readonly store: FeedStore;
  private readonly reader: FeedReader;
  private readonly now: () => Date;
  private readonly logger: Logger | undefined;
  private readonly tickMs: number;
  private readonly leaseMs: number;
  private readonly floorMs: number;
  private readonly firstWaitMs: number;

  private body: SnapshotBody | null = null;
  private meta: FeedMeta | null = null;
  private snapshotInHand: FeedSnapshot | null = null;
  private assembledFor = '';
  private holding = false;
  private startedAt = Number.NEGATIVE_INFINITY;
  private stopped = true;
  private timer: NodeJS.Timeout | null = null;
  private ticking: Promise<void> | null = null;
  private readonly waiters = new Set<() => void>();
  private lastWant = Number.NEGATIVE_INFINITY;
  /** performance.now() of the first store failure in a row; null while the store answers. */
  private storeDownSince: number | null = null;
  /** Until the first tick: the store's connection coming up (SharedFeedsOptions.storeReady). */
  private storeReady: Promise<boolean> | null = null;

  constructor(
    readonly system: SmartLinksSystem,
    private readonly opts: SharedFeedsOptions & { onStoreError: (err: unknown) => void },
    private readonly holder: string,
  ) {
    this.key = feedKey(system.id, system.manifestUrl);
    this.store = opts.store;
    this.now = opts.now ?? (() => new Date());
    this.logger = opts.logger?.child({ system: system.id });
    this.floorMs = system.pollFloorSeconds * 1000;
    this.tickMs = opts.tickMs ?? Math.min(1000, Math.max(250, Math.floor(this.floorMs / 4)));
    this.leaseMs = Math.max(opts.leaseMs ?? 10_000, 4 * this.tickMs);
    this.firstWaitMs = opts.firstSnapshotWaitMs ?? DEFAULT_FIRST_SNAPSHOT_WAIT_MS;
    // Every type: whichever process polls, the snapshot must serve both the directory and the slot readers.
    this.reader = new FeedReader(system, { ...(opts.logger ? { logger: opts.logger } : {}), ...(opts.now ? { now: opts.now } : {}) });
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.startedAt = performance.now();
    this.storeReady = this.opts.storeReady?.(this.firstWaitMs) ?? null;
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    // A poll in flight ends by its own deadlines; shutdown does not wait for it (nor for a store that hangs).
    await bounded(this.ticking, 1000);
    if (this.holding) {
      this.holding = false;
      await bounded(this.store.release(this.key, this.holder).catch((err: unknown) => this.opts.onStoreError(err)), 1000);
    }
    for (const w of this.waiters) w();
  }

  /** The snapshot in memory; never waits. Null before the first one (or while the first poll keeps failing). */
  current(): FeedSnapshot | null {
    return this.snapshotInHand;
  }

  /**
   * The snapshot in memory. First start only (no snapshot anywhere yet), waits for the first until
   * `firstSnapshotWaitMs` after start(). Throws UpstreamError when there is none: the first poll's reason when it
   * failed, else UNAVAILABLE.
   */
  async snapshot(): Promise<FeedSnapshot> {
    for (;;) {
      if (this.snapshotInHand) return this.snapshotInHand;
      const failure = this.meta?.failure;
      if (failure) throw new UpstreamError(this.system.id, failure.reason, undefined, 'the feed has not been read yet: its first polls failed');
      const left = this.startedAt + this.firstWaitMs - performance.now();
      if (left <= 0 || this.stopped) throw new UpstreamError(this.system.id, 'UNAVAILABLE', undefined, 'the feed has not been read yet');
      await new Promise<void>((resolve) => {
        const t = setTimeout(done, left);
        const waiters = this.waiters;
        function done() {
          clearTimeout(t);
          waiters.delete(done);
          resolve();
        }
        waiters.add(done);
      });
    }
  }

  /**
   * Whether an answer from the snapshot in memory must be marked stale: the last poll failed, the poll due is
   * overdue by more than a refresh takes (the publisher stalls, or no poller is alive), or it is older than maxAge.
   */
  freshness(maxAgeSeconds?: number | null): Freshness {
    const now = this.now().getTime();
    const s = this.snapshotInHand;
    const ageMs = s ? Math.max(0, now - Date.parse(s.checkedAt)) : Number.POSITIVE_INFINITY;
    const ageSeconds = Math.round(ageMs / 1000);
    if (!s) return { stale: true, ageSeconds };
    if (s.stale) return { stale: true, ageSeconds };
    if (this.meta && now > this.meta.nextPollAt + this.refreshBudgetMs(this.meta.files)) return { stale: true, ageSeconds };
    if (maxAgeSeconds != null && ageMs > maxAgeSeconds * 1000) return { stale: true, ageSeconds };
    return { stale: false, ageSeconds };
  }

  /**
   * A reader got older data than it asked for: the poller (whichever process holds the lease) polls at the floor
   * from now on, until the demands stop. Never waits; at most one store write per tick.
   */
  wantFresher(): void {
    const t = performance.now();
    if (t - this.lastWant < this.tickMs) return;
    this.lastWant = t;
    this.store.want(this.key, this.now().getTime(), 2 * this.floorMs + this.leaseMs).catch((err: unknown) => this.opts.onStoreError(err));
  }

  /** Whether this process holds the feed's lease (it is the one polling). */
  isPoller(): boolean {
    return this.holding;
  }

  /** Longest a poll may take: the manifest and each round of files, each under the system's deadline, and a tick. */
  private refreshBudgetMs(files: number): number {
    return this.system.deadlineMs * (1 + Math.ceil(Math.max(files, 1) / FILE_CONCURRENCY)) + 2 * this.tickMs;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.ticking = this.tick()
        .catch((err: unknown) => this.logger?.error({ err: (err as Error).message }, 'feed tick failed'))
        .finally(() => {
          this.ticking = null;
          this.schedule(this.tickMs);
        });
    }, delayMs);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    if (this.storeReady) {
      // Not ready in time: the tick goes on, and a store really away is reported as before.
      await this.storeReady;
      this.storeReady = null;
    }
    let holding = false;
    let state: FeedState;
    try {
      holding = await this.store.lease(this.key, this.holder, this.leaseMs);
      state = await this.store.readState(this.key);
    } catch (err) {
      this.opts.onStoreError(err);
      this.holding = false;
      // The store has been away longer than a lease lasts: nobody can be polling through it. This process polls
      // for itself (its own schedule, the same floor) so its snapshot stays current until the store is back.
      this.storeDownSince ??= performance.now();
      if (performance.now() - this.storeDownSince >= this.leaseMs && !this.stopped && this.due({ meta: this.meta, wantedAt: null })) {
        await this.poll(this.meta, false);
      }
      return;
    }
    if (this.storeDownSince !== null) this.logger?.info('feed store available again: polling shared again');
    this.storeDownSince = null;
    if (holding !== this.holding) this.logger?.info({ poller: holding }, holding ? 'feed poller lease taken' : 'feed poller lease given up');
    this.holding = holding;
    if (holding && !this.stopped && this.due(state)) await this.poll(state.meta, true);
    else await this.sync(state.meta, null);
  }

  private due({ meta, wantedAt }: FeedState): boolean {
    if (!meta) return true;
    const now = this.now().getTime();
    if (now < meta.attemptAt + this.floorMs) return false;
    if (now >= meta.nextPollAt) return true;
    return wantedAt !== null && wantedAt > meta.attemptAt;
  }

  /** One poll; `shared`: as the lease holder, through the store; otherwise (store away) for this process only. */
  private async poll(prev: FeedMeta | null, shared: boolean): Promise<void> {
    const started = this.now().getTime();
    const base: FeedMeta = prev ?? { bodyVersion: null, checkedAt: null, nextPollAt: 0, attemptAt: 0, stale: null, failure: null, files: 0 };
    // The attempt is recorded before the publisher is asked: a process taking the lease over mid-poll still waits
    // for the floor.
    if (shared && !(await this.write({ ...base, attemptAt: started }, null))) return;
    if (!shared) this.meta = { ...base, attemptAt: started };
    const renew = setInterval(() => {
      if (shared) this.store.lease(this.key, this.holder, this.leaseMs).catch((err: unknown) => this.opts.onStoreError(err));
    }, Math.max(100, Math.floor(this.leaseMs / 3)));
    renew.unref();
    try {
      let snap: FeedSnapshot | null = null;
      let failure: UpstreamError | null = null;
      try {
        snap = await this.reader.poll();
      } catch (err) {
        failure = err instanceof UpstreamError ? err : new UpstreamError(this.system.id, 'INVALID_RESPONSE', undefined, (err as Error).message);
      }
      const nextPollAt = Math.max(this.reader.nextPollTime(), started + this.floorMs);
      let meta: FeedMeta;
      let body: string | null = null;
      if (snap && !snap.stale) {
        const version = snapshotVersion(snap);
        if (version !== base.bodyVersion) {
          const encoded = encodeSnapshot(snap, { ...(this.opts.maxSnapshotBytes ? { maxBytes: this.opts.maxSnapshotBytes } : {}), now: this.now() });
          if (encoded.droppedSlots > 0) this.logger?.warn({ dropped: encoded.droppedSlots, slots: snap.slots.length }, 'feed snapshot over its size bound: latest slots left out');
          body = encoded.body;
        }
        meta = { bodyVersion: version, checkedAt: snap.checkedAt, nextPollAt, attemptAt: started, stale: null, failure: null, files: snap.files.length };
      } else {
        const reason = snap?.stale?.reason ?? failure!.reason;
        const detail = snap?.stale?.detail ?? failure?.detail ?? null;
        if (base.bodyVersion) {
          // The stored snapshot stands (it may be newer than this reader's own), marked stale.
          meta = { ...base, nextPollAt, attemptAt: started, stale: { since: base.stale?.since ?? new Date(started).toISOString(), reason, detail } };
        } else if (snap) {
          // The store lost its snapshot (Redis restarted) but this reader has one: share it, stale.
          const encoded = encodeSnapshot(snap, { ...(this.opts.maxSnapshotBytes ? { maxBytes: this.opts.maxSnapshotBytes } : {}), now: this.now() });
          body = encoded.body;
          meta = { bodyVersion: encoded.version, checkedAt: snap.checkedAt, nextPollAt, attemptAt: started, stale: snap.stale, failure: null, files: snap.files.length };
        } else {
          meta = { ...base, nextPollAt, attemptAt: started, failure: { reason, at: new Date(started).toISOString() } };
        }
      }
      if (!shared || (await this.write(meta, body))) await this.sync(meta, body);
    } finally {
      clearInterval(renew);
    }
  }

  private async write(meta: FeedMeta, body: string | null): Promise<boolean> {
    try {
      const ok = await this.store.write(this.key, this.holder, meta, body, RETAIN_MS);
      if (!ok) {
        this.holding = false;
        this.logger?.info('feed poller lease lost before writing: the new holder polls');
      }
      return ok;
    } catch (err) {
      this.opts.onStoreError(err);
      return false;
    }
  }

  /** Brings memory up to the stored meta, reading the body only when its version changed. */
  private async sync(meta: FeedMeta | null, knownBody: string | null): Promise<void> {
    if (!meta) return;
    if (meta.bodyVersion && meta.bodyVersion !== this.body?.version) {
      let raw = knownBody;
      if (raw === null) {
        try {
          raw = await this.store.readBody(this.key);
        } catch (err) {
          this.opts.onStoreError(err);
        }
      }
      const b = raw ? decodeSnapshot(raw) : null;
      // A body written after this meta was read is picked up on the next tick, with its own meta.
      if (b && b.version === meta.bodyVersion) this.body = b;
    }
    this.meta = meta;
    if (this.body && this.body.version === meta.bodyVersion) {
      const signature = `${this.body.version}|${meta.checkedAt}|${JSON.stringify(meta.stale)}`;
      if (signature !== this.assembledFor) {
        this.snapshotInHand = assembleSnapshot(this.body, meta);
        this.assembledFor = signature;
      }
    }
    for (const w of [...this.waiters]) w();
  }
}

/** Waits for `p`, at most `ms`. */
function bounded(p: Promise<unknown> | null, ms: number): Promise<void> {
  if (!p) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    t.unref();
    void p.finally(() => {
      clearTimeout(t);
      resolve();
    });
  });
}
