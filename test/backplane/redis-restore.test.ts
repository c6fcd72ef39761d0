import { RedisBus } from '@switchboard/backplane-redis';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../faults/support.js';
import { startRedis, uniquePrefix, type PrivateRedis } from '../support/redis.js';

// RedisBus.onRestored against a private redis-server: fired once the subscriber is back and
// subscribed again after losing its connection, not on the first connect.

describe('RedisBus: the restore event', () => {
  let redis: PrivateRedis;
  let admin: Redis;
  beforeAll(async () => {
    redis = await startRedis();
    admin = new Redis(redis.url);
  });
  afterAll(async () => {
    admin?.disconnect();
    await redis?.stop();
  });

  it('fires after the subscriber reconnects with its channels live again; messages flow after it, and not on the first connect', async () => {
    const channel = `${uniquePrefix('restore')}group:g`;
    const bus = new RedisBus({ redis: redis.url });
    try {
      let restores = 0;
      bus.onRestored(() => restores++);
      const got: string[] = [];
      bus.onMessage((c, p) => {
        if (c === channel) got.push(Buffer.from(p).toString());
      });
      await bus.subscribe(channel);
      expect(await bus.publish(channel, Buffer.from('before'))).toBe(1);
      await waitFor('the first message', () => got.includes('before'));
      expect(restores).toBe(0);

      // Drop the subscriber's connection (as a network cut or failover does); ioredis reconnects.
      const killed = Number(await admin.client('KILL', 'TYPE', 'pubsub'));
      expect(killed).toBe(1);
      await waitFor('the restore event', () => restores === 1, 5000);
      // Live again at the moment of the event: the next publish reaches it.
      expect(Number(await admin.publish(channel, 'after'))).toBe(1);
      await waitFor('the message after the restore', () => got.includes('after'));
      expect(restores).toBe(1);
    } finally {
      await bus.close();
    }
  });

  it('a listener that throws does not stop the others; a removed one is not called', async () => {
    const channel = `${uniquePrefix('restore')}group:h`;
    const bus = new RedisBus({ redis: redis.url });
    try {
      const calls: string[] = [];
      bus.onRestored(() => {
        throw new Error('listener broke');
      });
      const remove = bus.onRestored(() => calls.push('removed'));
      bus.onRestored(() => calls.push('kept'));
      remove();
      await bus.subscribe(channel);
      await admin.client('KILL', 'TYPE', 'pubsub');
      await waitFor('the restore event', () => calls.length > 0, 5000);
      expect(calls).toEqual(['kept']);
    } finally {
      await bus.close();
    }
  });
});
