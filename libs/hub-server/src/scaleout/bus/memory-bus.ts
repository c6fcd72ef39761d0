import { SwitchboardError } from '@switchboard/protocol';
import type { Bus } from './bus.js';

/**
 * An in-process bus: several hub servers in one process share one MemoryBroker and each gets a
 * MemoryBus from it. Used to run the scale-out contract suite without Redis, and for tests.
 * Delivery is asynchronous (a microtask later), like a real bus.
 */
export class MemoryBroker {
  private readonly subscribers = new Map<string, Set<MemoryBus>>();

  bus(): MemoryBus {
    return new MemoryBus(this);
  }

  /** @internal */
  add(channel: string, bus: MemoryBus): void {
    let set = this.subscribers.get(channel);
    if (!set) this.subscribers.set(channel, (set = new Set()));
    set.add(bus);
  }

  /** @internal */
  remove(channel: string, bus: MemoryBus): void {
    const set = this.subscribers.get(channel);
    set?.delete(bus);
    if (set && !set.size) this.subscribers.delete(channel);
  }

  /** @internal */
  count(channel: string): number {
    return this.subscribers.get(channel)?.size ?? 0;
  }

  /** @internal */
  publish(channel: string, payload: Uint8Array): number {
    const set = this.subscribers.get(channel);
    if (!set) return 0;
    const copy = payload.slice();
    for (const bus of set) queueMicrotask(() => bus.deliver(channel, copy));
    return set.size;
  }
}

export class MemoryBus implements Bus {
  private readonly channels = new Set<string>();
  private readonly listeners = new Set<(channel: string, payload: Uint8Array) => void>();
  private closed = false;

  constructor(private readonly broker: MemoryBroker) {}

  get connected(): boolean {
    return !this.closed;
  }

  async publish(channel: string, payload: Uint8Array): Promise<number> {
    return this.broker.publish(channel, payload);
  }

  async subscribers(channel: string): Promise<number> {
    if (this.closed) throw new SwitchboardError('SB_BACKPLANE_UNAVAILABLE', 'This in-memory bus is closed.');
    return this.broker.count(channel);
  }

  async subscribe(channel: string): Promise<void> {
    if (this.closed || this.channels.has(channel)) return;
    this.channels.add(channel);
    this.broker.add(channel, this);
  }

  async unsubscribe(channel: string): Promise<void> {
    if (!this.channels.delete(channel)) return;
    this.broker.remove(channel, this);
  }

  onMessage(listener: (channel: string, payload: Uint8Array) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** @internal */
  deliver(channel: string, payload: Uint8Array): void {
    if (this.closed || !this.channels.has(channel)) return;
    for (const l of this.listeners) l(channel, payload);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const c of this.channels) this.broker.remove(c, this);
    this.channels.clear();
  }
}
