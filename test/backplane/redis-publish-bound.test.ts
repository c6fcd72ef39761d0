import { RedisBus } from '@switchboard/backplane-redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, uniquePrefix, type PrivateRedis } from '../support/redis.js';

// RedisBus.publish against a frozen redis-server (SIGSTOP: connections kept, nothing answered):
// every publish rejects with SB_BACKPLANE_UNAVAILABLE once `commandTimeoutMs` passed (one shared
// deadline sweep, not a timer per publish), and publishing works again once Redis answers.

describe('RedisBus: publishes to a frozen Redis fail in bounded time', () => {
  let redis: PrivateRedis;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it('each of a burst rejects after the bound, counted as failed; later publishes succeed after the thaw', async () => {
    let failed = 0;
    let published = 0;
    const bus = new RedisBus({ redis: redis.url, lazySubscriber: true, commandTimeoutMs: 300, metrics: { publishFailed: () => failed++, published: () => published++ } });
    const channel = `${uniquePrefix()}bound`;
    try {
      expect(await bus.publish(channel, Uint8Array.of(1))).toBe(0);
      redis.freeze();
      const started = performance.now();
      const first = Array.from({ length: 50 }, (_, i) => bus.publish(channel, Uint8Array.of(i)));
      await new Promise((r) => setTimeout(r, 100));
      // Issued later: their own deadline, not the first burst's.
      const second = Array.from({ length: 50 }, (_, i) => bus.publish(channel, Uint8Array.of(i)));
      const outcome = (p: Promise<number>) => p.then(() => undefined, (e: unknown) => ({ e, at: performance.now() - started }));
      for (const t of await Promise.all(first.map(outcome))) {
        expect(t?.e).toMatchObject({ code: 'SB_BACKPLANE_UNAVAILABLE', message: expect.stringContaining('no answer within 300 ms') });
        expect(t!.at).toBeGreaterThanOrEqual(290);
        expect(t!.at).toBeLessThan(2000);
      }
      for (const t of await Promise.all(second.map(outcome))) {
        expect(t?.e).toMatchObject({ code: 'SB_BACKPLANE_UNAVAILABLE' });
        expect(t!.at).toBeGreaterThanOrEqual(390);
        expect(t!.at).toBeLessThan(2100);
      }
      expect(failed).toBe(100);
      redis.thaw();
      expect(await bus.publish(channel, Uint8Array.of(2))).toBe(0);
      expect(published).toBe(2);
    } finally {
      redis.thaw();
      await bus.close();
    }
  });
});
