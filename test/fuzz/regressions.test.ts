// Inputs the fuzzer (or its review) found that broke something, kept verbatim, with what must
// happen now. Each names the finding; keep adding to this file when a fuzz run fails.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  MAX_JSON_DEPTH,
  MAX_MSGPACK_DEPTH,
  SwitchboardError,
  jsonHubProtocol,
  messagePackHubProtocol,
  writeVarint,
  type HubProtocol,
} from '@switchboard/protocol';
import { startHub, type HubFixture } from '../hub/fixture.js';
import { rawPool } from '../hub/raw-client.js';
import { startNodeProcess } from '../support/processes.js';
import { connect } from '../support/signalr.js';
import { exchange, statusOf } from './raw-socket.js';

const RS = '\u001e';
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

function codeOf(protocol: HubProtocol, body: Uint8Array): string {
  try {
    protocol.parse(body);
  } catch (err) {
    return err instanceof SwitchboardError ? err.code : `not a SwitchboardError: ${String(err)}`;
  }
  return 'parsed';
}

/** `{"type":1,...,"arguments":[<depth nested arrays>]}`, without the RS (a parser body). */
const jsonDeepArgument = (depth: number): Uint8Array => utf8(`{"type":1,"invocationId":"1","target":"Echo","arguments":[${'['.repeat(depth)}${']'.repeat(depth)}]}`);
/** `[1, {}, "1", "Echo", [<depth nested arrays around nil>]]` as a MessagePack body, written by hand. */
const msgpackDeepArgument = (depth: number): Uint8Array =>
  Uint8Array.from([0x95, 0x01, 0x80, 0xa1, 0x31, 0xa4, 0x45, 0x63, 0x68, 0x6f, 0x91, ...new Array<number>(depth).fill(0x91), 0xc0]);

describe('regression: deeply nested hub messages (found by the protocol fuzzer, seed 24301, cases 6 and 13: [deepInvocation])', () => {
  // Before: parsed fine, then writing the value back (an Echo, a broadcast over the backplane)
  // threw "RangeError: Maximum call stack size exceeded" (JSON.stringify) or "Too deep objects in
  // depth 101" (the MessagePack encoder). Now refused at parse time with the protocol's code.
  it('JSON nested deeper than 64 levels is SB_PROTOCOL_INVALID_JSON; 64 levels parse and write back', () => {
    // The message object is level 1 and `arguments` level 2: 62 more arrays reach 64.
    expect(codeOf(jsonHubProtocol, jsonDeepArgument(MAX_JSON_DEPTH - 2))).toBe('parsed');
    const ok = jsonHubProtocol.parse(jsonDeepArgument(MAX_JSON_DEPTH - 2));
    expect(() => jsonHubProtocol.write(ok)).not.toThrow();
    expect(() => messagePackHubProtocol.write(ok)).not.toThrow();
    expect(codeOf(jsonHubProtocol, jsonDeepArgument(MAX_JSON_DEPTH - 1))).toBe('SB_PROTOCOL_INVALID_JSON');
    expect(codeOf(jsonHubProtocol, jsonDeepArgument(16_000))).toBe('SB_PROTOCOL_INVALID_JSON'); // fits in 32 KB
  });

  it('100,000 nested arrays (JSON.parse depth) is SB_PROTOCOL_INVALID_JSON, not a RangeError', () => {
    expect(codeOf(jsonHubProtocol, utf8('['.repeat(100_000) + ']'.repeat(100_000)))).toBe('SB_PROTOCOL_INVALID_JSON');
    expect(codeOf(jsonHubProtocol, utf8('['.repeat(100_000)))).toBe('SB_PROTOCOL_INVALID_JSON');
    // Brackets inside strings do not count.
    expect(codeOf(jsonHubProtocol, utf8(`{"type":1,"target":"Echo","arguments":["${'['.repeat(1000)}"]}`))).toBe('parsed');
  });

  it('MessagePack deeper than 100 (counted as the encoder counts) is SB_PROTOCOL_INVALID_MSGPACK; depth 100 parses and writes back', () => {
    // The message array is at depth 1, the arguments array at 2, n more arrays, then nil at n + 3.
    const ok = messagePackHubProtocol.parse(msgpackDeepArgument(MAX_MSGPACK_DEPTH - 3));
    expect(() => messagePackHubProtocol.write(ok)).not.toThrow();
    expect(() => jsonHubProtocol.write(ok)).not.toThrow();
    expect(codeOf(messagePackHubProtocol, msgpackDeepArgument(MAX_MSGPACK_DEPTH - 2))).toBe('SB_PROTOCOL_INVALID_MSGPACK');
    expect(codeOf(messagePackHubProtocol, msgpackDeepArgument(30_000))).toBe('SB_PROTOCOL_INVALID_MSGPACK');
    expect(codeOf(messagePackHubProtocol, Uint8Array.from(new Array<number>(100_000).fill(0x91)))).toBe('SB_PROTOCOL_INVALID_MSGPACK');
  });
});

describe('regressions against a running HubServer', () => {
  let f: HubFixture;
  let port: number;
  const raw = rawPool();
  beforeAll(async () => {
    f = await startHub();
    port = Number(new URL(f.origin).port);
  });
  afterAll(async () => {
    raw.terminateAll();
    await f?.close();
  });

  // Found by the HTTP fuzzer (seed 24301): a request target the WHATWG URL parser reads as an
  // authority (`//[`, `//a:b@`) made `new URL` throw inside the request listener, an uncaught
  // exception that ended the whole process. apps/hub and apps/worker parsed URLs the same way.
  it.each([
    'GET //[?id=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n',
    'POST //a:b@?negotiateVersion=1&useStatefulReconnect=true HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n',
    'GET //a:b@?id[]=1 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n',
    'GET //[ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
    'GET http://[/hub HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n',
  ])('%j is answered 404 and the server keeps serving', async (request) => {
    const { data } = await exchange(port, Buffer.from(request, 'latin1'), 2000, (d) => d.includes('\r\n\r\n'));
    expect(statusOf(data)).toBe(404);
    const client = await connect(f.url);
    try {
      expect(await client.invoke('Echo', 'still up')).toBe('still up');
    } finally {
      await client.stop();
    }
  });

  it('`//hub` is a path, not a host: it does not reach the hub at `/`', async () => {
    const { data } = await exchange(port, Buffer.from('POST //hub/negotiate?negotiateVersion=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n', 'latin1'), 2000, (d) => d.includes('\r\n\r\n'));
    expect(statusOf(data)).toBe(404);
  });

  it.each([
    { protocol: 'json' as const, code: 'SB_PROTOCOL_INVALID_JSON', frame: utf8(`{"type":1,"invocationId":"1","target":"Echo","arguments":[${'['.repeat(16_000)}${']'.repeat(16_000)}]}${RS}`) },
    { protocol: 'messagepack' as const, code: 'SB_PROTOCOL_INVALID_MSGPACK', frame: Uint8Array.from([...writeVarint(msgpackDeepArgument(30_000).length), ...msgpackDeepArgument(30_000)]) },
  ])('$protocol: an Echo of a deeply nested argument closes only that connection with $code', async ({ protocol, code, frame }) => {
    const bystander = await raw.connected(f.wsUrl(), 'json');
    const c = await raw.connected(f.wsUrl(), protocol);
    c.send(frame, protocol === 'messagepack');
    const close = await c.closeMessage();
    expect(close['error']).toMatch(new RegExp(`^Connection closed with an error\\. ${code}: `));
    bystander.invoke('Echo', ['fine'], 'b');
    expect((await bystander.completion('b'))['result']).toBe('fine');
  });
});

describe('regression: apps/hub survives request targets `new URL` cannot parse', () => {
  // Same finding as above, in the hub app's own request listener (before the hub routes): one
  // `GET //[` ended the whole node. Now such a target is a path (404), one that is no URL at all
  // gets 400, and the node keeps serving.
  it('answers `//[`, `//a:b@` (404: paths) and `http://[` (400), then still serves /healthz and negotiate', async () => {
    const hub = await startNodeProcess('apps/hub/dist/main.js', { PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn', HUB_SECRET: 'regression-test-secret-of-32-bytes!' });
    try {
      const port = Number(new URL(hub.url).port);
      for (const [target, status] of [['//[', 404], ['//a:b@/api/jobs', 404], ['//[/hubs/chat/negotiate?negotiateVersion=1', 404], ['http://[/healthz', 400]] as const) {
        const { data } = await exchange(port, Buffer.from(`GET ${target} HTTP/1.1\r\nHost: x\r\n\r\n`, 'latin1'), 3000, (d) => d.includes('\r\n\r\n'));
        expect(statusOf(data), target).toBe(status);
      }
      expect(hub.child.exitCode).toBeNull();
      expect((await fetch(`${hub.url}/healthz`, { signal: AbortSignal.timeout(3000) })).status).toBe(200);
      const negotiated = await fetch(`${hub.url}/hubs/chat/negotiate?negotiateVersion=1`, { method: 'POST', signal: AbortSignal.timeout(3000) });
      expect(negotiated.status).toBe(200);
    } finally {
      expect(await hub.stop()).toBe(0);
    }
  });
});
