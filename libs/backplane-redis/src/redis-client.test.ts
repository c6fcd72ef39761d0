import { SwitchboardError } from '@switchboard/protocol';
import { Cluster, Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { quitClient, reconnectBackoff } from './client-lifecycle.js';
import { isClusterClient } from './client-shape.js';
import { createRedisClient, type RedisConnectTarget } from './redis-client.js';

// No Redis needed: every client is made with lazyConnect and closed before it connects.
const lazy = { redis: { lazyConnect: true, maxRetriesPerRequest: 7 }, cluster: { lazyConnect: true, redisOptions: { maxRetriesPerRequest: 7 } } };

describe('reconnectBackoff', () => {
  it('doubles from 100 ms and stays at 2 s (never gives up)', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 100].map(reconnectBackoff)).toEqual([100, 200, 400, 800, 1600, 2000, 2000, 2000]);
  });
});

describe('createRedisClient', () => {
  it('opens a standalone client for a URL, with the redis options', async () => {
    const client = createRedisClient('redis://127.0.0.1:6399/2', lazy);
    expect(client).toBeInstanceOf(Redis);
    expect((client as Redis).options).toMatchObject({ port: 6399, db: 2, maxRetriesPerRequest: 7, lazyConnect: true });
    await quitClient(client, 10);
  });

  it('opens a client of the master for Sentinel settings, its options over sentinelOptions', async () => {
    const client = createRedisClient({ sentinels: [{ host: '127.0.0.1', port: 26399 }], name: 'mymaster', password: 'p' }, lazy);
    expect(client).toBeInstanceOf(Redis);
    expect((client as Redis).options).toMatchObject({ name: 'mymaster', role: 'master', password: 'p', maxRetriesPerRequest: 7, sentinelRetryStrategy: reconnectBackoff });
    await quitClient(client, 10);
  });

  it('opens a Cluster client for cluster seeds, with the cluster options', async () => {
    const client = createRedisClient({ cluster: ['127.0.0.1:7399'] }, lazy);
    expect(client).toBeInstanceOf(Cluster);
    expect(isClusterClient(client)).toBe(true);
    expect((client as Cluster).options.redisOptions).toMatchObject({ maxRetriesPerRequest: 7 });
    await quitClient(client, 10);
  });

  it.each([
    ['no cluster seeds', { cluster: [] }],
    ['options for a single node', { host: '127.0.0.1', port: 6379 }],
    ['Sentinel settings without a name', { sentinels: [{ host: '127.0.0.1', port: 26379 }] }],
  ])('refuses %s with SB_CONFIG_INVALID', (_name, target) => {
    expect(() => createRedisClient(target as unknown as RedisConnectTarget, lazy)).toThrow(SwitchboardError);
  });
});

describe('quitClient', () => {
  it('returns within the timeout and closes the client, even if QUIT is never answered', async () => {
    const client = createRedisClient('redis://127.0.0.1:6399', lazy);
    client.on('error', () => {});
    const started = Date.now();
    await quitClient(client, 50); // nothing listens there: QUIT gets no answer
    expect(Date.now() - started).toBeLessThan(1000);
    await expect.poll(() => client.status, { timeout: 1000 }).toBe('end'); // no reconnect after it
  });
});
