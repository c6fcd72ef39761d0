import { SwitchboardError } from '@switchboard/protocol';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { describeTarget, parseClusterNodes, redisTargetFromEnv } from './redis-config.js';

function configError(fn: () => unknown): SwitchboardError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(SwitchboardError);
    expect((err as SwitchboardError).code).toBe('SB_CONFIG_INVALID');
    return err as SwitchboardError;
  }
  throw new Error('expected a configuration error');
}

describe('parseClusterNodes (REDIS_CLUSTER_NODES)', () => {
  it('parses host:port lists, with spaces, empty entries and IPv6 brackets', () => {
    expect(parseClusterNodes('10.0.0.1:7000')).toEqual([{ host: '10.0.0.1', port: 7000 }]);
    expect(parseClusterNodes(' a:7000 , b.example:7001,,')).toEqual([
      { host: 'a', port: 7000 },
      { host: 'b.example', port: 7001 },
    ]);
    expect(parseClusterNodes('[::1]:7002,redis-0.redis:6379')).toEqual([
      { host: '::1', port: 7002 },
      { host: 'redis-0.redis', port: 6379 },
    ]);
  });

  it.each([
    ['a host without a port', 'redis-host', "'redis-host'"],
    ['a URL', 'redis://a:7000', "'redis://a:7000'"],
    ['a non-numeric port', 'a:70x0', "'a:70x0'"],
    ['port 0', 'a:0', "'a:0'"],
    ['a port above 65535', 'a:70000', "'a:70000'"],
    ['a host with a space', 'my host:7000', "'my host:7000'"],
    ['one bad entry among good ones', 'a:7000,b', "'b'"],
    ['a port only', ':7000', "':7000'"],
  ])('refuses %s, naming the variable and the entry', (_name, value, entry) => {
    const err = configError(() => parseClusterNodes(value));
    expect(err.message).toMatch(/^REDIS_CLUSTER_NODES must be a comma-separated list of host:port \(port 1-65535\)/);
    expect(err.message).toContain(`got ${entry}`);
  });

  it.each([',', ' , ,', ' '])('refuses a value that lists no node (%j)', (value) => {
    expect(configError(() => parseClusterNodes(value)).message).toBe('REDIS_CLUSTER_NODES is set but lists no host:port.');
  });
});

describe('redisTargetFromEnv', () => {
  it('is undefined (in-memory scale-out) when neither variable is set or both are empty', () => {
    expect(redisTargetFromEnv({})).toBeUndefined();
    expect(redisTargetFromEnv({ REDIS_URL: '', REDIS_CLUSTER_NODES: '' })).toBeUndefined();
  });

  it('returns REDIS_URL as is for redis:// and rediss://', () => {
    expect(redisTargetFromEnv({ REDIS_URL: 'redis://127.0.0.1:6379/2' })).toBe('redis://127.0.0.1:6379/2');
    expect(redisTargetFromEnv({ REDIS_URL: 'rediss://user:pw@cache.example:6380' })).toBe('rediss://user:pw@cache.example:6380');
  });

  it.each(['127.0.0.1:6379', 'http://127.0.0.1:6379', 'localhost', ' redis://127.0.0.1:6379'])('refuses REDIS_URL=%s, naming the variable and the value', (url) => {
    expect(configError(() => redisTargetFromEnv({ REDIS_URL: url })).message).toBe(`REDIS_URL must start with redis:// or rediss://, got '${url}'.`);
  });

  it('prefers REDIS_CLUSTER_NODES over REDIS_URL, and validates it', () => {
    expect(redisTargetFromEnv({ REDIS_CLUSTER_NODES: 'a:1,b:2', REDIS_URL: 'redis://c:3' })).toEqual({
      cluster: [
        { host: 'a', port: 1 },
        { host: 'b', port: 2 },
      ],
    });
    expect(configError(() => redisTargetFromEnv({ REDIS_CLUSTER_NODES: 'a', REDIS_URL: 'redis://c:3' })).message).toMatch(/^REDIS_CLUSTER_NODES .*got 'a'/);
    // An invalid REDIS_URL does not matter when the cluster is configured.
    expect(redisTargetFromEnv({ REDIS_CLUSTER_NODES: 'a:1', REDIS_URL: 'nonsense' })).toEqual({ cluster: [{ host: 'a', port: 1 }] });
  });
});

describe('describeTarget', () => {
  it('never shows credentials', () => {
    expect(describeTarget('redis://user:secret@cache:6379/0')).toBe('redis://***@cache:6379/0');
    expect(describeTarget('rediss://:secret@cache:6380')).toBe('rediss://***@cache:6380');
    expect(describeTarget('redis://cache:6379')).toBe('redis://cache:6379');
    expect(describeTarget({ cluster: [{ host: 'a', port: 1 }, 'b:2'] })).toBe('cluster a:1,b:2');
  });

  it('names caller-owned clients without connecting', () => {
    const client = new Redis({ lazyConnect: true });
    expect(describeTarget(client)).toBe('ioredis client (caller-owned)');
    client.disconnect();
  });
});
