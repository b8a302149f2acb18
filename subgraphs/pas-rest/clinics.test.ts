/**
 * The DoS service ↔ clinic directory with a stand-in client: one lookup for many services, one lookup in flight for
 * concurrent requests, answers kept for their time (a "none" for less), and no guessing between two clinics.
 */
import { describe, expect, it } from 'vitest';
import type { PasRestSystem } from '../kit/registry.js';
import type { PasClinic, PasRestClient } from './client.js';
import { ClinicDirectory } from './clinics.js';

const system = { id: 'oakfield-pas' } as PasRestSystem;
const call = { consumer: { odsCode: 'RX8', name: 'NHS 111' }, traceId: 't' };

function fake(clinics: PasClinic[]) {
  const asked: string[][] = [];
  const read: string[] = [];
  const client = {
    async clinicsForServices(_s: PasRestSystem, ids: readonly string[]) {
      asked.push([...ids]);
      await new Promise((r) => setTimeout(r, 5));
      return clinics.filter((c) => c.externalIds?.some((e) => e.system === 'dos' && ids.includes(e.value!)));
    },
    async clinic(_s: PasRestSystem, id: string) {
      read.push(id);
      return clinics.find((c) => c.id === id) ?? null;
    },
  } as unknown as PasRestClient;
  return { client, asked, read };
}

const A: PasClinic = { id: 'CL-A', status: 'ACTIVE', externalIds: [{ system: 'dos', value: '1' }] };
const B: PasClinic = { id: 'CL-B', status: 'INACTIVE', externalIds: [{ system: 'dos', value: '2' }, { system: 'ods', value: 'V1' }] };

describe('ClinicDirectory', () => {
  it('looks up every unknown service in one call, and concurrent requests share it', async () => {
    const { client, asked } = fake([A, B]);
    const dir = new ClinicDirectory(client);
    const [x, y] = await Promise.all([dir.clinicsFor(system, ['1', '2', '3'], call), dir.clinicsFor(system, ['1', '2'], call)]);
    expect(asked).toEqual([['1', '2', '3']]);
    expect([...x]).toEqual([['1', { id: 'CL-A', active: true }], ['2', { id: 'CL-B', active: false }], ['3', null]]);
    expect(y.get('1')).toEqual({ id: 'CL-A', active: true });
  });

  it('keeps a clinic for its TTL and a "none" only for the shorter negative TTL', async () => {
    let now = 0;
    const { client, asked } = fake([A]);
    const dir = new ClinicDirectory(client, { ttlMs: 1000, negativeTtlMs: 100, clock: () => now });
    await dir.clinicsFor(system, ['1', '9'], call);
    now = 150;
    await dir.clinicsFor(system, ['1', '9'], call);
    now = 1200;
    await dir.clinicsFor(system, ['1'], call);
    expect(asked).toEqual([['1', '9'], ['9'], ['1']]);
  });

  it('tries again after a failed lookup', async () => {
    let fail = true;
    const client = {
      async clinicsForServices() {
        if (fail) throw new Error('down');
        return [A];
      },
    } as unknown as PasRestClient;
    const dir = new ClinicDirectory(client);
    await expect(dir.clinicsFor(system, ['1'], call)).rejects.toThrow('down');
    fail = false;
    expect((await dir.clinicsFor(system, ['1'], call)).get('1')).toEqual({ id: 'CL-A', active: true });
  });

  it('trusts neither clinic when two claim one DoS service', async () => {
    const twin: PasClinic = { id: 'CL-A2', externalIds: [{ system: 'dos', value: '1' }] };
    const { client } = fake([A, twin]);
    expect((await new ClinicDirectory(client).clinicsFor(system, ['1'], call)).get('1')).toBeNull();
  });

  it('names a clinic\'s service from what lookups taught it, else by reading the clinic; null for none or several', async () => {
    const several: PasClinic = { id: 'CL-C', externalIds: [{ system: 'dos', value: '5' }, { system: 'dos', value: '6' }] };
    const { client, read } = fake([A, B, several]);
    const dir = new ClinicDirectory(client);
    await dir.clinicsFor(system, ['1'], call);
    expect(await dir.serviceOf(system, 'CL-A', call)).toBe('1');
    expect(await dir.serviceOf(system, 'CL-B', call)).toBe('2');
    expect(await dir.serviceOf(system, 'CL-C', call)).toBeNull();
    expect(await dir.serviceOf(system, 'CL-Z', call)).toBeNull();
    expect(read).toEqual(['CL-B', 'CL-C', 'CL-Z']);
  });
});
