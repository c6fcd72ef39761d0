import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { silentLogger } from '../telemetry/logger.js';
import { webSocketFrameLimit, WebSocketTransport, type FrameTooLargeHandler } from './websocket-transport.js';

// The transport reaches into ws's receiver (`_receiver`) to write before ws answers an oversized
// frame with 1009; these tests fail when a ws upgrade changes what that relies on.
const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

/** A ws server with `maxPayload` 1024 whose sockets get a WebSocketTransport; resolves with the client and the transport. */
async function pair(): Promise<{ client: WebSocket; transport: WebSocketTransport; server: WebSocket }> {
  const http = createServer();
  const wss = new WebSocketServer({ server: http, maxPayload: 1024 });
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

/** An oversize handler (a hub connection is one) that runs `refused`. */
const handler = (refused: () => void): FrameTooLargeHandler => ({ connectionId: 'c1', options: { maxMessageSize: 256, logger: silentLogger }, refuseInput: refused });

describe('WebSocketTransport: frames over maxPayload', () => {
  it('webSocketFrameLimit: 4 × maxMessageSize, at least 1 MiB', () => {
    expect(webSocketFrameLimit(32 * 1024)).toBe(1024 * 1024);
    expect(webSocketFrameLimit(1024 * 1024)).toBe(4 * 1024 * 1024);
  });

  it('the oversize handler runs while the socket is open: what it writes arrives before the close frame', async () => {
    const { client, transport, server } = await pair();
    const states: number[] = [];
    transport.oversize = handler(() => {
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
    transport.oversize = handler(() => void called++);
    client.send('y'.repeat(1024));
    await new Promise((r) => setTimeout(r, 20));
    expect(called).toBe(0);
    transport.oversize = undefined;
    const result = received(client);
    client.send('y'.repeat(1025));
    expect(await result).toEqual({ frames: [], code: 1009 });
  });

  it('a socket taken over by replaceSocket (a stateful-reconnect reattach) reports to its new transport, once', async () => {
    const first = await pair();
    const second = await pair();
    let called = 0;
    first.transport.oversize = handler(() => void called++);
    first.transport.replaceSocket(second.server); // the first socket is terminated
    const result = received(second.client);
    second.client.send('z'.repeat(2048));
    await result;
    expect(called).toBe(1);
  });
});
