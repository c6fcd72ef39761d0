import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { HubConnection } from '@microsoft/signalr';
import { clientPool, delay } from '../support/signalr.js';
import { startHub, within, type HubFixture } from './fixture.js';
import { RS, rawPool, type RawClient } from './raw-client.js';

const raw = rawPool();
const clients = clientPool();
const ECHO_1 = `{"type":1,"invocationId":"1","target":"Echo","arguments":["one"]}${RS}`;

let round = 0;
async function expectBystanderAlive(bystander: HubConnection): Promise<void> {
  const text = `alive ${++round}`;
  expect(await within(bystander.invoke('Echo', text), 2000, 'bystander Echo')).toBe(text);
}

/** The only frame is the exact error reply, then the socket closes normally. */
async function expectRefused(client: RawClient, reply: string): Promise<void> {
  const info = await client.closed();
  expect(client.frames.map((f) => f.data.toString('utf8'))).toEqual([reply]);
  expect(client.frames[0]!.binary).toBe(false);
  expect(info.code).toBe(1000);
}

describe('handshake', () => {
  let hub: HubFixture;
  let bystander: HubConnection;

  beforeAll(async () => {
    hub = await startHub();
    bystander = await clients.connect(hub.url);
  });
  afterEach(() => raw.terminateAll());
  afterAll(async () => {
    await clients.stopAll();
    await hub?.close();
  });

  it("refuses an unknown protocol with ASP.NET's exact reply, closes, and logs", async () => {
    const client = await raw.open(hub.wsUrl());
    client.send(`{"protocol":"foo","version":1}${RS}`);
    await expectRefused(client, `{"error":"The protocol 'foo' is not supported."}${RS}`);
    const entry = await hub.logs.waitFor("handshake refused: The protocol 'foo' is not supported.");
    expect(entry.obj['reason']).toBe('SB_HANDSHAKE_UNSUPPORTED_PROTOCOL');
    await expectBystanderAlive(bystander);
  });

  it.each(['json', 'messagepack'])('refuses version 3 of %s with the exact reply', async (protocol) => {
    const client = await raw.open(hub.wsUrl());
    client.send(`{"protocol":"${protocol}","version":3}${RS}`);
    await expectRefused(client, `{"error":"The server does not support version 3 of the '${protocol}' protocol."}${RS}`);
    await hub.logs.waitFor(`handshake refused: The server does not support version 3 of the '${protocol}' protocol.`);
    await expectBystanderAlive(bystander);
  });

  it.each([
    ['json', 1],
    ['json', 2],
    ['messagepack', 1],
    ['messagepack', 2],
  ] as const)('accepts %s version %i and then serves invocations', async (protocol, version) => {
    const client = await raw.connected(hub.wsUrl(), protocol, version);
    expect(client.frames[0]!.data.toString('utf8')).toBe(`{}${RS}`);
    // ASP.NET answers in the negotiated transfer format: binary for MessagePack.
    expect(client.frames[0]!.binary).toBe(protocol === 'messagepack');
    if (protocol === 'json') {
      client.invoke('Echo', [`v${version}`], '1');
    } else {
      const body = Buffer.from([0x95, 0x01, 0x80, 0xa1, 0x31, 0xa4, 0x45, 0x63, 0x68, 0x6f, 0x91, 0xa2, 0x76, 0x30 + version]);
      client.send(Buffer.concat([Buffer.from([body.length]), body]));
    }
    expect((await client.completion('1'))['result']).toBe(`v${version}`);
  });

  it.each([
    ['not JSON', `{protocol:json}${RS}`],
    ['an array', `["json",1]${RS}`],
    ['protocol missing', `{"version":1}${RS}`],
    ['version missing', `{"protocol":"json"}${RS}`],
    ['version a string', `{"protocol":"json","version":"1"}${RS}`],
    ['version fractional', `{"protocol":"json","version":1.5}${RS}`],
  ])('refuses an invalid handshake (%s) with an error reply and closes', async (_label, handshake) => {
    const client = await raw.open(hub.wsUrl());
    client.send(handshake);
    const info = await client.closed();
    expect(client.frames).toHaveLength(1);
    const reply = client.frames[0]!.data.toString('utf8');
    expect(reply.endsWith(RS)).toBe(true);
    const parsed = JSON.parse(reply.slice(0, -1)) as Record<string, unknown>;
    expect(Object.keys(parsed)).toEqual(['error']);
    expect(parsed['error']).toContain('Invalid handshake request');
    expect(info.code).toBe(1000);
    await hub.logs.waitFor('handshake refused: Invalid handshake request', { reason: 'SB_HANDSHAKE_INVALID' });
    await expectBystanderAlive(bystander);
  });

  it('accepts handshake fields in any order with extra fields', async () => {
    const client = await raw.open(hub.wsUrl());
    client.send(`{"version":1,"extra":{"nested":[1,2]},"protocol":"json","more":null}${RS}`);
    expect(await client.nextHandshakeReply()).toEqual({});
    client.invoke('Echo', ['ordered'], '1');
    expect((await client.completion('1'))['result']).toBe('ordered');
  });

  it('accepts the handshake in a binary frame', async () => {
    const client = await raw.open(hub.wsUrl());
    client.send(Buffer.from(`{"protocol":"json","version":1}${RS}`));
    expect(await client.nextHandshakeReply()).toEqual({});
  });

  it('handles the handshake and the first message in one frame, replying {} before the Completion', async () => {
    const client = await raw.open(hub.wsUrl());
    client.send(`{"protocol":"json","version":1}${RS}${ECHO_1}`);
    expect(await client.nextHandshakeReply()).toEqual({});
    expect(await client.completion('1')).toEqual({ type: 3, invocationId: '1', result: 'one' });
    expect(client.frames[0]!.data.toString('utf8').startsWith(`{}${RS}`)).toBe(true);
  });

  it('handles a handshake split across two frames', async () => {
    const client = await raw.open(hub.wsUrl());
    client.send('{"protocol":"js');
    await delay(30);
    expect(client.frames).toEqual([]);
    client.send(`on","version":1}${RS}`);
    expect(await client.nextHandshakeReply()).toEqual({});
    client.invoke('Echo', ['split'], '1');
    expect((await client.completion('1'))['result']).toBe('split');
  });

  it('handles a handshake whose record separator arrives alone, with a message behind it', async () => {
    const client = await raw.open(hub.wsUrl());
    client.send('{"protocol":"json","version":1}');
    await delay(30);
    expect(client.frames).toEqual([]);
    client.send(`${RS}${ECHO_1}`);
    expect(await client.nextHandshakeReply()).toEqual({});
    expect((await client.completion('1'))['result']).toBe('one');
  });

  it('processes several messages in one frame in order', async () => {
    const client = await raw.connected(hub.wsUrl());
    const before = hub.recorded.length;
    client.sendJson(
      { type: 1, invocationId: 'a', target: 'Record', arguments: ['first'] },
      { type: 6 },
      { type: 1, invocationId: 'b', target: 'Record', arguments: ['second'] },
      { type: 1, target: 'Record', arguments: ['third, no id'] },
      { type: 1, invocationId: 'c', target: 'Record', arguments: ['fourth'] },
    );
    await client.completion('c');
    expect(hub.recorded.slice(before)).toEqual(['first', 'second', 'third, no id', 'fourth']);
    expect(client.messages.filter((m) => m.type === 3).map((m) => m['invocationId'])).toEqual(['a', 'b', 'c']);
  });

  it('reassembles a message split across two frames', async () => {
    const client = await raw.connected(hub.wsUrl());
    client.send(ECHO_1.slice(0, 25));
    await delay(30);
    expect(client.messages).toEqual([]);
    client.send(ECHO_1.slice(25));
    expect((await client.completion('1'))['result']).toBe('one');
  });

  it('reassembles a message sent one byte per frame, and a UTF-8 character split across binary frames', async () => {
    const client = await raw.connected(hub.wsUrl());
    for (const ch of ECHO_1) client.send(ch);
    expect((await client.completion('1'))['result']).toBe('one');
    const bytes = Buffer.from(`{"type":1,"invocationId":"2","target":"Echo","arguments":["h€llo 😀"]}${RS}`);
    const cut = bytes.indexOf(0xe2) + 1; // inside the three bytes of '€'
    client.send(bytes.subarray(0, cut), true);
    client.send(bytes.subarray(cut), true);
    expect((await client.completion('2'))['result']).toBe('h€llo 😀');
    expect(client.isOpen).toBe(true);
  });
});

describe('handshake timeout (handshakeTimeoutMs: 300, heartbeatIntervalMs: 50, maxMessageSize: 1024)', () => {
  let hub: HubFixture;
  let bystander: HubConnection;

  beforeAll(async () => {
    hub = await startHub({ handshakeTimeoutMs: 300, heartbeatIntervalMs: 50, maxMessageSize: 1024 });
    bystander = await clients.connect(hub.url);
  });
  afterEach(() => raw.terminateAll());
  afterAll(async () => {
    await clients.stopAll();
    await hub?.close();
  });

  it('cancels a socket that sends nothing', async () => {
    const started = Date.now();
    const client = await raw.open(hub.wsUrl());
    await expectRefused(client, `{"error":"Handshake was canceled."}${RS}`);
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(250);
    expect(elapsed).toBeLessThan(1500);
    const entry = await hub.logs.waitFor('handshake refused: Handshake was canceled.', { reason: 'SB_HANDSHAKE_TIMEOUT' });
    expect(entry.level).toBe('warn');
    await expectBystanderAlive(bystander);
  });

  it('cancels a socket that sent only part of the handshake', async () => {
    const client = await raw.open(hub.wsUrl());
    client.send('{"protocol":"json",');
    await expectRefused(client, `{"error":"Handshake was canceled."}${RS}`);
  });

  it('cancels a handshake larger than maxMessageSize at once', async () => {
    const started = Date.now();
    const client = await raw.open(hub.wsUrl());
    client.send(`{"protocol":"json","version":1,"pad":"${'x'.repeat(2048)}`);
    await expectRefused(client, `{"error":"Handshake was canceled."}${RS}`);
    expect(Date.now() - started).toBeLessThan(250);
    await hub.logs.waitFor('handshake refused: Handshake was canceled.', { reason: 'handshake larger than maxMessageSize' });
    await expectBystanderAlive(bystander);
  });

  it('leaves a connection that completed its handshake alone after the timeout', async () => {
    const client = await raw.connected(hub.wsUrl());
    await delay(500);
    expect(client.isOpen).toBe(true);
    client.invoke('Echo', ['after'], '1');
    expect((await client.completion('1'))['result']).toBe('after');
    expect(client.handshakeReply).toBe(`{}${RS}`);
  });
});
