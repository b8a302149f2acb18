/** Rate limits in Redis, shared by every gateway replica: the GCRA step (store.ts) as one atomic script. */
import type { RateDecision, RateRule, RateStore } from './store.js';
import type { RedisClient } from '../../../common/redis.js';

// KEYS[1] = the key's tat; ARGV = now, interval, tolerance, cost. The same arithmetic as gcra() in store.ts.
const GCRA_LUA = `
local now = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local tolerance = tonumber(ARGV[3])
local cost = tonumber(ARGV[4])
local tat = tonumber(redis.call('GET', KEYS[1]) or ARGV[1])
if tat < now then tat = now end
local nextTat = tat + interval * math.max(cost, 1)
local allowAt = nextTat - tolerance
if allowAt > now then return {0, math.ceil(allowAt - now)} end
if cost == 0 then return {1, 0} end
redis.call('SET', KEYS[1], tostring(nextTat), 'PX', math.max(1, math.ceil(nextTat - now)))
return {1, 0}
`;

declare module 'ioredis' {
  interface RedisCommander<Context> {
    gatewayGcra(key: string, now: number, interval: number, tolerance: number, cost: number): Promise<[number, number]>;
  }
}

export class RedisRateStore implements RateStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly prefix = 'rate:',
  ) {
    if (typeof (redis as unknown as Record<string, unknown>).gatewayGcra !== 'function') redis.defineCommand('gatewayGcra', { numberOfKeys: 1, lua: GCRA_LUA });
  }

  async take(key: string, cost: number, rule: RateRule, nowMs: number): Promise<RateDecision> {
    const interval = rule.periodMs / rule.rate;
    const [allowed, waitMs] = await this.redis.gatewayGcra(`${this.prefix}{${key}}`, nowMs, interval, interval * rule.burst, cost);
    return { allowed: allowed === 1, retryAfterSeconds: allowed === 1 ? 0 : Math.max(1, Math.ceil(waitMs / 1000)) };
  }
}
