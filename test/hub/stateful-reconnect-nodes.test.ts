// Stateful reconnect behind a round-robin balancer (no sticky sessions), two nodes over one
// in-memory bus: a reattach that lands on the node that does not hold the connection is sent back
// (closed with 1013 after the client's first frame) and the client's next attempt reaches the owner.
import { afterEach, describe, expect, it } from 'vitest';
import { BusScaleOut, MemoryBroker } from '@switchboard/hub-server';
import { clientPool, delay, signalR } from '../support/signalr.js';
import { startRoundRobinProxy, type RoundRobinProxy } from '../support/tcp-proxy.js';
import { negotiate, startHub, within, type HubFixture } from './fixture.js';
import { RawClient } from './raw-client.js';

const BOUNCED = 'stateful reconnect: the reattach reached a node that does not hold the connection';
const REATTACHED = 'stateful reconnect: the client reattached';
const clients = clientPool();
let nodes: HubFixture[] = [];
let proxy: RoundRobinProxy | undefined;
afterEach(async () => {
  await clients.stopAll();
  await proxy?.close();
  proxy = undefined;
  await Promise.all(nodes.map((n) => n.close()));
  nodes = [];
});

async function until(condition: () => boolean, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await delay(5);
  }
}

async function twoNodes(extra: Parameters<typeof startHub>[0] = {}): Promise<[HubFixture, HubFixture]> {
  const broker = new MemoryBroker();
  const options = { heartbeatIntervalMs: 50, scaleOut: (hub: string) => new BusScaleOut({ bus: broker.bus(), hubName: hub }), ...extra };
  nodes = await Promise.all([0, 1].map(() => startHub(options, { endpoint: { allowStatefulReconnects: true } })));
  return nodes as [HubFixture, HubFixture];
}

describe('stateful reconnect across two nodes', () => {
  it('a reattach that lands on the other node is sent back and reaches the owner: same connection, every message once', async () => {
    const [a, b] = await twoNodes();
    proxy = await startRoundRobinProxy([a.origin, b.origin]);
    // Negotiate goes to A, the WebSocket to B: B owns the connection.
    const client = await clients.connect(`${proxy.url}/hub`, { statefulReconnect: true });
    const events: string[] = [];
    client.onreconnecting(() => events.push('reconnecting'));
    client.onclose(() => events.push('close'));
    const id = (await client.invoke('ConnectionId')) as string;
    expect([a.server.connectionCount, b.server.connectionCount]).toEqual([0, 1]);
    const received: number[] = [];
    client.on('Message', (m: string) => received.push(Number(m)));

    // Pushed from A, through the bus, to the connection on B; invocations go to B.
    let pushed = 0;
    const pusher = setInterval(() => void a.hubs.hub.clients.client(id).Message(String(pushed++)), 3);
    const results: Promise<unknown>[] = [];
    try {
      for (let batch = 0; batch < 12; batch++) {
        const pending = Array.from({ length: 10 }, (_, i) => client.invoke('Record', batch * 10 + i));
        results.push(...pending);
        if (batch === 4) proxy.cutAll(); // the next TCP connection (the reattach) goes to A
        await within(Promise.all(pending), 5000, `batch ${batch}`);
      }
    } finally {
      clearInterval(pusher);
    }
    await until(() => received.length >= pushed, `${pushed} pushes (got ${received.length})`);
    await delay(50);

    expect(await Promise.all(results)).toEqual(Array.from({ length: 120 }, (_, i) => i));
    expect(b.recorded).toEqual(Array.from({ length: 120 }, (_, i) => i));
    expect(a.recorded).toEqual([]);
    expect(received).toEqual(Array.from({ length: pushed }, (_, i) => i));
    expect(events).toEqual([]);
    expect(client.state).toBe(signalR.HubConnectionState.Connected);
    expect(client.connectionId).toBe(id);
    expect(a.logs.find(BOUNCED, { connectionId: id }).length).toBeGreaterThanOrEqual(1);
    expect(b.logs.find(REATTACHED, { connectionId: id })).toHaveLength(1);
    expect(a.lifecycle).toEqual([]);
    expect(b.lifecycle).toEqual([{ event: 'connected', connectionId: id, transport: 'WebSockets' }]);
  });

  it('the non-owner answers what the owner says: 409 for a live connection without stateful reconnect; 404 once it ended', async () => {
    let skew = 0;
    const [a, b] = await twoNodes({ now: () => Date.now() + skew });
    const { body } = await negotiate(a.url, 'negotiateVersion=1&useStatefulReconnect=true');
    const token = body['connectionToken'] as string;
    const v1 = await RawClient.connected(b.wsUrl(token), 'json', 1); // held by B, without stateful reconnect
    try {
      v1.invoke('Echo', ['x'], '1');
      await v1.completion('1');
      await expect(RawClient.open(a.wsUrl(token))).rejects.toMatchObject({ statusCode: 409 });
      // B keeps serving it.
      v1.invoke('Echo', ['y'], '2');
      expect(await v1.completion('2')).toMatchObject({ result: 'y' });
    } finally {
      v1.ws.close(1000);
    }
    await until(() => b.lifecycle.some((e) => e.event === 'disconnected'), 'onDisconnected on B');
    // No node holds it any more, and its token is past the first-upgrade window: a reattach is refused everywhere.
    skew = 20_000;
    await expect(RawClient.open(a.wsUrl(token))).rejects.toMatchObject({ statusCode: 404 });
    await expect(RawClient.open(b.wsUrl(token))).rejects.toMatchObject({ statusCode: 404 });
    expect(a.server.connectionCount + b.server.connectionCount).toBe(0);
  });

  it('when the owner is gone, the reattach fails and automatic reconnect negotiates a new connection', async () => {
    const [a, b] = await twoNodes();
    proxy = await startRoundRobinProxy([a.origin, b.origin]);
    const client = await clients.connect(`${proxy.url}/hub`, { statefulReconnect: true, reconnect: [0, 100, 100, 100] });
    const id = (await client.invoke('ConnectionId')) as string;
    expect(b.server.connectionCount).toBe(1);
    const reconnected = new Promise<string | undefined>((resolve) => client.onreconnected(resolve));
    // B shuts down: its Close allows reconnecting, and its port refuses from now on.
    proxy.setEnabled(1, false);
    await b.close();
    const newId = await within(reconnected, 5000, 'onreconnected');
    expect(newId).toBeDefined();
    expect(newId).not.toBe(id);
    expect(await client.invoke('ConnectionId')).toBe(newId);
    // (A may also hold the client's last reattach attempt, waiting for a handshake that never comes:
    // within disconnectTimeoutMs of negotiate a node cannot tell it from a first upgrade.)
    expect(a.server.connectionStats().connections).toBe(1);
  });
});
