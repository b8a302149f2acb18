import { describe, expect, it } from 'vitest';
import { LocalBuckets } from './slot-buckets-local.js';

function local(opts: { maxEntries?: number; maxBytes?: number; lifetimeMs?: number } = {}) {
  const clock = { t: 1_000 };
  const l = new LocalBuckets({ maxEntries: opts.maxEntries ?? 100, maxBytes: opts.maxBytes ?? 1_000_000, lifetimeMs: opts.lifetimeMs ?? 5_000, clock: () => clock.t });
  return { l, clock };
}

describe('local bucket copy', () => {
  it('keeps an entry for its lifetime from when it was last written', () => {
    const { l, clock } = local();
    l.put('d1:a', 'd1', { bucket: 'x' }, l.mark());
    clock.t += 4_999;
    expect(l.get('d1:a')).toEqual({ bucket: 'x' });
    clock.t += 1;
    expect(l.get('d1:a')).toBeUndefined();
    expect(l.size).toBe(0);
    expect(l.sizeBytes).toBe(0);
  });

  it('is bounded in entries, least recently used first', () => {
    const { l } = local({ maxEntries: 3 });
    for (const id of ['a', 'b', 'c']) l.put(`d:${id}`, 'd', { bucket: id }, l.mark());
    l.get('d:a');
    l.put('d:e', 'd', { bucket: 'e' }, l.mark());
    expect(l.size).toBe(3);
    expect(l.get('d:b')).toBeUndefined();
    expect(l.get('d:a')).toEqual({ bucket: 'a' });
  });

  it('is bounded in bytes, and will not hold one value too big to share the budget', () => {
    const { l } = local({ maxBytes: 10_000 });
    for (let i = 0; i < 20; i++) l.put(`d:${i}`, 'd', { bucket: 'x'.repeat(400) }, l.mark());
    expect(l.sizeBytes).toBeLessThanOrEqual(10_000);
    expect(l.size).toBeLessThan(20);
    expect(l.get('d:19')).toBeDefined();
    expect(l.get('d:0')).toBeUndefined();
    l.put('d:big', 'd', { bucket: 'x'.repeat(1000) }, l.mark());
    expect(l.get('d:big')).toBeUndefined();
  });

  it('follows the store: a bucket replaces a failure, a failure keeps the bucket, the store view replaces all', () => {
    const { l } = local();
    l.put('d:a', 'd', { bucket: 'b1' }, l.mark());
    l.put('d:a', 'd', { failure: 'f1' }, l.mark());
    expect(l.get('d:a')).toEqual({ bucket: 'b1', failure: 'f1' });
    l.put('d:a', 'd', { bucket: 'b2' }, l.mark());
    expect(l.get('d:a')).toEqual({ bucket: 'b2' });
    l.put('d:a', 'd', {}, l.mark(), true);
    expect(l.get('d:a')).toBeUndefined();
  });

  it('drops a day for every audience, and a write whose data predates the drop is discarded', () => {
    const { l } = local();
    const before = l.mark();
    l.put('d1:a', 'd1', { bucket: 'x' }, before);
    l.put('d1:b', 'd1', { bucket: 'y' }, before);
    l.put('d2:a', 'd2', { bucket: 'z' }, before);
    l.dropDays(['d1']);
    expect(l.get('d1:a')).toBeUndefined();
    expect(l.get('d1:b')).toBeUndefined();
    expect(l.get('d2:a')).toEqual({ bucket: 'z' });
    // A fetch begun before the drop finishes after it: not written back. One begun after it is.
    l.put('d1:a', 'd1', { bucket: 'old' }, before);
    expect(l.get('d1:a')).toBeUndefined();
    l.put('d1:a', 'd1', { bucket: 'new' }, l.mark());
    expect(l.get('d1:a')).toEqual({ bucket: 'new' });
    // Other days are not held back by it.
    l.put('d3:a', 'd3', { bucket: 'w' }, before);
    expect(l.get('d3:a')).toEqual({ bucket: 'w' });
  });
});
