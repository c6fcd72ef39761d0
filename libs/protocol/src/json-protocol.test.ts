import { describe, it, expect } from 'vitest';
import { SwitchboardError } from './errors.js';
import { jsonHubProtocol, jsonToMessage, messageToJson, writeJsonText } from './json-protocol.js';
import { completionWithError, completionWithResult, PING, voidCompletion, type HubMessage } from './messages.js';

const RS = '\u001e';
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** Runs a transport unit through the JSON reader and parser, as the server does. */
function parseUnit(unit: string | Uint8Array): HubMessage[] {
  const reader = jsonHubProtocol.createReader(32 * 1024);
  return reader.push(typeof unit === 'string' ? utf8(unit) : unit).map((body) => jsonHubProtocol.parse(body));
}

/** Parses one record given without its RS. */
const parseOne = (record: string | Uint8Array): HubMessage =>
  jsonHubProtocol.parse(typeof record === 'string' ? utf8(record) : record);

const written = (m: HubMessage): string => new TextDecoder().decode(jsonHubProtocol.write(m));

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return err instanceof SwitchboardError ? err.code : `not a SwitchboardError: ${String(err)}`;
  }
  return 'did not throw';
}

describe('JSON protocol identity', () => {
  it('is "json", version 2, Text', () => {
    expect(jsonHubProtocol.name).toBe('json');
    expect(jsonHubProtocol.version).toBe(2);
    expect(jsonHubProtocol.transferFormat).toBe('Text');
  });
});

describe('JSON parse: the v10 client capture (doc 4.2)', () => {
  const fixtures: [string, string, HubMessage][] = [
    ['ping', '{"type":6}', { type: 6 }],
    ['invoke()', '{"target":"Echo","arguments":["hi ☃"],"invocationId":"0","type":1}', { type: 1, target: 'Echo', arguments: ['hi ☃'], invocationId: '0' }],
    ['send()', '{"target":"Echo","arguments":["fire-and-forget"],"type":1}', { type: 1, target: 'Echo', arguments: ['fire-and-forget'] }],
    ['stream()', '{"target":"Stream","arguments":[],"invocationId":"1","type":4}', { type: 4, invocationId: '1', target: 'Stream', arguments: [] }],
    [
      'upload stream invocation',
      '{"target":"StreamingConcat","arguments":[],"invocationId":"3","streamIds":["2"],"type":1}',
      { type: 1, target: 'StreamingConcat', arguments: [], invocationId: '3', streamIds: ['2'] },
    ],
    ['stream item x', '{"invocationId":"2","item":"x","type":2}', { type: 2, invocationId: '2', item: 'x' }],
    ['stream item y', '{"invocationId":"2","item":"y","type":2}', { type: 2, invocationId: '2', item: 'y' }],
    ['upload completed', '{"invocationId":"2","type":3}', { type: 3, invocationId: '2' }],
    ['client result', '{"invocationId":"srv-1","result":42,"type":3}', { type: 3, invocationId: 'srv-1', result: 42, hasResult: true }],
    ['stop()', '{"type":7}', { type: 7 }],
    ['subscription disposed', '{"invocationId":"1","type":5}', { type: 5, invocationId: '1' }],
    ['upload ended in error', '{"error":"Something bad","invocationId":"2","type":3}', { type: 3, invocationId: '2', error: 'Something bad' }],
    ['sequence (stateful reconnect)', '{"type":9,"sequenceId":1}', { type: 9, sequenceId: 1 }],
    ['ack (stateful reconnect)', '{"type":8,"sequenceId":2}', { type: 8, sequenceId: 2 }],
  ];

  it.each(fixtures)('%s', (_name, record, expected) => {
    expect(parseUnit(record + RS)).toStrictEqual([expected]);
  });

  it('parses all of them from a single unit, in order', () => {
    const unit = fixtures.map(([, record]) => record + RS).join('');
    expect(parseUnit(unit)).toStrictEqual(fixtures.map(([, , m]) => m));
  });

  it('decodes the UTF-8 bytes of ☃ (e2 98 83)', () => {
    const bytes = utf8('{"target":"Echo","arguments":["hi ☃"],"invocationId":"0","type":1}');
    expect(toHex(bytes)).toContain('686920e29883');
    expect(parseOne(bytes)).toMatchObject({ arguments: ['hi \u2603'] });
  });
});

describe('JSON write: exact bytes (ASP.NET property order, type first)', () => {
  const fixtures: [string, HubMessage, string][] = [
    ['Invocation with id', { type: 1, invocationId: '0', target: 'Echo', arguments: ['hi ☃'] }, '{"type":1,"invocationId":"0","target":"Echo","arguments":["hi ☃"]}'],
    ['server Invocation without id', { type: 1, target: 'Message', arguments: ['hello', 2] }, '{"type":1,"target":"Message","arguments":["hello",2]}'],
    ['Invocation with empty id', { type: 1, invocationId: '', target: 'M', arguments: [] }, '{"type":1,"target":"M","arguments":[]}'],
    [
      'Invocation with stream ids',
      { type: 1, invocationId: '3', target: 'StreamingConcat', arguments: [], streamIds: ['2'] },
      '{"type":1,"invocationId":"3","target":"StreamingConcat","arguments":[],"streamIds":["2"]}',
    ],
    ['Invocation with empty streamIds', { type: 1, invocationId: '3', target: 'M', arguments: [], streamIds: [] }, '{"type":1,"invocationId":"3","target":"M","arguments":[]}'],
    [
      'Invocation with headers',
      { type: 1, headers: { a: 'b' }, invocationId: '7', target: 'M', arguments: [null] },
      '{"type":1,"headers":{"a":"b"},"invocationId":"7","target":"M","arguments":[null]}',
    ],
    ['StreamInvocation', { type: 4, invocationId: '1', target: 'Stream', arguments: [10] }, '{"type":4,"invocationId":"1","target":"Stream","arguments":[10]}'],
    ['StreamItem', { type: 2, invocationId: '1', item: 'x' }, '{"type":2,"invocationId":"1","item":"x"}'],
    ['StreamItem with null item', { type: 2, invocationId: '1', item: null }, '{"type":2,"invocationId":"1","item":null}'],
    ['StreamItem with undefined item', { type: 2, invocationId: '1', item: undefined }, '{"type":2,"invocationId":"1","item":null}'],
    ['StreamItem with object item', { type: 2, invocationId: '1', item: { a: [1, true] } }, '{"type":2,"invocationId":"1","item":{"a":[1,true]}}'],
    ['void Completion', voidCompletion('0'), '{"type":3,"invocationId":"0"}'],
    ['Completion with result', completionWithResult('0', 42), '{"type":3,"invocationId":"0","result":42}'],
    ['Completion with null result', completionWithResult('0', null), '{"type":3,"invocationId":"0","result":null}'],
    ['Completion with undefined result', completionWithResult('0', undefined), '{"type":3,"invocationId":"0","result":null}'],
    ['Completion with false result', completionWithResult('0', false), '{"type":3,"invocationId":"0","result":false}'],
    ['Completion with error', completionWithError('0', 'An unexpected error occurred invoking \'X\' on the server.'), '{"type":3,"invocationId":"0","error":"An unexpected error occurred invoking \'X\' on the server."}'],
    ['CancelInvocation', { type: 5, invocationId: '1' }, '{"type":5,"invocationId":"1"}'],
    ['Ping', PING, '{"type":6}'],
    ['Close', { type: 7 }, '{"type":7}'],
    [
      'Close with error and reconnect',
      { type: 7, error: 'Connection closed with an error.', allowReconnect: true },
      '{"type":7,"error":"Connection closed with an error.","allowReconnect":true}',
    ],
    ['Ack', { type: 8, sequenceId: 2 }, '{"type":8,"sequenceId":2}'],
    ['Sequence', { type: 9, sequenceId: 1 }, '{"type":9,"sequenceId":1}'],
  ];

  it.each(fixtures)('%s', (_name, message, json) => {
    expect(written(message)).toBe(json + RS);
    expect(writeJsonText(message)).toBe(json + RS);
  });

  it.each(fixtures)('%s parses back to an equivalent message', (_name, message, json) => {
    expect(messageToJson(parseOne(json))).toStrictEqual(messageToJson(message));
  });

  it('writes Ping as exactly the bytes of {"type":6} + RS', () => {
    expect(toHex(jsonHubProtocol.write(PING))).toBe('7b2274797065223a367d1e');
  });

  it('writes non-ASCII text as raw UTF-8, ending in 0x1E', () => {
    const bytes = jsonHubProtocol.write({ type: 2, invocationId: '1', item: 'hi ☃' });
    expect(toHex(bytes)).toContain('686920e29883');
    expect(bytes[bytes.length - 1]).toBe(0x1e);
  });

  it('a void Completion has no result key, a null one has result null', () => {
    expect('result' in messageToJson(voidCompletion('1'))).toBe(false);
    expect(messageToJson(completionWithResult('1', null))).toStrictEqual({ type: 3, invocationId: '1', result: null });
  });
});

describe('JSON write: dates and bytes wherever they sit (plain values skip the replacer)', () => {
  const invocation = (...args: unknown[]): HubMessage => ({ type: 1, target: 'M', arguments: args });
  const args = (m: HubMessage): string => {
    const text = writeJsonText(m);
    return text.slice(text.indexOf('"arguments":') + 13, -3);
  };
  const nest = (inner: unknown, levels: number): unknown => (levels === 0 ? inner : { a: [nest(inner, levels - 1)] });

  it('formats a Date ASP.NET-style and bytes as base64 at the top level and nested', () => {
    const date = new Date('2000-01-01T00:00:00Z');
    expect(args(invocation(date, Uint8Array.from([1, 2, 3])))).toBe('"2000-01-01T00:00:00Z","AQID"');
    expect(args(invocation({ when: [1, { date }], raw: Buffer.from([255]) }))).toBe('{"when":[1,{"date":"2000-01-01T00:00:00Z"}],"raw":"/w=="}');
    expect(args(invocation([new Date(Number.NaN)]))).toBe('[null]');
    expect(args(invocation({ only: [Uint8Array.from([1, 2, 3])] }))).toBe('{"only":["AQID"]}');
  });

  it('sees through toJSON: a Date in its output is still formatted', () => {
    const custom = { toJSON: () => ({ d: new Date('2000-01-01T00:00:00.5Z') }) };
    expect(args(invocation(custom))).toBe('{"d":"2000-01-01T00:00:00.5Z"}');
  });

  it('formats a Date deeper than the scan looks', () => {
    const text = args(invocation(nest(new Date('2000-01-01T00:00:00Z'), 40)));
    expect(text.endsWith('"2000-01-01T00:00:00Z"' + ']}'.repeat(40))).toBe(true);
  });

  it('writes plain values exactly as JSON.stringify does', () => {
    const plain = { s: 'x☃"\\', n: [1.5, -0, 1e21, null], b: true, nested: { u: undefined, f: () => 1, e: {} } };
    expect(args(invocation(plain))).toBe(`${JSON.stringify(plain)}`);
  });

  it('still rejects a cyclic value (TypeError) after a short scan, even a wide one', () => {
    const wide: Record<string, unknown> = {};
    for (let i = 0; i < 10; i++) wide[`k${i}`] = wide;
    const started = performance.now();
    expect(() => writeJsonText(invocation(wide))).toThrow(TypeError);
    expect(performance.now() - started).toBeLessThan(1000);
  });
});

describe('JSON parse: tolerance', () => {
  it('accepts fields in any order', () => {
    const expected = { type: 1, target: 'Echo', arguments: [1], invocationId: '5' };
    expect(parseOne('{"type":1,"invocationId":"5","target":"Echo","arguments":[1]}')).toStrictEqual(expected);
    expect(parseOne('{"arguments":[1],"type":1,"target":"Echo","invocationId":"5"}')).toStrictEqual(expected);
    expect(parseOne('{"invocationId":"5","arguments":[1],"target":"Echo","type":1}')).toStrictEqual(expected);
    expect(parseOne('{"result":"r","type":3,"invocationId":"9"}')).toStrictEqual(completionWithResult('9', 'r'));
  });

  it('ignores unknown properties', () => {
    expect(parseOne('{"type":1,"foo":{"bar":[1]},"target":"Echo","arguments":[],"x":null}')).toStrictEqual({
      type: 1,
      target: 'Echo',
      arguments: [],
    });
    expect(parseOne('{"type":6,"extra":true}')).toStrictEqual({ type: 6 });
    expect(parseOne('{"type":2,"invocationId":"1","item":3,"future":[]}')).toStrictEqual({ type: 2, invocationId: '1', item: 3 });
  });

  it('accepts and keeps headers on an Invocation', () => {
    expect(parseOne('{"type":1,"target":"Echo","arguments":[],"headers":{"traceparent":"00-abc-01"}}')).toStrictEqual({
      type: 1,
      target: 'Echo',
      arguments: [],
      headers: { traceparent: '00-abc-01' },
    });
  });

  it('accepts headers on the other invocation-bound types', () => {
    expect(parseOne('{"type":2,"headers":{"a":"b"},"invocationId":"1","item":1}')).toMatchObject({ type: 2, item: 1 });
    expect(parseOne('{"type":3,"headers":{},"invocationId":"1"}')).toMatchObject({ type: 3, invocationId: '1' });
    expect(parseOne('{"type":4,"headers":{},"invocationId":"1","target":"S","arguments":[]}')).toMatchObject({ type: 4 });
    expect(parseOne('{"type":5,"headers":{"a":"b"},"invocationId":"1"}')).toMatchObject({ type: 5, invocationId: '1' });
  });

  it('accepts insignificant whitespace', () => {
    expect(parseOne(' { "type" : 6 }\n')).toStrictEqual({ type: 6 });
  });

  it('treats an empty-string or null invocationId as fire-and-forget', () => {
    expect(parseOne('{"type":1,"invocationId":"","target":"Echo","arguments":[]}')).toStrictEqual({ type: 1, target: 'Echo', arguments: [] });
    expect(parseOne('{"type":1,"invocationId":null,"target":"Echo","arguments":[]}')).toStrictEqual({ type: 1, target: 'Echo', arguments: [] });
  });

  it('drops empty or null streamIds', () => {
    expect(parseOne('{"type":1,"target":"E","arguments":[],"streamIds":[]}')).toStrictEqual({ type: 1, target: 'E', arguments: [] });
    expect(parseOne('{"type":1,"target":"E","arguments":[],"streamIds":null}')).toStrictEqual({ type: 1, target: 'E', arguments: [] });
    expect(parseOne('{"type":4,"invocationId":"1","target":"S","arguments":[],"streamIds":["2","3"]}')).toStrictEqual({
      type: 4,
      invocationId: '1',
      target: 'S',
      arguments: [],
      streamIds: ['2', '3'],
    });
  });

  it('keeps a null StreamItem item and a null result as present values', () => {
    expect(parseOne('{"type":2,"invocationId":"1","item":null}')).toStrictEqual({ type: 2, invocationId: '1', item: null });
    expect(parseOne('{"type":3,"invocationId":"1","result":null}')).toStrictEqual({ type: 3, invocationId: '1', result: null, hasResult: true });
  });

  it('reads Close error and allowReconnect', () => {
    expect(parseOne('{"type":7,"error":"bye","allowReconnect":true}')).toStrictEqual({ type: 7, error: 'bye', allowReconnect: true });
    expect(parseOne('{"type":7,"allowReconnect":false}')).toStrictEqual({ type: 7 });
    expect(parseOne('{"type":7,"error":null}')).toStrictEqual({ type: 7 });
  });

  it('jsonToMessage works on already-parsed values', () => {
    expect(jsonToMessage({ type: 8, sequenceId: 0 })).toStrictEqual({ type: 8, sequenceId: 0 });
  });
});

describe('JSON parse: errors', () => {
  it('throws SwitchboardError instances', () => {
    expect(() => parseOne('nope')).toThrow(SwitchboardError);
  });

  it.each([
    ['truncated object', '{"type":1,'],
    ['not JSON at all', 'hello'],
    ['empty record', ''],
    ['trailing garbage', '{"type":6}x'],
    ['single quotes', "{'type':6}"],
  ])('invalid JSON (%s) → SB_PROTOCOL_INVALID_JSON', (_name, record) => {
    expect(codeOf(() => parseOne(record))).toBe('SB_PROTOCOL_INVALID_JSON');
  });

  it('every strict prefix of a valid record is SB_PROTOCOL_INVALID_JSON', () => {
    const record = utf8('{"target":"Echo","arguments":["hi ☃"],"invocationId":"0","type":1}');
    for (let n = 0; n < record.length; n++) {
      expect(codeOf(() => parseOne(record.subarray(0, n))), `prefix of ${n} bytes`).toBe('SB_PROTOCOL_INVALID_JSON');
    }
  });

  const withRawItem = (...raw: number[]): Uint8Array =>
    Uint8Array.from([...utf8('{"type":2,"invocationId":"1","item":"'), ...raw, ...utf8('"}')]);

  it.each([
    ['a lone 0xFF byte', [0xff]],
    ['a cut multi-byte sequence', [0xe2, 0x98]],
    ['an overlong encoding', [0xc0, 0xaf]],
    ['a UTF-8 encoded surrogate', [0xed, 0xa0, 0x80]],
  ])('invalid UTF-8 (%s) → SB_PROTOCOL_INVALID_JSON', (_name, raw) => {
    expect(codeOf(() => parseOne(withRawItem(...raw)))).toBe('SB_PROTOCOL_INVALID_JSON');
  });

  it('the same record with valid UTF-8 in that place parses', () => {
    expect(parseOne(withRawItem(0xe2, 0x98, 0x83))).toStrictEqual({ type: 2, invocationId: '1', item: '☃' });
  });

  it.each([
    ['an array', '[1,2]'],
    ['a number', '42'],
    ['null', 'null'],
    ['a string', '"x"'],
    ['no type', '{"target":"Echo","arguments":[]}'],
    ['string type', '{"type":"1","target":"Echo","arguments":[]}'],
    ['unknown type 0', '{"type":0}'],
    ['unknown type 10', '{"type":10}'],
    ['fractional type', '{"type":1.5,"target":"Echo","arguments":[]}'],
    ['Invocation without target', '{"type":1,"arguments":[]}'],
    ['Invocation with numeric target', '{"type":1,"target":5,"arguments":[]}'],
    ['Invocation without arguments', '{"type":1,"target":"Echo"}'],
    ['Invocation with object arguments', '{"type":1,"target":"Echo","arguments":{"0":1}}'],
    ['Invocation with numeric id', '{"type":1,"invocationId":0,"target":"Echo","arguments":[]}'],
    ['Invocation with streamIds not an array', '{"type":1,"target":"E","arguments":[],"streamIds":"2"}'],
    ['Invocation with numeric streamIds', '{"type":1,"target":"E","arguments":[],"streamIds":[2]}'],
    ['Invocation with array headers', '{"type":1,"target":"E","arguments":[],"headers":["a"]}'],
    ['Invocation with string headers', '{"type":1,"target":"E","arguments":[],"headers":"a"}'],
    ['StreamInvocation without id', '{"type":4,"target":"S","arguments":[]}'],
    ['StreamInvocation without arguments', '{"type":4,"invocationId":"1","target":"S"}'],
    ['StreamItem without item', '{"type":2,"invocationId":"1"}'],
    ['StreamItem without id', '{"type":2,"item":1}'],
    ['Completion without id', '{"type":3,"result":1}'],
    ['Completion with numeric error', '{"type":3,"invocationId":"1","error":5}'],
    ['Completion with result and error', '{"type":3,"invocationId":"1","result":42,"error":"e"}'],
    ['CancelInvocation without id', '{"type":5}'],
    ['Close with numeric error', '{"type":7,"error":1}'],
    ['Ack without sequenceId', '{"type":8}'],
    ['Ack with string sequenceId', '{"type":8,"sequenceId":"1"}'],
    ['Ack with negative sequenceId', '{"type":8,"sequenceId":-1}'],
    ['Sequence with fractional sequenceId', '{"type":9,"sequenceId":1.5}'],
  ])('%s → SB_PROTOCOL_INVALID_MESSAGE', (_name, record) => {
    expect(codeOf(() => parseOne(record))).toBe('SB_PROTOCOL_INVALID_MESSAGE');
  });
});
