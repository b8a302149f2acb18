import { describe, expect, it } from 'vitest';
import { planDosPages, positionOf } from './paging.js';

/** Positions a plan fetches. */
function covered(plan: ReturnType<typeof planDosPages>): Set<number> {
  const out = new Set<number>();
  for (const p of plan) for (let i = 0; i < p.pageSize; i++) out.add(positionOf(p, i));
  return out;
}

describe('planDosPages', () => {
  it('asks one page of size `first` when paging forward with a steady `first`', () => {
    expect(planDosPages(0, 20)).toEqual([{ page: 1, pageSize: 20 }]);
    expect(planDosPages(40, 20)).toEqual([{ page: 3, pageSize: 20 }]);
    expect(planDosPages(300, 100)).toEqual([{ page: 4, pageSize: 100 }]);
  });

  it('fits a misaligned window into one larger page when one exists', () => {
    // After a first page of 5, the client asks for 7: positions 5..11 are page 1 of size 12.
    expect(planDosPages(5, 7)).toEqual([{ page: 1, pageSize: 12 }]);
  });

  it('falls back to two pages when no single page up to 100 holds the window', () => {
    expect(planDosPages(150, 100)).toEqual([
      { page: 2, pageSize: 100 },
      { page: 3, pageSize: 100 },
    ]);
  });

  it('always covers the window, in at most two calls of at most 100', () => {
    const failures: string[] = [];
    for (let offset = 0; offset <= 400; offset += 7) {
      for (let count = 1; count <= 100; count += 3) {
        const plan = planDosPages(offset, count);
        const got = covered(plan);
        const missing = Array.from({ length: count }, (_, i) => offset + i).filter((pos) => !got.has(pos));
        if (plan.length > 2 || plan.some((p) => p.pageSize > 100) || missing.length > 0) {
          failures.push(`offset ${offset} count ${count}: ${JSON.stringify(plan)} misses ${missing.join(',')}`);
        }
      }
    }
    expect(failures).toEqual([]);
  });

  it('refuses windows the DoS cannot serve', () => {
    expect(() => planDosPages(0, 0)).toThrow(RangeError);
    expect(() => planDosPages(0, 101)).toThrow(RangeError);
  });
});
