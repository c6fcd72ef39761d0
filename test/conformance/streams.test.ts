// Server-to-client and client-to-server streams of the functional tests' TestHub, and the
// "fire-and-forget gets no response" rule (signalr-protocol.md 4.3, 9.4, 9.5; checklist 14, 16-19),
// on every transport and protocol pair of the official client.
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { MessagePackHubProtocol } from '@microsoft/signalr-protocol-msgpack';
import { conformanceFixture } from './fixture.js';
import { PROTOCOLS, TRANSPORT_PROTOCOLS, collectStream, delay, nextCalls, signalR, type ProtocolName } from '../support/signalr.js';
import { within } from '../support/timing.js';

const fixture = conformanceFixture();
const pool = fixture.pool;

/** Records every hub message the client parses, by wrapping its (private) protocol instance. */
function recordIncoming(c: signalR.HubConnection): signalR.HubMessage[] {
  const received: signalR.HubMessage[] = [];
  const proto = (c as unknown as { _protocol: signalR.IHubProtocol })._protocol;
  const parse = proto.parseMessages.bind(proto);
  proto.parseMessages = (input, logger) => {
    const messages = parse(input, logger);
    received.push(...messages);
    return messages;
  };
  return received;
}

describe.each(TRANSPORT_PROTOCOLS)('streams over %s (%s)', (transport, protocol) => {
  const connect = () => pool.connect(`${fixture.app.url}/testhub`, { transport, protocol });

  it("Stream yields 'a', 'b', 'c' then completes", async () => {
    const c = await connect();
    expect(await within(collectStream(c.stream('Stream')))).toEqual(['a', 'b', 'c']);
    // Method names are case-insensitive for streams too.
    expect(await within(collectStream(c.stream('stream')))).toEqual(['a', 'b', 'c']);
  });

  it('disposing an InfiniteStream subscription cancels it and the hub calls StreamCanceled', async () => {
    const c = await connect();
    const canceled = nextCalls(c, 'StreamCanceled', 1, 4000);
    const items: unknown[] = [];
    let settled = false;
    const subscription = c.stream('InfiniteStream').subscribe({
      next: (i) => items.push(i),
      complete: () => (settled = true),
      error: () => (settled = true),
    });
    await delay(50);
    subscription.dispose();
    expect(await canceled).toEqual([[]]);
    expect(items).toEqual([]);
    expect(settled).toBe(false);
    // The connection is still usable after the cancellation.
    expect(await within(c.invoke('Echo', 'after cancel'))).toBe('after cancel');
  });

  it('StreamThrowException errors the stream with the exact detailed text', async () => {
    const c = await connect();
    await expect(within(collectStream(c.stream('StreamThrowException', 'An error occurred.')))).rejects.toThrow(
      new Error(`An unexpected error occurred invoking 'StreamThrowException' on the server. InvalidOperationException: An error occurred.`),
    );
  });

  it('EmptyStream completes with no items', async () => {
    const c = await connect();
    expect(await within(collectStream(c.stream('EmptyStream')))).toEqual([]);
  });

  it('invoking a streaming method without stream() gives the exact "non-streaming invocation" text', async () => {
    const c = await connect();
    await expect(within(c.invoke('EmptyStream'))).rejects.toThrow(
      new Error(`The client attempted to invoke the streaming 'EmptyStream' method with a non-streaming invocation.`),
    );
    await expect(within(c.invoke('Stream'))).rejects.toThrow(
      new Error(`The client attempted to invoke the streaming 'Stream' method with a non-streaming invocation.`),
    );
  });

  it('streaming a non-streaming method gives the exact "streaming invocation" text', async () => {
    const c = await connect();
    await expect(within(collectStream(c.stream('Echo', 'x')))).rejects.toThrow(
      new Error(`The client attempted to invoke the non-streaming 'Echo' method with a streaming invocation.`),
    );
  });

  it('StreamingConcat concatenates an upload stream fed through a Subject', async () => {
    const c = await connect();
    const subject = new signalR.Subject<string>();
    const result = c.invoke('StreamingConcat', subject);
    for (const piece of ['a', 'b', 'c', ' \u2603']) {
      subject.next(piece);
      await delay(5);
    }
    subject.complete();
    expect(await within(result)).toBe('abc \u2603');
  });

  it('StreamingConcat of an empty upload returns an empty string', async () => {
    const c = await connect();
    const subject = new signalR.Subject<string>();
    const result = c.invoke('StreamingConcat', subject);
    subject.complete();
    expect(await within(result)).toBe('');
  });

  it('an upload ended with subject.error() fails the method with the exact HubException text', async () => {
    const c = await connect();
    const subject = new signalR.Subject<string>();
    const result = c.invoke('StreamingConcat', subject);
    subject.next('partial');
    await delay(10);
    subject.error(new Error('Something bad'));
    await expect(within(result)).rejects.toThrow(
      new Error(`An unexpected error occurred invoking 'StreamingConcat' on the server. HubException: Something bad`),
    );
    expect(await within(c.invoke('Echo', 'ok'))).toBe('ok');
  });

  it('send() gets no response of any kind, not even for errors', async () => {
    const c = await connect();
    const received = recordIncoming(c);
    await within(c.send('ThrowException', 'x'));
    await within(c.send('NoSuchMethod', 1));
    await within(c.send('EmptyStream'));
    await within(c.send('Echo', 'fire-and-forget'));
    expect(await within(c.invoke('Echo', 'after'))).toBe('after');
    await delay(100);
    const nonPing = received.filter((m) => m.type !== signalR.MessageType.Ping);
    expect(nonPing).toHaveLength(1);
    expect(nonPing[0]).toMatchObject({ type: signalR.MessageType.Completion, result: 'after' });
  });
});

/** A raw hub connection (skipNegotiation-style upgrade) speaking `protocol` with the client's own codecs. */
async function rawHub(protocol: ProtocolName) {
  const codec: signalR.IHubProtocol = protocol === 'json' ? new signalR.JsonHubProtocol() : new MessagePackHubProtocol();
  const ws = new WebSocket(`${fixture.app.url.replace('http', 'ws')}/testhub`);
  const frames: { text: boolean; data: Buffer }[] = [];
  ws.on('message', (data: Buffer, isBinary: boolean) => frames.push({ text: !isBinary, data }));
  await within(new Promise<void>((resolve, reject) => ws.once('open', () => resolve()).once('error', reject)), 3000, 'WebSocket open');
  ws.send(`{"protocol":"${protocol}","version":1}\u001e`);
  const waitFor = async (pred: () => boolean, what: string) => {
    for (let i = 0; i < 200 && !pred(); i++) await delay(10);
    if (!pred()) throw new Error(`timed out waiting for ${what}`);
  };
  await waitFor(() => frames.length > 0, 'handshake response');
  const first = frames[0]!.data;
  const sep = first.indexOf(0x1e);
  expect(first.subarray(0, sep + 1).toString('utf8')).toBe('{}\u001e');
  if (sep + 1 < first.length) frames[0] = { text: frames[0]!.text, data: first.subarray(sep + 1) };
  else frames.shift();
  const decode = () =>
    frames.flatMap((f) =>
      codec.parseMessages(protocol === 'json' ? f.data.toString('utf8') : new Uint8Array(f.data).buffer, signalR.NullLogger.instance),
    );
  const send = (m: signalR.HubMessage) => ws.send(codec.writeMessage(m) as string | ArrayBuffer);
  return { ws, frames, decode, send, waitFor };
}

describe.each(PROTOCOLS)('fire-and-forget on raw frames (%s)', (protocol) => {
  it('invocations without an id produce no frame; the next invocation with an id gets exactly one Completion', async () => {
    const raw = await rawHub(protocol);
    try {
      raw.send({ type: signalR.MessageType.Invocation, target: 'ThrowException', arguments: ['x'] } as signalR.InvocationMessage);
      raw.send({ type: signalR.MessageType.Invocation, target: 'Missing', arguments: [] } as signalR.InvocationMessage);
      raw.send({ type: signalR.MessageType.Invocation, target: 'Echo', arguments: ['ignored'] } as signalR.InvocationMessage);
      await delay(150);
      expect(raw.decode().filter((m) => m.type !== signalR.MessageType.Ping)).toEqual([]);
      raw.send({ type: signalR.MessageType.Invocation, invocationId: '7', target: 'Echo', arguments: ['hi'] } as signalR.InvocationMessage);
      await raw.waitFor(() => raw.decode().some((m) => m.type === signalR.MessageType.Completion), 'completion');
      await delay(50);
      const messages = raw.decode().filter((m) => m.type !== signalR.MessageType.Ping);
      expect(messages).toHaveLength(1);
      expect(messages[0]).toMatchObject({ type: signalR.MessageType.Completion, invocationId: '7', result: 'hi' });
      // JSON travels in text frames, MessagePack in binary frames.
      expect(raw.frames.every((f) => f.text === (protocol === 'json'))).toBe(true);
    } finally {
      raw.ws.terminate();
    }
  });
});
