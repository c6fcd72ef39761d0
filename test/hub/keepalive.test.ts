import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { clientPool, delay } from '../support/signalr.js';
import { negotiateToken, startHub, within, type HubFixture } from './fixture.js';
import { RS, rawPool } from './raw-client.js';

const raw = rawPool();
const clients = clientPool();
const FAST = { keepAliveIntervalMs: 200, clientTimeoutMs: 600, heartbeatIntervalMs: 50 };

describe('keep-alive and client timeout (keepAlive 200 ms, clientTimeout 600 ms, heartbeat 50 ms)', () => {
  let hub: HubFixture;

  beforeAll(async () => {
    hub = await startHub(FAST);
  });
  afterEach(async () => {
    raw.terminateAll();
    await clients.stopAll();
  });
  afterAll(async () => hub?.close());

  it('sends a Ping {"type":6} after a silence of keepAliveIntervalMs, and keeps pinging', async () => {
    const client = await raw.connected(hub.wsUrl());
    const start = Date.now();
    const ping = await client.message(0, 1000);
    const firstAt = Date.now() - start;
    expect(ping).toEqual({ type: 6 });
    expect(client.frames[1]!.data.toString('utf8')).toBe(`{"type":6}${RS}`);
    expect(firstAt).toBeGreaterThanOrEqual(150);
    expect(firstAt).toBeLessThan(600);
    await client.message(1, 1000);
    expect(client.messages.slice(0, 2)).toEqual([{ type: 6 }, { type: 6 }]);
  });

  it('sends the MessagePack Ping (91 06) on a messagepack connection', async () => {
    const client = await raw.connected(hub.wsUrl(), 'messagepack');
    expect(await client.message(0, 1000)).toEqual({ type: 6 });
    expect(client.frames[1]!.data.toString('hex')).toBe('029106');
    expect(client.frames[1]!.binary).toBe(true);
  });

  it('does not ping while it is sending anyway', async () => {
    const client = await raw.connected(hub.wsUrl());
    for (let i = 0; i < 8; i++) {
      client.invoke('Echo', [i], String(i));
      await client.completion(String(i));
      await delay(50);
    }
    expect(client.messages.filter((m) => m.type === 3)).toHaveLength(8);
    expect(client.messages.filter((m) => m.type === 6)).toEqual([]);
  });

  it('does not arm the client timeout for a client that never pings', async () => {
    const client = await raw.connected(hub.wsUrl());
    await delay(1100); // almost twice clientTimeoutMs without a byte from the client
    expect(client.isOpen).toBe(true);
    expect(client.messages.filter((m) => m.type === 7)).toEqual([]);
    expect(client.messages.filter((m) => m.type === 6).length).toBeGreaterThanOrEqual(3);
    client.invoke('Echo', ['still open'], '1');
    expect((await client.completion('1'))['result']).toBe('still open');
  });

  it('closes a client that pinged once and then went silent, with allowReconnect', async () => {
    const { connectionToken, connectionId } = await negotiateToken(hub.url);
    const client = await raw.connected(hub.wsUrl(connectionToken));
    client.sendJson({ type: 6 });
    const pingedAt = Date.now();
    const close = await client.closeMessage(2000);
    const after = Date.now() - pingedAt;
    expect(close).toEqual({ type: 7, error: 'Connection closed with an error.', allowReconnect: true });
    expect(client.frames.at(-1)!.data.toString('utf8')).toBe(`{"type":7,"error":"Connection closed with an error.","allowReconnect":true}${RS}`);
    expect(after).toBeGreaterThanOrEqual(550);
    expect(after).toBeLessThan(1500);
    expect((await client.closed()).code).toBe(1000);
    const entry = await hub.logs.waitFor('no message from the client for 600 ms', { connectionId, code: 'SB_SERVER_TIMEOUT' });
    expect(entry.level).toBe('warn');
  });

  it('keeps a client that pings regularly', async () => {
    const client = await raw.connected(hub.wsUrl());
    for (let i = 0; i < 6; i++) {
      client.sendJson({ type: 6 });
      await delay(200);
    }
    expect(client.isOpen).toBe(true);
    expect(client.messages.filter((m) => m.type === 7)).toEqual([]);
  });

  it('keeps an idle official client connected for several intervals', async () => {
    const c = await clients.connect(hub.url, { keepAliveMs: 100, serverTimeoutMs: 500 });
    let closedWith: Error | undefined | 'open' = 'open';
    c.onclose((err) => (closedWith = err));
    await delay(1500);
    expect(closedWith).toBe('open');
    expect(c.state).toBe('Connected');
    expect(await within(c.invoke('Echo', 'idle'), 2000, 'Echo after idling')).toBe('idle');
  });

  it('closes an official client whose keep-alive is longer than the client timeout, with the error Close', async () => {
    const c = await clients.connect(hub.url, { keepAliveMs: 5000, serverTimeoutMs: 5000 });
    const closed = new Promise<Error | undefined>((resolve) => c.onclose(resolve));
    const error = await within(closed, 2000, 'onclose');
    expect(error?.message).toBe('Server returned an error on close: Connection closed with an error.');
  });
});

describe('client-side server timeout', () => {
  let hub: HubFixture;

  beforeAll(async () => {
    hub = await startHub({ keepAliveIntervalMs: 5000, clientTimeoutMs: 10_000, heartbeatIntervalMs: 50 });
  });
  afterEach(() => clients.stopAll());
  afterAll(async () => hub?.close());

  it('the official client gives up when the server pings less often than its serverTimeout', async () => {
    const c = await clients.connect(hub.url, { serverTimeoutMs: 500 });
    const started = Date.now();
    const closed = new Promise<Error | undefined>((resolve) => c.onclose(resolve));
    const error = await within(closed, 2000, 'onclose');
    expect(error?.message).toBe('Server timeout elapsed without receiving a message from the server.');
    expect(Date.now() - started).toBeGreaterThanOrEqual(400);
    expect(hub.server.connectionCount).toBeLessThanOrEqual(1);
    await hub.logs.waitFor('connection closed');
    expect(hub.server.connectionCount).toBe(0);
  });
});
