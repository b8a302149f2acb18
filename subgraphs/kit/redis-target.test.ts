import { describe, expect, it } from 'vitest';
import { redisTargetFromEnv } from '../../common/redis.js';

describe('where Redis is, from the environment', () => {
  it('is nowhere when neither setting is given, and a URL alone is one server', () => {
    expect(redisTargetFromEnv({})).toBeUndefined();
    expect(redisTargetFromEnv({ REDIS_URL: 'redis://cache:6379' })).toBe('redis://cache:6379');
  });

  it('is a cluster when REDIS_CLUSTER_NODES is set, its seed nodes parsed', () => {
    expect(redisTargetFromEnv({ REDIS_CLUSTER_NODES: 'r1.internal:7000, 10.0.0.2:7001,[::1]:7002' })).toEqual({
      clusterNodes: [
        { host: 'r1.internal', port: 7000 },
        { host: '10.0.0.2', port: 7001 },
        { host: '::1', port: 7002 },
      ],
    });
  });

  it('lets the cluster win over a URL naming one of its nodes, keeping the URL for credentials', () => {
    const target = redisTargetFromEnv({ REDIS_CLUSTER_NODES: 'r1:7000,r2:7000', REDIS_URL: 'rediss://:secret@r2:7000' });
    expect(target).toEqual({ clusterNodes: [{ host: 'r1', port: 7000 }, { host: 'r2', port: 7000 }], url: 'rediss://:secret@r2:7000' });
  });

  it('matches a bracketed IPv6 node in the URL', () => {
    expect(redisTargetFromEnv({ REDIS_CLUSTER_NODES: '[::1]:7000', REDIS_URL: 'redis://[::1]:7000' })).toEqual({ clusterNodes: [{ host: '::1', port: 7000 }], url: 'redis://[::1]:7000' });
  });

  it('refuses to start when the URL names a server outside the cluster, or a database a cluster does not have', () => {
    expect(() => redisTargetFromEnv({ REDIS_CLUSTER_NODES: 'r1:7000', REDIS_URL: 'redis://other:6379' })).toThrow(/REDIS_URL and REDIS_CLUSTER_NODES disagree/);
    expect(() => redisTargetFromEnv({ REDIS_CLUSTER_NODES: 'r1:7000', REDIS_URL: 'redis://r1:7000/2' })).toThrow(/database 0 only/);
    expect(() => redisTargetFromEnv({ REDIS_CLUSTER_NODES: 'r1:7000', REDIS_URL: 'not a url' })).toThrow(/REDIS_URL is not a URL/);
  });

  it('names a malformed node, and bounds the list', () => {
    expect(() => redisTargetFromEnv({ REDIS_CLUSTER_NODES: 'r1:7000,r2' })).toThrow(/REDIS_CLUSTER_NODES: "r2" is not host:port/);
    expect(() => redisTargetFromEnv({ REDIS_CLUSTER_NODES: 'r1:70000' })).toThrow(/REDIS_CLUSTER_NODES: "r1:70000"/);
    expect(() => redisTargetFromEnv({ REDIS_CLUSTER_NODES: ' , ' })).toThrow(/between 1 and 100 nodes/);
    const many = Array.from({ length: 101 }, (_, i) => `r${i}:7000`).join(',');
    expect(() => redisTargetFromEnv({ REDIS_CLUSTER_NODES: many })).toThrow(/between 1 and 100 nodes/);
  });
});
