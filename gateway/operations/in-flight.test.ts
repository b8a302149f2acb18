import { describe, expect, it } from 'vitest';
import { InFlight } from './in-flight.js';

function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('InFlight', () => {
  it('runs identical concurrent work once and gives every caller its answer', async () => {
    const flights = new InFlight<string>();
    const d = deferred<string>();
    let runs = 0;
    const calls = Array.from({ length: 100 }, () => flights.run('search-a', () => (runs++, d.promise)));
    expect(runs).toBe(1);
    expect(flights.size).toBe(1);
    d.resolve('answer');
    expect(await Promise.all(calls)).toEqual(Array(100).fill('answer'));
    expect(flights.size).toBe(0);
  });

  it('keeps different keys apart', async () => {
    const flights = new InFlight<string>();
    const a = flights.run('a', async () => 'A');
    const b = flights.run('b', async () => 'B');
    expect(flights.size).toBe(2);
    expect(await Promise.all([a, b])).toEqual(['A', 'B']);
  });

  it('shares a failure with the callers that joined, then forgets it so the next call runs again', async () => {
    const flights = new InFlight<string>();
    const d = deferred<string>();
    const first = flights.run('k', () => d.promise);
    const joined = flights.run('k', async () => 'never');
    d.reject(new Error('supplier down'));
    await expect(first).rejects.toThrow('supplier down');
    await expect(joined).rejects.toThrow('supplier down');
    expect(await flights.run('k', async () => 'fresh')).toBe('fresh');
  });

  it('keeps nothing once work settles: a later identical call runs the work again', async () => {
    const flights = new InFlight<number>();
    let runs = 0;
    await flights.run('k', async () => ++runs);
    await flights.run('k', async () => ++runs);
    expect(runs).toBe(2);
  });
});
