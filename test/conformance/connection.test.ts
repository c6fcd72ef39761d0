// Connection lifecycle and client results as the official functional tests exercise them
// (signalr-protocol.md 4.5, 7, 9.3 /clientresult, 9.6): skipNegotiation, restart, automatic reconnect,
// on every transport and protocol pair of the official client.
import type { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { conformanceFixture } from './fixture.js';
import { TRANSPORT_PROTOCOLS, buildClient, delay, signalR } from '../support/signalr.js';
import { within } from '../support/timing.js';

const fixture = conformanceFixture();
const pool = fixture.pool;

/** Records every hub message the client writes, by wrapping its (private) protocol instance. */
function recordOutgoing(c: signalR.HubConnection): signalR.HubMessage[] {
  const sent: signalR.HubMessage[] = [];
  const proto = (c as unknown as { _protocol: signalR.IHubProtocol })._protocol;
  const write = proto.writeMessage.bind(proto);
  proto.writeMessage = (message) => {
    sent.push(message);
    return write(message);
  };
  return sent;
}

/** GET /clientresult/{id}: the server invokes client method `Result` and answers with the outcome. */
async function clientResult(connectionId: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`${fixture.app.url}/clientresult/${encodeURIComponent(connectionId)}`, { signal: AbortSignal.timeout(4000) });
  return { status: res.status, body: await res.text() };
}

/** Resolves when `register` fires its callback once. */
function once<T>(register: (cb: (value: T) => void) => void, ms = 4000, what = 'event'): Promise<T> {
  return within(new Promise<T>((resolve) => register(resolve)), ms, what);
}

describe.each(TRANSPORT_PROTOCOLS)('client results via /clientresult over %s (%s)', (transport, protocol) => {
  const connect = () => pool.connect(`${fixture.app.url}/testhub`, { transport, protocol });

  it('a handler returning 10 gives the body 10', async () => {
    const c = await connect();
    let calls = 0;
    c.on('Result', () => {
      calls++;
      return 10;
    });
    expect(await clientResult(c.connectionId!)).toEqual({ status: 200, body: '10' });
    expect(calls).toBe(1);
  });

  it('an async handler result is awaited', async () => {
    const c = await connect();
    c.on('result', async () => {
      await delay(20);
      return 11;
    });
    expect((await clientResult(c.connectionId!)).body).toBe('11');
  });

  it("a throwing handler gives 'Error: from callback'", async () => {
    const c = await connect();
    c.on('Result', () => {
      throw new Error('from callback');
    });
    expect((await clientResult(c.connectionId!)).body).toBe('Error: from callback');
  });

  it("a handler returning undefined gives \"Client didn't provide a result.\"", async () => {
    const c = await connect();
    c.on('Result', () => undefined);
    expect((await clientResult(c.connectionId!)).body).toBe("Client didn't provide a result.");
  });

  it("with no handler the client itself sends \"Client didn't provide a result.\" and the server relays it", async () => {
    const c = await connect();
    const sent = recordOutgoing(c);
    expect((await clientResult(c.connectionId!)).body).toBe("Client didn't provide a result.");
    const completions = sent.filter((m) => m.type === signalR.MessageType.Completion) as signalR.CompletionMessage[];
    expect(completions).toHaveLength(1);
    expect(completions[0]!.error).toBe("Client didn't provide a result.");
    expect(typeof completions[0]!.invocationId).toBe('string');
  });

  it('an unknown connection id fails instead of hanging', async () => {
    const { body } = await clientResult('no-such-connection');
    expect(body).not.toMatch(/^\d+$/);
    expect(body).toContain("'no-such-connection'");
  });
});

describe.each(TRANSPORT_PROTOCOLS)('connection lifecycle over %s (%s)', (transport, protocol) => {
  const hubUrl = () => `${fixture.app.url}/testhub`;
  const viaWebSockets = transport === 'WebSockets';

  // Only WebSockets can skip negotiate; on the other transports the client itself refuses.
  it.runIf(!viaWebSockets)('skipNegotiation is refused by the client on this transport', async () => {
    const c = pool.track(buildClient(hubUrl(), { transport, protocol, skipNegotiation: true }));
    await expect(within(c.start())).rejects.toThrow('Negotiation can only be skipped when using the WebSocket transport directly.');
    expect(c.state).toBe(signalR.HubConnectionState.Disconnected);
  });

  it.runIf(viaWebSockets)('skipNegotiation: the client has no connectionId but the server assigns one', async () => {
    const c = await pool.connect(hubUrl(), { protocol, skipNegotiation: true });
    expect(c.connectionId).toBeNull();
    const id = await within(c.invoke('GetCallerConnectionId'));
    expect(typeof id).toBe('string');
    expect((id as string).length).toBeGreaterThan(0);
    expect(await within(c.invoke('Echo', 'skip'))).toBe('skip');
    expect(await within(c.invoke('GetActiveTransportName'))).toBe('WebSockets');
  });

  it('stop() closes cleanly (onclose without error) and start() again gives a new connection', async () => {
    const c = pool.track(buildClient(hubUrl(), { transport, protocol }));
    await within(c.start());
    const firstId = c.connectionId;
    expect(await within(c.invoke('GetCallerConnectionId'))).toBe(firstId);
    const closed = once<Error | undefined>((cb) => c.onclose(cb), 4000, 'onclose');
    await within(c.stop());
    expect(await closed).toBeUndefined();
    expect(c.state).toBe(signalR.HubConnectionState.Disconnected);

    await within(c.start());
    expect(c.state).toBe(signalR.HubConnectionState.Connected);
    expect(c.connectionId).not.toBe(firstId);
    expect(await within(c.invoke('GetCallerConnectionId'))).toBe(c.connectionId);
    expect(await within(c.invoke('Echo', 'restarted'))).toBe('restarted');
  });

  it('a pending invocation is rejected when the client stops', async () => {
    const c = await pool.connect(hubUrl(), { transport, protocol });
    const pending = c.invoke('StreamingConcat', new signalR.Subject<string>());
    await delay(20);
    await within(c.stop());
    await expect(within(pending)).rejects.toThrow(/Invocation canceled due to the underlying connection being closed/);
  });

  it('automatic reconnect after a client-side server timeout gives a new connection id', async () => {
    const c = pool.track(buildClient(hubUrl(), { transport, protocol, reconnect: true }));
    await within(c.start());
    const firstId = c.connectionId!;
    const reconnecting = once<Error | undefined>((cb) => c.onreconnecting(cb), 4000, 'onreconnecting');
    const reconnected = once<string | undefined>((cb) => c.onreconnected(cb), 4000, 'onreconnected');
    (c as unknown as { serverTimeout(): void }).serverTimeout();
    expect((await reconnecting)?.message).toBe('Server timeout elapsed without receiving a message from the server.');
    const newId = await reconnected;
    expect(newId).toBeTruthy();
    expect(newId).not.toBe(firstId);
    expect(c.connectionId).toBe(newId);
    expect(c.state).toBe(signalR.HubConnectionState.Connected);
    expect(await within(c.invoke('GetCallerConnectionId'))).toBe(newId);
  });

  it.runIf(viaWebSockets)('automatic reconnect after skipNegotiation reconnects without a connection id', async () => {
    const c = pool.track(buildClient(hubUrl(), { protocol, reconnect: true, skipNegotiation: true }));
    await within(c.start());
    const firstServerId = await within(c.invoke('GetCallerConnectionId'));
    const reconnected = once<string | undefined>((cb) => c.onreconnected(cb), 4000, 'onreconnected');
    (c as unknown as { serverTimeout(): void }).serverTimeout();
    expect(await reconnected).toBeUndefined();
    const secondServerId = await within(c.invoke('GetCallerConnectionId'));
    expect(typeof secondServerId).toBe('string');
    expect(secondServerId).not.toBe(firstServerId);
  });

  it('a server Close with allowReconnect (oversized message) makes the client reconnect', async () => {
    const c = pool.track(buildClient(hubUrl(), { transport, protocol, reconnect: true }));
    await within(c.start());
    const firstId = c.connectionId!;
    const reconnecting = once<Error | undefined>((cb) => c.onreconnecting(cb), 4000, 'onreconnecting');
    const reconnected = once<string | undefined>((cb) => c.onreconnected(cb), 4000, 'onreconnected');
    const tooBig = c.invoke('Echo', 'x'.repeat(40 * 1024));
    await expect(within(tooBig)).rejects.toThrow();
    const error = await reconnecting;
    expect(error?.message).toMatch(/^Server returned an error on close: Connection closed with an error\./);
    const newId = await reconnected;
    expect(newId).not.toBe(firstId);
    expect(await within(c.invoke('Echo', 'back'))).toBe('back');
  });

  it('without automatic reconnect, a server Close with an error ends the connection with that error', async () => {
    const c = pool.track(buildClient(hubUrl(), { transport, protocol }));
    await within(c.start());
    const closed = once<Error | undefined>((cb) => c.onclose(cb), 4000, 'onclose');
    c.invoke('Echo', 'y'.repeat(40 * 1024)).catch(() => {});
    const error = await closed;
    expect(error?.message).toMatch(/^Server returned an error on close: Connection closed with an error\./);
    expect(c.state).toBe(signalR.HubConnectionState.Disconnected);
  });
});

describe.each(['json', 'messagepack'] as const)('stateful reconnect on /testhub (WebSockets, %s)', (protocol) => {
  it('withStatefulReconnect(): a cut socket is reattached: same connection, no reconnect events, nothing lost', async () => {
    const sockets = new Set<Socket>();
    const track = (_req: unknown, socket: Socket) => {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
    };
    fixture.app.server.on('upgrade', track);
    try {
      const c = pool.track(buildClient(`${fixture.app.url}/testhub`, { protocol, statefulReconnect: true, reconnect: true }));
      const events: string[] = [];
      c.onreconnecting(() => events.push('reconnecting'));
      c.onclose(() => events.push('close'));
      await within(c.start());
      const id = c.connectionId;
      expect(await within(c.invoke('Echo', 'before'))).toBe('before');
      expect(sockets.size).toBe(1);
      for (const s of sockets) s.destroy(); // no close frame: the client reattaches
      const echoes = await within(Promise.all(['a', 'b', 'c'].map((m) => c.invoke('Echo', m))), 5000, 'echoes across the cut');
      expect(echoes).toEqual(['a', 'b', 'c']);
      expect(c.connectionId).toBe(id);
      expect(c.state).toBe(signalR.HubConnectionState.Connected);
      expect(events).toEqual([]);
    } finally {
      fixture.app.server.off('upgrade', track);
    }
  });
});
