import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { SwitchboardError } from '@switchboard/protocol';
import { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertClusterSeeds, assertSentinelTarget, describeValue, invalidRedisTarget, isClusterClient, isRedisClient, isSentinelTarget } from './client-shape.js';
import { RedisBus } from './redis-bus.js';
import { describeTarget, type RedisTarget } from './redis-config.js';

const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const require = createRequire(import.meta.url);

/** What node-redis (package `redis`) clients look like from outside: commands, but no `status` string and no `isCluster`. */
function nodeRedisLike(): Record<string, unknown> {
  const fn = () => undefined;
  return { isOpen: false, isReady: false, connect: fn, duplicate: fn, publish: fn, subscribe: fn, on: fn, quit: fn, disconnect: fn, sendCommand: fn };
}

function configError(fn: () => unknown): SwitchboardError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(SwitchboardError);
    expect((err as SwitchboardError).code).toBe('SB_CONFIG_INVALID');
    return err as SwitchboardError;
  }
  throw new Error('expected SB_CONFIG_INVALID');
}

/**
 * Loads a second copy of ioredis, as an application with its own ioredis in node_modules has:
 * the package folder is copied to a temp folder (so Node loads it as a different module, with
 * different classes), and its dependencies are linked from ours.
 */
function loadSecondIoredis(dir: string): typeof import('ioredis') {
  const pkgDir = dirname(require.resolve('ioredis/package.json'));
  const copy = join(dir, 'node_modules', 'ioredis');
  cpSync(pkgDir, copy, { recursive: true });
  const pkg = JSON.parse(readFileSync(join(copy, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
  for (const dep of Object.keys(pkg.dependencies)) {
    const target = dirname(createRequire(join(pkgDir, 'package.json')).resolve(`${dep}/package.json`));
    mkdirSync(dirname(join(dir, 'node_modules', dep)), { recursive: true });
    symlinkSync(target, join(dir, 'node_modules', dep), 'dir');
  }
  return createRequire(join(dir, 'index.js'))('ioredis') as typeof import('ioredis');
}

describe('isRedisClient / isClusterClient (duck typing on the ioredis surface)', () => {
  it('accept ioredis clients, standalone and Cluster, without connecting', () => {
    const redis = new Redis({ lazyConnect: true });
    const cluster = new Cluster([{ host: '127.0.0.1', port: 1 }], { lazyConnect: true });
    try {
      expect([isRedisClient(redis), isClusterClient(redis)]).toEqual([true, false]);
      expect([isRedisClient(cluster), isClusterClient(cluster)]).toEqual([true, true]);
      expect(describeTarget(cluster)).toBe('ioredis Cluster (caller-owned)');
    } finally {
      redis.disconnect();
      cluster.disconnect();
    }
  });

  it.each([
    ['undefined', undefined],
    ['null', null],
    ['a URL string', 'redis://127.0.0.1:6379'],
    ['a number', 6379],
    ['a plain object', { host: '127.0.0.1', port: 6379 }],
    ['cluster seeds', { cluster: ['127.0.0.1:7000'] }],
    ['a node-redis client', nodeRedisLike()],
    ['an object with a string status but no methods', { status: 'ready', isCluster: false }],
  ])('refuse %s', (_name, value) => {
    expect(isRedisClient(value)).toBe(false);
    expect(isClusterClient(value)).toBe(false);
  });
});

describe('a redis option that is none of the accepted values', () => {
  it.each([
    ['a plain object', { host: '127.0.0.1', port: 6379 }, 'a plain object with keys host, port'],
    ['an empty object', {}, 'a plain object with no keys'],
    ['a node-redis client', nodeRedisLike(), 'what looks like a node-redis client (package "redis"); Switchboard works with ioredis'],
    ['an instance of another class', new (class RedisPool {})(), 'an instance of RedisPool with no keys, which is not an ioredis client'],
    ['a number', 6379, 'number 6379'],
    ['null', null, 'null'],
    ['an array', ['127.0.0.1:7000'], 'an array of 1 item(s)'],
  ])('fails at once in RedisBus with SB_CONFIG_INVALID for %s, saying what was passed and what is accepted', (_name, value, described) => {
    const started = Date.now();
    const err = configError(() => new RedisBus({ redis: value as unknown as RedisTarget, connectTimeoutMs: 60_000 }));
    expect(Date.now() - started).toBeLessThan(1000);
    expect(err.message).toBe(
      `redis must be a redis:// or rediss:// URL, an ioredis client (new Redis(...) or new Cluster(...)), { cluster: ["host:port", ...] }, or { sentinels: [{ host, port }, ...], name: "<master group>" }; got ${described}.`,
    );
    expect(describeValue(value)).toBe(described);
  });

  it('never prints the values of what was passed (they may hold credentials)', () => {
    expect(invalidRedisTarget({ password: 'hunter2', host: 'cache' }).message).not.toContain('hunter2');
    expect(describeTarget({ password: 'hunter2' } as unknown as RedisTarget)).toBe('a plain object with keys password');
  });

  it('refuses an empty cluster seed list', () => {
    expect(configError(() => new RedisBus({ redis: { cluster: [] } })).message).toBe('redis.cluster must list at least one node.');
    expect(configError(() => assertClusterSeeds({ cluster: [] }, 'options.redis')).message).toBe('options.redis.cluster must list at least one node.');
    expect(() => assertClusterSeeds({ cluster: ['127.0.0.1:7000'] })).not.toThrow();
  });
});

describe('Sentinel targets ({ sentinels, name })', () => {
  const good = { sentinels: [{ host: '127.0.0.1', port: 26379 }], name: 'mymaster' };

  it('are told apart from clients and cluster seeds', () => {
    expect(isSentinelTarget(good)).toBe(true);
    expect(isSentinelTarget({ cluster: ['a:1'] })).toBe(false);
    expect(isSentinelTarget('redis://a:1')).toBe(false);
    const client = new Redis({ lazyConnect: true });
    expect(isSentinelTarget(client)).toBe(false);
    client.disconnect();
    expect(() => assertSentinelTarget({ ...good, sentinelPassword: 's', password: 'p' })).not.toThrow();
  });

  it.each([
    ['no sentinels', { sentinels: [], name: 'm' }, 'redis.sentinels must list at least one sentinel as { host, port }.'],
    ['a string entry', { sentinels: ['127.0.0.1:26379'], name: 'm' }, 'redis.sentinels[0] must be { host: string, port: 1-65535 }; got a string.'],
    ['a port out of range', { sentinels: [{ host: 'a', port: 1 }, { host: 'b', port: 70000 }], name: 'm' }, 'redis.sentinels[1] must be { host: string, port: 1-65535 }; got { host: "b", port: 70000 }.'],
    ['a port given as text', { sentinels: [{ host: 'a', port: '26379' }], name: 'm' }, 'redis.sentinels[0] must be { host: string, port: 1-65535 }; got { host: "a", port: "26379" }.'],
    ['no name', { sentinels: [{ host: 'a', port: 1 }] }, "redis.name must be the master group name of the sentinels' `sentinel monitor <name> ...` (a non-empty string)."],
    ['a blank name', { sentinels: [{ host: 'a', port: 1 }], name: ' ' }, "redis.name must be the master group name of the sentinels' `sentinel monitor <name> ...` (a non-empty string)."],
    ['a password that is no string', { sentinels: [{ host: 'a', port: 1 }], name: 'm', password: 42 }, 'redis.password must be a string when set; got number.'],
  ])('with %s fail at once in RedisBus with SB_CONFIG_INVALID naming the field', (_name, value, message) => {
    const started = Date.now();
    expect(configError(() => new RedisBus({ redis: value as unknown as RedisTarget, connectTimeoutMs: 60_000 })).message).toBe(message);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('never print a password, and describe the group without them', () => {
    const withSecrets = { sentinels: [{ host: 's1', port: 26379 }, { host: 's2', port: 26380 }], name: 'mymaster', sentinelPassword: 'sentinel-secret', password: 'data-secret' };
    expect(describeTarget(withSecrets)).toBe("sentinel master 'mymaster' via s1:26379,s2:26380");
    const err = configError(() => assertSentinelTarget({ ...withSecrets, name: '' }, 'options.redis'));
    expect(err.message).toMatch(/^options\.redis\.name /);
    expect(err.message).not.toMatch(/secret/);
  });
});

describe('a client from a second copy of ioredis', () => {
  let dir: string;
  let second: typeof import('ioredis');

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'sb-second-ioredis-'));
    second = loadSecondIoredis(dir);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('is a different copy (instanceof fails) and is still recognised', () => {
    const client = new second.Redis({ lazyConnect: true });
    const cluster = new second.Cluster([{ host: '127.0.0.1', port: 1 }], { lazyConnect: true });
    try {
      expect(second.Redis).not.toBe(Redis);
      expect(client instanceof Redis).toBe(false);
      expect([isRedisClient(client), isClusterClient(client)]).toEqual([true, false]);
      expect([isRedisClient(cluster), isClusterClient(cluster)]).toEqual([true, true]);
      expect(describeTarget(client as unknown as RedisTarget)).toBe('ioredis client (caller-owned)');
    } finally {
      client.disconnect();
      cluster.disconnect();
    }
  });

  it('carries messages through RedisBus against the real Redis, and stays open after the bus closes', async () => {
    const client = new second.Redis(REDIS_URL);
    const bus = new RedisBus({ redis: client as unknown as RedisTarget, connectTimeoutMs: 5000 });
    const channel = `sbtest:second-ioredis:${process.pid}:${Date.now().toString(36)}:${Math.random().toString(36).slice(2, 8)}`;
    try {
      expect(await bus.ready()).toBe(true);
      const got = new Promise<string>((resolve) => bus.onMessage((ch, payload) => ch === channel && resolve(Buffer.from(payload).toString())));
      await bus.subscribe(channel);
      expect(await bus.publish(channel, new TextEncoder().encode('from the second copy'))).toBe(1);
      expect(await got).toBe('from the second copy');
    } finally {
      await bus.close();
    }
    // The caller owns the client: closing the bus leaves it connected.
    expect(client.status).toBe('ready');
    expect(await client.ping()).toBe('PONG');
    await client.quit();
  });
});
