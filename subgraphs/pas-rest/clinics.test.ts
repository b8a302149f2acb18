/**
 * The kept clinic list with a stand-in client: one load however many requests need it first, nothing asked while it
 * is warm, refreshed in the background, the last good list kept (and retried with backoff) when a refresh fails, no
 * guessing between two clinics, and a clinic's service from the list or, when not listed, by reading it.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { PasRestSystem } from '../kit/registry.js';
import { UpstreamError } from '../../common/upstream.js';
import type { PasClinic, PasRestClient } from './client.js';
import { ClinicDirectory, type ClinicDirectoryOptions } from './clinics.js';

const system = { id: 'oakfield-pas' } as PasRestSystem;
const call = { consumer: { odsCode: 'RX8', name: 'NHS 111' }, traceId: 't' };

const A: PasClinic = { id: 'CL-A', status: 'ACTIVE', externalIds: [{ system: 'dos', value: '1' }] };
const B: PasClinic = { id: 'CL-B', status: 'INACTIVE', externalIds: [{ system: 'dos', value: '2' }, { system: 'ods', value: 'V1' }] };
const C: PasClinic = { id: 'CL-C', externalIds: [{ system: 'dos', value: '3' }] };

/** A client whose list answers are released by the test (`release`), or fail while `down`. */
function fake(initial: PasClinic[]) {
  const state = { clinics: initial, down: false, loads: 0, reads: [] as string[], gate: null as Promise<void> | null };
  let open: () => void = () => undefined;
  const client = {
    async allClinics() {
      state.loads += 1;
      if (state.gate) await state.gate;
      if (state.down) throw new UpstreamError('oakfield-pas', 'UNAVAILABLE', 503);
      return [...state.clinics];
    },
    async clinic(_s: PasRestSystem, id: string) {
      state.reads.push(id);
      return state.clinics.find((c) => c.id === id) ?? null;
    },
  } as unknown as PasRestClient;
  return {
    client,
    state,
    hold() {
      state.gate = new Promise<void>((r) => (open = r));
    },
    release() {
      state.gate = null;
      open();
    },
  };
}

const dirs: ClinicDirectory[] = [];
function directory(client: PasRestClient, opts: ClinicDirectoryOptions = {}): ClinicDirectory {
  const d = new ClinicDirectory(client, opts);
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) d.close();
});

describe('ClinicDirectory: the kept clinic list', () => {
  it('loads the list once however many requests need it before it arrives, then asks nothing while warm', async () => {
    const f = fake([A, B]);
    f.hold();
    const dir = directory(f.client);
    const waiting = Array.from({ length: 20 }, (_, i) => dir.clinicsFor(system, i % 2 ? ['1', '2', '3'] : ['1'], call));
    expect(dir.status(system.id)).toMatchObject({ loading: true, clinics: 0 });
    f.release();
    const answers = await Promise.all(waiting);
    expect(f.state.loads).toBe(1);
    expect([...answers[1]!]).toEqual([['1', { id: 'CL-A', active: true }], ['2', { id: 'CL-B', active: false }], ['3', null]]);
    expect(answers[0]!.get('1')).toEqual({ id: 'CL-A', active: true });

    for (let i = 0; i < 10; i++) await dir.clinicsFor(system, ['1', '2'], call);
    expect(f.state.loads).toBe(1);
    expect(dir.status(system.id)).toMatchObject({ clinics: 2, failures: 0, loading: false });
  });

  it('refreshes in the background before it is old, without a request waiting; the new list then answers', async () => {
    const f = fake([A]);
    const dir = directory(f.client, { refreshMs: 20 });
    expect((await dir.clinicsFor(system, ['3'], call)).get('3')).toBeNull();
    f.state.clinics = [A, C];
    await vi.waitFor(() => expect(f.state.loads).toBeGreaterThanOrEqual(2), { timeout: 10_000, interval: 5 });
    await vi.waitFor(() => expect(dir.status(system.id).clinics).toBe(2), { timeout: 10_000, interval: 5 });
    const loads = f.state.loads;
    expect((await dir.clinicsFor(system, ['3'], call)).get('3')).toEqual({ id: 'CL-C', active: true });
    // Answered from memory: the request itself asked nothing.
    expect(f.state.loads).toBe(loads);
  });

  it('a refresh that fails keeps serving the last good list, retries with growing backoff, and recovers', async () => {
    let now = 1_000_000;
    const f = fake([A, B]);
    // Long real timers: the test drives refreshes itself and reads the schedule.
    const dir = directory(f.client, { refreshMs: 600_000, retryMinMs: 400_000, retryMaxMs: 1_000_000, clock: () => now });
    await dir.clinicsFor(system, ['1'], call);
    expect(dir.status(system.id).nextRefreshAt).toBe(now + 600_000);

    f.state.down = true;
    now += 600_000;
    await expect(dir.refresh(system, call)).rejects.toMatchObject({ reason: 'UNAVAILABLE' });
    const first = dir.status(system.id);
    expect(first).toMatchObject({ failures: 1, clinics: 2, loading: false });
    expect(first.nextRefreshAt! - now).toBeGreaterThanOrEqual(200_000);
    expect(first.nextRefreshAt! - now).toBeLessThanOrEqual(400_000);
    // Still answering, from the list loaded before, with no further call.
    const loads = f.state.loads;
    expect((await dir.clinicsFor(system, ['1', '2'], call)).get('2')).toEqual({ id: 'CL-B', active: false });
    expect(await dir.serviceOf(system, 'CL-A', call)).toBe('1');
    expect(f.state.loads).toBe(loads);

    await expect(dir.refresh(system, call)).rejects.toMatchObject({ reason: 'UNAVAILABLE' });
    const second = dir.status(system.id);
    expect(second.failures).toBe(2);
    expect(second.nextRefreshAt! - now).toBeGreaterThanOrEqual(400_000);
    expect(second.nextRefreshAt! - now).toBeLessThanOrEqual(800_000);

    f.state.down = false;
    f.state.clinics = [A, C];
    await dir.refresh(system, call);
    expect(dir.status(system.id)).toMatchObject({ failures: 0, clinics: 2, nextRefreshAt: now + 600_000 });
    expect((await dir.clinicsFor(system, ['2', '3'], call)).get('3')).toEqual({ id: 'CL-C', active: true });
  });

  it('retries a failed refresh by itself in the background', async () => {
    const f = fake([A]);
    const dir = directory(f.client, { refreshMs: 600_000, retryMinMs: 10, retryMaxMs: 20 });
    await dir.clinicsFor(system, ['1'], call);
    f.state.down = true;
    await expect(dir.refresh(system, call)).rejects.toThrow();
    f.state.down = false;
    f.state.clinics = [A, C];
    await vi.waitFor(() => expect(dir.status(system.id)).toMatchObject({ failures: 0, clinics: 2 }), { timeout: 10_000, interval: 5 });
  });

  it('a first load that fails fails the requests waiting for it (one call between them); the next request loads again', async () => {
    const f = fake([A]);
    f.state.down = true;
    f.hold();
    const dir = directory(f.client, { retryMinMs: 600_000, retryMaxMs: 600_000 });
    const waiting = [dir.clinicsFor(system, ['1'], call), dir.clinicsFor(system, ['1'], call)].map((p) => p.then(() => 'ok', (e: unknown) => e));
    f.release();
    for (const r of await Promise.all(waiting)) expect(r).toMatchObject({ reason: 'UNAVAILABLE' });
    expect(f.state.loads).toBe(1);
    f.state.down = false;
    expect((await dir.clinicsFor(system, ['1'], call)).get('1')).toEqual({ id: 'CL-A', active: true });
    expect(f.state.loads).toBe(2);
  });

  it('a service missing from a list older than a minute asks for a background refresh; a fresh list does not', async () => {
    let now = 0;
    const f = fake([A]);
    const dir = directory(f.client, { refreshMs: 600_000, recheckUnknownMs: 60_000, clock: () => now });
    await dir.clinicsFor(system, ['1'], call);
    now = 30_000;
    expect((await dir.clinicsFor(system, ['3'], call)).get('3')).toBeNull();
    expect(dir.status(system.id).nextRefreshAt).toBe(600_000);
    f.state.clinics = [A, C];
    now = 61_000;
    // This request is answered from the list it has; the refresh it asked for follows at once.
    expect((await dir.clinicsFor(system, ['3'], call)).get('3')).toBeNull();
    await vi.waitFor(() => expect(dir.status(system.id).loadedAt).toBe(61_000), { timeout: 10_000, interval: 5 });
    expect((await dir.clinicsFor(system, ['3'], call)).get('3')).toEqual({ id: 'CL-C', active: true });
    expect(f.state.loads).toBe(2);
  });

  it('trusts neither clinic when two claim one DoS service', async () => {
    const twin: PasClinic = { id: 'CL-A2', externalIds: [{ system: 'dos', value: '1' }] };
    const f = fake([A, twin]);
    expect((await directory(f.client).clinicsFor(system, ['1'], call)).get('1')).toBeNull();
  });

  it("names a clinic's service from the list, else by reading the clinic; null for none or several", async () => {
    const several: PasClinic = { id: 'CL-S', externalIds: [{ system: 'dos', value: '5' }, { system: 'dos', value: '6' }] };
    const f = fake([A, B, several]);
    const dir = directory(f.client);
    expect(await dir.serviceOf(system, 'CL-A', call)).toBe('1');
    expect(await dir.serviceOf(system, 'CL-B', call)).toBe('2');
    expect(await dir.serviceOf(system, 'CL-S', call)).toBeNull();
    expect(f.state.reads).toEqual([]);
    // Not listed (added since the list was loaded, say): read once, and a "none" is remembered too.
    expect(await dir.serviceOf(system, 'CL-Z', call)).toBeNull();
    expect(await dir.serviceOf(system, 'CL-Z', call)).toBeNull();
    expect(f.state.reads).toEqual(['CL-Z']);
    expect(f.state.loads).toBe(1);
  });

  it('close() stops the background refresh', async () => {
    const f = fake([A]);
    const dir = directory(f.client, { refreshMs: 600_000 });
    await dir.clinicsFor(system, ['1'], call);
    expect(dir.status(system.id).nextRefreshAt).toBeDefined();
    dir.close();
    expect(dir.status(system.id).nextRefreshAt).toBeUndefined();
  });
});
