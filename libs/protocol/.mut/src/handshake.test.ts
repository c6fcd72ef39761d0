import { describe, it, expect } from 'vitest';
import { SwitchboardError } from './errors.js';
import { HANDSHAKE_OK, parseHandshake, selectProtocol, writeHandshakeError, type HandshakeParse } from './handshake.js';
import type { HubProtocol } from './hub-protocol.js';
import { jsonHubProtocol } from './json-protocol.js';
import { messagePackHubProtocol } from './msgpack-protocol.js';
import { TRANSPORT_FORMATS } from './negotiate.js';

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const RS = '\u001e';
const PROTOCOLS: readonly HubProtocol[] = [jsonHubProtocol, messagePackHubProtocol];

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return err instanceof SwitchboardError ? err.code : `not a SwitchboardError: ${String(err)}`;
  }
  return 'did not throw';
}

function done(parse: HandshakeParse): Extract<HandshakeParse, { done: true }> {
  if (!parse.done) throw new Error('expected a complete handshake');
  return parse;
}

describe('parseHandshake', () => {
  it('parses the JSON request the v10 client sends', () => {
    const r = done(parseHandshake(utf8(`{"protocol":"json","version":1}${RS}`)));
    expect(r.request).toStrictEqual({ protocol: 'json', version: 1 });
    expect(r.rest.length).toBe(0);
  });

  it('parses the MessagePack request (still JSON text) and version 2', () => {
    expect(done(parseHandshake(utf8(`{"protocol":"messagepack","version":1}${RS}`))).request).toStrictEqual({
      protocol: 'messagepack',
      version: 1,
    });
    expect(done(parseHandshake(utf8(`{"protocol":"json","version":2}${RS}`))).request.version).toBe(2);
  });

  it('returns done:false for every strict prefix (no RS yet), including the empty input', () => {
    const full = utf8(`{"protocol":"json","version":1}${RS}`);
    for (let n = 0; n < full.length; n++) {
      expect(parseHandshake(full.subarray(0, n)), `prefix of ${n} bytes`).toStrictEqual({ done: false });
    }
  });

  it('does not judge incomplete garbage before the RS arrives', () => {
    expect(parseHandshake(utf8('this is not json'))).toStrictEqual({ done: false });
  });

  it('ignores extra properties and accepts any order', () => {
    const r = done(parseHandshake(utf8(`{"version":2,"extra":{"a":[1]},"protocol":"messagepack","x":null}${RS}`)));
    expect(r.request).toStrictEqual({ protocol: 'messagepack', version: 2 });
  });

  it('accepts insignificant whitespace and 1.0 as an integer', () => {
    expect(done(parseHandshake(utf8(` { "protocol" : "json" , "version" : 1.0 } ${RS}`))).request).toStrictEqual({
      protocol: 'json',
      version: 1,
    });
  });

  it('returns the bytes after the RS (JSON messages sent right behind it)', () => {
    const r = done(parseHandshake(utf8(`{"protocol":"json","version":1}${RS}{"type":6}${RS}{"type":7}`)));
    expect(new TextDecoder().decode(r.rest)).toBe(`{"type":6}${RS}{"type":7}`);
  });

  it('returns the bytes after the RS (MessagePack frames sent right behind it)', () => {
    const head = utf8(`{"protocol":"messagepack","version":1}${RS}`);
    const data = new Uint8Array(head.length + 7);
    data.set(head, 0);
    data.set([0x02, 0x91, 0x06, 0x03, 0x92, 0x07, 0xc0], head.length);
    expect(toHex(done(parseHandshake(data)).rest)).toBe('029106039207c0');
  });

  it.each([
    ['truncated JSON', '{"protocol":"json"'],
    ['not JSON', 'hello'],
    ['empty', ''],
    ['an array', '["json",1]'],
    ['null', 'null'],
    ['a string', '"json"'],
    ['missing protocol', '{"version":1}'],
    ['numeric protocol', '{"protocol":1,"version":1}'],
    ['null protocol', '{"protocol":null,"version":1}'],
    ['missing version', '{"protocol":"json"}'],
    ['string version', '{"protocol":"json","version":"1"}'],
    ['fractional version', '{"protocol":"json","version":1.5}'],
    ['null version', '{"protocol":"json","version":null}'],
  ])('%s → SB_HANDSHAKE_INVALID', (_name, request) => {
    expect(codeOf(() => parseHandshake(utf8(request + RS)))).toBe('SB_HANDSHAKE_INVALID');
  });

  it('invalid UTF-8 → SB_HANDSHAKE_INVALID', () => {
    const data = Uint8Array.from([...utf8('{"protocol":"'), 0xff, ...utf8('","version":1}'), 0x1e]);
    expect(codeOf(() => parseHandshake(data))).toBe('SB_HANDSHAKE_INVALID');
  });
});

describe('handshake replies', () => {
  it('HANDSHAKE_OK is exactly 7B 7D 1E', () => {
    expect(Array.from(HANDSHAKE_OK)).toEqual([0x7b, 0x7d, 0x1e]);
  });

  it('writeHandshakeError writes {"error":"..."} + RS', () => {
    const text = "The protocol 'foo' is not supported.";
    expect(new TextDecoder().decode(writeHandshakeError(text))).toBe(`{"error":"The protocol 'foo' is not supported."}${RS}`);
    expect(toHex(writeHandshakeError('x'))).toBe('7b226572726f72223a2278227d1e');
  });

  it('writeHandshakeError escapes quotes and writes UTF-8', () => {
    const bytes = writeHandshakeError('a "b" ☃');
    expect(new TextDecoder().decode(bytes)).toBe(`{"error":"a \\"b\\" ☃"}${RS}`);
    expect(toHex(bytes)).toContain('e29883');
    expect(JSON.parse(new TextDecoder().decode(bytes.subarray(0, -1)))).toStrictEqual({ error: 'a "b" ☃' });
  });

  it('the reply never carries a type property (the client would reject it)', () => {
    expect(JSON.parse(new TextDecoder().decode(HANDSHAKE_OK.subarray(0, -1)))).toStrictEqual({});
  });
});

describe('selectProtocol', () => {
  it.each([
    ['json', 1, 'WebSockets'],
    ['json', 2, 'WebSockets'],
    ['json', 1, 'ServerSentEvents'],
    ['json', 2, 'ServerSentEvents'],
    ['json', 1, 'LongPolling'],
    ['json', 2, 'LongPolling'],
    ['messagepack', 1, 'WebSockets'],
    ['messagepack', 2, 'WebSockets'],
    ['messagepack', 1, 'LongPolling'],
    ['messagepack', 2, 'LongPolling'],
  ] as const)('accepts %s version %i on %s', (protocol, version, transport) => {
    const selection = selectProtocol({ protocol, version }, PROTOCOLS, TRANSPORT_FORMATS[transport]);
    expect(selection).toStrictEqual({
      ok: true,
      protocol: protocol === 'json' ? jsonHubProtocol : messagePackHubProtocol,
      version,
    });
  });

  it('refuses an unknown protocol with the ASP.NET text', () => {
    expect(selectProtocol({ protocol: 'foo', version: 1 }, PROTOCOLS, ['Text', 'Binary'])).toStrictEqual({
      ok: false,
      code: 'SB_HANDSHAKE_UNSUPPORTED_PROTOCOL',
      error: "The protocol 'foo' is not supported.",
    });
  });

  it('matches protocol names exactly as given in the list', () => {
    expect(selectProtocol({ protocol: 'json', version: 1 }, [messagePackHubProtocol], ['Text', 'Binary'])).toMatchObject({
      ok: false,
      error: "The protocol 'json' is not supported.",
    });
  });

  it('refuses a newer version with the ASP.NET text', () => {
    expect(selectProtocol({ protocol: 'json', version: 3 }, PROTOCOLS, ['Text', 'Binary'])).toStrictEqual({
      ok: false,
      code: 'SB_HANDSHAKE_UNSUPPORTED_VERSION',
      error: "The server does not support version 3 of the 'json' protocol.",
    });
    expect(selectProtocol({ protocol: 'messagepack', version: 99 }, PROTOCOLS, ['Text', 'Binary'])).toMatchObject({
      ok: false,
      error: "The server does not support version 99 of the 'messagepack' protocol.",
    });
  });

  it('refuses a negative version', () => {
    expect(selectProtocol({ protocol: 'json', version: -1 }, PROTOCOLS, ['Text'])).toMatchObject({
      ok: false,
      code: 'SB_HANDSHAKE_UNSUPPORTED_VERSION',
    });
  });

  it('refuses MessagePack over a text-only transport (SSE) with the ASP.NET text', () => {
    expect(selectProtocol({ protocol: 'messagepack', version: 1 }, PROTOCOLS, TRANSPORT_FORMATS.ServerSentEvents)).toStrictEqual({
      ok: false,
      code: 'SB_HANDSHAKE_TRANSFER_FORMAT',
      error: "Cannot use the 'messagepack' protocol on the current transport. The transport does not support 'Binary' transfer format.",
    });
  });

  it('checks protocol, then version, then transfer format (ASP.NET order)', () => {
    expect(selectProtocol({ protocol: 'foo', version: 9 }, PROTOCOLS, ['Text'])).toMatchObject({ code: 'SB_HANDSHAKE_UNSUPPORTED_PROTOCOL' });
    expect(selectProtocol({ protocol: 'messagepack', version: 9 }, PROTOCOLS, ['Text'])).toMatchObject({
      code: 'SB_HANDSHAKE_UNSUPPORTED_VERSION',
    });
  });

  it('end to end: a parsed request selects the protocol object that then reads the rest', () => {
    const head = utf8(`{"protocol":"messagepack","version":1}${RS}`);
    const data = new Uint8Array(head.length + 3);
    data.set(head, 0);
    data.set([0x02, 0x91, 0x06], head.length);
    const parsed = done(parseHandshake(data));
    const selection = selectProtocol(parsed.request, PROTOCOLS, TRANSPORT_FORMATS.WebSockets);
    if (!selection.ok) throw new Error(selection.error);
    const bodies = selection.protocol.createReader(1024).push(parsed.rest);
    expect(bodies.map((b) => selection.protocol.parse(b))).toStrictEqual([{ type: 6 }]);
  });
});

describe('negotiate constants', () => {
  it('lists the transfer formats each transport carries (SSE is text only)', () => {
    expect(TRANSPORT_FORMATS).toStrictEqual({
      WebSockets: ['Text', 'Binary'],
      ServerSentEvents: ['Text'],
      LongPolling: ['Text', 'Binary'],
    });
  });
});
