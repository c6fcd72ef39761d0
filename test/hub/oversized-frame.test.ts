// A WebSocket frame over the frame limit (max(1 MiB, 4 × maxMessageSize)) is refused by `ws`
// before it is read; the client still gets a SignalR error Close naming the limit first (as
// ASP.NET sends a Close for any message over its limit), not a bare 1009. HTTP transports answer a
// POST body over their limit with 413 and an error Close.
import type { HubConnection } from '@microsoft/signalr';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { clientPool, PROTOCOLS, type TransportName } from '../support/signalr.js';
import { negotiateToken, startHub, within, type HubFixture } from './fixture.js';
import { RS, rawPool } from './raw-client.js';

const FRAME_LIMIT = 1024 * 1024; // the default maxMessageSize (32 KB) × 4 is below 1 MiB
const FRAME_TEXT = `A WebSocket frame larger than ${FRAME_LIMIT} bytes arrived; this server takes hub messages of at most 32768 bytes (maxMessageSize) and frames of at most ${FRAME_LIMIT} bytes. Send smaller messages (split large data, or send it as a client-to-server stream), or raise maxMessageSize on the server.`;
const CLOSE_TEXT = `Connection closed with an error. SB_PROTOCOL_MESSAGE_TOO_LARGE: ${FRAME_TEXT}`;
const BIG = 'x'.repeat(20 * 1024 * 1024);

let hub: HubFixture;
let bystander: HubConnection;
const clients = clientPool();
const raw = rawPool();

beforeAll(async () => {
  hub = await startHub();
  bystander = await clients.connect(hub.url, { protocol: 'messagepack' });
});
afterEach(() => raw.terminateAll());
afterAll(async () => {
  await clients.stopAll();
  await hub?.close();
});

let round = 0;
async function expectNodeHealthy(): Promise<void> {
  const text = `alive ${++round}`;
  expect(await within(bystander.invoke('Echo', text), 2000, 'bystander Echo')).toBe(text);
  const fresh = await within(clients.connect(hub.url), 5000, 'a new client');
  expect(await within(fresh.invoke('Echo', text), 2000, 'new client Echo')).toBe(text);
}

/** Starts `c`, sends `Echo(BIG)` and resolves with the error `onclose` reports. */
async function closeErrorOfBigEcho(c: HubConnection): Promise<Error | undefined> {
  const closed = new Promise<Error | undefined>((resolve) => c.onclose(resolve));
  await expect(within(c.invoke('Echo', BIG), 10_000, '20 MB invoke')).rejects.toThrow();
  return within(closed, 10_000, 'onclose');
}

describe.each(PROTOCOLS)('a 20 MB frame over WebSockets (%s, official client)', (protocol) => {
  it('gets the SignalR error Close naming the limit before the socket closes; the node stays healthy', async () => {
    const c = await clients.connect(hub.url, { protocol });
    const connectionId = c.connectionId!;
    const error = await closeErrorOfBigEcho(c);
    expect(error?.message).toBe(`Server returned an error on close: ${CLOSE_TEXT}`);
    const entry = await hub.logs.waitFor('bad input from client; closing this connection', { connectionId, code: 'SB_PROTOCOL_MESSAGE_TOO_LARGE' });
    expect(entry.level).toBe('warn');
    await expectNodeHealthy();
  });
});

describe('raw WebSocket clients', () => {
  it('the Close (reconnect allowed) precedes a normal close frame', async () => {
    const { connectionToken } = await negotiateToken(hub.url);
    const client = await raw.connected(hub.wsUrl(connectionToken));
    client.send(`{"type":1,"target":"Echo","arguments":["${'y'.repeat(FRAME_LIMIT)}"]}${RS}`);
    const close = await client.closeMessage(5000);
    expect(close).toEqual({ type: 7, error: CLOSE_TEXT, allowReconnect: true });
    expect((await client.closed(5000)).code).toBe(1000);
    await expectNodeHealthy();
  });

  it('before the handshake: a handshake error reply names the limit', async () => {
    const client = await raw.open(hub.wsUrl());
    client.send(Buffer.alloc(FRAME_LIMIT + 1, 0x20), false);
    expect(await client.nextHandshakeReply(5000)).toEqual({ error: FRAME_TEXT });
    expect((await client.closed(5000)).code).toBe(1000);
  });

  it('a frame at the limit is read (and refused by the per-message limit, as before)', async () => {
    const { connectionToken } = await negotiateToken(hub.url);
    const client = await raw.connected(hub.wsUrl(connectionToken));
    client.send('z'.repeat(FRAME_LIMIT));
    const close = await client.closeMessage(5000);
    expect(close['error']).toMatch(/^Connection closed with an error\. SB_PROTOCOL_MESSAGE_TOO_LARGE: The message of \d+ bytes \(or more\) exceeds the maximum message size of 32768 bytes\./);
  });
});

describe.each<TransportName>(['ServerSentEvents', 'LongPolling'])('a 20 MB argument over %s (official client)', (transport) => {
  it('the POST gets 413 and the connection an error Close naming the POST limit', async () => {
    const c = await clients.connect(hub.url, { transport });
    const error = await closeErrorOfBigEcho(c);
    expect(error?.message).toBe(
      `Server returned an error on close: Connection closed with an error. SB_TRANSPORT_BODY_TOO_LARGE: The request body is larger than ${FRAME_LIMIT} bytes (the POST limit derived from maxMessageSize); send smaller batches.`,
    );
    await expectNodeHealthy();
  });
});
