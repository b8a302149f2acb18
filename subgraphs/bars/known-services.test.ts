/**
 * The receivers met, shared through a real redis-server: a replica that never met a receiver still asks it for a
 * patient's appointments, a restarted one too, and Redis going away leaves each process with what it met itself.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { startRedis, type TestRedis } from '../../test/redis.js';
import { connectRedis, type RedisConnection } from '../../common/redis.js';
import { KnownServices, MAX_PER_SYSTEM, redisKnownServices } from './known-services.js';

let redis: TestRedis;
const conns: RedisConnection[] = [];
const logger = pino({ level: 'silent' });

async function replica(): Promise<KnownServices> {
  const c = connectRedis(redis.url, { logger, consequence: 'test' });
  conns.push(c);
  expect(await c.ready(10_000)).toBe(true);
  return new KnownServices(redisKnownServices(c.redis));
}

async function until(cond: () => Promise<boolean>): Promise<void> {
  const end = Date.now() + 10_000;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('condition not met within 10 s');
    await new Promise((r) => setTimeout(r, 20));
  }
}

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  for (const c of conns) await c.close();
  await redis?.dispose();
});

describe('receivers met, shared between replicas', () => {
  it('a replica (or a restarted process) asks the receivers another one met; nothing else is stored', async () => {
    const a = await replica();
    a.learn('bars-sandbox', '1402000113');
    a.learn('bars-sandbox', '1403000212');
    a.learn('other-front', '1404000312');
    const b = await replica();
    await until(async () => (await b.of('bars-sandbox')).length === 2);
    expect(await b.of('bars-sandbox')).toEqual(['1402000113', '1403000212']);
    expect(await b.of('other-front')).toEqual(['1404000312']);
    expect((await redis.client().keys('*')).sort()).toEqual(['bars:receivers:{bars-sandbox}', 'bars:receivers:{other-front}']);
  });

  it('stays bounded however many receivers are met', async () => {
    const a = await replica();
    for (let i = 0; i < MAX_PER_SYSTEM + 50; i++) a.learn('big-front', String(1_000_000 + i));
    await until(async () => (await redis.client().scard('bars:receivers:{big-front}')) === MAX_PER_SYSTEM);
    expect((await a.of('big-front')).length).toBe(MAX_PER_SYSTEM);
  });

  it('answers from what it met itself while Redis is away', async () => {
    const unreachable = connectRedis('redis://127.0.0.1:1', { logger, consequence: 'test' });
    conns.push(unreachable);
    const alone = new KnownServices(redisKnownServices(unreachable.redis));
    alone.learn('bars-sandbox', '1404000313');
    expect(await alone.of('bars-sandbox')).toEqual(['1404000313']);
  });

  it('offers a receiver again when sharing it failed (met while Redis was still connecting)', async () => {
    const c = connectRedis(redis.url, { logger, consequence: 'test' });
    conns.push(c);
    const early = new KnownServices(redisKnownServices(c.redis));
    early.learn('late-front', '1402000113');
    expect(await c.ready(10_000)).toBe(true);
    early.learn('late-front', '1402000113');
    await until(async () => (await redis.client().scard('bars:receivers:{late-front}')) === 1);
  });
});
