/**
 * The BaRS services (DoS ids) this adapter has searched, booked or cancelled at, per system. A BaRS read is addressed
 * to one receiver (NHSD-Target-Identifier), and the contract's "a patient's appointments" names only the system:
 * they are asked of every receiver met here. Our consumers' appointments can only be at receivers we booked at, so
 * with Redis the list is shared by every replica and outlives restarts (`bars:receivers:{system}`, a set); without
 * it, or while it is away, each process answers from what it met itself. Service ids only, never anything of a
 * patient; bounded per system.
 */
import type { RedisClient } from '../../common/redis.js';

export const MAX_PER_SYSTEM = 500;

/** Where the receivers met are shared between replicas. */
export interface KnownServicesStore {
  add(system: string, serviceId: string): Promise<void>;
  members(system: string): Promise<string[]>;
}

export class KnownServices {
  private readonly bySystem = new Map<string, Set<string>>();
  /** Those the store has confirmed; the others are offered again the next time they are met. */
  private readonly shared = new Map<string, Set<string>>();

  constructor(private readonly store?: KnownServicesStore) {}

  learn(system: string, serviceId: string): void {
    remember(this.bySystem, system, serviceId);
    if (!this.store || this.shared.get(system)?.has(serviceId)) return;
    // Never holds the request: a receiver not shared yet (Redis away or still connecting) is still asked here.
    this.store.add(system, serviceId).then(
      () => remember(this.shared, system, serviceId),
      () => undefined,
    );
  }

  async of(system: string): Promise<string[]> {
    const mine = this.bySystem.get(system) ?? new Set<string>();
    let shared: string[] = [];
    try {
      shared = this.store ? await this.store.members(system) : [];
    } catch {
      // Redis away: what this process met.
    }
    return [...new Set([...mine, ...shared])].sort().slice(0, MAX_PER_SYSTEM);
  }
}

function remember(map: Map<string, Set<string>>, system: string, serviceId: string): void {
  let s = map.get(system);
  if (!s) map.set(system, (s = new Set()));
  if (s.has(serviceId)) return;
  if (s.size >= MAX_PER_SYSTEM) s.delete(s.values().next().value as string);
  s.add(serviceId);
}

/**
 * Adds one id and trims the set to the bound in one step (concurrent adds from many replicas must not trim each
 * other's additions away). A registry system fronts a bounded number of DoS services; the trim only guards against
 * a runaway list.
 */
const ADD_BOUNDED = `
redis.call('SADD', KEYS[1], ARGV[1])
local n = redis.call('SCARD', KEYS[1])
local max = tonumber(ARGV[2])
if n > max then redis.call('SPOP', KEYS[1], n - max) end
return n`;

const key = (system: string) => `bars:receivers:{${system}}`;

/** The shared list in Redis: a set per system (one key, so one hash slot on a cluster), trimmed to the bound. */
export function redisKnownServices(redis: RedisClient): KnownServicesStore {
  return {
    async add(system, serviceId) {
      await redis.eval(ADD_BOUNDED, 1, key(system), serviceId, String(MAX_PER_SYSTEM));
    },
    async members(system) {
      return (await redis.srandmember(key(system), MAX_PER_SYSTEM)).filter((id) => typeof id === 'string' && id.length <= 64);
    },
  };
}
