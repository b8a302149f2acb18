/**
 * The slot fields with holds (common/holds.ts, read through a HoldReader): another consumer's held slot is out of
 * `slots`, `capacity`, `nextAvailable` and the top K with its counts, a session time loses one place per hold, and
 * the holder sees everything; a holds read that fails serves the slots unfiltered.
 */
import { describe, expect, it } from 'vitest';
import type { LiveHold } from '../../common/holds.js';
import type { SubgraphContext } from '../../common/context.js';
import { slotFields, type HoldReader } from './slot-windows.js';

const NOW = new Date('2026-11-23T08:00:00Z');
const SLOTS = [
  { id: 'a', start: '2026-11-23T09:00:00Z' },
  { id: 'b', start: '2026-11-23T09:15:00Z' },
  { id: 's', start: '2026-11-23T09:30:00Z', capacity: 2 },
];

function fields(holds: LiveHold[] | Error) {
  const reader: HoldReader = {
    live: async (pairs) => {
      if (holds instanceof Error) throw holds;
      return new Map(pairs.map((p) => [`${p.system}\n${p.serviceId}`, holds]));
    },
  };
  return slotFields({
    name: 'test',
    now: () => NOW,
    fetchSpans: (spans) => spans.map(async () => ({ slots: SLOTS, fetchedAt: NOW.toISOString() })),
    toError: (_s, err) => err as Error,
    holds: reader,
    onHoldsError: () => undefined,
  });
}

const ctx = (odsCode: string): SubgraphContext => ({ consumer: { odsCode, name: odsCode } as SubgraphContext['consumer'], traceId: 't', loaders: new Map() });
const parent = { id: 'svc', supplier: { id: 'sys' } };
const window = { from: '2026-11-23T08:00:00Z', to: '2026-11-23T12:00:00Z' };
const HOLDS: LiveHold[] = [
  { hid: '1', slotId: 'a', serviceId: 'svc', ref: 'a', consumer: 'RX8' },
  { hid: '2', slotId: 's', serviceId: 'svc', ref: 's', consumer: 'RX8' },
];

describe('slot fields with holds', () => {
  it('another consumer is served neither the held slot nor the held place, in every field and count', async () => {
    const f = fields(HOLDS);
    const other = ctx('A91');
    const slots = await f.slots(parent, { ...window, first: 10 }, other);
    expect(slots.nodes.map((s) => [s.id, s.capacity])).toEqual([['b', undefined], ['s', 1]]);
    expect(slots.totalCount).toBe(2);
    expect((await f.capacity(parent, window, ctx('A91'))).freeSlots).toBe(2);
    expect((await f.nextAvailable(parent, { from: window.from, withinDays: 1 }, ctx('A91')))!.id).toBe('b');
    const top = await f.topSlots({ services: [{ id: 'svc', system: 'sys', rank: 0 }], ...window, first: 1, mode: 'MERGED', includeHandoff: true }, ctx('A91'));
    expect(top.slots.map((s) => s.slot.id)).toEqual(['b']);
    expect(top.services[0]).toMatchObject({ totalCount: 2, places: 2 });
  });

  it('the holder sees what it holds; a failed holds read hides nothing', async () => {
    expect((await fields(HOLDS).slots(parent, { ...window, first: 10 }, ctx('RX8'))).totalCount).toBe(3);
    expect((await fields(new Error('redis away')).slots(parent, { ...window, first: 10 }, ctx('A91'))).totalCount).toBe(3);
  });
});
