import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EventEmitter } from 'node:events';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { silentLogger } from '../telemetry/logger.js';
import { answerPings, transportOf, webSocketFrameLimit, WebSocketTransport, type SocketOwner } from './websocket-transport.js';
import { receiverOf } from './ws-internals.js';

// The transport reaches into ws's receiver (`_receiver`) to write before ws answers an oversized
// frame with 1009; these tests fail when a ws upgrade changes what that relies on.
const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

/** A ws server with `maxPayload` 1024 whose sockets get a WebSocketTransport; resolves with the client and the transport. */
async function pair(autoPong = true): Promise<{ client: WebSocket; transport: WebSocketTransport; server: WebSocket }> {
  const http = createServer();
  const wss = new WebSocketServer({ server: http, maxPayload: 1024, autoPong });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => {
    wss.close();
    http.closeAllConnections();
    http.close();
  });
  const accepted = new Promise<WebSocket>((resolve) => wss.once('connection', resolve));
  const client = new WebSocket(`ws://127.0.0.1:${(http.address() as AddressInfo).port}`);
  client.on('error', () => {});
  await new Promise((resolve) => client.once('open', resolve));
  const server = await accepted;
  server.on('error', () => {});
  return { client, transport: new WebSocketTransport(server), server };
}

/** What the client receives until the socket closes: text frames, then the close code. */
function received(client: WebSocket): Promise<{ frames: string[]; code: number }> {
  const frames: string[] = [];
  client.on('message', (d: Buffer) => frames.push(d.toString()));
  return new Promise((resolve) => client.once('close', (code) => resolve({ frames, code })));
}

/** A transport owner (a hub connection is one) whose oversize handler runs `refused`. */
const handler = (refused: () => void): SocketOwner => ({
  connectionId: 'c1',
  options: { maxMessageSize: 256, logger: silentLogger, maxBufferedBytes: 1024 * 1024 },
  refuseInput: refused,
  receive: () => {},
  transportClosed: () => {},
});

describe('WebSocketTransport: frames over maxPayload', () => {
  it('webSocketFrameLimit: 4 × maxMessageSize, at least 1 MiB', () => {
    expect(webSocketFrameLimit(32 * 1024)).toBe(1024 * 1024);
    expect(webSocketFrameLimit(1024 * 1024)).toBe(4 * 1024 * 1024);
  });

  it('the oversize handler runs while the socket is open: what it writes arrives before the close frame', async () => {
    const { client, transport, server } = await pair();
    const states: number[] = [];
    transport.owner = handler(() => {
      states.push(server.readyState);
      transport.send(new TextEncoder().encode('last words'), true);
      transport.close(1000);
    });
    const result = received(client);
    client.send('x'.repeat(1025));
    expect(await result).toEqual({ frames: ['last words'], code: 1000 });
    expect(states).toEqual([WebSocket.OPEN]);
  });

  it('without a handler ws closes with 1009 as before; frames within the limit are not reported', async () => {
    const { client, transport } = await pair();
    let called = 0;
    transport.owner = handler(() => void called++);
    client.send('y'.repeat(1024));
    await new Promise((r) => setTimeout(r, 20));
    expect(called).toBe(0);
    transport.owner = undefined;
    const result = received(client);
    client.send('y'.repeat(1025));
    expect(await result).toEqual({ frames: [], code: 1009 });
  });

  it('a socket taken over by replaceSocket (a stateful-reconnect reattach) reports to its new transport, once', async () => {
    const first = await pair();
    const second = await pair();
    let called = 0;
    first.transport.owner = handler(() => void called++);
    first.transport.replaceSocket(second.server); // the first socket is terminated
    const result = received(second.client);
    second.client.send('z'.repeat(2048));
    await result;
    expect(called).toBe(1);
  });
});

describe('WebSocketTransport: which transport a socket belongs to', () => {
  it('transportOf finds the transport of its first socket and of a socket it took over', async () => {
    const first = await pair();
    const second = await pair();
    expect(transportOf(first.server)).toBe(first.transport);
    first.transport.replaceSocket(second.server);
    expect(transportOf(second.server)).toBe(first.transport);
    expect(first.transport.socket).toBe(second.server);
  });
});

describe('answerPings (the server runs ws without autoPong)', () => {
  it('a ping is answered with a pong carrying its data, from one receiver listener shared by every socket', async () => {
    const a = await pair(false);
    const b = await pair(false);
    answerPings(a.server);
    answerPings(a.server);
    answerPings(b.server);
    expect(receiverOf(a.server)!.listeners('ping')).toHaveLength(1);
    expect(receiverOf(a.server)!.listeners('ping')[0]).toBe(receiverOf(b.server)!.listeners('ping')[0]);
    expect(a.server.listenerCount('ping')).toBe(0);
    const pongs: string[] = [];
    a.client.on('pong', (d: Buffer) => pongs.push(d.toString()));
    a.client.ping('one');
    a.client.ping('two');
    for (let i = 0; i < 50 && pongs.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
    expect(pongs).toEqual(['one', 'two']);
    expect((a.server as unknown as Record<string, unknown>)['_autoPongComplete']).toBeUndefined();
  });

  it("without ws's receiver, a shared 'ping' listener on the socket answers; a peer with too much unsent output is cut off", () => {
    const socket = Object.assign(new EventEmitter(), { OPEN: 1, readyState: 1, bufferedAmount: 0, pong: vi.fn(), terminate: vi.fn() });
    answerPings(socket as unknown as WebSocket);
    socket.emit('ping', Buffer.from('p'));
    expect(socket.pong).toHaveBeenCalledWith(Buffer.from('p'), false);
    socket.bufferedAmount = 5 * 1024 * 1024;
    socket.emit('ping', Buffer.from('q'));
    expect(socket.pong).toHaveBeenCalledTimes(1);
    expect(socket.terminate).toHaveBeenCalledTimes(1);
  });
});
