import { describe, expect, it } from 'vitest';
import { MemoryBroker } from './memory-bus.js';
import { argsOf, CH, makeNode, receive, settle } from './scaleout.test-support.js';
import { hubClients, groupManager } from '../../hub/clients.js';

const NODE = (id: string) => `sb:chat:node:${id}`;

// Routed groups (ScaleOut.addToGroupRouted / sendGroupVia): members join without a group channel;
// sends name their nodes and travel on each node's own channel.
describe('BusScaleOut routed groups over a MemoryBroker', () => {
  it('a routed member costs no group channel: sends naming its node reach it on the node channel, final sends remove it', async () => {
    const broker = new MemoryBroker();
    const [a, b, w] = ['A', 'B', 'W'].map((id) => makeNode(broker, id)) as [ReturnType<typeof makeNode>, ReturnType<typeof makeNode>, ReturnType<typeof makeNode>];
    const a1 = await a.connect('a1');
    const a2 = await a.connect('a2', 'messagepack');
    const b1 = await b.connect('b1');
    a.bus.log.length = 0;
    b.bus.log.length = 0;

    expect(await a.scaleOut.addToGroupRouted('a1', 'job:1')).toBe('A');
    expect(await a.scaleOut.addToGroupRouted('a2', 'job:1')).toBe('A');
    expect(await b.scaleOut.addToGroupRouted('b1', 'job:1')).toBe('B');
    // No group channel (the node channel was subscribed at the start).
    expect(a.bus.log).toEqual([]);
    expect(b.bus.log).toEqual([]);

    // A publisher naming only A reaches A's members, not B's; naming both reaches all, once each.
    await w.scaleOut.sendGroupVia(['A'], 'job:1', receive('via A'), false);
    await w.scaleOut.sendGroupVia(['A', 'B', 'A'], 'job:1', receive('via both'), false);
    await settle();
    expect(argsOf(a1)).toEqual([['via A'], ['via both']]);
    expect(argsOf(a2)).toEqual([['via A'], ['via both']]);
    expect(argsOf(b1)).toEqual([['via both']]);
    expect(w.bus.published.map((p) => p.channel)).toEqual([NODE('A'), NODE('A'), NODE('B')]);
    // A plain group send does not reach routed members (nobody holds the group's channel).
    await w.scaleOut.sendGroup('job:1', receive('plain'));
    expect(w.bus.published.at(-1)).toEqual({ channel: CH.group('job:1'), receivers: 0 });

    // The final send: written, then the members leave; no unsubscribe (nothing was subscribed).
    await w.scaleOut.sendGroupVia(['A', 'B'], 'job:1', receive('final'), true);
    await settle();
    expect(argsOf(b1)).toEqual([['via both'], ['final']]);
    expect([a.scaleOut.local.groupSize('job:1'), b.scaleOut.local.groupSize('job:1')]).toEqual([0, 0]);
    expect(a.bus.log).toEqual([]);
    expect(b.bus.log).toEqual([]);
    await w.scaleOut.sendGroupVia(['A', 'B'], 'job:1', receive('after the end'), false);
    await settle();
    expect(argsOf(a1).at(-1)).toEqual(['final']);
  });

  it('a node sending to its own routed members writes them directly and publishes only to the other nodes', async () => {
    const broker = new MemoryBroker();
    const a = makeNode(broker, 'A');
    const b = makeNode(broker, 'B');
    const a1 = await a.connect('a1');
    const b1 = await b.connect('b1');
    await a.scaleOut.addToGroupRouted('a1', 'g');
    await b.scaleOut.addToGroupRouted('b1', 'g');
    await a.scaleOut.sendGroupVia(['A', 'B'], 'g', receive('hi'), true);
    await settle();
    expect([argsOf(a1), argsOf(b1)]).toEqual([[['hi']], [['hi']]]);
    expect(a.bus.published.map((p) => p.channel)).toEqual([NODE('B')]);
    expect(a.scaleOut.local.groupSize('g')).toBe(0);
  });

  it('leaving or disconnecting drops no channel for a routed group; a member joining with add subscribes it as usual', async () => {
    const broker = new MemoryBroker();
    const a = makeNode(broker, 'A');
    const a1 = await a.connect('a1');
    const a2 = await a.connect('a2');
    await a.scaleOut.addToGroupRouted('a1', 'g');
    a.bus.log.length = 0;
    await a.scaleOut.removeFromGroup('a1', 'g');
    await a.scaleOut.addToGroupRouted('a1', 'h');
    await a.scaleOut.onDisconnected(a1);
    expect(a.bus.log).toEqual([`-${CH.connection('a1')}`]);

    // Mixed: a routed member first, then one with `add`: the channel is subscribed from then on
    // and dropped after the last member, whichever way it joined.
    const a3 = await a.connect('a3');
    await a.scaleOut.addToGroupRouted('a3', 'm');
    a.bus.log.length = 0;
    await a.scaleOut.addToGroup('a2', 'm');
    expect(a.bus.log).toEqual([`+${CH.group('m')}`]);
    await a.scaleOut.removeFromGroup('a2', 'm');
    await a.scaleOut.removeFromGroup('a3', 'm');
    expect(a.bus.log).toEqual([`+${CH.group('m')}`, `-${CH.group('m')}`]);
    expect(argsOf(a3)).toEqual([]);
  });

  it('subscribes its node channel from the start; answers undefined for a connection held elsewhere or gone', async () => {
    const broker = new MemoryBroker();
    const a = makeNode(broker, 'A');
    const b = makeNode(broker, 'B');
    expect(a.bus.log).toContain(`+${NODE('A')}`);
    await b.connect('b1');
    expect(await a.scaleOut.addToGroupRouted('b1', 'g')).toBeUndefined();
    expect(a.scaleOut.local.groupSize('g')).toBe(0);
    // Gone while the join waited (here: before it looked): not added back.
    const a1 = await a.connect('a1');
    const joining = a.scaleOut.addToGroupRouted('a1', 'g');
    await a.scaleOut.onDisconnected(a1);
    expect(await joining).toBeUndefined();
    expect(a.scaleOut.local.groupSize('g')).toBe(0);
  });

  it('HubClients.groupVia and GroupManager.addRouted: routed where the scale-out routes, the group channel without routes', async () => {
    const broker = new MemoryBroker();
    const a = makeNode(broker, 'A');
    const w = makeNode(broker, 'W');
    const a1 = await a.connect('a1');
    const a2 = await a.connect('a2');
    expect(await groupManager(a.scaleOut).addRouted('a1', 'r')).toBe('A');
    await groupManager(a.scaleOut).add('a2', 'c');
    const clients = hubClients<{ tick(n: number): void }>(w.scaleOut, 1000);
    await clients.groupVia('r', ['A']).tick(1);
    await clients.groupVia('c', []).tick(2); // no routes: the group's channel
    await clients.groupVia('c', [], true).tick(3); // no routes, final: groupFinal
    await settle();
    expect(a1.messages().map((m) => m.arguments)).toEqual([[1]]);
    expect(a2.messages().map((m) => m.arguments)).toEqual([[2], [3]]);
    expect(a.scaleOut.local.groupSize('c')).toBe(0);
  });
});
