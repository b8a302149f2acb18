import { describe, expect, it } from 'vitest';
import { pollIntervalSeconds, readCacheControl } from './cache-control.js';

describe('when to poll the manifest again', () => {
  it.each([
    ['max-age=300', null, 300],
    ['public, max-age=300', '100', 200],
    ['max-age=10', null, 60],
    ['max-age=300', '290', 60],
    ['no-cache, no-store', null, 60],
    ['max-age=300, no-cache', null, 60],
    [null, null, 60],
    ['max-age=abc', null, 60],
    ['max-age=100, max-age=200', null, 60],
  ])('Cache-Control %s, Age %s → %i s (floor 60)', (cc, age, expected) => {
    expect(pollIntervalSeconds(cc, age, 60)).toBe(expected);
  });

  it('reads the directives it needs', () => {
    expect(readCacheControl('No-Cache, NO-STORE, max-age="30"')).toEqual({ noCache: true, noStore: true, maxAgeSeconds: 30 });
  });
});
