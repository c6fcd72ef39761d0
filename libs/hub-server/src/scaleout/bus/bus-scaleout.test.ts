import { MessageType, SwitchboardError } from '@switchboard/protocol';
import { describe, expect, it } from 'vitest';
import { BusScaleOut } from './bus-scaleout.js';
import { EnvelopeKind, GroupAction, encodeEnvelope } from './envelope.js';
import { MemoryBroker } from './memory-bus.js';
import { CH, RecordingBus, argsOf, makeNode, receive, settle, type FakeConnection } from './scaleout.test-support.js';

describe('BusScaleOut over a MemoryBroker', () => {
  it('serializes a broadcast once per protocol at the sender; receivers write the published bytes unchanged', async () => {
    const broker = new MemoryBroker();
    const [a, b, c] = ['A', 'B', 'C'].map((id) => makeNode(broker, id)) as [ReturnType<typeof makeNode>, ReturnType<typeof makeNode>, ReturnType<typeof makeNode>];
    const conns = {
      a: [await a.connect('a1', 'json'), await a.connect('a2', 'messagepack')],
      b: [await b.connect('b1', 'json'), await b.connect('b2', 'json'), await b.connect('b3', 'messagepack')],
      c: [await c.connect('c1', 'messagepack'), await c.connect('c2', 'messagepack')],
    };
    await a.scaleOut.sendAll(receive('ana', 'hello ☃'));
    await settle();

    expect(a.json.write).toHaveBeenCalledTimes(1);
    expect(a.msgpack.write).toHaveBeenCalledTimes(1);
    for (const n of [b, c]) {
      expect(n.json.write).not.toHaveBeenCalled();
      expect(n.msgpack.write).not.toHaveBeenCalled();
    }
    const sentJson = a.json.write.mock.results[0]!.value as Uint8Array;
    const sentMsgpack = a.msgpack.write.mock.results[0]!.value as Uint8Array;
    const all = [...conns.a, ...conns.b, ...conns.c];
    for (const conn of all) {
      expect(conn.frames, conn.connectionId).toHaveLength(1); // the sender skips its own envelope
      const expected = conn.protocol.name === 'json' ? sentJson : sentMsgpack;
      expect(Buffer.from(conn.frames[0]!).equals(Buffer.from(expected)), conn.connectionId).toBe(true);
      expect(argsOf(conn)).toEqual([['ana', 'hello ☃']]);
      expect(conn.messages()[0]!.type).toBe(MessageType.Invocation);
    }
    // Sender: its connections share the one serialization. Receiver: one buffer per protocol for
    // all its connections (no per-recipient copy or re-encoding).
    expect(conns.a[0]!.frames[0]).toBe(sentJson);
    expect(conns.a[1]!.frames[0]).toBe(sentMsgpack);
    expect(conns.b[0]!.frames[0]).toBe(conns.b[1]!.frames[0]);
    expect(conns.c[0]!.frames[0]).toBe(conns.c[1]!.frames[0]);
    expect(conns.b[0]!.frames[0]).not.toBe(sentJson); // it did cross the bus
  });

  it('routes group, user, connection and excluding sends to exactly their targets on every node, as preserialized bytes', async () => {
    const broker = new MemoryBroker();
    const a = makeNode(broker, 'A');
    const b = makeNode(broker, 'B');
    const a1 = await a.connect('a1', 'json', 'ana');
    const a2 = await a.connect('a2', 'messagepack');
    const b1 = await b.connect('b1', 'messagepack', 'ana');
    const b2 = await b.connect('b2', 'json', 'bob');
    await a.scaleOut.addToGroup('a2', 'g');
    await a.scaleOut.addToGroup('b1', 'g'); // remote: applied by B
    await a.scaleOut.addToGroup('b2', 'g');

    await a.scaleOut.sendGroup('g', receive('group'));
    await a.scaleOut.sendGroup('g', receive('group-except'), ['a2', 'b2']);
    await a.scaleOut.sendUser('ana', receive('user'));
    await a.scaleOut.sendConnection('b2', receive('connection'));
    await a.scaleOut.sendConnections(['b1', 'a1', 'b1'], receive('connections'));
    await a.scaleOut.sendAll(receive('all-except'), ['a1', 'b2']);
    await a.scaleOut.sendGroups(['g', 'nobody'], receive('groups'));
    await settle();

    expect(argsOf(a1)).toEqual([['user'], ['connections']]);
    expect(argsOf(a2)).toEqual([['group'], ['all-except'], ['groups']]);
    expect(argsOf(b1)).toEqual([['group'], ['group-except'], ['user'], ['connections'], ['all-except'], ['groups']]);
    expect(argsOf(b2)).toEqual([['group'], ['connection'], ['groups']]);
    expect(b.json.write).not.toHaveBeenCalled();
    expect(b.msgpack.write).not.toHaveBeenCalled();
    // A send to a connection this node holds never touches the bus.
    const before = a.bus.published.length;
    await a.scaleOut.sendConnection('a1', receive('local only'));
    expect(a.bus.published.length).toBe(before);
    expect(argsOf(a1).at(-1)).toEqual(['local only']);
  });

  it('logs and ignores malformed messages on its channels, and keeps working', async () => {
    const broker = new MemoryBroker();
    const a = makeNode(broker, 'A');
    const b = makeNode(broker, 'B');
    const b1 = await b.connect('b1');
    const intruder = broker.bus();
    const garbage = [
      new Uint8Array([0xc1, 0xff, 0x00]),
      new TextEncoder().encode('{"type":1,"target":"ReceiveMessage","arguments":["x"]}\u001e'),
      encodeEnvelope({ kind: EnvelopeKind.GroupCommand, requestId: '1', replyTo: 'r', action: GroupAction.Add, connectionId: 'b1', group: 'g' }).slice(0, 5),
    ];
    for (const g of garbage) expect(await intruder.publish(CH.all, g)).toBe(2); // A and B
    expect(await intruder.publish(CH.connection('b1'), new Uint8Array([0x93, 9, 9, 9]))).toBe(1);
    await settle();

    expect(b1.frames).toEqual([]);
    expect(a.logger.warn).toHaveBeenCalledTimes(3);
    expect(b.logger.warn).toHaveBeenCalledTimes(4);
    for (const [obj, msg] of [...a.logger.warn.mock.calls, ...b.logger.warn.mock.calls]) {
      expect(msg).toBe('backplane: ignored a malformed message');
      const err = (obj as { err: unknown }).err;
      expect(err).toBeInstanceOf(SwitchboardError);
      expect((err as SwitchboardError).code).toBe('SB_BACKPLANE_INVALID');
    }
    expect(b.logger.error).not.toHaveBeenCalled();
    expect((b.logger.warn.mock.calls[0]![0] as { err: Error }).err.message).toMatch(/^Ignored a malformed backplane envelope: not MessagePack/);
    expect((b.logger.warn.mock.calls[3]![0] as { err: Error }).err.message).toMatch(/unknown kind 9/);

    await a.scaleOut.sendAll(receive('still works'));
    await settle();
    expect(argsOf(b1)).toEqual([['still works']]);
  });

  it('writes to local connections first, then rejects with SB_BACKPLANE_UNAVAILABLE when the bus refuses the publish', async () => {
    const broker = new MemoryBroker();
    const order: string[] = [];
    const a = makeNode(broker, 'A', order);
    const b = makeNode(broker, 'B');
    const a1 = await a.connect('a1', 'json', 'ana');
    const a2 = await a.connect('a2', 'messagepack');
    const b1 = await b.connect('b1');
    await a.scaleOut.addToGroup('a1', 'g');
    a.bus.failPublish = new Error('connect ECONNREFUSED');
    order.length = 0;

    const attempts: [string, () => Promise<void>, FakeConnection[]][] = [
      ['all', () => a.scaleOut.sendAll(receive('all')), [a1, a2]],
      ['group', () => a.scaleOut.sendGroup('g', receive('group')), [a1]],
      ['user', () => a.scaleOut.sendUser('ana', receive('user')), [a1]],
      ['remote connection', () => a.scaleOut.sendConnection('b1', receive('remote')), []],
    ];
    for (const [name, send, locals] of attempts) {
      order.length = 0;
      const started = Date.now();
      const err = await send().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(Date.now() - started, name).toBeLessThan(500);
      expect(err, name).toBeInstanceOf(SwitchboardError);
      expect((err as SwitchboardError).code, name).toBe('SB_BACKPLANE_UNAVAILABLE');
      expect((err as SwitchboardError).message, name).toMatch(/connect ECONNREFUSED.*connections on this node were served, other nodes were not/);
      expect((err as SwitchboardError).cause, name).toBe(a.bus.failPublish);
      // Local writes happened, and before the publish was attempted.
      expect(order.slice(0, locals.length).sort(), name).toEqual(locals.map((c) => `write ${c.connectionId}`).sort());
      expect(order[locals.length], name).toMatch(/^publish /);
    }
    expect(argsOf(a1)).toEqual([['all'], ['group'], ['user']]);
    expect(argsOf(a2)).toEqual([['all']]);
    await settle();
    expect(b1.frames).toEqual([]);

    // A SwitchboardError from the bus (RedisBus while Redis is down) passes through unchanged.
    const fromBus = new SwitchboardError('SB_BACKPLANE_UNAVAILABLE', 'Redis is unreachable (reconnecting).');
    a.bus.failPublish = fromBus;
    await expect(a.scaleOut.sendAll(receive('again'))).rejects.toBe(fromBus);
    expect(argsOf(a2).at(-1)).toEqual(['again']);
    // Remote group changes fail at once too, and a local one still works.
    await expect(a.scaleOut.addToGroup('b1', 'g')).rejects.toMatchObject({ code: 'SB_BACKPLANE_UNAVAILABLE' });
    await expect(a.scaleOut.addToGroup('a2', 'g')).resolves.toBeUndefined();

    // When the bus works again, so do cross-node sends.
    a.bus.failPublish = undefined;
    await a.scaleOut.sendAll(receive('back'));
    await settle();
    expect(argsOf(b1)).toEqual([['back']]);
  });

  it('subscribes a group channel on its first local member and drops it after the last', async () => {
    const broker = new MemoryBroker();
    const a = makeNode(broker, 'A');
    const b = makeNode(broker, 'B');
    const a1 = await a.connect('a1');
    const a2 = await a.connect('a2');
    const receivers = async () => {
      await b.scaleOut.sendGroup('g', receive('probe'));
      return b.bus.published.at(-1)!.receivers;
    };
    a.bus.log.length = 0;

    await a.scaleOut.addToGroup('a1', 'g');
    expect(a.bus.log).toEqual([`+${CH.group('g')}`]);
    expect(await receivers()).toBe(1);
    await a.scaleOut.addToGroup('a2', 'g');
    await a.scaleOut.addToGroup('a1', 'g'); // already a member
    expect(a.bus.log).toEqual([`+${CH.group('g')}`]);
    await a.scaleOut.removeFromGroup('a1', 'g');
    expect(a.bus.log).toEqual([`+${CH.group('g')}`]);
    expect(await receivers()).toBe(1);
    await a.scaleOut.removeFromGroup('a2', 'g');
    expect(a.bus.log).toEqual([`+${CH.group('g')}`, `-${CH.group('g')}`]);
    expect(await receivers()).toBe(0);

    // Disconnecting the last member drops the group channel with the connection's own.
    a.bus.log.length = 0;
    await a.scaleOut.addToGroup('a1', 'h');
    await a.scaleOut.addToGroup('a2', 'h');
    await a.scaleOut.onDisconnected(a1);
    expect(a.bus.log).toEqual([`+${CH.group('h')}`, `-${CH.connection('a1')}`]);
    await a.scaleOut.onDisconnected(a2);
    expect(a.bus.log).toEqual([`+${CH.group('h')}`, `-${CH.connection('a1')}`, `-${CH.connection('a2')}`, `-${CH.group('h')}`]);

    // Group changes sent by another node take and drop the subscription on the owner.
    const a3 = await a.connect('a3');
    a.bus.log.length = 0;
    await b.scaleOut.addToGroup('a3', 'remote');
    expect(a.bus.log).toEqual([`+${CH.group('remote')}`]);
    await b.scaleOut.sendGroup('remote', receive('to remote group'));
    await settle();
    expect(argsOf(a3)).toEqual([['to remote group']]);
    await b.scaleOut.removeFromGroup('a3', 'remote');
    expect(a.bus.log).toEqual([`+${CH.group('remote')}`, `-${CH.group('remote')}`]);
    expect(b.bus.log).not.toContain(`+${CH.group('remote')}`);
  });

  it("a group's final send: every node writes it to its members, then they leave the group and its channel is dropped", async () => {
    const broker = new MemoryBroker();
    const [a, b, w] = ['A', 'B', 'W'].map((id) => makeNode(broker, id)) as [ReturnType<typeof makeNode>, ReturnType<typeof makeNode>, ReturnType<typeof makeNode>];
    const a1 = await a.connect('a1');
    const a2 = await a.connect('a2', 'messagepack');
    const b1 = await b.connect('b1');
    for (const id of ['a1', 'a2', 'b1']) await a.scaleOut.addToGroup(id, 'job');
    await a.scaleOut.addToGroup('a1', 'other');
    a.bus.log.length = 0;
    b.bus.log.length = 0;

    // From a node holding no member (a worker's hub context publishes the same way).
    await w.scaleOut.sendGroupFinal('job', receive('final'));
    await settle();
    for (const c of [a1, a2, b1]) expect(argsOf(c), c.connectionId).toEqual([['final']]);
    expect(a.bus.log).toEqual([`-${CH.group('job')}`]);
    expect(b.bus.log).toEqual([`-${CH.group('job')}`]);
    expect([a.scaleOut.local.groupSize('job'), b.scaleOut.local.groupSize('job'), a.scaleOut.local.groupSize('other')]).toEqual([0, 0, 1]);
    await w.scaleOut.sendGroup('job', receive('nobody hears this'));
    expect(w.bus.published.at(-1)!.receivers).toBe(0);

    // Joining again works as for any group; a final send from a node with members removes its own at once.
    await a.scaleOut.addToGroup('a1', 'job');
    await b.scaleOut.addToGroup('b1', 'job');
    expect(a.bus.log).toEqual([`-${CH.group('job')}`, `+${CH.group('job')}`]);
    await a.scaleOut.sendGroupFinal('job', receive('final again'));
    expect(a.scaleOut.local.groupSize('job')).toBe(0);
    await settle();
    expect(argsOf(a1)).toEqual([['final'], ['final again']]);
    expect(argsOf(b1)).toEqual([['final'], ['final again']]);
    expect(b.scaleOut.local.groupSize('job')).toBe(0);
    expect(a.bus.log.at(-1)).toBe(`-${CH.group('job')}`);
    // Disconnecting afterwards drops only what the connection still holds.
    a.bus.log.length = 0;
    await a.scaleOut.onDisconnected(a1);
    expect(a.bus.log).toEqual([`-${CH.connection('a1')}`, `-${CH.group('other')}`]);
  });

  it('subscribes connection and user channels while it holds them', async () => {
    const broker = new MemoryBroker();
    const a = makeNode(broker, 'A');
    a.bus.log.length = 0;
    const c1 = await a.connect('c1', 'json', 'ana');
    const c2 = await a.connect('c2', 'json', 'ana');
    expect(a.bus.log).toEqual([`+${CH.connection('c1')}`, `+${CH.user('ana')}`, `+${CH.connection('c2')}`]);
    await a.scaleOut.onDisconnected(c1);
    expect(a.bus.log.slice(3)).toEqual([`-${CH.connection('c1')}`]);
    await a.scaleOut.onDisconnected(c2);
    expect(a.bus.log.slice(4)).toEqual([`-${CH.connection('c2')}`, `-${CH.user('ana')}`]);
  });

  it('answers group changes and client results for unknown connections at once with SB_CONNECTION_NOT_FOUND', async () => {
    const broker = new MemoryBroker();
    const a = makeNode(broker, 'A');
    const b = makeNode(broker, 'B');
    const b1 = await b.connect('b1');
    const started = Date.now();
    await expect(a.scaleOut.addToGroup('nobody', 'g')).rejects.toMatchObject({ code: 'SB_CONNECTION_NOT_FOUND' });
    await expect(a.scaleOut.removeFromGroup('nobody', 'g')).rejects.toMatchObject({ code: 'SB_CONNECTION_NOT_FOUND' });
    await expect(a.scaleOut.invokeConnection('nobody', 'Ask', [], 5000)).rejects.toMatchObject({ code: 'SB_CONNECTION_NOT_FOUND' });
    expect(Date.now() - started).toBeLessThan(500);
    // A client result from another node.
    await expect(a.scaleOut.invokeConnection('b1', 'Ask', ['q', 1], 5000)).resolves.toBe('Ask(q,1)');
    expect(b1.invokeClient).toHaveBeenCalledWith('Ask', ['q', 1], 5000);
  });

  it('a publisher (hub context) does not listen to sends to all', async () => {
    const broker = new MemoryBroker();
    const bus = new RecordingBus(broker.bus());
    const publisher = new BusScaleOut({ bus, hubName: 'chat', prefix: 'sb:', role: 'publisher' });
    const node = makeNode(broker, 'N');
    const n1 = await node.connect('n1');
    expect(bus.log).toEqual([]);
    await publisher.sendAll(receive('from worker'));
    await settle();
    expect(argsOf(n1)).toEqual([['from worker']]);
    await publisher.close();
  });
});
