import { jsonHubProtocol, messagePackHubProtocol, type HubProtocol, type InvocationMessage } from '@switchboard/protocol';
import { vi } from 'vitest';
import type { Logger } from '../../telemetry/logger.js';
import { OutboundMessage, type LocalConnection } from '../scaleout.js';
import { BusScaleOut } from './bus-scaleout.js';
import type { Bus } from './bus.js';
import type { MemoryBroker } from './memory-bus.js';

// Shared by the BusScaleOut tests: nodes over a MemoryBroker with recording buses and fake connections.

/** Lets queued bus deliveries (microtasks) and their follow-ups run. */
export const settle = () => new Promise<void>((r) => setImmediate(r));

export const CH = {
  all: 'sb:chat:all',
  group: (g: string) => `sb:chat:group:${g}`,
  user: (u: string) => `sb:chat:user:${u}`,
  connection: (c: string) => `sb:chat:connection:${c}`,
};

/** A protocol object whose `write` is counted (same name and bytes as the real one). */
export function spied(p: HubProtocol) {
  const write = vi.fn((m: Parameters<HubProtocol['write']>[0]) => p.write(m));
  return { protocol: { ...p, write } as HubProtocol, write };
}

/** Wraps a bus, recording (un)subscriptions and publishes; `failPublish` makes publish reject. */
export class RecordingBus implements Bus {
  readonly log: string[] = [];
  readonly published: { channel: string; receivers: number }[] = [];
  failPublish: Error | undefined;
  constructor(
    private readonly inner: Bus,
    private readonly order?: string[],
  ) {}
  get connected(): boolean {
    return this.inner.connected;
  }
  async publish(channel: string, payload: Uint8Array): Promise<number> {
    this.order?.push(`publish ${channel}`);
    if (this.failPublish) throw this.failPublish;
    const receivers = await this.inner.publish(channel, payload);
    this.published.push({ channel, receivers });
    return receivers;
  }
  subscribe(channel: string): Promise<void> {
    this.log.push(`+${channel}`);
    return this.inner.subscribe(channel);
  }
  unsubscribe(channel: string): Promise<void> {
    this.log.push(`-${channel}`);
    return this.inner.unsubscribe(channel);
  }
  onMessage(listener: (channel: string, payload: Uint8Array) => void): () => void {
    return this.inner.onMessage(listener);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

export class FakeConnection implements LocalConnection {
  readonly frames: Uint8Array[] = [];
  readonly invokeClient = vi.fn(async (target: string, args: unknown[]) => `${target}(${args.join(',')})`);
  constructor(
    readonly connectionId: string,
    readonly protocol: HubProtocol,
    readonly userId: string | undefined,
    private readonly order?: string[],
  ) {}
  writeFramed(bytes: Uint8Array): void {
    this.order?.push(`write ${this.connectionId}`);
    this.frames.push(bytes);
  }
  /** The invocations received, decoded with the connection's protocol. */
  messages(): InvocationMessage[] {
    const reader = this.protocol.createReader(1 << 20);
    return this.frames.flatMap((f) => reader.push(f)).map((body) => this.protocol.parse(body) as InvocationMessage);
  }
}

export function silentSpyLogger() {
  return { debug: vi.fn(), info: vi.fn(), warn: vi.fn(), error: vi.fn() } satisfies Logger;
}

export function makeNode(broker: MemoryBroker, serverId: string, order?: string[]) {
  const json = spied(jsonHubProtocol);
  const msgpack = spied(messagePackHubProtocol);
  const bus = new RecordingBus(broker.bus(), order);
  const logger = silentSpyLogger();
  const scaleOut = new BusScaleOut({ bus, hubName: 'chat', prefix: 'sb:', serverId, protocols: [json.protocol, msgpack.protocol], logger, ackTimeoutMs: 1000 });
  const connect = async (id: string, protocol: 'json' | 'messagepack' = 'json', userId?: string) => {
    const c = new FakeConnection(id, protocol === 'json' ? json.protocol : msgpack.protocol, userId, order);
    await scaleOut.onConnected(c);
    return c;
  };
  return { scaleOut, bus, json, msgpack, logger, connect };
}

export const receive = (...args: unknown[]) => OutboundMessage.invocation('ReceiveMessage', args);
export const argsOf = (c: FakeConnection) => c.messages().map((m) => m.arguments);
