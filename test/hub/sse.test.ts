// Server-Sent Events on the wire (signalr-protocol.md 2.2, 2.4, 3; checklist 8, 26, 33, 34): raw
// HTTP requests, exact statuses, headers and bytes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { negotiateToken, startHub, type HubFixture } from './fixture.js';
import { RS, SseClient, httpRequest } from './http-client.js';
import { refusedUpgrade } from './raw-client.js';

async function until(condition: () => boolean, what: string, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('Server-Sent Events', () => {
  let hub: HubFixture;
  const open: SseClient[] = [];
  beforeAll(async () => {
    hub = await startHub({ heartbeatIntervalMs: 50 });
  });
  afterAll(async () => {
    for (const s of open) s.close();
    await hub?.close();
  });

  async function stream(path = '/hub'): Promise<{ sse: SseClient; url: string }> {
    const { connectionToken } = await negotiateToken(`${hub.origin}${path}`);
    const url = `${hub.origin}${path}?id=${connectionToken}`;
    const sse = await SseClient.open(url);
    open.push(sse);
    return { sse, url };
  }

  const post = (url: string, body: string) => httpRequest(url, { method: 'POST', body, headers: { 'Content-Type': 'text/plain;charset=UTF-8' } });

  it('answers 200 text/event-stream, unbuffered and uncached, starting with the :\\r\\n comment', async () => {
    const { sse } = await stream();
    expect(sse.status).toBe(200);
    expect(sse.headers['content-type']).toBe('text/event-stream');
    expect(sse.headers['cache-control']).toBe('no-cache, no-store');
    expect(sse.headers['pragma']).toBe('no-cache');
    expect(sse.headers['content-encoding']).toBe('identity');
    expect(sse.headers['x-accel-buffering']).toBe('no');
    expect(sse.headers['content-length']).toBeUndefined();
    await sse.until(() => sse.raw.length > 0, 'the first bytes');
    expect(sse.raw).toBe(':\r\n');
  });

  it('handshake by POST; the reply and every later unit arrive as one `data: ...\\r\\n\\r\\n` event each', async () => {
    const { sse, url } = await stream();
    const hs = await post(url, `{"protocol":"json","version":1}${RS}`);
    expect(hs.status).toBe(200);
    expect(hs.body.length).toBe(0);
    await sse.until(() => sse.events.length === 1, 'the handshake reply');
    expect(sse.raw).toBe(`:\r\ndata: {}${RS}\r\n\r\n`);
    expect((await post(url, `{"type":1,"invocationId":"1","target":"Echo","arguments":["line\\nbreak"]}${RS}`)).status).toBe(200);
    await sse.until(() => sse.messages().some((m) => m.type === 3), 'the completion');
    expect(sse.messages()).toEqual([{ type: 3, invocationId: '1', result: 'line\nbreak' }]);
    expect(sse.raw.endsWith(`data: {"type":3,"invocationId":"1","result":"line\\nbreak"}${RS}\r\n\r\n`)).toBe(true);
  });

  it('MessagePack is refused at the handshake with the exact transfer-format error, then the stream ends', async () => {
    const { sse, url } = await stream();
    expect((await post(url, `{"protocol":"messagepack","version":1}${RS}`)).status).toBe(200);
    await sse.until(() => sse.ended, 'the end of the stream');
    expect(sse.events).toEqual([`{"error":"Cannot use the 'messagepack' protocol on the current transport. The transport does not support 'Binary' transfer format."}${RS}`]);
    expect((await post(url, `{"type":6}${RS}`)).status).toBe(404);
  });

  it('sends Pings when idle (keep-alive applies to SSE)', async () => {
    const node = await startHub({ keepAliveIntervalMs: 100, heartbeatIntervalMs: 20 });
    try {
      const { connectionToken } = await negotiateToken(node.url);
      const url = `${node.url}?id=${connectionToken}`;
      const sse = await SseClient.open(url);
      try {
        await post(url, `{"protocol":"json","version":1}${RS}`);
        await sse.until(() => sse.messages().filter((m) => m.type === 6).length >= 2, 'two Pings', 2000);
        expect(sse.messages().every((m) => m.type === 6)).toBe(true);
      } finally {
        sse.close();
      }
    } finally {
      await node.close();
    }
  });

  it('closing the request tears the connection down: onDisconnected runs (no error), later POSTs get 404', async () => {
    const { sse, url } = await stream();
    await post(url, `{"protocol":"json","version":1}${RS}`);
    await post(url, `{"type":1,"invocationId":"id","target":"ConnectionId","arguments":[]}${RS}`);
    await sse.until(() => sse.messages().some((m) => m.type === 3), 'the connection id');
    const id = sse.messages()[0]!['result'] as string;
    expect(hub.lifecycle).toContainEqual({ event: 'connected', connectionId: id, transport: 'ServerSentEvents' });
    sse.close();
    await until(() => hub.lifecycle.some((e) => e.event === 'disconnected' && e.connectionId === id), 'onDisconnected');
    expect(hub.lifecycle.find((e) => e.event === 'disconnected' && e.connectionId === id)).toEqual({ event: 'disconnected', connectionId: id, transport: 'ServerSentEvents' });
    expect((await post(url, `{"type":6}${RS}`)).status).toBe(404);
    // The token cannot reopen the connection on this node.
    const again = await SseClient.open(url);
    open.push(again);
    expect(again.status).toBe(404);
  });

  it('a second stream on the same connection gets 409; a poll, a DELETE and a WebSocket upgrade get 400', async () => {
    const { sse, url } = await stream();
    expect(sse.status).toBe(200);
    const second = await SseClient.open(url);
    open.push(second);
    expect(second.status).toBe(409);
    const poll = await httpRequest(url);
    expect(poll.status).toBe(400);
    expect(poll.body.toString()).toBe('Cannot change transports mid-connection');
    const del = await httpRequest(url, { method: 'DELETE' });
    expect(del.status).toBe(400);
    expect(del.body.toString()).toBe('Cannot terminate this connection using the DELETE endpoint.');
    const ws = await refusedUpgrade(url.replace('http', 'ws'));
    expect(ws.statusCode).toBe(400);
    expect(ws.body).toBe('Cannot change transports mid-connection');
    // The first stream is unaffected.
    await post(url, `{"protocol":"json","version":1}${RS}`);
    await sse.until(() => sse.events.length === 1, 'the handshake reply');
  });

  it('a server-side close sends the Close event, then ends the stream', async () => {
    const node = await startHub();
    try {
      const { connectionToken } = await negotiateToken(node.url);
      const url = `${node.url}?id=${connectionToken}`;
      const sse = await SseClient.open(url);
      await post(url, `{"protocol":"json","version":1}${RS}`);
      await sse.until(() => sse.events.length === 1, 'the handshake reply');
      await node.server.close();
      await sse.until(() => sse.ended, 'the end of the stream');
      expect(sse.messages()).toEqual([{ type: 7, allowReconnect: true }]);
    } finally {
      await node.close();
    }
  });
});
