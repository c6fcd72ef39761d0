import type { Bus } from '@switchboard/hub-server/backplane';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { delay } from '../support/signalr.js';

/**
 * The Bus receiver-count contract (`Bus` in libs/hub-server/src/scaleout/bus/bus.ts), checked on
 * bus instances directly: `publish` resolves with the number of subscribed bus instances, and
 * `subscribers(channel)` (optional on the interface; every bus shipped here has it) tells the
 * same without publishing. BusScaleOut relies on the count for SB_CONNECTION_NOT_FOUND and group
 * counts, hub contexts for "no node serves this hub" (a 0 on the hub's all channel).
 */
export interface BusFixture {
  /** A new bus on the shared broker / Redis. */
  bus(): Bus;
  /** A channel name no other case uses (distinct names land on distinct Cluster slots). */
  channel(label: string): string;
  close(): Promise<void>;
}

/** Polls `check` every 20 ms until true; throws naming `what` after `timeoutMs`. */
async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await delay(20);
  }
}

export function busContract(name: string, setup: () => Promise<BusFixture>): void {
  describe(`Bus receiver counts: ${name}`, () => {
    let fx: BusFixture;
    const buses: Bus[] = [];
    const open = () => {
      const b = fx.bus();
      buses.push(b);
      return b;
    };
    const payload = new Uint8Array([1, 2, 3]);

    beforeAll(async () => {
      fx = await setup();
    });
    afterAll(async () => {
      await Promise.all(buses.map((b) => b.close()));
      await fx?.close();
    });

    it('every bus counts subscribers', () => {
      expect(typeof open().subscribers).toBe('function');
    });

    it('a channel nobody subscribed to: publish resolves 0, subscribers says 0', async () => {
      const [pub] = [open()];
      const ch = fx.channel('nobody');
      expect(await pub.publish(ch, payload)).toBe(0);
      expect(await pub.subscribers!(ch)).toBe(0);
    });

    it('counts subscribed buses (a bus subscribing twice is one), and the publisher itself when subscribed', async () => {
      const [pub, a, b] = [open(), open(), open()];
      const ch = fx.channel('two');
      await a.subscribe(ch);
      expect(await pub.publish(ch, payload)).toBe(1);
      expect(await pub.subscribers!(ch)).toBe(1);
      await b.subscribe(ch);
      await b.subscribe(ch);
      expect(await pub.publish(ch, payload)).toBe(2);
      expect(await pub.subscribers!(ch)).toBe(2);
      await pub.subscribe(ch);
      expect(await pub.subscribers!(ch)).toBe(3);
      expect(await a.subscribers!(ch)).toBe(3); // any bus may ask
      expect(await pub.publish(ch, payload)).toBe(3);
    });

    it('unsubscribe and close remove a bus from the count; other channels are unaffected', async () => {
      const [pub, a, b] = [open(), open(), open()];
      const ch = fx.channel('leave');
      const other = fx.channel('leave-other');
      await Promise.all([a.subscribe(ch), b.subscribe(ch), a.subscribe(other)]);
      expect(await pub.subscribers!(ch)).toBe(2);
      await a.unsubscribe(ch);
      expect(await pub.subscribers!(ch)).toBe(1);
      expect(await pub.publish(ch, payload)).toBe(1);
      expect(await pub.subscribers!(other)).toBe(1);
      await b.close();
      // A closed Redis subscriber leaves once its connection is gone (at once in memory).
      await until('the closed bus to leave the count', async () => (await pub.subscribers!(ch)) === 0);
      expect(await pub.publish(ch, payload)).toBe(0);
      expect(await pub.subscribers!(other)).toBe(1);
    });

    it('(un)subscriptions issued together all apply, each channel ending in its last wanted state', async () => {
      const [pub, a] = [open(), open()];
      const on = Array.from({ length: 60 }, (_, i) => fx.channel(`burst-on-${i}`));
      const flip = Array.from({ length: 20 }, (_, i) => fx.channel(`burst-flip-${i}`));
      // Without waiting: 60 subscribes, and per flip channel subscribe, unsubscribe, subscribe,
      // unsubscribe (odd ones subscribe once more), all in one turn.
      const ops = on.map((ch) => a.subscribe(ch));
      flip.forEach((ch, i) => {
        ops.push(a.subscribe(ch), a.unsubscribe(ch), a.subscribe(ch), a.unsubscribe(ch));
        if (i % 2) ops.push(a.subscribe(ch));
      });
      await Promise.all(ops);
      const counts = await Promise.all([...on, ...flip].map((ch) => pub.subscribers!(ch)));
      expect(counts).toEqual([...on.map(() => 1), ...flip.map((_, i) => i % 2)]);
      // A channel subscribed in the burst receives at once.
      expect(await pub.publish(on[59]!, payload)).toBe(1);
    });

    it('the count matches the deliveries', async () => {
      const [pub, a, b] = [open(), open(), open()];
      const ch = fx.channel('deliveries');
      const got: string[] = [];
      a.onMessage((c) => c === ch && got.push('a'));
      b.onMessage((c) => c === ch && got.push('b'));
      await Promise.all([a.subscribe(ch), b.subscribe(ch)]);
      const receivers = await pub.publish(ch, payload);
      await until('both deliveries', () => got.length === 2);
      expect(receivers).toBe(got.length);
      expect(got.sort()).toEqual(['a', 'b']);
    });

    it('a closed bus refuses to count with SB_BACKPLANE_UNAVAILABLE', async () => {
      const b = open();
      await b.close();
      await expect(b.subscribers!(fx.channel('closed'))).rejects.toMatchObject({ code: 'SB_BACKPLANE_UNAVAILABLE' });
    });
  });
}
