/**
 * Grouped multi-key commands (redis-batch.ts) against a real redis-server: one command per MAX_ITEMS_PER_COMMAND
 * items on one server, each value back at its item's place, and a short answer refused rather than misplaced. The
 * Cluster path (one command per hash tag) runs in test/redis-cluster.test.ts through the stores that use it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commandCalls, startRedis, type TestRedis } from '../test/redis.js';
import { MAX_ITEMS_PER_COMMAND, groupedCommands, runBatch } from './redis-batch.js';

let redis: TestRedis;
beforeAll(async () => {
  redis = await startRedis();
}, 30_000);
afterAll(async () => {
  await redis?.dispose();
});

describe('groupedCommands', () => {
  it('reads many keys in as few commands as the bound allows, each value at its own item, with other commands in the same batch', async () => {
    const n = 2 * MAX_ITEMS_PER_COMMAND + 10;
    const keys = Array.from({ length: n }, (_, i) => `batch:{t${i % 7}}:${i}`);
    // Every fifth key absent.
    await redis.client().mset(...keys.flatMap((k, i) => (i % 5 === 0 ? [] : [k, `v${i}`])));
    await redis.client().config('RESETSTAT');
    const client = redis.client();
    const gets = groupedCommands<string, string | null>(client, keys, (k) => /\{(.*)\}/.exec(k)![1]!, (p, group) => void p.mget([...group]));
    expect(gets.commands).toHaveLength(3);
    const results = await runBatch<(string | null)[] | string>(client, [...gets.commands, { tag: 'x', queue: (p) => void p.ping() }]);
    expect(results.at(-1)).toBe('PONG');
    const values = gets.unpack(results.slice(0, -1) as (string | null)[][]);
    expect(values).toEqual(keys.map((_, i) => (i % 5 === 0 ? null : `v${i}`)));
    expect(await commandCalls(redis.client())).toEqual({ mget: 3, ping: 1 });
  });

  it('refuses an answer with fewer values than the group asked for, rather than shifting them onto other items', () => {
    const gets = groupedCommands<string, string | null>(redis.client(), ['a', 'b', 'c'], () => 't', () => undefined);
    expect(() => gets.unpack([['1', '2']])).toThrow(/wrong number of values/);
    expect(() => gets.unpack([])).toThrow(/wrong number of values/);
    expect(gets.unpack([['1', null, '3']])).toEqual(['1', null, '3']);
  });
});
