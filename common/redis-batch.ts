/**
 * Many commands in as few round trips as the deployment allows. On one server: one pipeline. On a Redis Cluster a
 * pipeline must stay on one node, so the commands are grouped by the hash tag of their keys (keys sharing a tag share
 * a slot, so a group can never straddle nodes however the slots move) and the groups' pipelines go in parallel.
 */
import { Cluster, type ChainableCommander } from 'ioredis';
import type { RedisClient } from './redis.js';

export interface BatchCommand {
  /** The hash tag of the command's keys (the text between `{` and `}`). */
  tag: string;
  /** Queues exactly one command on the pipeline. */
  queue(pipeline: ChainableCommander): void;
}

/** Each command's result, in the order given; the first error is thrown (a half-answered batch counts as Redis away). */
export async function runBatch<T>(redis: RedisClient, commands: readonly BatchCommand[]): Promise<T[]> {
  if (commands.length === 0) return [];
  if (!(redis instanceof Cluster)) return exec<T>(redis.pipeline(), commands);
  const groups = new Map<string, BatchCommand[]>();
  for (const c of commands) {
    const group = groups.get(c.tag);
    if (group) group.push(c);
    else groups.set(c.tag, [c]);
  }
  const answers = new Map<BatchCommand, T>();
  await Promise.all(
    [...groups.values()].map(async (group) => {
      const results = await exec<T>(redis.pipeline(), group);
      group.forEach((c, i) => answers.set(c, results[i]!));
    }),
  );
  return commands.map((c) => answers.get(c)!);
}

async function exec<T>(pipeline: ChainableCommander, commands: readonly BatchCommand[]): Promise<T[]> {
  for (const c of commands) c.queue(pipeline);
  const results = await pipeline.exec();
  if (!results) throw new Error('redis pipeline discarded');
  return results.map(([err, value]) => {
    if (err) throw err;
    return value as T;
  });
}
