import { describe, expect, it } from 'vitest';
import { TransportOp } from '../transport-routing.js';
import { MemoryBroker } from './memory-bus.js';
import { CH, makeNode, settle } from './scaleout.test-support.js';

describe('BusScaleOut as a TransportRouter (HTTP transports without sticky sessions)', () => {
  const request = (connectionId: string, op: TransportOp, signal = new AbortController().signal, body?: Uint8Array) => ({ op, connectionId, signal, ...(body ? { body } : {}) });

  it('holds a connection channel from the first holder to the last release, shared with onConnected', async () => {
    const broker = new MemoryBroker();
    const a = makeNode(broker, 'A');
    await a.scaleOut.holdConnection('c1');
    const conn = await a.connect('c1');
    await a.scaleOut.onDisconnected(conn);
    const channelLog = () => a.bus.log.filter((l) => l.endsWith(CH.connection('c1')));
    expect(channelLog()).toEqual([`+${CH.connection('c1')}`]);
    await a.scaleOut.releaseConnection('c1');
    expect(channelLog()).toEqual([`+${CH.connection('c1')}`, `-${CH.connection('c1')}`]);
  });

  it('forwards a request to the holder and returns its reply; undefined when no node holds the connection', async () => {
    const broker = new MemoryBroker();
    const [a, b] = [makeNode(broker, 'A'), makeNode(broker, 'B')];
    const seen: { op: number; connectionId: string; body: string | undefined }[] = [];
    b.scaleOut.serveTransport(async (r) => {
      seen.push({ op: r.op, connectionId: r.connectionId, body: r.body ? Buffer.from(r.body).toString() : undefined });
      return { status: 200, body: Buffer.from('pong'), contentType: 'application/octet-stream' };
    });
    await b.scaleOut.holdConnection('c1');
    const reply = await a.scaleOut.forwardTransport(request('c1', TransportOp.Send, undefined, Buffer.from('ping')), 1000);
    expect(reply?.status).toBe(200);
    expect(Buffer.from(reply!.body).toString()).toBe('pong');
    expect(reply?.contentType).toBe('application/octet-stream');
    expect(seen).toEqual([{ op: TransportOp.Send, connectionId: 'c1', body: 'ping' }]);
    expect(await a.scaleOut.forwardTransport(request('nobody', TransportOp.Poll), 1000)).toBeUndefined();
  });

  it('an aborted forward tells the holder (its signal aborts) and no reply is sent', async () => {
    const broker = new MemoryBroker();
    const [a, b] = [makeNode(broker, 'A'), makeNode(broker, 'B')];
    let ownerSignal: AbortSignal | undefined;
    b.scaleOut.serveTransport(
      (r) =>
        new Promise((resolve) => {
          ownerSignal = r.signal;
          r.signal.addEventListener('abort', () => resolve({ status: 204, body: new Uint8Array(0) }));
        }),
    );
    await b.scaleOut.holdConnection('c1');
    const client = new AbortController();
    const forwarded = a.scaleOut.forwardTransport(request('c1', TransportOp.Poll, client.signal), 5000);
    await settle();
    expect(ownerSignal?.aborted).toBe(false);
    client.abort();
    await expect(forwarded).rejects.toThrow('The client went away before the reply.');
    await settle();
    expect(ownerSignal?.aborted).toBe(true);
    expect(a.bus.published.filter((p) => p.channel.includes(':internal:return:'))).toEqual([]);
    expect(b.bus.published.filter((p) => p.channel.includes(':internal:return:'))).toEqual([]);
  });

  it('times out with SB_BACKPLANE_TIMEOUT when the holder does not answer', async () => {
    const broker = new MemoryBroker();
    const [a, b] = [makeNode(broker, 'A'), makeNode(broker, 'B')];
    b.scaleOut.serveTransport(() => new Promise(() => {}));
    await b.scaleOut.holdConnection('c1');
    await expect(a.scaleOut.forwardTransport(request('c1', TransportOp.Delete), 50)).rejects.toMatchObject({ code: 'SB_BACKPLANE_TIMEOUT' });
  });
});
