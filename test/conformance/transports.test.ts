// Transport selection, fallback and the end of Server-Sent Events and long-polling connections with
// the official client (signalr-protocol.md 1.4, 2.2, 2.3, 7.1, 9.6; checklist 30, 31, 33).
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startConformanceApp, type ConformanceApp, type RecordedRequest } from './app.js';
import type { Logger } from '@switchboard/hub-server';
import { PROTOCOLS, buildClient, clientPool, collectStream, delay, signalR } from '../support/signalr.js';
import { startRoundRobinProxy } from '../support/tcp-proxy.js';
import { within } from '../support/timing.js';

const pool = clientPool();
afterEach(() => pool.stopAll());

async function until(condition: () => boolean, what: string, ms = 4000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await delay(10);
  }
}

/** The transport the server-side hub reports, with an Echo to show the connection works. */
async function activeTransport(c: signalR.HubConnection): Promise<string> {
  expect(await within(c.invoke('Echo', 'over the chosen transport'))).toBe('over the chosen transport');
  return (await within(c.invoke('GetActiveTransportName'))) as string;
}

describe('/testhub-nowebsockets (Server-Sent Events and long polling only)', () => {
  let app: ConformanceApp;
  beforeAll(async () => {
    app = await startConformanceApp({ port: 0 });
  });
  afterAll(() => app?.close());

  it('negotiate offers exactly ServerSentEvents (Text) then LongPolling (Text, Binary)', async () => {
    const res = await fetch(`${app.url}/testhub-nowebsockets/negotiate?negotiateVersion=1`, { method: 'POST', signal: AbortSignal.timeout(3000) });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { availableTransports: unknown };
    expect(body.availableTransports).toEqual([
      { transport: 'ServerSentEvents', transferFormats: ['Text'] },
      { transport: 'LongPolling', transferFormats: ['Text', 'Binary'] },
    ]);
  });

  it.each([
    ['json', 'ServerSentEvents'],
    ['messagepack', 'LongPolling'],
  ] as const)('a %s client with no transport restriction gets %s', async (protocol, expected) => {
    const c = await pool.connect(`${app.url}/testhub-nowebsockets`, { protocol, transport: 'any' });
    expect(await activeTransport(c)).toBe(expected);
    expect(await within(collectStream(c.stream('Stream')))).toEqual(['a', 'b', 'c']);
  });

  it('a WebSocket-only client cannot start there (no transport it may use)', async () => {
    const c = pool.track(buildClient(`${app.url}/testhub-nowebsockets`, { transport: 'WebSockets' }));
    await expect(within(c.start())).rejects.toThrow(/Unable to connect to the server with any of the available transports/);
  });
});

describe('fallback when WebSocket upgrades are refused (a proxy without upgrade support)', () => {
  let app: ConformanceApp;
  beforeAll(async () => {
    app = await startConformanceApp({ port: 0, refuseUpgrades: true, recordRequests: true });
  });
  afterAll(() => app?.close());

  it.each([
    ['json', 'ServerSentEvents'],
    ['messagepack', 'LongPolling'],
  ] as const)('a %s client tries WebSockets, negotiates again and works over %s', async (protocol, expected) => {
    const before = app.requests.length;
    const c = await pool.connect(`${app.url}/testhub`, { protocol, transport: 'any' });
    const seen = app.requests.slice(before);
    const upgrade = seen.findIndex((r) => r.upgrade);
    expect(upgrade).toBeGreaterThanOrEqual(0);
    expect(seen[upgrade]!.status).toBe(400);
    // After the failed transport the client negotiates again (a new connection) before falling back.
    const negotiates = seen.filter((r) => r.path === '/testhub/negotiate');
    expect(negotiates).toHaveLength(2);
    expect(seen.slice(upgrade + 1).some((r) => r.path === '/testhub/negotiate')).toBe(true);
    expect(await activeTransport(c)).toBe(expected);
    expect(await within(c.invoke('GetCallerConnectionId'))).toBe(c.connectionId);
  });
});

describe('the end of HTTP-transport connections', () => {
  let app: ConformanceApp;
  beforeAll(async () => {
    app = await startConformanceApp({ port: 0, recordRequests: true });
  });
  afterAll(() => app?.close());

  /** Transport requests (with a token) at /testhub since `from`. */
  const transportRequests = (from: number): RecordedRequest[] => app.requests.slice(from).filter((r) => r.path === '/testhub' && r.token !== null);

  it.each(PROTOCOLS)('long polling (%s): stop() sends DELETE (202), the outstanding poll ends, the connection is gone', async (protocol) => {
    const from = app.requests.length;
    const c = await pool.connect(`${app.url}/testhub`, { transport: 'LongPolling', protocol });
    expect(await activeTransport(c)).toBe('LongPolling');
    // A poll is held by the server while the client is idle.
    await until(() => transportRequests(from).some((r) => r.method === 'GET' && !r.ended), 'a held poll');
    const held = transportRequests(from).filter((r) => r.method === 'GET' && !r.ended);
    expect(held).toHaveLength(1);
    expect(app.hubs.connectionCount).toBe(1);

    const closed = within(new Promise<Error | undefined>((resolve) => c.onclose(resolve)), 4000, 'onclose');
    await within(c.stop());
    expect(await closed).toBeUndefined();
    const deletes = transportRequests(from).filter((r) => r.method === 'DELETE');
    expect(deletes).toHaveLength(1);
    expect(deletes[0]!.token).toBe(held[0]!.token);
    await until(() => deletes[0]!.ended, 'the DELETE to finish');
    expect(deletes[0]!.status).toBe(202);
    await until(() => held[0]!.ended, 'the outstanding poll to end');
    await until(() => app.hubs.connectionCount === 0, 'the server to dispose of the connection');
    // Later requests with the same token find nothing.
    const late = await fetch(`${app.url}/testhub?id=${held[0]!.token}`, { method: 'POST', body: '{"type":6}\u001e', signal: AbortSignal.timeout(3000) });
    expect(late.status).toBe(404);
  });

  it('Server-Sent Events: stop() closes the stream and the server tears the connection down (no DELETE)', async () => {
    const from = app.requests.length;
    const c = await pool.connect(`${app.url}/testhub`, { transport: 'ServerSentEvents' });
    expect(await activeTransport(c)).toBe('ServerSentEvents');
    const streams = transportRequests(from).filter((r) => r.method === 'GET');
    expect(streams).toHaveLength(1);
    expect(streams[0]!.ended).toBe(false);
    expect(app.hubs.connectionCount).toBe(1);
    await within(c.stop());
    await until(() => streams[0]!.ended, 'the event stream to end');
    await until(() => app.hubs.connectionCount === 0, 'the server to dispose of the connection');
    expect(transportRequests(from).filter((r) => r.method === 'DELETE')).toEqual([]);
  });

  it.each([
    ['ServerSentEvents', 'json'],
    ['LongPolling', 'json'],
    ['LongPolling', 'messagepack'],
  ] as const)('%s (%s): a server shutdown reaches the client as a Close that allows reconnecting', async (transport, protocol) => {
    const node = await startConformanceApp({ port: 0 });
    try {
      const c = pool.track(buildClient(`${node.url}/testhub`, { transport, protocol, reconnect: [60_000] }));
      await within(c.start());
      const reconnecting = within(new Promise<Error | undefined>((resolve) => c.onreconnecting(resolve)), 4000, 'onreconnecting');
      await node.hubs.close();
      // The client reconnects (allowReconnect) instead of closing for good.
      expect(await reconnecting).toBeUndefined();
      expect(c.state).toBe(signalR.HubConnectionState.Reconnecting);
    } finally {
      await node.close();
    }
  });
});

describe('a long-polling client that vanishes', () => {
  it('is disposed after disconnectTimeoutMs: the hub runs its disconnect with SB_TRANSPORT_INACTIVE', async () => {
    const closed: Record<string, unknown>[] = [];
    const logger: Logger = { debug() {}, info: (obj, msg) => void (msg === 'connection closed' && closed.push(obj as Record<string, unknown>)), warn() {}, error() {} };
    const app = await startConformanceApp({ port: 0, logger, hubOptions: { disconnectTimeoutMs: 300, heartbeatIntervalMs: 50 } });
    // The client reaches the app through a proxy; closing the proxy cuts it off without a DELETE.
    const proxy = await startRoundRobinProxy([app.url]);
    try {
      const c = pool.track(buildClient(`${proxy.url}/testhub`, { transport: 'LongPolling' }));
      await within(c.start());
      const id = (await within(c.invoke('GetCallerConnectionId'))) as string;
      expect(app.hubs.connectionCount).toBe(1);
      const cutAt = Date.now();
      await proxy.close();
      await until(() => closed.some((e) => e['connectionId'] === id), 'the server to dispose of the connection', 3000);
      expect(Date.now() - cutAt).toBeGreaterThanOrEqual(250);
      expect(closed.find((e) => e['connectionId'] === id)!['reason']).toBe('No poll arrived for 300 ms (disconnectTimeoutMs); the long-polling client is gone.');
      expect(app.hubs.connectionCount).toBe(0);
    } finally {
      await proxy.close();
      await app.close();
    }
  });
});
