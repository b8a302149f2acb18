/**
 * Which Oakfield clinic is which DoS service. Oakfield names clinics by its own ids and carries the DoS service id as
 * an external reference (API.md section 4). Looking that up before a session search would chain two round trips on
 * every cold search, so this keeps the tenant's whole clinic list (`GET /clinics`, supplier configuration only, never
 * patient data) per process and per system, and refreshes it in the background:
 *
 * - First use: the request that first needs the list loads it, and every request arriving meanwhile waits for that
 *   one load (single-flight), never for another. A failed first load fails those requests; the next request (or the
 *   background retry, whichever comes first) loads again.
 * - Warm: answered from memory, no call at all. So a cold slot search is exactly one upstream call per service, the
 *   session search.
 * - Refresh: every `refreshMs` (5 minutes) in the background; a request never waits for it. A refresh that fails keeps
 *   the last good list and is retried with jittered exponential backoff (1 s doubling to 60 s), then the normal
 *   interval again after a success.
 * - A service the list does not carry answers null ("no clinic", reported by the resolvers as configuration drift).
 *   When the list is older than `recheckUnknownMs` (a minute), such a miss also asks for a background refresh, so a
 *   clinic added at Oakfield since is picked up within about a minute of being asked for.
 * - Two clinics claiming one DoS service: neither is trusted (null), as Oakfield promises at most one.
 * - The reverse (a clinic's service) serves bookings found by patient search, which name the clinic only: from the
 *   list, else (a clinic not listed) one read of the clinic, kept for a while.
 *
 * Oakfield authenticates every request with the system's API key (API.md section 1): there is no login and no API
 * session to keep or renew, so the clinic list is the only thing a cold search used to wait for. Background loads
 * are sent for the organisation of the request that last used the list (Oakfield requires one on every request;
 * clinics are "the same for everyone").
 *
 * Timers are unref'd: a process never stays up for them. `close()` stops them (the subgraph's onClose).
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { PasRestSystem } from '../kit/registry.js';
import { UpstreamError } from '../../common/upstream.js';
import type { CallContext, PasClinic, PasRestClient } from './client.js';

export interface ClinicRef {
  id: string;
  /** False when Oakfield lists the clinic as not taking bookings (its sessions are then not offered). */
  active: boolean;
}

export interface ClinicDirectoryOptions {
  /** A loaded list is refreshed in the background after this long (default 5 minutes). */
  refreshMs?: number;
  /** First retry after a failed load or refresh (default 1 s); doubled per failure up to `retryMaxMs` (60 s). */
  retryMinMs?: number;
  retryMaxMs?: number;
  /** A service missing from a list at least this old asks for a background refresh (default 1 minute). */
  recheckUnknownMs?: number;
  /** A clinic read one by one (not in the list) is kept this long, a "no such clinic" for `negativeTtlMs`. */
  ttlMs?: number;
  negativeTtlMs?: number;
  limit?: number;
  /** Monotonic milliseconds; injectable for tests. */
  clock?: () => number;
  logger?: Pick<Logger, 'info' | 'warn'>;
}

/** What the directory says about one system's list, for operators and tests. */
export interface ClinicListState {
  /** When the list in use was loaded (clock ms); undefined before the first successful load. */
  loadedAt?: number;
  clinics: number;
  /** Failed loads or refreshes since the last success. */
  failures: number;
  /** A load or refresh is in flight. */
  loading: boolean;
  /** When the next background load is due (clock ms), if one is scheduled. */
  nextRefreshAt?: number;
}

interface ClinicList {
  byService: Map<string, ClinicRef | null>;
  byClinic: Map<string, string | null>;
  size: number;
  loadedAt: number;
}

interface SystemState {
  system: PasRestSystem;
  list?: ClinicList;
  loading?: Promise<ClinicList>;
  timer?: NodeJS.Timeout;
  nextAt?: number;
  failures: number;
  /** The organisation background loads are sent for (the last caller's). */
  consumer: CallContext['consumer'];
}

interface Entry<T> {
  value: T;
  until: number;
}

export class ClinicDirectory {
  private readonly states = new Map<string, SystemState>();
  private readonly byClinic = new Map<string, Entry<string | null>>();
  private readonly refreshMs: number;
  private readonly retryMinMs: number;
  private readonly retryMaxMs: number;
  private readonly recheckUnknownMs: number;
  private readonly ttlMs: number;
  private readonly negativeTtlMs: number;
  private readonly limit: number;
  private readonly clock: () => number;
  private readonly logger: Pick<Logger, 'info' | 'warn'> | undefined;
  private closed = false;

  constructor(
    private readonly client: Pick<PasRestClient, 'allClinics' | 'clinic'>,
    opts: ClinicDirectoryOptions = {},
  ) {
    this.refreshMs = opts.refreshMs ?? 5 * 60_000;
    this.retryMinMs = opts.retryMinMs ?? 1000;
    this.retryMaxMs = opts.retryMaxMs ?? 60_000;
    this.recheckUnknownMs = opts.recheckUnknownMs ?? 60_000;
    this.ttlMs = opts.ttlMs ?? 10 * 60_000;
    this.negativeTtlMs = opts.negativeTtlMs ?? 60_000;
    this.limit = opts.limit ?? 10_000;
    this.clock = opts.clock ?? (() => performance.now());
    this.logger = opts.logger;
  }

  /** The clinic of each service (null: Oakfield lists none for it), from the kept list; waits only for a first load. */
  async clinicsFor(system: PasRestSystem, serviceIds: readonly string[], ctx: CallContext): Promise<Map<string, ClinicRef | null>> {
    const st = this.state(system, ctx);
    const list = st.list ?? (await this.load(st, ctx.traceId));
    const out = new Map<string, ClinicRef | null>();
    let unknown = false;
    for (const id of new Set(serviceIds)) {
      const ref = list.byService.get(id);
      if (ref === undefined) unknown = true;
      out.set(id, ref ?? null);
    }
    // Not while refreshes are failing: their backoff stands.
    if (unknown && this.clock() - list.loadedAt >= this.recheckUnknownMs && !st.loading && st.failures === 0) this.schedule(st, 0);
    return out;
  }

  /** The DoS service a clinic is, or null when it has none or several (a guess would misroute a read or cancel). */
  async serviceOf(system: PasRestSystem, clinicId: string, ctx: CallContext): Promise<string | null> {
    const st = this.state(system, ctx);
    let list = st.list;
    if (!list) {
      try {
        list = await this.load(st, ctx.traceId);
      } catch (err) {
        if (!(err instanceof UpstreamError)) throw err;
        // The list could not be read: reading the one clinic may still work (and its failure is the caller's).
      }
    }
    const listed = list?.byClinic.get(clinicId);
    if (listed !== undefined) return listed;
    const k = `${system.id}|${clinicId}`;
    const hit = this.fresh(k);
    if (hit !== undefined) return hit;
    const clinic = await this.client.clinic(system, clinicId, ctx);
    const services = clinic ? dosIds(clinic) : [];
    const service = services.length === 1 ? services[0]! : null;
    this.put(k, service, service ? this.ttlMs : this.negativeTtlMs);
    return service;
  }

  /**
   * Loads the list now (joining a load in flight): what the background timer does. Resolves once it is in place;
   * rejects when the load failed, the last good list (if any) still being served.
   */
  async refresh(system: PasRestSystem, ctx: CallContext): Promise<void> {
    await this.load(this.state(system, ctx), ctx.traceId);
  }

  /** Where one system's list stands. */
  status(systemId: string): ClinicListState {
    const st = this.states.get(systemId);
    return {
      ...(st?.list ? { loadedAt: st.list.loadedAt } : {}),
      clinics: st?.list?.size ?? 0,
      failures: st?.failures ?? 0,
      loading: !!st?.loading,
      ...(st?.nextAt !== undefined ? { nextRefreshAt: st.nextAt } : {}),
    };
  }

  private state(system: PasRestSystem, ctx: CallContext): SystemState {
    let st = this.states.get(system.id);
    if (!st) {
      st = { system, failures: 0, consumer: ctx.consumer };
      this.states.set(system.id, st);
    } else {
      st.system = system;
      st.consumer = ctx.consumer;
    }
    return st;
  }

  /** Stops every background refresh; the lists kept still answer. */
  close(): void {
    this.closed = true;
    for (const st of this.states.values()) {
      if (st.timer) clearTimeout(st.timer);
      st.timer = undefined;
      st.nextAt = undefined;
    }
  }

  // ---- loading ------------------------------------------------------------------------------------------------------

  /** One load per system at a time: every caller meanwhile gets the same promise. */
  private load(st: SystemState, traceId: string = randomUUID()): Promise<ClinicList> {
    if (st.loading) return st.loading;
    if (st.timer) clearTimeout(st.timer);
    st.timer = undefined;
    st.nextAt = undefined;
    const started = this.clock();
    const p = this.client.allClinics(st.system, { consumer: st.consumer, traceId }).then(
      (clinics) => {
        const list = buildList(clinics, started);
        st.list = list;
        st.failures = 0;
        this.schedule(st, this.refreshMs);
        this.logger?.info({ system: st.system.id, clinics: list.size }, 'clinic list loaded');
        return list;
      },
      (err: unknown) => {
        st.failures += 1;
        const wait = this.backoff(st.failures);
        this.schedule(st, wait);
        const e = err as UpstreamError;
        this.logger?.warn(
          { system: st.system.id, reason: e.reason, status: e.status, failures: st.failures, retryInMs: wait, servingListLoadedMsAgo: st.list ? Math.round(this.clock() - st.list.loadedAt) : null },
          st.list ? 'clinic list refresh failed; the last good list is kept' : 'clinic list load failed',
        );
        throw err;
      },
    );
    st.loading = p;
    const clear = () => {
      if (st.loading === p) st.loading = undefined;
    };
    p.then(clear, clear);
    return p;
  }

  private schedule(st: SystemState, inMs: number): void {
    if (this.closed) return;
    if (st.timer) clearTimeout(st.timer);
    st.nextAt = this.clock() + inMs;
    st.timer = setTimeout(() => {
      st.timer = undefined;
      st.nextAt = undefined;
      // Failures are logged and rescheduled by load(); nobody waits on a background refresh.
      this.load(st).catch(() => undefined);
    }, inMs);
    st.timer.unref();
  }

  /** Full jitter between half and all of min × 2^(failures-1), capped. */
  private backoff(failures: number): number {
    const ceiling = Math.min(this.retryMaxMs, this.retryMinMs * 2 ** Math.min(failures - 1, 20));
    return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
  }

  // ---- clinics read one by one --------------------------------------------------------------------------------------

  private fresh(k: string): string | null | undefined {
    const e = this.byClinic.get(k);
    if (!e) return undefined;
    if (e.until <= this.clock()) {
      this.byClinic.delete(k);
      return undefined;
    }
    return e.value;
  }

  private put(k: string, value: string | null, ttl: number): void {
    this.byClinic.delete(k);
    this.byClinic.set(k, { value, until: this.clock() + ttl });
    if (this.byClinic.size > this.limit) this.byClinic.delete(this.byClinic.keys().next().value!);
  }
}

function buildList(clinics: readonly PasClinic[], loadedAt: number): ClinicList {
  const byService = new Map<string, ClinicRef | null>();
  const byClinic = new Map<string, string | null>();
  for (const c of clinics) {
    const ids = dosIds(c);
    for (const id of ids) {
      // Oakfield promises at most one clinic per external id; if two claim one, neither is trusted.
      const ref = { id: c.id, active: c.status === undefined || c.status === 'ACTIVE' };
      byService.set(id, byService.has(id) && byService.get(id)?.id !== c.id ? null : ref);
    }
    byClinic.set(c.id, ids.length === 1 ? ids[0]! : null);
  }
  return { byService, byClinic, size: clinics.length, loadedAt };
}

function dosIds(c: PasClinic): string[] {
  return (c.externalIds ?? []).filter((e) => e.system === 'dos' && typeof e.value === 'string' && e.value).map((e) => e.value!);
}
