// Long polling on the wire (signalr-protocol.md 2.3, 2.4; checklist 30-32, 34): raw HTTP requests,
// exact statuses, headers and bodies.
import { MessageType, messagePackHubProtocol } from '@switchboard/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { negotiateToken, startHub, type HubFixture } from './fixture.js';
import { LongPollingClient, RS, httpRequest } from './http-client.js';

const POLL_TIMEOUT_MS = 400;
const DISCONNECT_TIMEOUT_MS = 400;

async function until(condition: () => boolean, what: string, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('long polling', () => {
  let hub: HubFixture;
  beforeAll(async () => {
    hub = await startHub({ longPollTimeoutMs: POLL_TIMEOUT_MS, disconnectTimeoutMs: DISCONNECT_TIMEOUT_MS, heartbeatIntervalMs: 50 });
  });
  afterAll(() => hub?.close());

  async function client(protocol: 'json' | 'messagepack' = 'json'): Promise<LongPollingClient> {
    const { connectionToken } = await negotiateToken(hub.url);
    return new LongPollingClient(hub.url, connectionToken, protocol);
  }

  it('the first poll answers at once: 200, empty, application/octet-stream, not cacheable', async () => {
    const c = await client();
    const first = await c.poll();
    expect(first.status).toBe(200);
    expect(first.body.length).toBe(0);
    expect(first.ms).toBeLessThan(POLL_TIMEOUT_MS);
    expect(first.headers['content-length']).toBe('0');
    expect(first.headers['content-type']).toBe('application/octet-stream');
    expect(first.headers['cache-control']).toBe('no-cache, no-store');
    expect(first.headers['pragma']).toBe('no-cache');
    expect(first.headers['expires']).toBe('Thu, 01 Jan 1970 00:00:00 GMT');
    await c.delete();
  });

  it('handshake by POST, reply by poll; an invocation round-trips; POST answers 200 with an empty body', async () => {
    const c = await client();
    expect(await c.open()).toEqual({});
    const posted = await c.sendJson({ type: 1, invocationId: '1', target: 'Echo', arguments: ['over long polling'] });
    expect(posted.status).toBe(200);
    expect(posted.body.length).toBe(0);
    await c.pollUntil(() => c.completion('1') !== undefined, 'the completion');
    expect(c.completion('1')).toEqual({ type: 3, invocationId: '1', result: 'over long polling' });
    expect(hub.lifecycle.filter((e) => e.event === 'connected' && e.transport === 'LongPolling').length).toBeGreaterThan(0);
    await c.delete();
  });

  it('a held poll returns as soon as data exists, with every pending message in one body', async () => {
    const c = await client();
    await c.open();
    const held = c.poll();
    await new Promise((r) => setTimeout(r, 50));
    // Two invocations batched in one POST body, as the client batches queued messages.
    await c.sendJson({ type: 1, invocationId: 'a', target: 'Record', arguments: [1] }, { type: 1, invocationId: 'b', target: 'Record', arguments: [2] });
    const res = await held;
    expect(res.status).toBe(200);
    expect(res.ms).toBeLessThan(POLL_TIMEOUT_MS);
    expect(res.headers['content-type']).toBe('application/octet-stream');
    await c.pollUntil(() => c.completion('b') !== undefined, 'both completions');
    expect([c.completion('a')?.['result'], c.completion('b')?.['result']]).toEqual([1, 2]);
    await c.delete();
  });

  it('a poll with nothing to send is answered 200 and empty after longPollTimeoutMs; no Pings over long polling', async () => {
    const node = await startHub({ longPollTimeoutMs: 300, keepAliveIntervalMs: 50, clientTimeoutMs: 100, heartbeatIntervalMs: 20 });
    try {
      const { connectionToken } = await negotiateToken(node.url);
      const c = new LongPollingClient(node.url, connectionToken);
      await c.open();
      // Pings would be due every 50 ms, and a WebSocket client silent for 100 ms would be closed.
      const res = await c.poll({ timeoutMs: 2000 });
      expect(res.status).toBe(200);
      expect(res.body.length).toBe(0);
      expect(res.ms).toBeGreaterThanOrEqual(250);
      expect(c.messages).toEqual([]);
      await c.sendJson({ type: 1, invocationId: '1', target: 'Echo', arguments: ['still open'] });
      await c.pollUntil(() => c.completion('1') !== undefined, 'the completion');
      expect(c.messages.filter((m) => m.type === 6)).toEqual([]);
      expect(node.lifecycle.filter((e) => e.event === 'disconnected')).toEqual([]);
    } finally {
      await node.close();
    }
  });

  it('a newer poll replaces a held one: the older gets 204, the newer gets the data', async () => {
    const c = await client();
    await c.open();
    const older = c.poll();
    await new Promise((r) => setTimeout(r, 50));
    const newer = c.poll();
    const first = await older;
    expect(first.status).toBe(204);
    expect(first.body.length).toBe(0);
    expect(first.headers['content-length']).toBeUndefined();
    await c.sendJson({ type: 1, invocationId: '1', target: 'Echo', arguments: ['to the newer poll'] });
    const second = await newer;
    expect(second.status).toBe(200);
    expect(c.completion('1')?.['result']).toBe('to the newer poll');
    await c.delete();
  });

  it('DELETE answers 202, ends a held poll with 204, runs onDisconnected without error; later requests get 404', async () => {
    const c = await client();
    await c.open();
    const id = (await (async () => {
      await c.sendJson({ type: 1, invocationId: 'id', target: 'ConnectionId', arguments: [] });
      await c.pollUntil(() => c.completion('id') !== undefined, 'the connection id');
      return c.completion('id')!['result'];
    })()) as string;
    const held = c.poll();
    await new Promise((r) => setTimeout(r, 50));
    const del = await c.delete();
    expect(del.status).toBe(202);
    expect((await held).status).toBe(204);
    await until(() => hub.lifecycle.some((e) => e.event === 'disconnected' && e.connectionId === id), 'onDisconnected');
    expect(hub.lifecycle.find((e) => e.event === 'disconnected' && e.connectionId === id)).toEqual({ event: 'disconnected', connectionId: id, transport: 'LongPolling' });
    expect((await c.sendJson({ type: 6 })).status).toBe(404);
    expect((await c.poll()).status).toBe(404);
    expect((await c.delete()).status).toBe(404);
  });

  it('a client Close: the server answers with its Close through the next poll, then 204, then 404', async () => {
    const c = await client();
    await c.open();
    await c.sendJson({ type: 7 });
    await c.pollUntil(() => c.messages.some((m) => m.type === 7), 'the Close message');
    expect(c.messages.at(-1)).toEqual({ type: 7 });
    expect((await c.poll()).status).toBe(204);
    expect((await c.poll()).status).toBe(404);
  });

  it('MessagePack: binary POST bodies in, binary poll bodies out', async () => {
    const c = await client('messagepack');
    expect(await c.open()).toEqual({});
    const invocation = messagePackHubProtocol.write({ type: MessageType.Invocation, invocationId: '9', target: 'Echo', arguments: [new Uint8Array([1, 2, 3])] });
    const posted = await c.send(invocation, { 'Content-Type': 'application/octet-stream' });
    expect(posted.status).toBe(200);
    await c.pollUntil(() => c.completion('9') !== undefined, 'the completion');
    const completion = c.completion('9')!;
    expect([...(completion['result'] as Uint8Array)]).toEqual([1, 2, 3]);
    await c.delete();
  });

  it.each([['text/plain;charset=UTF-8'], ['application/octet-stream'], ['']])("accepts a POST with Content-Type '%s'", async (type) => {
    const c = await client();
    await c.open();
    const res = await c.send(`{"type":1,"invocationId":"1","target":"Echo","arguments":["ct"]}${RS}`, type ? { 'Content-Type': type } : {});
    expect(res.status).toBe(200);
    await c.pollUntil(() => c.completion('1') !== undefined, 'the completion');
    await c.delete();
  });

  it('a POST body over the limit gets 413 with a clear text, and the connection closes with an error Close', async () => {
    const c = await client();
    await c.open();
    const limit = Math.max(1024 * 1024, 32 * 1024 * 4);
    const res = await c.send('x'.repeat(limit + 1));
    expect(res.status).toBe(413);
    expect(res.body.toString()).toBe(`The request body is larger than ${limit} bytes (the POST limit derived from maxMessageSize); send smaller batches.`);
    await c.pollUntil(() => c.messages.some((m) => m.type === 7), 'the Close message');
    const close = c.messages.find((m) => m.type === 7)!;
    expect(close['allowReconnect']).toBe(true);
    expect(close['error']).toMatch(/^Connection closed with an error\. SB_TRANSPORT_BODY_TOO_LARGE: /);
    expect((await c.poll()).status).toBe(204);
  });

  it('a connection that stops polling is disposed after disconnectTimeoutMs and onDisconnected runs with SB_TRANSPORT_INACTIVE', async () => {
    const c = await client();
    await c.open();
    await c.sendJson({ type: 1, invocationId: 'id', target: 'ConnectionId', arguments: [] });
    await c.pollUntil(() => c.completion('id') !== undefined, 'the connection id');
    const id = c.completion('id')!['result'] as string;
    const stoppedAt = Date.now();
    await until(() => hub.lifecycle.some((e) => e.event === 'disconnected' && e.connectionId === id), 'onDisconnected', 3000);
    expect(Date.now() - stoppedAt).toBeGreaterThanOrEqual(DISCONNECT_TIMEOUT_MS - 50);
    const event = hub.lifecycle.find((e) => e.event === 'disconnected' && e.connectionId === id)!;
    expect(event.error).toBe(`No poll arrived for ${DISCONNECT_TIMEOUT_MS} ms (disconnectTimeoutMs); the long-polling client is gone.`);
    expect(hub.logs.find('disposing of an inactive long-polling connection', { connectionId: id })).toHaveLength(1);
    expect((await c.poll()).status).toBe(404);
  });

  it('a connection that never sent its handshake is disposed too (no hub callbacks)', async () => {
    const node = await startHub({ disconnectTimeoutMs: 200, heartbeatIntervalMs: 20 });
    try {
      const { connectionToken } = await negotiateToken(node.url);
      const c = new LongPollingClient(node.url, connectionToken);
      expect((await c.poll()).status).toBe(200);
      expect(node.server.connectionCount).toBe(1);
      await until(() => node.server.connectionCount === 0, 'the disposal');
      expect((await c.poll()).status).toBe(404);
      expect(node.lifecycle).toEqual([]);
    } finally {
      await node.close();
    }
  });

  it('server-side close (HubServer.close) reaches a held poll as a Close with allowReconnect, then 204', async () => {
    const node = await startHub();
    try {
      const { connectionToken } = await negotiateToken(node.url);
      const c = new LongPollingClient(node.url, connectionToken);
      await c.open();
      const held = c.poll();
      await new Promise((r) => setTimeout(r, 50));
      await node.server.close();
      expect((await held).status).toBe(200);
      expect(c.messages).toEqual([{ type: 7, allowReconnect: true }]);
      expect((await httpRequest(`${c.url}&_=1`)).status).toBe(204);
      expect((await httpRequest(`${c.url}&_=2`)).status).toBe(404);
    } finally {
      await node.close();
    }
  });
});
