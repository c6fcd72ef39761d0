// The functional-test server's other endpoints (signalr-protocol.md 9.3, 9.5, 9.6): /authorizedhub,
// /redirect, /bad-negotiate, raw /echo, /uncreatable; on every transport and protocol pair.
import { describe, expect, it } from 'vitest';
import { createRequire } from 'node:module';
import WebSocket from 'ws';
import type { HttpConnection as HttpConnectionClass } from '@microsoft/signalr/dist/esm/HttpConnection.js';
import { conformanceFixture } from './fixture.js';
import { PROTOCOLS, TRANSPORT_PROTOCOLS, buildClient, signalR } from '../support/signalr.js';
import { within } from '../support/timing.js';

// The official client's connection layer (no hub protocol), as the functional tests use it for /echo.
const { HttpConnection } = createRequire(import.meta.url)('@microsoft/signalr/dist/cjs/HttpConnection.js') as { HttpConnection: typeof HttpConnectionClass };

const fixture = conformanceFixture();
const pool = fixture.pool;

async function getJwt(): Promise<string> {
  const res = await fetch(`${fixture.app.url}/generateJwtToken`, { signal: AbortSignal.timeout(3000) });
  expect(res.status).toBe(200);
  return res.text();
}

describe.each(TRANSPORT_PROTOCOLS)('/authorizedhub over %s (%s)', (transport, protocol) => {
  it('start() without a token rejects with the exact 401 negotiate text', async () => {
    const c = pool.track(buildClient(`${fixture.app.url}/authorizedhub`, { transport, protocol }));
    await expect(within(c.start())).rejects.toHaveProperty('message', `Failed to complete negotiation with the server: Error: Unauthorized: Status code '401'`);
    expect(c.state).toBe(signalR.HubConnectionState.Disconnected);
  });

  it('a forged token is refused the same way', async () => {
    const token = await getJwt();
    const forged = `${token.slice(0, token.lastIndexOf('.') + 1)}${'A'.repeat(43)}`;
    const c = pool.track(buildClient(`${fixture.app.url}/authorizedhub`, { transport, protocol, accessTokenFactory: () => forged }));
    await expect(within(c.start())).rejects.toHaveProperty('message', `Failed to complete negotiation with the server: Error: Unauthorized: Status code '401'`);
  });

  // SSE sends the token as the access_token query parameter, the others in the Authorization header.
  it('a token from /generateJwtToken lets Echo work', async () => {
    let factoryCalls = 0;
    const c = await pool.connect(`${fixture.app.url}/authorizedhub`, {
      transport,
      protocol,
      accessTokenFactory: () => {
        factoryCalls++;
        return getJwt();
      },
    });
    expect(await within(c.invoke('Echo', 'authorized'))).toBe('authorized');
    expect(factoryCalls).toBeGreaterThan(0);
  });

  // skipNegotiation exists only for WebSockets (the other transports refuse it client-side: connection.test.ts).
  it.runIf(transport === 'WebSockets')('skipNegotiation without a token is refused at the upgrade', async () => {
    const c = pool.track(buildClient(`${fixture.app.url}/authorizedhub`, { protocol, skipNegotiation: true }));
    await expect(within(c.start())).rejects.toThrow();
    expect(c.state).toBe(signalR.HubConnectionState.Disconnected);
  });
});

describe.each(TRANSPORT_PROTOCOLS)('/redirect over %s (%s)', (transport, protocol) => {
  const redirectUrl = () => `${fixture.app.url}/redirect?baseUrl=${fixture.app.url}`;

  it('follows the negotiate redirect to /testHub; numRedirects grows per connection', async () => {
    const first = await pool.connect(redirectUrl(), { transport, protocol });
    expect(await within(first.invoke('Echo', 'redirected'))).toBe('redirected');
    expect(await within(first.invoke('GetActiveTransportName'))).toBe(transport);
    const n1 = (await within(first.invoke('GetNumRedirects'))) as number;
    expect(typeof n1).toBe('number');
    expect(n1).toBeGreaterThanOrEqual(1); // numbered from 1, as the official server's Interlocked.Increment

    const second = await pool.connect(redirectUrl(), { transport, protocol });
    const n2 = (await within(second.invoke('GetNumRedirects'))) as number;
    expect(n2).toBeGreaterThan(n1);
  });

  it('reconnecting after a redirect negotiates again and sees a higher redirect count', async () => {
    const c = pool.track(buildClient(redirectUrl(), { transport, protocol, reconnect: true }));
    await within(c.start());
    const before = (await within(c.invoke('GetNumRedirects'))) as number;
    const firstId = c.connectionId;
    const reconnected = within(new Promise<string | undefined>((resolve) => c.onreconnected(resolve)), 4000, 'onreconnected');
    (c as unknown as { serverTimeout(): void }).serverTimeout();
    const newId = await reconnected;
    expect(newId).not.toBe(firstId);
    expect(await within(c.invoke('GetNumRedirects'))).toBeGreaterThan(before);
  });
});

describe.each(PROTOCOLS)('/bad-negotiate (%s)', (protocol) => {
  it('start() rejects with the response body and status code', async () => {
    const c = pool.track(buildClient(`${fixture.app.url}/bad-negotiate`, { protocol }));
    const error = await within(c.start()).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error).toBeInstanceOf(Error);
    expect(error!.message).toContain('Some response from server');
    expect(error!.message).toContain(`Status code '400'`);
  });
});

describe.each(TRANSPORT_PROTOCOLS)('/uncreatable over %s (%s)', (transport, protocol) => {
  it('the connection ends with "Connection closed with an error."', async () => {
    const c = pool.track(buildClient(`${fixture.app.url}/uncreatable`, { transport, protocol }));
    const failure = new Promise<Error | undefined>((resolve) => {
      c.onclose((e) => resolve(e));
      c.start().catch((e: Error) => resolve(e));
    });
    const error = await within(failure, 4000, 'connection failure');
    expect(error).toBeInstanceOf(Error);
    expect(error!.message).toContain('Connection closed with an error.');
    expect(error!.message).toContain('InvalidOperationException: Hub could not be created.');
    await within(new Promise<void>((resolve) => setTimeout(resolve, 20)));
    expect(c.state).toBe(signalR.HubConnectionState.Disconnected);
  });
});

describe('raw /echo connection', () => {
  const wsUrl = () => `${fixture.app.url.replace('http', 'ws')}/echo`;

  function open(): Promise<WebSocket> {
    const ws = new WebSocket(wsUrl());
    return within(
      new Promise<WebSocket>((resolve, reject) => {
        ws.once('open', () => resolve(ws));
        ws.once('error', reject);
      }),
      3000,
      'echo WebSocket open',
    );
  }

  function nextMessage(ws: WebSocket): Promise<{ data: Buffer; isBinary: boolean }> {
    return within(new Promise((resolve) => ws.once('message', (data: Buffer, isBinary: boolean) => resolve({ data, isBinary }))), 3000, 'echo message');
  }

  it('echoes text and binary frames without negotiate or handshake', async () => {
    const ws = await open();
    try {
      const text = nextMessage(ws);
      ws.send('hello');
      const t = await text;
      expect(t.isBinary).toBe(false);
      expect(t.data.toString('utf8')).toBe('hello');

      const binary = nextMessage(ws);
      ws.send(Buffer.from([0, 1, 2, 255]));
      const b = await binary;
      expect(b.isBinary).toBe(true);
      expect([...b.data]).toEqual([0, 1, 2, 255]);
    } finally {
      ws.terminate();
    }
  });

  it('a client close without a code is answered with 1000 and is clean', async () => {
    const ws = await open();
    const echoed = nextMessage(ws);
    ws.send('hello');
    expect((await echoed).data.toString('utf8')).toBe('hello');
    const closed = within(
      new Promise<{ code: number; wasClean: boolean }>((resolve) => ws.addEventListener('close', (e) => resolve({ code: e.code, wasClean: e.wasClean }))),
      3000,
      'echo close',
    );
    ws.close();
    expect(await closed).toEqual({ code: 1000, wasClean: true });
  });

  it('negotiate works on the raw endpoint too', async () => {
    const res = await fetch(`${fixture.app.url}/echo/negotiate?negotiateVersion=1`, { method: 'POST', signal: AbortSignal.timeout(3000) });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { negotiateVersion: number; connectionId: string; connectionToken: string; availableTransports: { transport: string }[] };
    expect(body.negotiateVersion).toBe(1);
    expect(body.connectionToken).toBeTruthy();
    expect(body.availableTransports.map((t) => t.transport)).toEqual(['WebSockets', 'ServerSentEvents', 'LongPolling']);

    const ws = new WebSocket(`${wsUrl()}?id=${body.connectionToken}`);
    try {
      await within(new Promise<void>((resolve, reject) => ws.once('open', () => resolve()).once('error', reject)), 3000, 'open with token');
      const echoed = nextMessage(ws);
      ws.send('Hello World!');
      expect((await echoed).data.toString('utf8')).toBe('Hello World!');
    } finally {
      ws.terminate();
    }
  });

  // Every transport with every transfer format it carries (Server-Sent Events are text only).
  it.each([
    ['WebSockets', 'Text', 'Hello World!'],
    ['WebSockets', 'Binary', new Uint8Array([72, 105, 0, 255]).buffer],
    ['ServerSentEvents', 'Text', 'Hello World!'],
    ['LongPolling', 'Text', 'Hello World!'],
    ['LongPolling', 'Binary', new Uint8Array([72, 105, 0, 255]).buffer],
  ] as const)('the official HttpConnection echoes over %s (%s)', async (transport, format, message) => {
    const connection = new HttpConnection(`${fixture.app.url}/echo`, { transport: signalR.HttpTransportType[transport], logger: signalR.NullLogger.instance });
    const received = within(
      new Promise<string | ArrayBuffer>((resolve) => {
        connection.onreceive = (data) => resolve(data);
      }),
      3000,
      'HttpConnection echo',
    );
    const closed = within(
      new Promise<Error | undefined>((resolve) => {
        connection.onclose = (error) => resolve(error);
      }),
      3000,
      'HttpConnection close',
    );
    try {
      await within(connection.start(signalR.TransferFormat[format]), 3000, 'HttpConnection start');
      expect(connection.connectionId).toBeTruthy();
      await within(connection.send(message));
      const data = await received;
      if (typeof message === 'string') expect(data).toBe(message);
      else expect([...new Uint8Array(data as ArrayBuffer)]).toEqual([...new Uint8Array(message)]);
    } finally {
      await within(connection.stop(), 3000, 'HttpConnection stop');
    }
    expect(await closed).toBeUndefined();
  });
});

describe('/echoredirect', () => {
  it('answers 307 (the method kept: the negotiate POST stays a POST) with the /echo URL', async () => {
    const res = await fetch(`${fixture.app.url}/echoredirect/negotiate?negotiateVersion=1`, { method: 'POST', redirect: 'manual' });
    expect(res.status).toBe(307);
    expect(res.headers.get('location')).toBe('/echo/negotiate?negotiateVersion=1');
  });
});
