import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Socket } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { FRAME_TOO_LARGE_CODE, idleSocket, receiverOf, releaseReadBuffers, replyNormalClosure, runBeforeReceiverErrors, webSocketOf } from './ws-internals.js';

// These fail loudly when a `ws` release changes an internal ws-internals.ts relies on. If one
// fails after a ws update: adapt ws-internals.ts (or drop the reach-in), then move the pin in
// libs/hub-server/package.json (and test/, bench/) to the version that passes.
const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

async function pair(maxPayload = 1024): Promise<{ client: WebSocket; server: WebSocket }> {
  const http = createServer();
  const wss = new WebSocketServer({ server: http, maxPayload });
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
  return { client, server };
}

describe('ws internals (ws-internals.ts)', () => {
  it('the installed ws is the version package.json pins', () => {
    const require = createRequire(new URL('../../package.json', import.meta.url));
    const installed = (require('ws/package.json') as { version: string }).version;
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { dependencies: Record<string, string> };
    const range = pkg.dependencies['ws']!;
    expect(range, 'pin ws to a patch range (~x.y.z) of the version these tests passed on').toMatch(/^~\d+\.\d+\.\d+$/);
    expect(installed.split('.').slice(0, 2)).toEqual(range.slice(1).split('.').slice(0, 2));
  });

  it('an open, idle WebSocket has _socket (a net.Socket) and _sender with _state 0 and an empty _queue', async () => {
    const { server } = await pair();
    const internals = server as unknown as { _socket: unknown; _sender: { _state: unknown; _queue: unknown } };
    expect(internals._socket).toBeInstanceOf(Socket);
    expect(internals._sender._state).toBe(0);
    expect(internals._sender._queue).toEqual([]);
    expect(idleSocket(server)).toBe(internals._socket);
  });

  it('a frame written to the idle socket arrives as a message', async () => {
    const { client, server } = await pair();
    const got = new Promise<string>((resolve) => client.once('message', (d: Buffer) => resolve(d.toString())));
    idleSocket(server)!.write(Buffer.from([0x81, 2, 0x68, 0x69]));
    expect(await got).toBe('hi');
  });

  it("_receiver is an EventEmitter with exactly one 'conclude' listener and an 'error' listener", async () => {
    const { server } = await pair();
    const receiver = receiverOf(server);
    expect(receiver).toBeInstanceOf(EventEmitter);
    expect(receiver!.listeners('conclude')).toHaveLength(1);
    expect(receiver!.listeners('error').length).toBeGreaterThanOrEqual(1);
  });

  it('replyNormalClosure: a Close without a status code is answered with 1000', async () => {
    const { client, server } = await pair();
    replyNormalClosure(server);
    const code = new Promise<number>((resolve) => client.once('close', resolve));
    client.close();
    expect(await code).toBe(1000);
  });

  it(`a frame over maxPayload makes the receiver emit '${FRAME_TOO_LARGE_CODE}' while the socket is still open`, async () => {
    const { client, server } = await pair();
    const seen = new Promise<{ code: string | undefined; state: number }>((resolve) =>
      receiverOf(server)!.prependListener('error', (err: Error & { code?: string }) => resolve({ code: err.code, state: server.readyState })),
    );
    client.send('x'.repeat(2048));
    expect(await seen).toEqual({ code: FRAME_TOO_LARGE_CODE, state: WebSocket.OPEN });
  });

  it("_receiver's 'error' listener is one module-level function shared by every socket (runBeforeReceiverErrors wraps it once)", async () => {
    const a = await pair();
    const b = await pair();
    const [la] = receiverOf(a.server)!.listeners('error');
    const [lb] = receiverOf(b.server)!.listeners('error');
    expect(receiverOf(a.server)!.listeners('error')).toHaveLength(1);
    expect(la).toBe(lb);
  });

  it('runBeforeReceiverErrors: ours runs first while the socket is open, then ws closes with 1009; one shared listener per socket, idempotent', async () => {
    const a = await pair();
    const b = await pair();
    const seen: { code: string | undefined; state: number }[] = [];
    const ours = function (this: EventEmitter, err: Error & { code?: string }) {
      seen.push({ code: err.code, state: this === receiverOf(a.server) ? a.server.readyState : -1 });
    };
    runBeforeReceiverErrors(receiverOf(a.server)!, ours);
    runBeforeReceiverErrors(receiverOf(a.server)!, ours);
    runBeforeReceiverErrors(receiverOf(b.server)!, ours);
    expect(receiverOf(a.server)!.listeners('error')).toHaveLength(1);
    expect(receiverOf(a.server)!.listeners('error')[0]).toBe(receiverOf(b.server)!.listeners('error')[0]);
    const closed = new Promise<number>((resolve) => a.client.once('close', resolve));
    a.client.send('x'.repeat(2048));
    expect(await closed).toBe(1009);
    expect(seen).toEqual([{ code: FRAME_TOO_LARGE_CODE, state: WebSocket.OPEN }]);
  });

  it('webSocketOf: a receiver leads back to its WebSocket (ws\'s kWebSocket symbol); anything else to undefined', async () => {
    const a = await pair();
    const b = await pair();
    expect(webSocketOf(receiverOf(a.server)!)).toBe(a.server);
    expect(webSocketOf(receiverOf(b.server)!)).toBe(b.server);
    expect(webSocketOf(new EventEmitter())).toBeUndefined();
  });

  it('releaseReadBuffers: the receiver keeps its chunk list in _buffers, empty once a chunk is parsed; messages still arrive after it', async () => {
    const { client, server } = await pair();
    const buffers = () => (receiverOf(server) as unknown as { _buffers: unknown[] })._buffers;
    expect(Array.isArray(buffers())).toBe(true);
    const got: string[] = [];
    server.on('message', (d: Buffer) => {
      // Messages of one chunk arrive while it is still listed (not empty then: left alone).
      got.push(d.toString());
      releaseReadBuffers(server);
    });
    for (const m of ['a', 'b', 'c']) client.send(m);
    await vi.waitFor(() => expect(got).toHaveLength(3), { timeout: 5000 });
    client.send('d');
    await vi.waitFor(() => expect(got).toHaveLength(4), { timeout: 5000 });
    expect(got).toEqual(['a', 'b', 'c', 'd']);
    expect(buffers()).toHaveLength(0);
  });
});
