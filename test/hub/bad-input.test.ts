import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { HubConnection } from '@microsoft/signalr';
import { clientPool } from '../support/signalr.js';
import { negotiateToken, startHub, within, type HubFixture } from './fixture.js';
import { RS, rawPool, type RawClient } from './raw-client.js';

const BAD_INPUT_LOG = 'bad input from client; closing this connection';
const CLOSE_PREFIX = 'Connection closed with an error.';

interface Target {
  hub: HubFixture;
  bystander: HubConnection;
}

const raw = rawPool();
const clients = clientPool();

async function target(overrides = {}): Promise<Target> {
  const hub = await startHub(overrides);
  const bystander = await clients.connect(hub.url);
  return { hub, bystander };
}

/** A raw client connected by token, so its public connection id (for log lines) is known. */
async function rawConnection(t: Target, protocol: 'json' | 'messagepack' = 'json'): Promise<{ client: RawClient; connectionId: string }> {
  const { connectionId, connectionToken } = await negotiateToken(t.hub.url);
  return { client: await raw.connected(t.hub.wsUrl(connectionToken), protocol), connectionId };
}

/**
 * The connection got a Close with ASP.NET's error text and reconnect permission, then a 1000 close,
 * the server logged the cause under that connection's id, and the bystander is unaffected.
 */
async function expectErrorClose(t: Target, client: RawClient, connectionId: string, code: string): Promise<void> {
  const close = await client.closeMessage();
  expect(close['error']).toEqual(expect.stringContaining(CLOSE_PREFIX));
  expect(String(close['error']).startsWith(CLOSE_PREFIX)).toBe(true);
  expect(close['error']).toContain(code);
  expect(close['allowReconnect']).toBe(true);
  expect(client.messages.at(-1)).toBe(close);
  expect((await client.closed()).code).toBe(1000);
  const entry = await t.hub.logs.waitFor(BAD_INPUT_LOG, { connectionId, code });
  expect(entry.level).toBe('warn');
  await expectBystanderAlive(t);
}

let round = 0;
async function expectBystanderAlive(t: Target): Promise<void> {
  const text = `still alive ${++round}`;
  expect(await within(t.bystander.invoke('Echo', text), 2000, 'bystander Echo')).toBe(text);
  expect(t.bystander.state).toBe('Connected');
}

function closeFrameText(client: RawClient): string {
  return client.frames.at(-1)!.data.toString('utf8');
}

describe('bad input closes only the offending connection (JSON)', () => {
  let t: Target;

  beforeAll(async () => {
    t = await target();
  });
  afterEach(() => raw.terminateAll());
  afterAll(async () => {
    await clients.stopAll();
    await t?.hub.close();
  });

  it('malformed JSON', async () => {
    const { client, connectionId } = await rawConnection(t);
    client.send(`{bad}${RS}`);
    await expectErrorClose(t, client, connectionId, 'SB_PROTOCOL_INVALID_JSON');
    const frame = closeFrameText(client);
    expect(frame.startsWith(`{"type":7,"error":"${CLOSE_PREFIX} `)).toBe(true);
    expect(frame.endsWith(`","allowReconnect":true}${RS}`)).toBe(true);
  });

  it('a message of an unknown type', async () => {
    const { client, connectionId } = await rawConnection(t);
    client.send(`{"type":99}${RS}`);
    await expectErrorClose(t, client, connectionId, 'SB_PROTOCOL_INVALID_MESSAGE');
    expect(closeFrameText(client)).toContain('unknown message type 99');
  });

  it('an invocation without a target', async () => {
    const { client, connectionId } = await rawConnection(t);
    client.send(`{"type":1,"invocationId":"1","arguments":["x"]}${RS}`);
    await expectErrorClose(t, client, connectionId, 'SB_PROTOCOL_INVALID_MESSAGE');
    expect(client.messages.filter((m) => m.type === 3)).toEqual([]);
  });

  it('a bad message right behind the handshake, in the same frame', async () => {
    const { connectionId, connectionToken } = await negotiateToken(t.hub.url);
    const client = await raw.open(t.hub.wsUrl(connectionToken));
    client.send(`{"protocol":"json","version":1}${RS}{"type":1,"invocationId":"1","target":"Echo","arguments":["ok"]}${RS}{bad}${RS}`);
    expect(await client.nextHandshakeReply()).toEqual({});
    await expectErrorClose(t, client, connectionId, 'SB_PROTOCOL_INVALID_JSON');
  });

  it('a message that is JSON but not an object', async () => {
    const { client, connectionId } = await rawConnection(t);
    client.send(`[1,2,3]${RS}`);
    await expectErrorClose(t, client, connectionId, 'SB_PROTOCOL_INVALID_MESSAGE');
  });

  it('invalid UTF-8 in a binary frame', async () => {
    const { client, connectionId } = await rawConnection(t);
    client.send(Buffer.concat([Buffer.from('{"type":1,"target":"Echo","arguments":["'), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from(`"]}${RS}`)]));
    await expectErrorClose(t, client, connectionId, 'SB_PROTOCOL_INVALID_JSON');
  });

  it('invalid UTF-8 in a text frame: the WebSocket layer closes with 1007 and the server logs it', async () => {
    const { client, connectionId } = await rawConnection(t);
    // ws validates text frames, as ASP.NET's WebSocket does: the socket fails before the hub parser.
    client.ws.send(Buffer.from([0x7b, 0xff, 0xfe, 0x7d, 0x1e]), { binary: false });
    expect((await client.closed()).code).toBe(1007);
    const entry = await t.hub.logs.waitFor('WebSocket error', { connectionId });
    expect(entry.level).toBe('warn');
    await t.hub.logs.waitFor('connection closed', { connectionId });
    await expectBystanderAlive(t);
  });

  it('a message over the 32 KB default from a raw client, without its record separator', async () => {
    const { client, connectionId } = await rawConnection(t);
    client.send(`{"type":1,"target":"Echo","arguments":["${'x'.repeat(33 * 1024)}`);
    await expectErrorClose(t, client, connectionId, 'SB_PROTOCOL_MESSAGE_TOO_LARGE');
  });

  it('the official client invoking Echo with 40 KB gets the error Close', async () => {
    const c = await clients.connect(t.hub.url);
    const connectionId = c.connectionId!; // the client forgets it once closed
    const closed = new Promise<Error | undefined>((resolve) => c.onclose(resolve));
    const invoke = c.invoke('Echo', 'y'.repeat(40 * 1024));
    await expect(within(invoke, 2000, '40 KB invoke')).rejects.toThrow();
    const error = await within(closed, 2000, 'onclose');
    expect(error).toBeInstanceOf(Error);
    expect(error!.message).toContain('Connection closed with an error.');
    expect(error!.message).toContain('Server returned an error on close');
    expect(error!.message).toContain('SB_PROTOCOL_MESSAGE_TOO_LARGE');
    await t.hub.logs.waitFor(BAD_INPUT_LOG, { connectionId, code: 'SB_PROTOCOL_MESSAGE_TOO_LARGE' });
    await expectBystanderAlive(t);
  });

  it('the official client may send a message just under 32 KB', async () => {
    const c = await clients.connect(t.hub.url);
    const big = 'z'.repeat(30 * 1024);
    expect(await within(c.invoke('Echo', big), 2000, '30 KB echo')).toBe(big);
    expect(c.state).toBe('Connected');
  });
});

describe('message size limit (maxMessageSize: 1024)', () => {
  let t: Target;

  beforeAll(async () => {
    t = await target({ maxMessageSize: 1024 });
  });
  afterEach(() => raw.terminateAll());
  afterAll(async () => {
    await clients.stopAll();
    await t?.hub.close();
  });

  /** An Echo invocation whose JSON text (without RS) is exactly `size` bytes. */
  function echoOfSize(size: number, id: string): string {
    const empty = JSON.stringify({ type: 1, invocationId: id, target: 'Echo', arguments: [''] });
    const text = JSON.stringify({ type: 1, invocationId: id, target: 'Echo', arguments: ['p'.repeat(size - empty.length)] });
    expect(Buffer.byteLength(text)).toBe(size);
    return text;
  }

  it('accepts a message of exactly maxMessageSize bytes', async () => {
    const { client } = await rawConnection(t);
    const text = echoOfSize(1024, '1');
    client.send(text + RS);
    expect((await client.completion('1'))['result']).toBe((JSON.parse(text) as { arguments: string[] }).arguments[0]);
  });

  it('closes on a 2 KB message', async () => {
    const { client, connectionId } = await rawConnection(t);
    client.send(echoOfSize(2048, '1') + RS);
    await expectErrorClose(t, client, connectionId, 'SB_PROTOCOL_MESSAGE_TOO_LARGE');
    expect(client.messages.filter((m) => m.type === 3)).toEqual([]);
  });

  it('closes on a message one byte over the limit', async () => {
    const { client, connectionId } = await rawConnection(t);
    client.send(echoOfSize(1025, '1') + RS);
    await expectErrorClose(t, client, connectionId, 'SB_PROTOCOL_MESSAGE_TOO_LARGE');
  });

  it('closes on a MessagePack length prefix over the limit before the body arrives', async () => {
    const { client, connectionId } = await rawConnection(t, 'messagepack');
    client.send(Buffer.from([0x80, 0x10])); // varint 2048, no body
    await expectErrorClose(t, client, connectionId, 'SB_PROTOCOL_MESSAGE_TOO_LARGE');
  });
});

describe('bad input closes only the offending connection (MessagePack)', () => {
  let t: Target;

  beforeAll(async () => {
    t = await target();
  });
  afterEach(() => raw.terminateAll());
  afterAll(async () => {
    await clients.stopAll();
    await t?.hub.close();
  });

  it('garbage MessagePack after a messagepack handshake', async () => {
    const { client, connectionId } = await rawConnection(t, 'messagepack');
    client.send(Buffer.from([0x03, 0xc1, 0xc1, 0xc1]));
    await expectErrorClose(t, client, connectionId, 'SB_PROTOCOL_INVALID_MSGPACK');
    // After a messagepack handshake everything the server sends is binary: the reply and the Close.
    expect(client.frames.map((f) => f.binary)).toEqual(client.frames.map(() => true));
  });

  it('a MessagePack value that is not a hub message array', async () => {
    const { client, connectionId } = await rawConnection(t, 'messagepack');
    client.send(Buffer.from([0x01, 0x2a])); // the integer 42
    await expectErrorClose(t, client, connectionId, 'SB_PROTOCOL_INVALID_MESSAGE');
  });

  it('a bad varint length prefix', async () => {
    const { client, connectionId } = await rawConnection(t, 'messagepack');
    client.send(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0x90]));
    await expectErrorClose(t, client, connectionId, 'SB_PROTOCOL_INVALID_VARINT');
  });

  it('a valid MessagePack Echo still works on a fresh connection (control)', async () => {
    const { client } = await rawConnection(t, 'messagepack');
    // [1, {}, "1", "Echo", ["mp"]]
    const body = Buffer.from([0x95, 0x01, 0x80, 0xa1, 0x31, 0xa4, 0x45, 0x63, 0x68, 0x6f, 0x91, 0xa2, 0x6d, 0x70]);
    client.send(Buffer.concat([Buffer.from([body.length]), body]));
    const completion = await client.completion('1');
    expect(completion['result']).toBe('mp');
    expect(client.isOpen).toBe(true);
  });
});
