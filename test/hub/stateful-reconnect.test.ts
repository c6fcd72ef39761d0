// Stateful reconnect (protocol doc section 6) on one node: the official client's
// withStatefulReconnect() over WebSockets, and a raw client for the wire rules.
import type { Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { jsonHubProtocol, MessageType } from '@switchboard/protocol';
import { clientPool, delay, PROTOCOLS, signalR } from '../support/signalr.js';
import { startRoundRobinProxy, type RoundRobinProxy } from '../support/tcp-proxy.js';
import { negotiate, startHub, within, type HubFixture } from './fixture.js';
import { RawClient, rawPool, type Message } from './raw-client.js';

const REATTACHED = 'stateful reconnect: the client reattached';
const clients = clientPool();
const raw = rawPool();
const extra: RawClient[] = [];
afterEach(async () => {
  await clients.stopAll();
  raw.terminateAll();
  for (const c of extra.splice(0)) c.terminate();
});

async function until(condition: () => boolean, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await delay(5);
  }
}

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

/** A fixture whose `/hub` grants stateful reconnect, and a way to cut its WebSockets from the server side (no close frame). */
async function statefulHub(overrides: Parameters<typeof startHub>[0] = {}, endpoint = {}) {
  const f = await startHub({ heartbeatIntervalMs: 50, ...overrides }, { endpoint: { allowStatefulReconnects: true, ...endpoint } });
  const sockets = new Set<Socket>();
  f.http.on('upgrade', (_req, socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  /** Destroys every upgraded TCP socket: the server's ws closes with 1006, so does the client's. */
  const cut = (): number => {
    const n = sockets.size;
    for (const s of sockets) s.destroy();
    return n;
  };
  return { f, cut };
}

async function statefulToken(url: string): Promise<string> {
  const { status, body } = await negotiate(url, 'negotiateVersion=1&useStatefulReconnect=true');
  expect(status).toBe(200);
  expect(body['useStatefulReconnect']).toBe(true);
  return body['connectionToken'] as string;
}

describe('negotiate: useStatefulReconnect', () => {
  let on: HubFixture;
  let off: HubFixture;
  beforeAll(async () => {
    [on, off] = await Promise.all([startHub({}, { endpoint: { allowStatefulReconnects: true } }), startHub()]);
  });
  afterAll(async () => {
    await Promise.all([on?.close(), off?.close()]);
  });

  it('is granted only when the endpoint allows it and the query asks (key and value case-insensitive), and is written first', async () => {
    const asked = await negotiate(on.url, 'negotiateVersion=1&useStatefulReconnect=true');
    expect(asked.body['useStatefulReconnect']).toBe(true);
    expect(Object.keys(asked.body)[0]).toBe('useStatefulReconnect');
    expect((await negotiate(on.url, 'negotiateVersion=1&UseStatefulReconnect=True')).body['useStatefulReconnect']).toBe(true);
    expect('useStatefulReconnect' in (await negotiate(on.url, 'negotiateVersion=1')).body).toBe(false);
    expect('useStatefulReconnect' in (await negotiate(on.url, 'negotiateVersion=1&useStatefulReconnect=false')).body).toBe(false);
    const offAsked = await negotiate(off.url, 'negotiateVersion=1&useStatefulReconnect=true');
    expect(offAsked.status).toBe(200);
    expect('useStatefulReconnect' in offAsked.body).toBe(false);
  });

  it('mapHub refuses a bad statefulReconnectBufferSize, naming the option', async () => {
    expect(() => on.server.mapHub('/bad', { methods: {} }, { allowStatefulReconnects: true, statefulReconnectBufferSize: 0 })).toThrow(/statefulReconnectBufferSize/);
  });
});

describe('stateful reconnect with the official client', () => {
  it.each(PROTOCOLS)('%s: sockets cut mid-stream both ways: every message once, in order; no reconnect events; same connection', async (protocol) => {
    const { f, cut } = await statefulHub();
    try {
      const client = await clients.connect(f.url, { protocol, statefulReconnect: true });
      const events: string[] = [];
      client.onreconnecting(() => events.push('reconnecting'));
      client.onreconnected(() => events.push('reconnected'));
      client.onclose(() => events.push('close'));
      const id = (await client.invoke('ConnectionId')) as string;
      expect(id).toBe(client.connectionId);
      const received: number[] = [];
      client.on('Message', (m: string) => received.push(Number(m)));

      // Server → client: a push every 2 ms from outside the hub, through the scale-out.
      let pushed = 0;
      const pusher = setInterval(() => void f.hubs.hub.clients.client(id).Message(String(pushed++)), 2);
      // Client → server: invocations with results, in batches (the server bounds pending invocations).
      const results: Promise<unknown>[] = [];
      let cuts = 0;
      try {
        for (let batch = 0; batch < 30; batch++) {
          const pending = range(10).map((i) => client.invoke('Record', batch * 10 + i));
          results.push(...pending);
          // Pushes tied to the batches too, so server→client traffic crosses every cut even when a
          // loaded machine fires the interval rarely.
          for (let k = 0; k < 3; k++) void f.hubs.hub.clients.client(id).Message(String(pushed++));
          if (batch % 10 === 5) cuts += cut(); // while this batch is in flight
          await within(Promise.all(pending), 5000, `batch ${batch}`);
        }
      } finally {
        clearInterval(pusher);
      }
      expect(cuts).toBe(3);
      expect(await Promise.all(results)).toEqual(range(300));
      expect(f.recorded).toEqual(range(300));
      await until(() => received.length >= pushed, `${pushed} pushes (got ${received.length})`);
      await delay(50);
      expect(received).toEqual(range(pushed));
      expect(pushed).toBeGreaterThan(20);

      expect(events).toEqual([]);
      expect(client.state).toBe(signalR.HubConnectionState.Connected);
      expect(client.connectionId).toBe(id);
      expect(await client.invoke('ConnectionId')).toBe(id);
      expect(f.logs.find(REATTACHED, { connectionId: id }).length).toBe(3);
      expect(f.lifecycle).toEqual([{ event: 'connected', connectionId: id, transport: 'WebSockets' }]);
      expect(f.server.connectionCount).toBe(1);

      // A graceful stop still ends it for good, at once.
      await client.stop();
      await until(() => f.lifecycle.length === 2, 'onDisconnected');
      expect(f.lifecycle[1]).toEqual({ event: 'disconnected', connectionId: id, transport: 'WebSockets' });
    } finally {
      await f.close();
    }
  });

  it('without the endpoint option the client connects without it, and a cut ends the connection', async () => {
    const f = await startHub({ heartbeatIntervalMs: 50 });
    const sockets: Socket[] = [];
    f.http.on('upgrade', (_req, socket: Socket) => sockets.push(socket));
    try {
      const client = await clients.connect(f.url, { statefulReconnect: true });
      const closed = new Promise<Error | undefined>((resolve) => client.onclose(resolve));
      expect(await client.invoke('Echo', 'x')).toBe('x');
      for (const s of sockets) s.destroy();
      const error = await within(closed, 5000, 'onclose');
      expect(error?.message).toMatch(/WebSocket closed with status code: 1006/);
      await until(() => f.lifecycle.some((e) => e.event === 'disconnected'), 'onDisconnected');
    } finally {
      await f.close();
    }
  });

  it('no reattach within disconnectTimeoutMs: the server disposes of the connection and runs onDisconnected', async () => {
    const { f } = await statefulHub({ disconnectTimeoutMs: 600 });
    let proxy: RoundRobinProxy | undefined;
    try {
      proxy = await startRoundRobinProxy([f.origin]);
      const client = await clients.connect(`${proxy.url}/hub`, { statefulReconnect: true });
      const id = (await client.invoke('ConnectionId')) as string;
      const closed = new Promise<Error | undefined>((resolve) => client.onclose(resolve));
      // The network goes away for good: the reattach cannot reach the server.
      proxy.setEnabled(0, false);
      proxy.cutAll();
      const cutAt = Date.now();
      await within(closed, 5000, 'the client to give up');
      await f.logs.waitFor('the WebSocket was lost; waiting for the client to reattach', { connectionId: id });
      // Kept meanwhile...
      expect(f.lifecycle.filter((e) => e.event === 'disconnected')).toEqual([]);
      expect(f.server.connectionCount).toBe(1);
      // ...and disposed after the window, with the reason.
      await until(() => f.lifecycle.some((e) => e.event === 'disconnected'), 'onDisconnected', 3000);
      expect(Date.now() - cutAt).toBeGreaterThanOrEqual(550);
      expect(f.lifecycle.at(-1)).toMatchObject({ event: 'disconnected', connectionId: id });
      expect(f.lifecycle.at(-1)?.error).toMatch(/did not reattach within 600 ms/);
      expect(f.server.connectionCount).toBe(0);
    } finally {
      await proxy?.close();
      await f.close();
    }
  });
});

describe('stateful reconnect on the wire (raw client)', () => {
  let f: HubFixture;
  beforeAll(async () => {
    ({ f } = await statefulHub({ maxBufferedBytes: 3000 }, { statefulReconnectBufferSize: 200 }));
  });
  afterAll(async () => {
    await f?.close();
  });

  const acks = (c: RawClient): Message[] => c.messages.filter((m) => m.type === MessageType.Ack);
  const losses = (): number => f.logs.find('the WebSocket was lost').length;
  const disconnects = (): number => f.lifecycle.filter((e) => e.event === 'disconnected').length;

  it('a Sequence above the next expected id closes the connection with an error Close', async () => {
    const c = await raw.connected(f.wsUrl(await statefulToken(f.url)), 'json', 2);
    c.invoke('Echo', ['one'], '1');
    await c.completion('1');
    c.sendJson({ type: MessageType.Sequence, sequenceId: 3 }); // expected at most 2
    const close = await c.closeMessage();
    expect(close['error']).toMatch(/^Connection closed with an error\. SB_PROTOCOL_INVALID_SEQUENCE: Sequence ID greater than amount of messages we've received/);
    expect(close['allowReconnect']).toBe(true);
    expect((await c.closed()).code).toBe(1000);
  });

  it('Acks what it processed about once a second, only when it moved; replays unacknowledged messages after a reattach and drops replayed duplicates', async () => {
    const token = await statefulToken(f.url);
    const c1 = await raw.connected(f.wsUrl(token), 'json', 2);
    c1.invoke('Record', ['a'], '1');
    expect((await c1.completion('1'))['result']).toBe('a');
    expect(await c1.find((m) => m.type === MessageType.Ack, 1000, 'an Ack')).toEqual({ type: 8, sequenceId: 1 });
    c1.sendJson({ type: MessageType.Ping }); // not counted: no new Ack
    await delay(200);
    expect(acks(c1)).toHaveLength(1);

    // The socket drops without a close frame; the client reattaches with the same token, no handshake.
    const lost = losses();
    c1.terminate();
    await until(() => losses() > lost, 'the server to notice the loss');
    const c2 = await RawClient.reattach(f.wsUrl(token));
    extra.push(c2);
    // First the server's Sequence (the completion was never acknowledged), then its replay.
    expect(await c2.message(0)).toEqual({ type: 9, sequenceId: 1 });
    expect(await c2.message(1)).toEqual({ type: 3, invocationId: '1', result: 'a' });
    // The client replays its unacknowledged invocation too: the server drops it (already processed).
    c2.sendJson({ type: MessageType.Sequence, sequenceId: 1 }, { type: 1, invocationId: '1', target: 'Record', arguments: ['a'] });
    c2.invoke('Record', ['b'], '2');
    expect((await c2.completion('2'))['result']).toBe('b');
    const recorded = f.recorded.filter((v) => v === 'a' || v === 'b');
    expect(recorded).toEqual(['a', 'b']);
    expect(await c2.find((m) => m.type === MessageType.Ack && m['sequenceId'] === 2, 1000, 'Ack 2')).toEqual({ type: 8, sequenceId: 2 });

    // Acknowledged: the next reattach announces the next id and replays nothing.
    c2.sendJson({ type: MessageType.Ack, sequenceId: 2 });
    await delay(50);
    c2.terminate();
    await until(() => losses() > lost + 1, 'the second loss');
    const c3 = await RawClient.reattach(f.wsUrl(token));
    extra.push(c3);
    expect(await c3.message(0)).toEqual({ type: 9, sequenceId: 3 });
    await delay(150);
    expect(c3.messages.filter((m) => m.type !== MessageType.Ping && m.type !== MessageType.Ack)).toHaveLength(1);
    // A clean close ends it for good: a later reattach gets 404.
    const ended = disconnects();
    c3.ws.close(1000);
    await until(() => disconnects() > ended, 'onDisconnected after the clean close');
    await expect(RawClient.reattach(f.wsUrl(token))).rejects.toMatchObject({ statusCode: 404 });
  });

  it('bounds the buffer: sends wait for Acks beyond statefulReconnectBufferSize, and too much held closes with reconnect allowed', async () => {
    const c = await raw.connected(f.wsUrl(await statefulToken(f.url)), 'json', 2);
    c.invoke('ConnectionId', [], 'id');
    const id = (await c.completion('id'))['result'] as string;
    c.sendJson({ type: MessageType.Ack, sequenceId: 1 }); // the window is empty again
    await delay(50);
    const payload = 'x'.repeat(40);
    const size = jsonHubProtocol.write({ type: MessageType.Invocation, target: 'Message', arguments: [payload] }).length;
    const fits = Math.ceil(200 / size); // written while fewer than 200 bytes are unacknowledged
    for (let i = 0; i < 10; i++) await f.hubs.hub.clients.client(id).Message(payload);
    const invocations = () => c.messages.filter((m) => m.type === MessageType.Invocation).length;
    await until(() => invocations() >= fits, `${fits} messages`);
    await delay(150);
    expect(invocations()).toBe(fits);
    // Acknowledging releases the held ones, in order.
    c.sendJson({ type: MessageType.Ack, sequenceId: 1 + fits });
    await until(() => invocations() >= 2 * fits, `${2 * fits} messages`);
    await delay(100);
    expect(invocations()).toBe(2 * fits);
    // A client that never acknowledges cannot make the server hold without bound.
    for (let i = 0; i < Math.ceil(3000 / size) + 5; i++) await f.hubs.hub.clients.client(id).Message(payload);
    const close = await c.closeMessage();
    expect(close['error']).toMatch(/^Connection closed with an error\. SB_RECONNECT_BUFFER_FULL: /);
    expect(close['allowReconnect']).toBe(true);
    await f.logs.waitFor('stateful reconnect: too many unacknowledged messages', { connectionId: id });
  });

  it('a version 1 handshake (or no token) gets no stateful reconnect: no Acks, and a lost socket ends the connection', async () => {
    const v1 = await raw.connected(f.wsUrl(await statefulToken(f.url)), 'json', 1);
    const skipped = await raw.connected(f.wsUrl(), 'json', 2); // skipNegotiation: nothing to reattach with
    for (const c of [v1, skipped]) c.invoke('ConnectionId', [], 'id');
    const ids = await Promise.all([v1, skipped].map(async (c) => (await c.completion('id'))['result'] as string));
    await delay(200);
    expect([acks(v1), acks(skipped)]).toEqual([[], []]);
    v1.terminate();
    skipped.terminate();
    await until(() => ids.every((id) => f.lifecycle.some((e) => e.event === 'disconnected' && e.connectionId === id)), 'both onDisconnected', 2000);
  });

  it('a second socket for a connection without stateful reconnect is still refused with 409', async () => {
    const token = await statefulToken(f.url);
    const v1 = await raw.connected(f.wsUrl(token), 'json', 1);
    v1.invoke('Echo', ['x'], '1');
    await v1.completion('1');
    await expect(RawClient.open(f.wsUrl(token))).rejects.toMatchObject({ statusCode: 409 });
    // The first socket keeps working.
    v1.invoke('Echo', ['y'], '2');
    expect(await v1.completion('2')).toMatchObject({ result: 'y' });
  });
});
