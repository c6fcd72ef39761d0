import { jsonHubProtocol, type HubProtocol, type InvocationMessage } from '@switchboard/protocol';
import { describe, expect, it, vi } from 'vitest';
import { defineHub } from '../hub.js';
import { HubEndpoint } from '../hub-endpoint.js';
import type { Logger } from '../logger.js';
import { OutboundMessage, type LocalConnection, type RestoredScope } from '../scaleout.js';
import type { Bus } from './bus.js';
import { BusScaleOut } from './bus-scaleout.js';
import { MemoryBroker } from './memory-bus.js';

// A backplane restore (Bus.onRestored) as the scale-out and a hub see it: the node's groups and a
// write to its own members only.

const settle = () => new Promise<void>((r) => setImmediate(r));

/** A memory bus that can report a restore, and counts publishes. */
function restorableBus(broker: MemoryBroker) {
  const inner = broker.bus();
  const listeners = new Set<() => void>();
  let published = 0;
  const bus: Bus = {
    get connected() {
      return inner.connected;
    },
    publish: (channel, payload) => {
      published++;
      return inner.publish(channel, payload);
    },
    subscribe: (c) => inner.subscribe(c),
    unsubscribe: (c) => inner.unsubscribe(c),
    onMessage: (l) => inner.onMessage(l),
    onRestored: (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    close: () => inner.close(),
  };
  return { bus, restore: () => listeners.forEach((l) => l()), published: () => published, listeners };
}

class Conn implements LocalConnection {
  readonly frames: Uint8Array[] = [];
  readonly protocol: HubProtocol = jsonHubProtocol;
  readonly userId = undefined;
  constructor(readonly connectionId: string) {}
  writeFramed(bytes: Uint8Array): void {
    this.frames.push(bytes);
  }
  invokeClient(): Promise<unknown> {
    return Promise.resolve(null);
  }
  messages(): InvocationMessage[] {
    const reader = this.protocol.createReader(1 << 20);
    return this.frames.flatMap((f) => reader.push(f)).map((b) => this.protocol.parse(b) as InvocationMessage);
  }
}

const logger = () => ({ debug: vi.fn(), info: vi.fn(), warn: vi.fn(), error: vi.fn() }) satisfies Logger;

async function nodeWithGroups(broker: MemoryBroker) {
  const r = restorableBus(broker);
  const scaleOut = new BusScaleOut({ bus: r.bus, hubName: 'jobs', serverId: 'N' });
  const [a, b, c] = [new Conn('a'), new Conn('b'), new Conn('c')];
  for (const conn of [a, b, c]) await scaleOut.onConnected(conn);
  await scaleOut.addToGroup('a', 'job:1');
  await scaleOut.addToGroup('b', 'job:1');
  await scaleOut.addToGroup('c', 'job:2');
  return { ...r, scaleOut, a, b, c };
}

describe('backplane restore', () => {
  it('the scale-out hands each listener the groups with members here and a local-only write', async () => {
    const broker = new MemoryBroker();
    const n = await nodeWithGroups(broker);
    const other = broker.bus();
    const heard: Uint8Array[] = [];
    other.onMessage((_c, p) => heard.push(p));
    await other.subscribe('sb:jobs:group:job:1');
    const scopes: RestoredScope[] = [];
    n.scaleOut.onRestored((s) => scopes.push(s));
    const publishedBefore = n.published();

    n.restore();
    expect(scopes).toHaveLength(1);
    expect([...scopes[0]!.groups].sort()).toEqual(['job:1', 'job:2']);
    scopes[0]!.writeGroupLocal('job:1', OutboundMessage.invocation('jobUpdated', [{ seq: 9 }]));
    await settle();
    expect(n.a.messages().map((m) => m.arguments)).toEqual([[{ seq: 9 }]]);
    expect(n.b.messages()).toHaveLength(1);
    expect(n.c.frames).toEqual([]);
    // Nothing went through the backplane: other nodes resync their own watchers.
    expect(n.published()).toBe(publishedBefore);
    expect(heard).toEqual([]);
  });

  it('a hub’s onBackplaneRestored gets its name, the groups and typed local sends; its errors are logged; nothing after close', async () => {
    const broker = new MemoryBroker();
    const n = await nodeWithGroups(broker);
    const calls: { hub: string; groups: string[] }[] = [];
    let fail = false;
    const definition = defineHub<{ jobUpdated(update: { seq: number }): void }>()({
      methods: {},
      async onBackplaneRestored({ hub, groups, localGroup }) {
        calls.push({ hub, groups: [...groups].sort() });
        if (fail) throw new Error('resync broke');
        for (const g of groups) await localGroup(g).jobUpdated({ seq: g === 'job:1' ? 1 : 2 });
      },
    });
    const endpoint = new HubEndpoint('jobs', '/hubs/jobs', definition, n.scaleOut, ['WebSockets'], 1000);
    const log = logger();
    endpoint.watchBackplane(log);

    n.restore();
    await settle();
    expect(calls).toEqual([{ hub: 'jobs', groups: ['job:1', 'job:2'] }]);
    expect(n.a.messages().map((m) => [m.target, m.arguments])).toEqual([['jobUpdated', [{ seq: 1 }]]]);
    expect(n.c.messages().map((m) => m.arguments)).toEqual([[{ seq: 2 }]]);
    expect(log.info).toHaveBeenCalledWith({ hub: 'jobs', groups: 2 }, 'backplane restored: the hub resyncs its groups');

    fail = true;
    n.restore();
    await settle();
    expect(log.error).toHaveBeenCalledWith(expect.objectContaining({ hub: 'jobs', err: expect.objectContaining({ message: 'resync broke' }) }), 'onBackplaneRestored failed');

    await n.scaleOut.close();
    expect(n.listeners.size).toBe(0);
    n.restore();
    await settle();
    expect(calls).toHaveLength(2);
  });
});
