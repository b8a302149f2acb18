/**
 * The adapter's hold flows against the Oakfield simulator (in-process, real HTTP): a hold granted with Oakfield's id
 * and expiry, a second organisation's refused as SLOT_HELD, release, and what each refusal or lost answer means.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPasRestSimulator } from '../../sandbox/pas-rest/server.js';
import type { SandboxServer } from '../../sandbox/lib/http.js';
import { loadRegistry, type PasRestSystem } from '../kit/registry.js';
import { PasRestClient } from './client.js';
import { holdFlow, holdRefusal, releaseHoldFlow } from './hold.js';
import { encodeSlotRef } from './slot-ref.js';
import { appointmentInstant } from './wall-clock.js';

const KEY = 'sandbox-oakfield-key';
let sim: SandboxServer;
let system: PasRestSystem;
let client: PasRestClient;
const flow = (odsCode: string) => ({ client, system, call: { consumer: { odsCode, name: odsCode }, traceId: 'trace-hold-0001' } });

beforeAll(async () => {
  sim = await startPasRestSimulator({ port: 0, apiKeys: [KEY], rateLimit: { perSecond: 1000 } });
  const registry = loadRegistry(undefined, { SANDBOX_PAS_REST_URL: sim.url });
  system = registry.system('oakfield-pas') as PasRestSystem;
  client = PasRestClient.forRegistry(registry, { OAKFIELD_PAS_API_KEY: KEY });
});
afterAll(() => sim.close());

const used = new Set<string>();
/** A slot ref for an open session time tomorrow with exactly one free place, never used here before. */
async function oneFreePlace(): Promise<string> {
  const headers = { 'x-api-key': KEY, 'x-requesting-organisation': 'RX8' };
  const clinic = ((await (await fetch(`${sim.url}/api/v2/clinics?externalId=dos:1402000107`, { headers })).json()) as any).data[0].id;
  const day = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
  const sessions = ((await (await fetch(`${sim.url}/api/v2/clinics/${clinic}/sessions?from=${day}&to=${day}`, { headers })).json()) as any).data;
  for (const s of sessions) {
    if (s.status !== 'OPEN') continue;
    const [h, m] = s.start.split(':').map(Number);
    for (let t = h * 60 + m; t + s.slotMinutes <= Number(s.end.slice(0, 2)) * 60 + Number(s.end.slice(3)); t += s.slotMinutes) {
      const time = `${String(Math.floor(t / 60)).padStart(2, '0')}:${String(t % 60).padStart(2, '0')}`;
      const taken = s.booked.find((b: any) => b.time === time && !b.fold)?.count ?? 0;
      if (s.capacity - taken === 1 && !used.has(`${s.id}|${time}`)) {
        used.add(`${s.id}|${time}`);
        const start = appointmentInstant(s.date, t, 0)!;
        return encodeSlotRef({ sessionId: s.id, time, fold: 0, start: new Date(start), end: new Date(start + s.slotMinutes * 60_000) });
      }
    }
  }
  throw new Error('no time with one free place');
}

describe('hold flows at Oakfield', () => {
  it('holds with Oakfield\'s id and expiry; a second organisation gets SLOT_HELD; released, the place is free again', async () => {
    const slotRef = await oneFreePlace();
    const input = { system: system.id, serviceId: '1402000107', slotRef, seconds: 90 };
    const held = await holdFlow(flow('RX8'), input);
    expect(held).toMatchObject({ code: 'HELD', holdRef: expect.stringMatching(/^hd_/) });
    expect(Date.parse(held.expiresAt!) - Date.now()).toBeGreaterThan(80_000);
    expect((await holdFlow(flow('A91'), input)).code).toBe('SLOT_HELD');
    expect((await releaseHoldFlow(flow('A91'), { system: system.id, serviceId: '1402000107', holdRef: held.holdRef! })).code).toBe('FORBIDDEN');
    expect((await releaseHoldFlow(flow('RX8'), { system: system.id, serviceId: '1402000107', holdRef: held.holdRef! })).code).toBe('RELEASED');
    expect((await holdFlow(flow('A91'), input)).code).toBe('HELD');
  });

  it('refuses bad input before any call; lost answers are OUTCOME_UNKNOWN (an unseen hold expires by itself)', async () => {
    expect((await holdFlow(flow('RX8'), { system: system.id, serviceId: 'x', slotRef: 'nope', seconds: 10 })).code).toBe('INVALID_REQUEST');
    expect((await holdFlow(flow('RX8'), { system: system.id, serviceId: 'x', slotRef: await oneFreePlace(), seconds: 301 })).code).toBe('INVALID_REQUEST');
    await fetch(`${sim.url}/_sandbox/faults`, { method: 'POST', body: JSON.stringify({ pathPrefix: '/api/v2/holds', reset: true, afterHandling: true, times: 1 }) });
    const lost = await holdFlow(flow('RX8'), { system: system.id, serviceId: 'x', slotRef: await oneFreePlace(), seconds: 10 });
    await fetch(`${sim.url}/_sandbox/faults`, { method: 'DELETE' });
    expect(lost.code).toBe('OUTCOME_UNKNOWN');
  });

  it('maps Oakfield\'s refusals', () => {
    expect(holdRefusal(409, 'SLOT_HELD', 's').code).toBe('SLOT_HELD');
    expect(holdRefusal(409, 'SLOT_FULL', 's').code).toBe('SLOT_UNAVAILABLE');
    expect(holdRefusal(422, 'TIME_IN_PAST', 's').code).toBe('SLOT_UNAVAILABLE');
    expect(holdRefusal(401, 'UNAUTHORISED', 's').code).toBe('FORBIDDEN');
    expect(holdRefusal(503, 'SERVICE_UNAVAILABLE', 's').code).toBe('SUPPLIER_UNAVAILABLE');
    expect(holdRefusal(422, 'VALIDATION_FAILED', 's').code).toBe('INVALID_REQUEST');
  });
});
