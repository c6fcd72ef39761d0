import type { HubNodeStats, WorkerStats } from '@switchboard/contracts';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, uniquePrefix, type PrivateRedis } from '../../../test/support/redis.js';
import { JobStore } from './job-store.js';
import { JobKeys } from './keys.js';
import { SystemRegistry } from './system-registry.js';

const node = (nodeId: string, seenAt: number, connections = 1): HubNodeStats => ({
  nodeId,
  pid: 100,
  startedAt: 1,
  connections,
  byTransport: { WebSockets: connections },
  byProtocol: { json: connections },
  seenAt,
});
const worker = (workerId: string, seenAt: number): WorkerStats => ({ workerId, pid: 200, startedAt: 1, concurrency: 2, poolSize: 2, activeJobs: 1, seenAt });

describe('SystemRegistry (private redis-server)', () => {
  let server: PrivateRedis;
  let redis: Redis;
  let now = 1_000_000;
  const clock = () => now;
  const fresh = () => new JobKeys(uniquePrefix('system'));

  beforeAll(async () => {
    server = await startRedis();
    redis = new Redis(server.url, { maxRetriesPerRequest: 1 });
  });
  afterAll(async () => {
    redis?.disconnect();
    await server?.stop();
  });

  it('keeps the latest heartbeat per id, sorted by id, and drops (and deletes) those older than staleAfterMs', async () => {
    const keys = fresh();
    const reg = new SystemRegistry(redis, keys.system, { now: clock, staleAfterMs: 5000 });
    await reg.reportHubNode(node('hub-b', now - 100, 3));
    await reg.reportHubNode(node('hub-a', now - 6000));
    await reg.reportHubNode(node('hub-c', now - 200, 1));
    await reg.reportHubNode(node('hub-c', now - 50, 7));
    await reg.reportWorker(worker('w-2', now));
    await reg.reportWorker(worker('w-1', now - 5001));
    await redis.hset(keys.system.hubNodes, 'garbage', 'not json');

    expect((await reg.hubNodes()).map((n) => [n.nodeId, n.connections])).toEqual([
      ['hub-b', 3],
      ['hub-c', 7],
    ]);
    expect((await reg.workers()).map((w) => w.workerId)).toEqual(['w-2']);
    // Stale and unreadable entries are gone from Redis, not just hidden.
    expect((await redis.hkeys(keys.system.hubNodes)).sort()).toEqual(['hub-b', 'hub-c']);
    expect(await redis.hkeys(keys.system.workers)).toEqual(['w-2']);
    // The hashes expire if nobody writes for a minute.
    expect(await redis.pttl(keys.system.hubNodes)).toBeGreaterThan(50_000);

    await reg.removeHubNode('hub-b');
    await reg.removeWorker('w-2');
    expect((await reg.hubNodes()).map((n) => n.nodeId)).toEqual(['hub-c']);
    expect(await reg.workers()).toEqual([]);
  });

  it('pruning keeps an entry that was refreshed after it was read as stale', async () => {
    const keys = fresh();
    const reg = new SystemRegistry(redis, keys.system, { now: clock });
    await reg.reportHubNode(node('hub-x', now - 10_000));
    // Simulate the race: the node writes a fresh heartbeat between our read and our prune.
    const original = redis.hgetall.bind(redis);
    const racing = Object.assign(Object.create(redis) as Redis, {
      hgetall: async (key: string) => {
        const all = await original(key);
        await redis.hset(key, 'hub-x', JSON.stringify(node('hub-x', now)));
        return all;
      },
    });
    const raced = new SystemRegistry(racing, keys.system, { now: clock });
    expect(await raced.hubNodes()).toEqual([]);
    expect((await reg.hubNodes()).map((n) => n.seenAt)).toEqual([now]);
  });

  it('leader lease: one holder at a time, renewable by the holder only, taken over after expiry or resign', async () => {
    const keys = fresh();
    const reg = new SystemRegistry(redis, keys.system);
    expect(await reg.lead('a', 300)).toBe(true);
    expect(await reg.lead('b', 300)).toBe(false);
    expect(await reg.lead('a', 300)).toBe(true);
    expect(await reg.leader()).toBe('a');
    await reg.resign('b'); // not the holder: no effect
    expect(await reg.leader()).toBe('a');
    await new Promise((r) => setTimeout(r, 400));
    expect(await reg.lead('b', 300)).toBe(true);
    expect(await reg.lead('a', 300)).toBe(false);
    await reg.resign('b');
    expect(await reg.leader()).toBeUndefined();
    expect(await reg.lead('a', 300)).toBe(true);
  });

  it('jobsPerSecond averages the terminal updates JobStore counted over the 10 whole seconds before now', async () => {
    const keys = fresh();
    const store = new JobStore(redis, keys, 600);
    const reg = new SystemRegistry(redis, keys.system, { now: clock });
    const second = Math.floor(now / 1000);
    let n = 0;
    const finish = async (at: number, state: 'completed' | 'failed' | 'cancelled') => {
      const id = `sys${String(++n).padStart(10, '0')}`;
      await store.create(id, 'hash', undefined, {}, at);
      await store.update(id, { state: 'active' }, at);
      await store.update(id, { progress: 50 }, at);
      await store.update(id, { state }, at);
      // Refused after the terminal state: must not count again.
      await store.update(id, { state: 'completed' }, at);
    };
    for (let i = 0; i < 12; i++) await finish((second - 1 - (i % 4)) * 1000 + 5, i % 3 === 0 ? 'failed' : 'completed');
    await finish(second * 1000 + 10, 'cancelled'); // the current second: not counted yet
    await finish((second - 11) * 1000, 'completed'); // outside the window
    // Counts are kept in memory and added to Redis within 200 ms (one INCRBY per second counted).
    await expect.poll(() => reg.jobsPerSecond(), { timeout: 2000 }).toBe(1.2);
    expect(Number(await redis.get(keys.system.finished(second)))).toBe(1);
    expect(await redis.ttl(keys.system.finished(second))).toBeGreaterThan(50);
    now += 1000;
    expect(await reg.jobsPerSecond()).toBe(1.3);
    expect(await reg.jobsPerSecond(1)).toBe(1);
  });

  it('every key sits under one hash tag derived from the prefix', () => {
    const keys = new JobKeys('sb:');
    expect([keys.system.hubNodes, keys.system.workers, keys.system.leader, keys.system.finished(42)]).toEqual([
      '{sb:system}:hub-nodes',
      '{sb:system}:workers',
      '{sb:system}:leader',
      '{sb:system}:finished:42',
    ]);
  });
});
