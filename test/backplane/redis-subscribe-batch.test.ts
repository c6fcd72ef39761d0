import { RedisBus } from '@switchboard/backplane-redis';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, uniquePrefix, type PrivateRedis } from '../support/redis.js';

// (Un)subscriptions issued together leave as few commands (subscription-queue.ts): a hub node
// joining a watcher to every job it enqueues must not pay one SUBSCRIBE (and its reply) per job.
// A private redis-server, so the command counts are this test's alone.
describe('RedisBus batches (un)subscriptions issued together (private redis-server)', () => {
  let server: PrivateRedis;
  let admin: Redis;

  beforeAll(async () => {
    server = await startRedis();
    admin = new Redis(server.url);
  });
  afterAll(async () => {
    admin?.disconnect();
    await server?.stop();
  });

  const calls = async (command: string) => Number(/calls=(\d+)/.exec((await admin.info('commandstats')).split('\n').find((l) => l.startsWith(`cmdstat_${command}:`)) ?? 'calls=0')![1]);

  it('300 subscribes in one turn: one SUBSCRIBE per 500 channels; then 300 unsubscribes the same; every channel in its state', async () => {
    const bus = new RedisBus({ redis: server.url });
    const prefix = uniquePrefix('batch');
    const channels = Array.from({ length: 300 }, (_, i) => `${prefix}${i}`);
    try {
      expect(await bus.ready()).toBe(true);
      const [sub0, unsub0] = [await calls('subscribe'), await calls('unsubscribe')];
      await Promise.all(channels.map((c) => bus.subscribe(c)));
      expect((await calls('subscribe')) - sub0).toBe(1);
      const counts = (await admin.call('PUBSUB', 'NUMSUB', ...channels)) as (string | number)[];
      expect(counts.filter((_, i) => i % 2 === 1).map(Number)).toEqual(channels.map(() => 1));

      // Kinds alternate: a subscribe between unsubscribes splits them (call order is kept).
      const half = channels.slice(0, 150);
      const ops = half.map((c) => bus.unsubscribe(c));
      ops.push(bus.subscribe(`${prefix}late`));
      ops.push(...channels.slice(150).map((c) => bus.unsubscribe(c)));
      await Promise.all(ops);
      expect((await calls('unsubscribe')) - unsub0).toBe(2);
      expect((await calls('subscribe')) - sub0).toBe(2);
      const after = (await admin.call('PUBSUB', 'NUMSUB', ...channels, `${prefix}late`)) as (string | number)[];
      expect(after.filter((_, i) => i % 2 === 1).map(Number)).toEqual([...channels.map(() => 0), 1]);
    } finally {
      await bus.close();
    }
  });
});
