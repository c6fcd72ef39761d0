// Statuses shared by the HTTP transports (signalr-protocol.md 2 general rules, 2.4, 10; checklist
// 4, 34, 35): missing and unknown tokens, wrong methods, transports bound to another type, endpoints
// without a transport, the user check on every request, shutdown.
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { defineHub, HubServer, silentLogger } from '@switchboard/hub-server';
import { TEST_SECRET, negotiateToken, startHub, type HubFixture } from './fixture.js';
import { LongPollingClient, RS, SseClient, httpRequest } from './http-client.js';
import { rawPool, refusedUpgrade } from './raw-client.js';

const raw = rawPool();
afterEach(() => raw.terminateAll());

describe('HTTP transport statuses', () => {
  let hub: HubFixture;
  beforeAll(async () => {
    hub = await startHub();
  });
  afterAll(() => hub?.close());

  it.each([
    ['an SSE GET', 'GET', { Accept: 'text/event-stream' }],
    ['a poll', 'GET', {}],
    ['a POST', 'POST', {}],
    ['a DELETE', 'DELETE', {}],
  ] as const)('%s without id gets 400, with a forged token 404 (and a log line without the token)', async (_label, method, headers) => {
    const missing = await httpRequest(hub.url, { method, headers });
    expect(missing.status).toBe(400);
    expect(missing.body.toString()).toBe('Connection ID required');
    const { connectionToken } = await negotiateToken(hub.url);
    const forged = connectionToken.slice(0, 30) + (connectionToken[30] === 'A' ? 'B' : 'A') + connectionToken.slice(31);
    const before = hub.logs.find('invalid or expired connection token').length;
    const res = await httpRequest(`${hub.url}?id=${forged}`, { method, headers });
    expect(res.status).toBe(404);
    expect(res.body.toString()).toBe('No Connection with that ID');
    expect(hub.logs.find('invalid or expired connection token').length).toBe(before + 1);
    expect(JSON.stringify(hub.logs.entries)).not.toContain(forged);
  });

  it('a valid token whose connection was never opened: POST and DELETE get 404', async () => {
    const { connectionToken } = await negotiateToken(hub.url);
    const url = `${hub.url}?id=${connectionToken}`;
    expect((await httpRequest(url, { method: 'POST', body: `{"type":6}${RS}` })).status).toBe(404);
    expect((await httpRequest(url, { method: 'DELETE' })).status).toBe(404);
    // ...and did not create one.
    expect(hub.server.connectionCount).toBe(0);
  });

  it('other methods get 405 with an Allow header', async () => {
    const { connectionToken } = await negotiateToken(hub.url);
    const res = await httpRequest(`${hub.url}?id=${connectionToken}`, { method: 'PUT', body: 'x' });
    expect(res.status).toBe(405);
    expect(res.headers['allow']).toBe('GET, POST, DELETE');
  });

  it('a WebSocket connection: POST 405, SSE GET 400, poll 400, DELETE 400; the socket keeps working', async () => {
    const { connectionToken } = await negotiateToken(hub.url);
    const ws = await raw.connected(hub.wsUrl(connectionToken));
    const url = `${hub.url}?id=${connectionToken}`;
    expect((await httpRequest(url, { method: 'POST', body: `{"type":6}${RS}` })).status).toBe(405);
    const sse = await httpRequest(url, { headers: { Accept: 'text/event-stream' } });
    expect([sse.status, sse.body.toString()]).toEqual([400, 'Cannot change transports mid-connection']);
    expect((await httpRequest(url)).status).toBe(400);
    const del = await httpRequest(url, { method: 'DELETE' });
    expect([del.status, del.body.toString()]).toEqual([400, 'Cannot terminate this connection using the DELETE endpoint.']);
    ws.invoke('Echo', ['still here'], '1');
    expect((await ws.completion('1'))['result']).toBe('still here');
  });

  it('a long-polling connection: SSE GET 400 and WebSocket upgrade 400 (Cannot change transports mid-connection)', async () => {
    const { connectionToken } = await negotiateToken(hub.url);
    const c = new LongPollingClient(hub.url, connectionToken);
    await c.open();
    const sse = await httpRequest(c.url, { headers: { Accept: 'text/event-stream' } });
    expect([sse.status, sse.body.toString()]).toEqual([400, 'Cannot change transports mid-connection']);
    const ws = await refusedUpgrade(hub.wsUrl(connectionToken));
    expect([ws.statusCode, ws.body]).toEqual([400, 'Cannot change transports mid-connection']);
    await c.sendJson({ type: 1, invocationId: '1', target: 'Echo', arguments: ['fine'] });
    await c.pollUntil(() => c.completion('1') !== undefined, 'the completion');
    expect((await c.delete()).status).toBe(202);
  });

  it('stopAccepting: new SSE and long-polling connections get 503, existing ones keep working', async () => {
    const node = await startHub();
    try {
      const { connectionToken } = await negotiateToken(node.url);
      const existing = new LongPollingClient(node.url, connectionToken);
      await existing.open();
      node.server.stopAccepting();
      const [a, b] = await Promise.all([negotiateToken(hub.url), negotiateToken(hub.url)]);
      // Tokens from another node with the same secret, as a balancer would route them here.
      expect((await httpRequest(`${node.url}?id=${a.connectionToken}`)).status).toBe(503);
      expect((await httpRequest(`${node.url}?id=${b.connectionToken}`, { headers: { Accept: 'text/event-stream' } })).status).toBe(503);
      await existing.sendJson({ type: 1, invocationId: '1', target: 'Echo', arguments: ['draining'] });
      await existing.pollUntil(() => existing.completion('1') !== undefined, 'the completion');
    } finally {
      await node.close();
    }
  });
});

describe('endpoints that do not offer a transport', () => {
  let hubs: HubServer;
  let origin: string;
  const server = createServer();
  beforeAll(async () => {
    hubs = new HubServer({ secret: TEST_SECRET, logger: silentLogger });
    const echo = defineHub()({ methods: { Echo: (_ctx, m: unknown) => m } });
    hubs.mapHub('/ws-only', echo, { transports: ['WebSockets'] });
    hubs.mapHub('/lp-only', echo, { transports: ['LongPolling'] });
    hubs.attach(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await hubs.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('negotiate lists only the offered transports; the others get 404', async () => {
    const ws = await negotiateToken(`${origin}/ws-only`);
    expect((await httpRequest(`${origin}/ws-only?id=${ws.connectionToken}`, { headers: { Accept: 'text/event-stream' } })).status).toBe(404);
    expect((await httpRequest(`${origin}/ws-only?id=${ws.connectionToken}`)).status).toBe(404);
    const lp = await negotiateToken(`${origin}/lp-only`);
    const sse = await httpRequest(`${origin}/lp-only?id=${lp.connectionToken}`, { headers: { Accept: 'text/event-stream' } });
    expect([sse.status, sse.body.toString()]).toEqual([404, 'Server-Sent Events are not enabled on this endpoint.']);
    const c = new LongPollingClient(`${origin}/lp-only`, lp.connectionToken);
    expect(await c.open()).toEqual({});
    const res = await fetch(`${origin}/lp-only/negotiate?negotiateVersion=1`, { method: 'POST', signal: AbortSignal.timeout(2000) });
    expect(((await res.json()) as { availableTransports: unknown }).availableTransports).toEqual([{ transport: 'LongPolling', transferFormats: ['Text', 'Binary'] }]);
    await c.delete();
  });
});

describe('the user check on every transport request', () => {
  let hub: HubFixture;
  const seen: { method: string; user: string | null; via: 'header' | 'query' | 'none' }[] = [];
  const authenticate = (req: IncomingMessage) => {
    const header = req.headers.authorization?.startsWith('Bearer ') ? req.headers.authorization.slice(7) : undefined;
    const query = new URL(req.url ?? '/', 'http://x').searchParams.get('access_token') ?? undefined;
    const user = header ?? query;
    seen.push({ method: req.method ?? '', user: user ?? null, via: header ? 'header' : query ? 'query' : 'none' });
    return user ? { id: user } : undefined;
  };
  beforeAll(async () => {
    hub = await startHub({ authenticate });
  });
  afterAll(() => hub?.close());

  async function tokenFor(user: string): Promise<string> {
    const res = await fetch(`${hub.url}/negotiate?negotiateVersion=1`, { method: 'POST', headers: { Authorization: `Bearer ${user}` }, signal: AbortSignal.timeout(2000) });
    return ((await res.json()) as { connectionToken: string }).connectionToken;
  }

  it('SSE: access_token in the query and Authorization: Bearer both reach authenticate, on every request', async () => {
    const token = await tokenFor('alice');
    const url = `${hub.url}?id=${token}`;
    const from = seen.length;
    const sse = await SseClient.open(`${url}&access_token=alice`);
    try {
      expect(sse.status).toBe(200);
      const hs = await httpRequest(url, { method: 'POST', body: `{"protocol":"json","version":1}${RS}`, headers: { Authorization: 'Bearer alice' } });
      expect(hs.status).toBe(200);
      await sse.until(() => sse.events.length === 1, 'the handshake reply');
      expect(seen.slice(from)).toEqual([
        { method: 'GET', user: 'alice', via: 'query' },
        { method: 'POST', user: 'alice', via: 'header' },
      ]);
      // Another user: 403 and a log line; no credentials (an expired token): 401, so the client refreshes it.
      const before = hub.logs.find('the user differs').length;
      const bob = await httpRequest(url, { method: 'POST', body: `{"type":6}${RS}`, headers: { Authorization: 'Bearer bob' } });
      expect([bob.status, bob.body.toString()]).toEqual([403, 'The connection token was issued to another user.']);
      const anonymous = await httpRequest(url, { method: 'POST', body: `{"type":6}${RS}` });
      expect(anonymous.status).toBe(401);
      expect(hub.logs.find('the user differs').length).toBe(before + 2);
      // Refused requests never reached the connection: it still works for alice.
      await httpRequest(url, { method: 'POST', body: `{"type":1,"invocationId":"1","target":"Echo","arguments":["ok"]}${RS}`, headers: { Authorization: 'Bearer alice' } });
      await sse.until(() => sse.messages().some((m) => m.type === 3), 'the completion');
      expect(sse.messages()).toEqual([{ type: 3, invocationId: '1', result: 'ok' }]);
    } finally {
      sse.close();
    }
  });

  it('long polling: every poll and DELETE is checked too; an anonymous token refuses a user (403)', async () => {
    const token = await tokenFor('alice');
    const c = new LongPollingClient(`${hub.url}`, token);
    expect((await httpRequest(`${c.url}&access_token=alice`)).status).toBe(200);
    expect((await httpRequest(`${c.url}&access_token=mallory`)).status).toBe(403);
    expect((await httpRequest(c.url, { method: 'DELETE', headers: { Authorization: 'Bearer mallory' } })).status).toBe(403);
    expect((await httpRequest(c.url, { method: 'DELETE', headers: { Authorization: 'Bearer alice' } })).status).toBe(202);
    const { connectionToken: anonymous } = await negotiateToken(hub.url);
    const sse = await httpRequest(`${hub.url}?id=${anonymous}&access_token=alice`, { headers: { Accept: 'text/event-stream' } });
    expect(sse.status).toBe(403);
  });
});

describe('who may open an SSE or long-polling connection', () => {
  it('a token opens one only within disconnectTimeoutMs of negotiate; later (owner gone, connection ended elsewhere) 404', async () => {
    let clock = 1_800_000_000_000;
    const node = await startHub({ now: () => clock, disconnectTimeoutMs: 1000 });
    try {
      const [fresh, stale, streamStale] = await Promise.all([negotiateToken(node.url), negotiateToken(node.url), negotiateToken(node.url)]);
      clock += 1000;
      expect((await httpRequest(`${node.url}?id=${fresh.connectionToken}`)).status).toBe(200);
      clock += 1;
      const poll = await httpRequest(`${node.url}?id=${stale.connectionToken}`);
      expect([poll.status, poll.body.toString()]).toEqual([404, 'No Connection with that ID']);
      expect((await httpRequest(`${node.url}?id=${streamStale.connectionToken}`, { headers: { Accept: 'text/event-stream' } })).status).toBe(404);
      // The connection opened in time keeps working long after the window.
      clock += 60_000;
      const c = new LongPollingClient(node.url, fresh.connectionToken);
      expect((await c.send(`{"protocol":"json","version":1}${RS}`)).status).toBe(200);
      await c.pollUntil(() => c.handshakeReply !== undefined, 'the handshake reply');
      expect(node.server.connectionCount).toBe(1);
    } finally {
      await node.close();
    }
  });
});
