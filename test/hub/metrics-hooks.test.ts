import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { defineHub, HubError, HubServer, silentLogger, streamMethod, type HubServerMetrics } from '@switchboard/hub-server';
import { SwitchboardError } from '@switchboard/protocol';
import { clientPool, collectStream } from '../support/signalr.js';
import { TEST_SECRET, within } from './fixture.js';
import { UpgradeRefused, rawPool } from './raw-client.js';

// The metrics hooks (HubServerOptions.metrics), connectionStats() and stopAccepting(), in one
// process with official clients.

type Call = [string, ...unknown[]];

function recorder() {
  const calls: Call[] = [];
  const metrics: Required<HubServerMetrics> = {
    connectionOpened: (...a) => void calls.push(['connectionOpened', ...a]),
    connectionClosed: (...a) => void calls.push(['connectionClosed', ...a]),
    messagesReceived: (...a) => void calls.push(['messagesReceived', ...a]),
    messagesSent: (...a) => void calls.push(['messagesSent', ...a]),
    invocation: (...a) => void calls.push(['invocation', ...a]),
  };
  const of = (name: string) => calls.filter((c) => c[0] === name).map((c) => c.slice(1));
  return { calls, metrics, of };
}

interface Node {
  readonly url: string;
  readonly server: HubServer;
  close(): Promise<void>;
}

const nodes: Node[] = [];
const clients = clientPool();
const raw = rawPool();

async function node(metrics: HubServerMetrics): Promise<Node> {
  const server = new HubServer({ secret: TEST_SECRET, logger: silentLogger, metrics });
  server.mapHub(
    '/hubs/probe',
    defineHub()({
      methods: {
        Echo: (_ctx, v: unknown) => v,
        Fail: () => {
          throw new HubError('as asked');
        },
        Count: streamMethod(async function* (_ctx, n: number) {
          for (let i = 0; i < n; i++) yield i;
        }),
      },
    }),
  );
  const http: Server = createServer();
  server.attach(http);
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const n: Node = {
    url: `http://127.0.0.1:${(http.address() as AddressInfo).port}/hubs/probe`,
    server,
    async close() {
      await server.close();
      http.closeAllConnections();
      await new Promise((r) => http.close(r));
    },
  };
  nodes.push(n);
  return n;
}

afterEach(async () => {
  raw.terminateAll();
  await clients.stopAll();
  await Promise.all(nodes.splice(0).map((n) => n.close()));
});

describe('HubServerOptions.metrics hooks', () => {
  it('reports open/close per connection with hub, transport and protocol, and connectionStats counts them', async () => {
    const rec = recorder();
    const n = await node(rec.metrics);
    const json = await clients.connect(n.url, { protocol: 'json' });
    const mp = await clients.connect(n.url, { protocol: 'messagepack' });
    expect(rec.of('connectionOpened')).toEqual([
      ['probe', 'WebSockets', 'json'],
      ['probe', 'WebSockets', 'messagepack'],
    ]);
    expect(n.server.connectionStats()).toEqual({ connections: 2, byHub: { probe: 2 }, byTransport: { WebSockets: 2 }, byProtocol: { json: 1, messagepack: 1 } });

    await json.stop();
    await mp.stop();
    await within(
      (async () => {
        while (rec.of('connectionClosed').length < 2) await new Promise((r) => setTimeout(r, 10));
      })(),
      2000,
      'two connectionClosed calls',
    );
    const closed = rec.of('connectionClosed');
    expect(closed.map((c) => c.slice(0, 3)).sort((a, b) => String(a[2]).localeCompare(String(b[2])))).toEqual([
      ['probe', 'WebSockets', 'json'],
      ['probe', 'WebSockets', 'messagepack'],
    ]);
    for (const c of closed) expect(c[3]).toBeGreaterThanOrEqual(0);
    expect(n.server.connectionStats()).toEqual({ connections: 0, byHub: {}, byTransport: {}, byProtocol: {} });
  });

  it('counts messages both ways and times invocations with their outcome; unknown methods are not reported', async () => {
    const rec = recorder();
    const n = await node(rec.metrics);
    const c = await clients.connect(n.url);
    const received = () => rec.of('messagesReceived').reduce((s, [, m]) => s + (m as number), 0);
    const sent = () => rec.of('messagesSent').reduce((s, [, m]) => s + (m as number), 0);
    const [in0, out0] = [received(), sent()];

    expect(await c.invoke('Echo', 'hi')).toBe('hi');
    await expect(c.invoke('Fail')).rejects.toThrow(/as asked/);
    expect(await collectStream(c.stream('Count', 3))).toEqual([0, 1, 2]);
    await expect(c.invoke('Nope')).rejects.toThrow(/Method does not exist/);

    expect(rec.of('invocation').map(([hub, method, , ok]) => [hub, method, ok])).toEqual([
      ['probe', 'Echo', true],
      ['probe', 'Fail', false],
      ['probe', 'Count', true],
    ]);
    for (const [, , ms] of rec.of('invocation')) expect(ms).toBeGreaterThanOrEqual(0);
    // 4 invocations in; 4 completions + 3 stream items out (at least: pings may add more).
    expect(received() - in0).toBeGreaterThanOrEqual(4);
    expect(sent() - out0).toBeGreaterThanOrEqual(7);
    for (const [hub, , bytes] of [...rec.of('messagesReceived'), ...rec.of('messagesSent')]) {
      expect(hub).toBe('probe');
      expect(bytes).toBeGreaterThan(0);
    }
  });

  it('refuses a metrics value that is not an object, naming the option', () => {
    expect(() => new HubServer({ secret: TEST_SECRET, logger: silentLogger, metrics: null as unknown as HubServerMetrics })).toThrow(SwitchboardError);
    expect(() => new HubServer({ secret: TEST_SECRET, logger: silentLogger, metrics: 5 as unknown as HubServerMetrics })).toThrow(/^metrics must be an object/);
  });
});

describe('HubServer.stopAccepting()', () => {
  it('answers negotiate and new WebSockets with 503 while open connections keep working, until close()', async () => {
    const n = await node({});
    const c = await clients.connect(n.url, { reconnect: [0, 100, 100, 100] });
    expect(n.server.accepting).toBe(true);
    n.server.stopAccepting();
    expect(n.server.accepting).toBe(false);

    const res = await fetch(`${n.url}/negotiate?negotiateVersion=1`, { method: 'POST', signal: AbortSignal.timeout(2000) });
    expect(res.status).toBe(503);
    expect(await res.text()).toMatch(/shutting down/);
    const refused = await raw.open(n.url.replace('http', 'ws')).catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(UpgradeRefused);
    expect((refused as UpgradeRefused).statusCode).toBe(503);

    expect(await c.invoke('Echo', 'still here')).toBe('still here');
    expect(n.server.connectionStats().connections).toBe(1);
    const reconnecting = new Promise<Error | undefined>((resolve) => c.onreconnecting(resolve));
    await n.server.close();
    expect(await within(reconnecting, 2000, 'onreconnecting after close')).toBeUndefined();
    const after = await fetch(`${n.url}/negotiate?negotiateVersion=1`, { method: 'POST', signal: AbortSignal.timeout(2000) });
    expect(after.status).toBe(503);
  });
});
