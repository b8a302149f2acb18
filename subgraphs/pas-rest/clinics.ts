/**
 * Which Oakfield clinic is which DoS service. Oakfield names clinics by its own ids and carries the DoS service id as
 * an external reference (`GET /clinics?externalId=dos:<id>`); looking that up before every session search would
 * double the calls, so the answers are kept here for a while: supplier configuration only, never patient data.
 *
 * - A lookup asks for every unknown service of a request in one call, and concurrent requests for the same service
 *   share one lookup in flight.
 * - "No clinic for this service" is kept briefly too (negative caching), so a directory/supplier mismatch does not
 *   cost a lookup per query; it is short because a clinic may be added at any time.
 * - The reverse (a clinic's service) serves bookings found by patient search, which name the clinic only.
 *
 * Per process and bounded: the oldest entries go first when full.
 */
import type { PasRestSystem } from '../kit/registry.js';
import type { CallContext, PasClinic, PasRestClient } from './client.js';

export interface ClinicRef {
  id: string;
  /** False when Oakfield lists the clinic as not taking bookings (its sessions are then not offered). */
  active: boolean;
}

export interface ClinicDirectoryOptions {
  ttlMs?: number;
  negativeTtlMs?: number;
  limit?: number;
  /** Monotonic milliseconds; injectable for tests. */
  clock?: () => number;
}

interface Entry<T> {
  value: T;
  until: number;
}

export class ClinicDirectory {
  private readonly byService = new Map<string, Entry<ClinicRef | null>>();
  private readonly byClinic = new Map<string, Entry<string | null>>();
  private readonly inFlight = new Map<string, Promise<ClinicRef | null>>();
  private readonly ttlMs: number;
  private readonly negativeTtlMs: number;
  private readonly limit: number;
  private readonly clock: () => number;

  constructor(
    private readonly client: PasRestClient,
    opts: ClinicDirectoryOptions = {},
  ) {
    this.ttlMs = opts.ttlMs ?? 10 * 60_000;
    this.negativeTtlMs = opts.negativeTtlMs ?? 60_000;
    this.limit = opts.limit ?? 10_000;
    this.clock = opts.clock ?? (() => performance.now());
  }

  /** The clinic of each service (null: Oakfield holds none for it), looking up the unknown ones in one call. */
  async clinicsFor(system: PasRestSystem, serviceIds: readonly string[], ctx: CallContext): Promise<Map<string, ClinicRef | null>> {
    const out = new Map<string, ClinicRef | null>();
    const pending = new Map<string, Promise<ClinicRef | null>>();
    const missing: string[] = [];
    for (const id of new Set(serviceIds)) {
      const k = `${system.id}|${id}`;
      const hit = this.fresh(this.byService, k);
      if (hit !== undefined) out.set(id, hit);
      else if (this.inFlight.has(k)) pending.set(id, this.inFlight.get(k)!);
      else missing.push(id);
    }
    if (missing.length > 0) {
      const lookup = this.client.clinicsForServices(system, missing, ctx).then((clinics) => this.learnAll(system, missing, clinics));
      for (const id of missing) {
        const k = `${system.id}|${id}`;
        const p = lookup.then((m) => m.get(id) ?? null);
        this.inFlight.set(k, p);
        pending.set(id, p);
        // Cleared whatever happens, so a failed lookup is tried again by the next request.
        void p.then(
          () => this.inFlight.delete(k),
          () => this.inFlight.delete(k),
        );
      }
    }
    for (const [id, p] of pending) out.set(id, await p);
    return out;
  }

  /** The DoS service a clinic is, or null when it has none or several (a guess would misroute a read or cancel). */
  async serviceOf(system: PasRestSystem, clinicId: string, ctx: CallContext): Promise<string | null> {
    const k = `${system.id}|${clinicId}`;
    const hit = this.fresh(this.byClinic, k);
    if (hit !== undefined) return hit;
    const clinic = await this.client.clinic(system, clinicId, ctx);
    const services = clinic ? dosIds(clinic) : [];
    const service = services.length === 1 ? services[0]! : null;
    this.put(this.byClinic, k, service, service ? this.ttlMs : this.negativeTtlMs);
    return service;
  }

  private learnAll(system: PasRestSystem, asked: readonly string[], clinics: readonly PasClinic[]): Map<string, ClinicRef | null> {
    const found = new Map<string, ClinicRef | null>();
    for (const c of clinics) {
      const ids = dosIds(c);
      for (const id of ids) {
        // Oakfield promises at most one clinic per external id; if two claim one, neither is trusted.
        const ref = { id: c.id, active: c.status === undefined || c.status === 'ACTIVE' };
        found.set(id, found.has(id) && found.get(id)?.id !== c.id ? null : ref);
      }
      this.put(this.byClinic, `${system.id}|${c.id}`, ids.length === 1 ? ids[0]! : null, this.ttlMs);
    }
    for (const id of asked) {
      const ref = found.get(id) ?? null;
      this.put(this.byService, `${system.id}|${id}`, ref, ref ? this.ttlMs : this.negativeTtlMs);
    }
    return found;
  }

  private fresh<T>(map: Map<string, Entry<T>>, k: string): T | undefined {
    const e = map.get(k);
    if (!e) return undefined;
    if (e.until <= this.clock()) {
      map.delete(k);
      return undefined;
    }
    return e.value;
  }

  private put<T>(map: Map<string, Entry<T>>, k: string, value: T, ttl: number): void {
    map.delete(k);
    map.set(k, { value, until: this.clock() + ttl });
    if (map.size > this.limit) map.delete(map.keys().next().value!);
  }
}

function dosIds(c: PasClinic): string[] {
  return (c.externalIds ?? []).filter((e) => e.system === 'dos' && typeof e.value === 'string' && e.value).map((e) => e.value!);
}
