// No sticky sessions, in one process: two HubServers over one MemoryBroker (BusScaleOut). A
// Server-Sent Events or long-polling connection lives on the node that got its first request;
// requests that land on the other node are forwarded to it through the backplane.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BusScaleOut, MemoryBroker } from '@switchboard/hub-server';
import { negotiateToken, startHub, type HubFixture } from './fixture.js';
import { LongPollingClient, RS, SseClient, httpRequest } from './http-client.js';
import { rawPool } from './raw-client.js';

const FORWARDED = 'forwarded a transport request to the node holding the connection';
const raw = rawPool();
afterEach(() => raw.terminateAll());

async function until(condition: () => boolean, what: string, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('HTTP transports across two nodes (in-memory bus)', () => {
  let a: HubFixture;
  let b: HubFixture;
  beforeAll(async () => {
    const broker = new MemoryBroker();
    const options = { scaleOut: (hub: string) => new BusScaleOut({ bus: broker.bus(), hubName: hub }), longPollTimeoutMs: 1000 };
    [a, b] = await Promise.all([startHub(options), startHub(options)]);
  });
  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
  });

  /** The same connection seen through node A and through node B. */
  async function longPolling(protocol: 'json' | 'messagepack' = 'json') {
    const { connectionToken } = await negotiateToken(b.url);
    return { onA: new LongPollingClient(a.url, connectionToken, protocol), onB: new LongPollingClient(b.url, connectionToken, protocol) };
  }

  it('long polling: created by the first poll on A; handshake, sends, polls and DELETE through B reach it', async () => {
    const { onA, onB } = await longPolling();
    expect((await onA.poll()).status).toBe(200);
    expect(a.server.connectionCount).toBe(1);
    expect((await onB.send(`{"protocol":"json","version":1}${RS}`)).status).toBe(200);
    await onB.pollUntil(() => onB.handshakeReply !== undefined, 'the handshake reply (polled through B)');
    expect(onB.handshakeReply).toBe(`{}${RS}`);
    await onB.sendJson({ type: 1, invocationId: 'id', target: 'ConnectionId', arguments: [] });
    await onB.pollUntil(() => onB.completion('id') !== undefined, 'the completion (polled through B)');
    const id = onB.completion('id')!['result'] as string;
    // The connection exists only on A; B forwarded every request.
    expect([a.server.connectionCount, b.server.connectionCount]).toEqual([1, 0]);
    expect(a.lifecycle).toContainEqual({ event: 'connected', connectionId: id, transport: 'LongPolling' });
    expect(b.logs.find(FORWARDED, { connectionId: id }).length).toBeGreaterThanOrEqual(4);
    // A held poll through B gets data written on A.
    const held = onB.poll();
    await new Promise((r) => setTimeout(r, 50));
    await onA.sendJson({ type: 1, invocationId: '2', target: 'Echo', arguments: ['A to B'] });
    expect((await held).status).toBe(200);
    expect(onB.completion('2')?.['result']).toBe('A to B');
    expect((await onB.delete()).status).toBe(202);
    await until(() => a.lifecycle.some((e) => e.event === 'disconnected' && e.connectionId === id), 'onDisconnected on A');
    // The owner released the connection's channel: B answers 404 at once, and A (which ended it) too.
    expect((await onB.sendJson({ type: 6 })).status).toBe(404);
    expect((await onA.sendJson({ type: 6 })).status).toBe(404);
  });

  it('long polling with MessagePack: binary bodies cross nodes unchanged', async () => {
    const { onA, onB } = await longPolling('messagepack');
    expect((await onB.poll()).status).toBe(200);
    expect((await onA.send(`{"protocol":"messagepack","version":1}${RS}`)).status).toBe(200);
    await onA.pollUntil(() => onA.handshakeReply !== undefined, 'the handshake reply');
    const echo = new Uint8Array([0, 1, 0x1e, 0xff]);
    const { messagePackHubProtocol, MessageType } = await import('@switchboard/protocol');
    await onA.send(messagePackHubProtocol.write({ type: MessageType.Invocation, invocationId: '1', target: 'Echo', arguments: [echo] }), { 'Content-Type': 'application/octet-stream' });
    await onA.pollUntil(() => onA.completion('1') !== undefined, 'the completion');
    expect([...(onA.completion('1')!['result'] as Uint8Array)]).toEqual([...echo]);
    expect([a.server.connectionCount, b.server.connectionCount]).toEqual([0, 1]);
    await onA.delete();
  });

  it('a poll abandoned by its client on the forwarding node does not take data: the next poll gets it', async () => {
    const { onA, onB } = await longPolling();
    await onA.open();
    const abandoned = new AbortController();
    const lost = onB.poll({ signal: abandoned.signal }).catch((err: Error) => err);
    await new Promise((r) => setTimeout(r, 50));
    abandoned.abort();
    expect(await lost).toBeInstanceOf(Error);
    await new Promise((r) => setTimeout(r, 50));
    await onA.sendJson({ type: 1, invocationId: 'kept', target: 'Echo', arguments: ['not lost'] });
    await onA.pollUntil(() => onA.completion('kept') !== undefined, 'the completion', 2000);
    expect(onA.completion('kept')?.['result']).toBe('not lost');
    await onA.delete();
  });

  it('Server-Sent Events: the stream on A, POSTs through B; a second stream, a poll and DELETE through B are refused by A', async () => {
    const { connectionToken } = await negotiateToken(a.url);
    const sse = await SseClient.open(`${a.url}?id=${connectionToken}`);
    try {
      const viaB = `${b.url}?id=${connectionToken}`;
      expect((await httpRequest(viaB, { method: 'POST', body: `{"protocol":"json","version":1}${RS}` })).status).toBe(200);
      await httpRequest(viaB, { method: 'POST', body: `{"type":1,"invocationId":"1","target":"Echo","arguments":["through B"]}${RS}` });
      await sse.until(() => sse.messages().some((m) => m.type === 3), 'the completion');
      expect(sse.messages()).toEqual([{ type: 3, invocationId: '1', result: 'through B' }]);
      expect((await SseClient.open(viaB).then((s) => (s.close(), s.status)))).toBe(409);
      expect((await httpRequest(viaB)).status).toBe(400);
      expect((await httpRequest(viaB, { method: 'DELETE' })).status).toBe(400);
    } finally {
      sse.close();
    }
  });

  it('a WebSocket connection on A: a POST through B gets 405 from A', async () => {
    const { connectionToken } = await negotiateToken(a.url);
    await raw.connected(a.wsUrl(connectionToken));
    expect((await httpRequest(`${b.url}?id=${connectionToken}`, { method: 'POST', body: `{"type":6}${RS}` })).status).toBe(405);
  });

  it('sends from a client on the other node reach a long-polling connection (groups of the scale-out unchanged)', async () => {
    const { onA } = await longPolling();
    await onA.open();
    const ws = await raw.connected(b.wsUrl());
    ws.invoke('Broadcast', ['to everyone'], '1');
    await onA.pollUntil(() => onA.messages.some((m) => m.type === 1), 'the broadcast');
    expect(onA.messages.find((m) => m.type === 1)).toEqual({ type: 1, target: 'Message', arguments: ['to everyone'] });
    await onA.delete();
  });
});

describe('when the node holding the connection is gone', () => {
  it('POST and DELETE through the other node get 404 (the client then reconnects)', async () => {
    const broker = new MemoryBroker();
    const options = { scaleOut: (hub: string) => new BusScaleOut({ bus: broker.bus(), hubName: hub }) };
    const [a, b] = await Promise.all([startHub(options), startHub(options)]);
    try {
      const { connectionToken } = await negotiateToken(a.url);
      const onA = new LongPollingClient(a.url, connectionToken);
      const onB = new LongPollingClient(b.url, connectionToken);
      await onA.open();
      expect((await onB.sendJson({ type: 6 })).status).toBe(200);
      await a.close();
      expect((await onB.sendJson({ type: 6 })).status).toBe(404);
      expect((await onB.delete()).status).toBe(404);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});
