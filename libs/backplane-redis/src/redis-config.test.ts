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

describe('redisTargetFromEnv with REDIS_SENTINELS', () => {
  const SENTINELS = '10.0.0.1:26379, 10.0.0.2:26380,[::1]:26381';
  const addresses = [
    { host: '10.0.0.1', port: 26379 },
    { host: '10.0.0.2', port: 26380 },
    { host: '::1', port: 26381 },
  ];

  it('reads the sentinels, the name and both passwords', () => {
    expect(redisTargetFromEnv({ REDIS_SENTINELS: SENTINELS, REDIS_SENTINEL_NAME: 'mymaster' })).toEqual({ sentinels: addresses, name: 'mymaster' });
    expect(redisTargetFromEnv({ REDIS_SENTINELS: SENTINELS, REDIS_SENTINEL_NAME: 'mymaster', REDIS_SENTINEL_PASSWORD: 'sp', REDIS_PASSWORD: 'dp' })).toEqual({
      sentinels: addresses,
      name: 'mymaster',
      sentinelPassword: 'sp',
      password: 'dp',
    });
  });

  it('takes precedence over REDIS_CLUSTER_NODES and REDIS_URL', () => {
    const env = { REDIS_SENTINELS: '10.0.0.1:26379', REDIS_SENTINEL_NAME: 'm', REDIS_CLUSTER_NODES: 'a:1', REDIS_URL: 'redis://c:3' };
    expect(redisTargetFromEnv(env)).toEqual({ sentinels: [{ host: '10.0.0.1', port: 26379 }], name: 'm' });
    // The others are not even validated once REDIS_SENTINELS decides.
    expect(redisTargetFromEnv({ ...env, REDIS_CLUSTER_NODES: 'nonsense', REDIS_URL: 'nonsense' })).toEqual({ sentinels: [{ host: '10.0.0.1', port: 26379 }], name: 'm' });
  });

  it('requires REDIS_SENTINEL_NAME, naming it', () => {
    for (const name of [undefined, '', '  ']) {
      const env = { REDIS_SENTINELS: SENTINELS, ...(name === undefined ? {} : { REDIS_SENTINEL_NAME: name }) };
      expect(configError(() => redisTargetFromEnv(env)).message).toMatch(/^REDIS_SENTINEL_NAME is required with REDIS_SENTINELS: the master group name/);
    }
  });

  it.each(['10.0.0.1', '10.0.0.1:0', '10.0.0.1:65536', 'redis://10.0.0.1:26379', '10.0.0.1:26379,host:port'])('refuses a bad host:port in %j, naming REDIS_SENTINELS', (value) => {
    const err = configError(() => redisTargetFromEnv({ REDIS_SENTINELS: value, REDIS_SENTINEL_NAME: 'm' }));
    expect(err.message).toMatch(/^REDIS_SENTINELS must be a comma-separated list of host:port \(port 1-65535\), got '/);
  });

  it('refuses a list with no address', () => {
    expect(configError(() => redisTargetFromEnv({ REDIS_SENTINELS: ' , ', REDIS_SENTINEL_NAME: 'm' })).message).toBe('REDIS_SENTINELS is set but lists no host:port.');
  });

  it.each(['REDIS_SENTINEL_NAME', 'REDIS_SENTINEL_PASSWORD', 'REDIS_PASSWORD'])('refuses %s without REDIS_SENTINELS instead of ignoring it', (variable) => {
    const err = configError(() => redisTargetFromEnv({ REDIS_URL: 'redis://c:3', [variable]: 'x' }));
    expect(err.message).toMatch(new RegExp(`^${variable} is set but REDIS_SENTINELS is not; it applies only to Redis Sentinel`));
    expect(err.message).not.toContain("'x'");
  });

  it('says where a password for REDIS_URL goes', () => {
    expect(configError(() => redisTargetFromEnv({ REDIS_URL: 'redis://c:3', REDIS_PASSWORD: 'pw' })).message).toContain('redis://:password@host:port');
  });
});

describe('describeTarget', () => {
  it('never shows credentials', () => {
    expect(describeTarget('redis://user:secret@cache:6379/0')).toBe('redis://***@cache:6379/0');
    expect(describeTarget('rediss://:secret@cache:6380')).toBe('rediss://***@cache:6380');
    expect(describeTarget('redis://cache:6379')).toBe('redis://cache:6379');
    expect(describeTarget({ cluster: [{ host: 'a', port: 1 }, 'b:2'] })).toBe('cluster a:1,b:2');
    const sentinel = redisTargetFromEnv({ REDIS_SENTINELS: 's1:26379,s2:26379', REDIS_SENTINEL_NAME: 'mymaster', REDIS_SENTINEL_PASSWORD: 'sentinel-pw', REDIS_PASSWORD: 'data-pw' })!;
    expect(describeTarget(sentinel)).toBe("sentinel master 'mymaster' via s1:26379,s2:26379");
    expect(describeTarget(sentinel)).not.toMatch(/pw/);
  });

  it('names caller-owned clients without connecting', () => {
    const client = new Redis({ lazyConnect: true });
    expect(describeTarget(client)).toBe('ioredis client (caller-owned)');
    client.disconnect();
  });
});
