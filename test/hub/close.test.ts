import { afterEach, describe, expect, it } from 'vitest';
import type { HubConnection } from '@microsoft/signalr';
import { clientPool, type ProtocolName } from '../support/signalr.js';
import { startHub, within, type HubFixture } from './fixture.js';
import { RS, RawClient, rawPool } from './raw-client.js';

const raw = rawPool();
const clients = clientPool();
const fixtures: HubFixture[] = [];

async function node(port?: number): Promise<HubFixture> {
  const f = await startHub({}, { port });
  fixtures.push(f);
  return f;
}

function reconnecting(c: HubConnection): Promise<Error | undefined> {
  return new Promise((resolve) => c.onreconnecting(resolve));
}

afterEach(async () => {
  raw.terminateAll();
  await clients.stopAll();
  await Promise.all(fixtures.splice(0).map((f) => f.close()));
});

describe('HubServer.close()', () => {
  it('sends every connection a Close with allowReconnect and closes the sockets with 1000', async () => {
    const hub = await node();
    const json = await raw.connected(hub.wsUrl());
    const msgpack = await raw.connected(hub.wsUrl(), 'messagepack');
    expect(hub.server.connectionCount).toBe(2);
    await hub.server.close();
    expect(await json.closeMessage()).toEqual({ type: 7, allowReconnect: true });
    expect(json.frames.at(-1)!.data.toString('utf8')).toBe(`{"type":7,"allowReconnect":true}${RS}`);
    const mpClose = await msgpack.closeMessage();
    expect(mpClose['type']).toBe(7);
    expect(mpClose['allowReconnect']).toBe(true);
    expect(mpClose['error']).toBeUndefined();
    expect((await json.closed()).code).toBe(1000);
    expect((await msgpack.closed()).code).toBe(1000);
    expect(hub.server.connectionCount).toBe(0);
  });

  it.each(['json', 'messagepack'] as ProtocolName[])('moves official %s clients with automatic reconnect into reconnecting', async (protocol) => {
    const hub = await node();
    const a = await clients.connect(hub.url, { protocol, reconnect: [0, 200, 200, 200, 200] });
    const b = await clients.connect(hub.url, { protocol, reconnect: [0, 200, 200, 200, 200] });
    let closed = 0;
    a.onclose(() => closed++);
    const started = [reconnecting(a), reconnecting(b)];
    await hub.server.close();
    const errors = await within(Promise.all(started), 2000, 'onreconnecting on both clients');
    // A Close without an error text: the client reconnects without reporting one.
    expect(errors).toEqual([undefined, undefined]);
    expect(a.state).toBe('Reconnecting');
    expect(b.state).toBe('Reconnecting');
    expect(closed).toBe(0);
  });

  it('lets a reconnecting official client land on the replacement node at the same address', async () => {
    const first = await node();
    const port = Number(new URL(first.url).port);
    const c = await clients.connect(first.url, { reconnect: [0, 100, 100, 100, 100, 100, 100, 100, 100, 100] });
    const oldId = c.connectionId;
    const reconnected = new Promise<string | undefined>((resolve) => c.onreconnected(resolve));
    const started = reconnecting(c);
    await first.close();
    await within(started, 2000, 'onreconnecting');
    const second = await node(port);
    const newId = await within(reconnected, 2500, 'onreconnected');
    expect(newId).toBeTruthy();
    expect(newId).not.toBe(oldId);
    expect(await within(c.invoke('Echo', 'on the new node'), 2000, 'Echo after reconnect')).toBe('on the new node');
    expect(second.server.connectionCount).toBe(1);
  });

  it('does not reconnect an official client without a reconnect policy: it closes without an error', async () => {
    const hub = await node();
    const c = await clients.connect(hub.url);
    const closed = new Promise<Error | undefined>((resolve) => c.onclose(resolve));
    await hub.server.close();
    expect(await within(closed, 2000, 'onclose')).toBeUndefined();
    expect(c.state).toBe('Disconnected');
  });

  it('refuses new WebSockets after close and is idempotent', async () => {
    const hub = await node();
    await hub.server.close();
    await hub.server.close();
    await expect(RawClient.open(hub.wsUrl())).rejects.toThrow();
    expect(hub.server.connectionCount).toBe(0);
  });
});
