/**
 * Which live holds the gateway hands a supplier subgraph with its top-K question (availability.ts passedHolds): only
 * what the subgraph accepts (subgraphs/kit/slot-windows.ts readPassedHolds), leaving out, never failing, the rest.
 */
import { describe, expect, it } from 'vitest';
import { MAX_PASSED_HOLD_SYSTEMS, MAX_PASSED_HOLDS, MAX_PASSED_HOLDS_CHARS } from '../../common/holds.js';
import { readPassedHolds } from '../../subgraphs/kit/slot-windows.js';
import { passedHolds } from './availability.js';

const member = (i: number, pad = 0) => JSON.stringify([`h${i}`, `slot-${i}${'x'.repeat(pad)}`, 'RX8']);

describe('passedHolds', () => {
  it('hands over the holds of the systems asked, as read, and nothing when none were read', () => {
    const read = new Map([
      ['a', [member(1), member(2)]],
      ['b', []],
      ['c', [member(3)]],
    ]);
    expect(passedHolds(['a', 'b'], read)).toEqual({ liveHolds: [{ system: 'a', members: [member(1), member(2)] }, { system: 'b', members: [] }] });
    expect(passedHolds(['d'], read)).toEqual({});
    expect(passedHolds(['a'], undefined)).toEqual({});
  });

  it('leaves out a system with too many holds, one with something that is not a hold, and any past the bounds', () => {
    const many = Array.from({ length: MAX_PASSED_HOLDS + 1 }, (_, i) => member(i));
    const systems = Array.from({ length: MAX_PASSED_HOLD_SYSTEMS + 3 }, (_, i) => `s${i}`);
    const read = new Map<string, string[]>([
      ['many', many],
      ['odd', [member(1), '["only", "two"]']],
      ['long', [member(2, 600)]],
      ...systems.map((s) => [s, [member(3)]] as [string, string[]]),
    ]);
    const given = passedHolds(['many', 'odd', 'long', ...systems], read).liveHolds!;
    expect(given.map((g) => g.system)).toEqual(systems.slice(0, MAX_PASSED_HOLD_SYSTEMS));
    // What is handed over, the subgraph accepts.
    expect(readPassedHolds(given).size).toBe(MAX_PASSED_HOLD_SYSTEMS);
    // Characters in all: a system that would pass the bound is left out, a smaller one after it still goes.
    const big = Array.from({ length: 200 }, (_, i) => member(i, 400));
    const total = new Map([['x', big], ['y', big], ['z', [member(9)]]]);
    expect(big.reduce((n, m) => n + m.length, 0) * 2).toBeGreaterThan(MAX_PASSED_HOLDS_CHARS);
    expect(passedHolds(['x', 'y', 'z'], total).liveHolds!.map((g) => g.system)).toEqual(['x', 'z']);
  });
});
