/**
 * A top-K question covering several supplier systems of one subgraph (the gateway asks once per subgraph): each
 * system's services answer within that system's own deadline. A system whose load runs past it is reported TIMEOUT
 * for its services, and the others are answered without waiting for it. The slow system is an adapter whose fetch
 * never settles: a load that outlives its deadline inside the subgraph (a lock holder's wait, paging) cannot be
 * produced on time in a unit test otherwise.
 */
import { describe, expect, it } from 'vitest';
import type { SubgraphContext } from '../../common/context.js';
import { slotFields, type WindowSlots } from './slot-windows.js';

const NOW = new Date('2026-11-23T08:00:00Z');
const window = { from: '2026-11-23T08:00:00Z', to: '2026-11-23T12:00:00Z' };
const ctx = (): SubgraphContext => ({ consumer: { odsCode: 'RX8', name: 'RX8' } as SubgraphContext['consumer'], traceId: 't', loaders: new Map() });

function fields(deadlines: Record<string, number> | undefined) {
  const batches: string[][] = [];
  const f = slotFields({
    name: 'test',
    now: () => NOW,
    fetchSpans: (spans) => {
      batches.push(spans.map((s) => s.system));
      return spans.map((s) =>
        s.system === 'slow'
          ? new Promise<WindowSlots<{ id: string; start: string }>>(() => {})
          : Promise.resolve({ slots: [{ id: `${s.serviceId}-1`, start: '2026-11-23T09:00:00Z' }], fetchedAt: NOW.toISOString() }),
      );
    },
    toError: (_s, err) => err as Error,
    ...(deadlines ? { deadlineMs: (system: string) => deadlines[system] } : {}),
  });
  return { f, batches };
}

const input = {
  services: [
    { id: 'a', system: 'slow', rank: 0 },
    { id: 'b', system: 'fast', rank: 1 },
    { id: 'c', system: 'fast', rank: 2 },
  ],
  ...window,
  first: 10,
  mode: 'MERGED' as const,
  includeHandoff: true,
};

describe('a top-K question over several supplier systems', () => {
  it('answers each system within its own deadline: the slow one TIMEOUT, the others without waiting for it', async () => {
    const { f, batches } = fields({ slow: 150, fast: 2000 });
    // The slow system's fetch never settles: an answer at all is the others not waiting for it.
    const top = await f.topSlots(input, ctx());
    expect(top.services.map((s) => [s.serviceId, s.failure, s.totalCount])).toEqual([
      ['a', 'TIMEOUT', null],
      ['b', null, 1],
      ['c', null, 1],
    ]);
    expect(top.slots.map((s) => s.slot.id)).toEqual(['b-1', 'c-1']);
    // Each system loaded as a batch of its own.
    expect(batches.map((b) => [...new Set(b)])).toEqual([['slow'], ['fast']]);
  });

  it('without deadlines, a system is awaited however long it takes', async () => {
    const { f } = fields(undefined);
    const outcome = await Promise.race([f.topSlots(input, ctx()).then(() => 'answered'), new Promise((r) => setTimeout(() => r('still waiting'), 300))]);
    expect(outcome).toBe('still waiting');
  });
});
