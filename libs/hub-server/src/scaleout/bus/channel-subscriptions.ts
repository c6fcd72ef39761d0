import type { Bus } from './bus.js';

/**
 * A scale-out's subscriptions to its group, user and connection channels on the bus (BusScaleOut
 * decides when; this keeps them consistent).
 *
 * - `track` (un)subscribes a channel and remembers the operation until it settles (`inFlight`). A
 *   member added while another member's subscribe is still in flight waits for it, so every add
 *   resolves only once the channel is live (as ASP.NET's RedisSubscriptionManager does under its lock).
 * - A connection channel has holders (the hub connection, its HTTP transport): `hold` subscribes
 *   it for the first, `release` unsubscribes it after the last.
 */
export class ChannelSubscriptions {
  /** The latest (un)subscribe started per channel, until it settles. */
  private readonly inflight = new Map<string, Promise<void>>();
  /** Holders of each connection channel; subscribed while > 0. */
  private readonly holds = new Map<string, number>();

  constructor(private readonly bus: Bus) {}

  /** (Un)subscribes `channel`, remembered in `inFlight` until it settles. */
  track(channel: string, subscribe: boolean): Promise<void> {
    const op = subscribe ? this.bus.subscribe(channel) : this.bus.unsubscribe(channel);
    this.inflight.set(channel, op);
    const done = () => {
      if (this.inflight.get(channel) === op) this.inflight.delete(channel);
    };
    op.then(done, done);
    return op;
  }

  /** The (un)subscribe of `channel` still in flight, if any. */
  inFlight(channel: string): Promise<void> | undefined {
    return this.inflight.get(channel);
  }

  /** One more holder of a connection channel: the first subscribes it; a later one waits for that subscribe if it is still in flight. */
  hold(channel: string): Promise<void> {
    const holds = this.holds.get(channel) ?? 0;
    this.holds.set(channel, holds + 1);
    return holds === 0 ? this.track(channel, true) : (this.inflight.get(channel) ?? Promise.resolve());
  }

  /** One holder fewer: after the last, the channel is unsubscribed. */
  async release(channel: string): Promise<void> {
    const holds = (this.holds.get(channel) ?? 0) - 1;
    if (holds > 0) return void this.holds.set(channel, holds);
    this.holds.delete(channel);
    await this.track(channel, false);
  }
}
