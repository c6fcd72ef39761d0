import { jsonHubProtocol } from '@switchboard/protocol';
import { describe, expect, it, vi } from 'vitest';
import { defineHub } from '../../hub/hub.js';
import { HubEndpoint } from '../../hub/hub-endpoint.js';
import type { Logger } from '../../telemetry/logger.js';
import { OutboundMessage, type RestoredScope } from '../scaleout.js';
import type { Bus } from './bus.js';
import { BusScaleOut } from './bus-scaleout.js';
import { EnvelopeKind, TargetKind, encodeEnvelope } from './envelope.js';
import { MemoryBroker } from './memory-bus.js';
import type { BackplaneMetrics } from './scaleout-options.js';
import { FakeConnection, settle } from './scaleout.test-support.js';
import { wallClockMs } from './wall-clock.js';

// What a node observes of the backplane besides messages: the publish time a send carries and the
// delay it reports from it (BackplaneMetrics), and restores after an outage (Bus.onRestored), as
// the scale-out and a hub see them: the node's groups and a write to its own members only.

const conn = (id: string) => new FakeConnection(id, jsonHubProtocol, undefined);

function logger() {
  return { debug: vi.fn(), info: vi.fn(), warn: vi.fn(), error: vi.fn() } satisfies Logger;
}

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

function node(broker: MemoryBroker, serverId: string, metrics?: BackplaneMetrics, role: 'node' | 'publisher' = 'node') {
  const log = logger();
  const scaleOut = new BusScaleOut({ bus: broker.bus(), hubName: 'jobs', serverId, logger: log, role, ...(metrics ? { metrics } : {}) });
  return { scaleOut, log };
}

const tick = (n: number) => OutboundMessage.invocation('tick', [n]);

describe('send delay over the backplane', () => {
  it('a node reports each send from a publisher or another node once, with its hub and a delay from the publish time', async () => {
    const broker = new MemoryBroker();
    const arrived: [string, number][] = [];
    const a = node(broker, 'A', { sendArrived: (hub, ms) => arrived.push([hub, ms]) });
    const c1 = conn('c1');
    await a.scaleOut.onConnected(c1);
    await a.scaleOut.addToGroup('c1', 'job:1');
    const worker = node(broker, 'W', undefined, 'publisher');
    const other = node(broker, 'B');

    const before = wallClockMs();
    await worker.scaleOut.sendGroup('job:1', tick(1));
    await other.scaleOut.sendAll(tick(2));
    await a.scaleOut.sendAll(tick(3)); // its own send: written locally, never reported
    await settle();
    const after = wallClockMs();

    expect(c1.frames).toHaveLength(3);
    expect(arrived.map(([hub]) => hub)).toEqual(['jobs', 'jobs']);
    for (const [, ms] of arrived) {
      expect(ms).toBeGreaterThanOrEqual(0);
      expect(ms).toBeLessThanOrEqual(after - before + 1);
    }
  });

  it('the publish time travels in the envelope: a send stamped 40 ms ago reports about 40 ms; one from a clock ahead reports 0', async () => {
    const broker = new MemoryBroker();
    const delays: number[] = [];
    const a = node(broker, 'A', { sendArrived: (_hub, ms) => delays.push(ms) });
    await a.scaleOut.onConnected(conn('c1'));
    const raw = broker.bus();
    const send = (sentAt?: number) =>
      raw.publish('sb:jobs:all', encodeEnvelope({ kind: EnvelopeKind.Send, origin: 'X', target: TargetKind.All, name: '', excluded: [], payloads: new Map([['json', tick(0).framed(jsonHubProtocol)]]), ...(sentAt === undefined ? {} : { sentAt }) }));
    expect(await send(wallClockMs() - 40)).toBe(1);
    await send(wallClockMs() + 60_000);
    await send(); // an older version's envelope: delivered, not reported
    await settle();
    expect(delays).toHaveLength(2);
    expect(delays[0]).toBeGreaterThanOrEqual(40);
    expect(delays[0]).toBeLessThan(40 + 50);
    expect(delays[1]).toBe(0);
    expect(a.log.warn).not.toHaveBeenCalled();
  });

  it('a hook that throws is logged; the send is still delivered', async () => {
    const broker = new MemoryBroker();
    const a = node(broker, 'A', {
      sendArrived: () => {
        throw new Error('metrics broke');
      },
    });
    const c1 = conn('c1');
    await a.scaleOut.onConnected(c1);
    await node(broker, 'W', undefined, 'publisher').scaleOut.sendAll(tick(7));
    await settle();
    expect(c1.frames).toHaveLength(1);
    expect(a.log.warn).toHaveBeenCalledWith(expect.objectContaining({ err: expect.objectContaining({ message: 'metrics broke' }) }), 'backplane: the sendArrived metrics hook threw');
  });
});

describe('sendPublished: the receiver count of every send published', () => {
  it('reports each published channel with its kind and how many processes received it; local-only sends are not published', async () => {
    const broker = new MemoryBroker();
    const published: [string, string, number][] = [];
    const worker = node(broker, 'W', { sendPublished: (hub, target, n) => void published.push([hub, target, n]) }, 'publisher');
    const a = node(broker, 'A');
    const b = node(broker, 'B', { sendPublished: (hub, target, n) => void published.push([`${hub}@B`, target, n]) });
    const [c1, c2] = [conn('c1'), conn('c2')];
    await a.scaleOut.onConnected(c1);
    await b.scaleOut.onConnected(c2);
    await a.scaleOut.addToGroup('c1', 'job:1');
    await settle();

    await worker.scaleOut.sendAll(tick(1)); // both nodes listen on the all channel
    await worker.scaleOut.sendGroup('job:1', tick(2)); // only A holds a member
    await worker.scaleOut.sendGroups(['job:1', 'job:2'], tick(3)); // one report per channel; nobody holds job:2
    await worker.scaleOut.sendUser('nobody', tick(4));
    await worker.scaleOut.sendConnection('c2', tick(5));
    await worker.scaleOut.sendConnection('gone', tick(6));
    await b.scaleOut.sendConnection('c2', tick(7)); // B holds c2: written locally, never published
    await b.scaleOut.sendAll(tick(8)); // B and A listen (B skips its own envelope, but it counts as a receiver)

    expect(published.sort()).toEqual(
      [
        ['jobs', 'all', 2],
        ['jobs', 'group', 1],
        ['jobs', 'group', 1],
        ['jobs', 'group', 0],
        ['jobs', 'user', 0],
        ['jobs', 'connection', 1],
        ['jobs', 'connection', 0],
        ['jobs@B', 'all', 2],
      ].sort(),
    );
  });

  it('a hook that throws is logged; the send still resolves and is delivered', async () => {
    const broker = new MemoryBroker();
    const a = node(broker, 'A');
    const c1 = conn('c1');
    await a.scaleOut.onConnected(c1);
    const broken: BackplaneMetrics = {
      sendPublished: () => {
        throw new Error('counter broke');
      },
    };
    const worker = node(broker, 'W', broken, 'publisher');
    await expect(worker.scaleOut.sendAll(tick(1))).resolves.toBeUndefined();
    await settle();
    expect(c1.frames).toHaveLength(1);
    expect(worker.log.warn).toHaveBeenCalledWith(expect.objectContaining({ err: expect.objectContaining({ message: 'counter broke' }) }), 'backplane: the sendPublished metrics hook threw');
  });
});

async function nodeWithGroups(broker: MemoryBroker) {
  const r = restorableBus(broker);
  const scaleOut = new BusScaleOut({ bus: r.bus, hubName: 'jobs', serverId: 'N' });
  const [a, b, c] = [conn('a'), conn('b'), conn('c')];
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
    const endpoint = new HubEndpoint({ name: 'jobs', path: '/hubs/jobs', definition, scaleOut: n.scaleOut, transports: ['WebSockets'], clientResultTimeoutMs: 1000 });
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
