import { describe, it, expect } from 'vitest';
import { SwitchboardError } from './errors.js';
import { completionWithError, completionWithResult, PING, voidCompletion, type HubMessage } from './messages.js';
import { arrayToMessage, messagePackHubProtocol, messageToArray } from './msgpack-protocol.js';

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const strHex = (s: string): string => Buffer.from(s, 'utf8').toString('hex');

/** Runs a transport unit through the MessagePack reader and parser, as the server does. */
function parseUnit(unit: Uint8Array): HubMessage[] {
  return messagePackHubProtocol
    .createReader(32 * 1024)
    .push(unit)
    .map((body) => messagePackHubProtocol.parse(body));
}
/** Parses one unframed body given as hex. */
const parseBody = (bodyHex: string): HubMessage => messagePackHubProtocol.parse(hex(bodyHex));
const written = (m: HubMessage): string => toHex(messagePackHubProtocol.write(m));

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return err instanceof SwitchboardError ? err.code : `not a SwitchboardError: ${String(err)}`;
  }
  return 'did not throw';
}

const CLOSE_TEXT = 'Connection closed with an error.'; // 32 bytes: needs str8 (d9 20)

describe('MessagePack protocol identity', () => {
  it('is "messagepack", version 2, Binary', () => {
    expect(messagePackHubProtocol.name).toBe('messagepack');
    expect(messagePackHubProtocol.version).toBe(2);
    expect(messagePackHubProtocol.transferFormat).toBe('Binary');
  });
});

describe('MessagePack parse: the v10 client capture (doc 5.3)', () => {
  const fixtures: [string, string, HubMessage][] = [
    ['ping', '02 9106', { type: 6 }],
    ['invoke()', '12 950180a130a44563686f91a6686920e29883', { type: 1, invocationId: '0', target: 'Echo', arguments: ['hi ☃'] }],
    ['send()', '1a 950180c0a44563686f91af666972652d616e642d666f72676574', { type: 1, target: 'Echo', arguments: ['fire-and-forget'] }],
    ['stream()', '0d 950480a131a653747265616d90', { type: 4, invocationId: '1', target: 'Stream', arguments: [] }],
    [
      'upload stream invocation',
      '19 960180a133af53747265616d696e67436f6e6361749091a132',
      { type: 1, invocationId: '3', target: 'StreamingConcat', arguments: [], streamIds: ['2'] },
    ],
    ['stream item', '07 940280a132a178', { type: 2, invocationId: '2', item: 'x' }],
    ['upload stream done (void)', '06 940380a13202', { type: 3, invocationId: '2' }],
    ['client result reply', '0b 950380a57372762d31032a', { type: 3, invocationId: 'srv-1', result: 42, hasResult: true }],
    ['stop()', '03 9207c0', { type: 7 }],
  ];

  it.each(fixtures)('%s', (_name, frame, expected) => {
    expect(parseUnit(hex(frame))).toStrictEqual([expected]);
  });

  it('parses all of them from a single unit, in order', () => {
    expect(parseUnit(hex(fixtures.map(([, f]) => f).join('')))).toStrictEqual(fixtures.map(([, , m]) => m));
  });
});

describe('MessagePack write: exact bytes', () => {
  const fixtures: [string, HubMessage, string][] = [
    // The client writes 5 elements without upload streams; ASP.NET (and we) always write 6.
    ['Invocation with id', { type: 1, invocationId: '0', target: 'Echo', arguments: ['hi ☃'] }, '13 960180a130a44563686f91a6686920e29883 90'],
    [
      'server Invocation without id (nil)',
      { type: 1, target: 'Echo', arguments: ['fire-and-forget'] },
      '1b 960180c0a44563686f91af666972652d616e642d666f72676574 90',
    ],
    // Identical to the client's capture: it has 6 elements too.
    [
      'Invocation with stream ids',
      { type: 1, invocationId: '3', target: 'StreamingConcat', arguments: [], streamIds: ['2'] },
      '19 960180a133af53747265616d696e67436f6e6361749091a132',
    ],
    [
      'Invocation with headers',
      { type: 1, headers: { a: 'b' }, invocationId: '0', target: 'M', arguments: [] },
      '0d 960181a161a162a130a14d9090',
    ],
    ['StreamInvocation', { type: 4, invocationId: '1', target: 'Stream', arguments: [] }, '0e 960480a131a653747265616d 90 90'],
    ['StreamItem', { type: 2, invocationId: '2', item: 'x' }, '07 940280a132a178'],
    ['StreamItem with undefined item', { type: 2, invocationId: '2', item: undefined }, '06 940280a132c0'],
    ['void Completion', voidCompletion('2'), '06 940380a13202'],
    ['Completion with result', completionWithResult('srv-1', 42), '0b 950380a57372762d31032a'],
    ['Completion with null result', completionWithResult('0', null), '07 950380a13003c0'],
    ['Completion with undefined result', completionWithResult('0', undefined), '07 950380a13003c0'],
    ['Completion with error', completionWithError('0', 'boom'), '0b 950380a13001a4626f6f6d'],
    ['CancelInvocation', { type: 5, invocationId: '1' }, '05 930580a131'],
    ['Ping', PING, '02 9106'],
    ['Close', { type: 7 }, '04 9307c0c2'],
    ['Close with error and reconnect', { type: 7, error: CLOSE_TEXT, allowReconnect: true }, `25 9307d920${strHex(CLOSE_TEXT)}c3`],
    ['Ack', { type: 8, sequenceId: 2 }, '03 920802'],
    ['Sequence', { type: 9, sequenceId: 1 }, '03 920901'],
    ['Ack with a uint16 sequenceId', { type: 8, sequenceId: 300 }, '05 9208cd012c'],
  ];

  it.each(fixtures)('%s', (_name, message, frame) => {
    expect(written(message)).toBe(frame.replace(/\s+/g, ''));
  });

  it.each(fixtures)('%s parses back to an equivalent message', (_name, message, frame) => {
    const [parsed] = parseUnit(hex(frame));
    expect(messageToArray(parsed!)).toStrictEqual(messageToArray(message));
  });

  it('writes Ping as exactly 02 91 06', () => {
    expect(Array.from(messagePackHubProtocol.write(PING))).toEqual([0x02, 0x91, 0x06]);
  });

  it('always writes Invocation with 6 elements and Close with 3', () => {
    expect(messageToArray({ type: 1, target: 'M', arguments: [] })).toHaveLength(6);
    expect(messageToArray({ type: 4, invocationId: '1', target: 'M', arguments: [] })).toHaveLength(6);
    expect(messageToArray({ type: 7 })).toStrictEqual([7, null, false]);
    expect(messageToArray({ type: 7, error: 'e', allowReconnect: true })).toStrictEqual([7, 'e', true]);
  });

  it('uses a two-byte varint prefix for a body of 128 bytes or more', () => {
    const item = 'a'.repeat(200);
    const bytes = messagePackHubProtocol.write({ type: 2, invocationId: '1', item });
    // body: 94 02 80 a1 31 d9 c8 <200 bytes> = 207 bytes = varint cf 01
    expect(toHex(bytes.subarray(0, 9))).toBe('cf01940280a131d9c8');
    expect(bytes.length).toBe(209);
    expect(parseUnit(bytes)).toStrictEqual([{ type: 2, invocationId: '1', item }]);
  });
});

describe('MessagePack parse: tolerance', () => {
  it('accepts 5- and 6-element Invocations alike', () => {
    const expected = { type: 1, invocationId: '0', target: 'Echo', arguments: ['hi ☃'] };
    expect(parseBody('950180a130a44563686f91a6686920e29883')).toStrictEqual(expected);
    expect(parseBody('960180a130a44563686f91a6686920e2988390')).toStrictEqual(expected);
    expect(parseBody('960180a130a44563686f91a6686920e29883c0')).toStrictEqual(expected);
  });

  it('accepts 5- and 6-element StreamInvocations alike', () => {
    const expected = { type: 4, invocationId: '1', target: 'Stream', arguments: [] };
    expect(parseBody('950480a131a653747265616d90')).toStrictEqual(expected);
    expect(parseBody('960480a131a653747265616d9090')).toStrictEqual(expected);
    expect(parseBody('960480a131a653747265616d9091a132')).toStrictEqual({ ...expected, streamIds: ['2'] });
  });

  it('accepts extra trailing elements added by a future protocol', () => {
    expect(parseBody('970180a130a44563686f909001')).toStrictEqual({ type: 1, invocationId: '0', target: 'Echo', arguments: [] });
    expect(parseBody('950280a132a178c3')).toStrictEqual({ type: 2, invocationId: '2', item: 'x' });
    expect(parseBody('920601')).toStrictEqual({ type: 6 });
  });

  it('accepts 2- and 3-element Close', () => {
    expect(parseBody('9207c0')).toStrictEqual({ type: 7 });
    expect(parseBody('9307c0c2')).toStrictEqual({ type: 7 });
    expect(parseBody('9307c0c3')).toStrictEqual({ type: 7, allowReconnect: true });
    expect(parseBody(`9307d920${strHex(CLOSE_TEXT)}c3`)).toStrictEqual({ type: 7, error: CLOSE_TEXT, allowReconnect: true });
    expect(parseBody('9207a3626f6f')).toStrictEqual({ type: 7, error: 'boo' });
  });

  it('accepts empty (80) or nil (c0) headers and keeps non-empty ones', () => {
    const expected = { type: 1, target: 'Echo', arguments: [] };
    expect(parseBody('950180c0a44563686f90')).toStrictEqual(expected);
    expect(parseBody('9501c0c0a44563686f90')).toStrictEqual(expected);
    expect(parseBody('950181a161a162c0a44563686f90')).toStrictEqual({ ...expected, headers: { a: 'b' } });
    expect(parseBody('9402c0a132a178')).toStrictEqual({ type: 2, invocationId: '2', item: 'x' });
    expect(parseBody('9403c0a13202')).toStrictEqual({ type: 3, invocationId: '2' });
  });

  it('treats an empty-string invocation id like nil (fire-and-forget)', () => {
    expect(parseBody('950180a0a44563686f90')).toStrictEqual({ type: 1, target: 'Echo', arguments: [] });
  });

  it('keeps a nil StreamItem item and a nil result', () => {
    expect(parseBody('940280a132c0')).toStrictEqual({ type: 2, invocationId: '2', item: null });
    expect(parseBody('950380a13003c0')).toStrictEqual({ type: 3, invocationId: '0', result: null, hasResult: true });
  });

  it('reads error Completions', () => {
    expect(parseBody('950380a13001a4626f6f6d')).toStrictEqual({ type: 3, invocationId: '0', error: 'boom' });
  });

  it('accepts large sequence ids in any integer width', () => {
    expect(parseBody('9208cd012c')).toStrictEqual({ type: 8, sequenceId: 300 });
    expect(parseBody('9209ce00010000')).toStrictEqual({ type: 9, sequenceId: 65536 });
    expect(parseBody('9208cf0000000100000000')).toStrictEqual({ type: 8, sequenceId: 2 ** 32 });
  });

  it('arrayToMessage works on already-decoded values', () => {
    expect(arrayToMessage([5, {}, '4'])).toStrictEqual({ type: 5, invocationId: '4' });
  });
});

describe('MessagePack parse: errors', () => {
  it.each([
    ['a never-used byte (c1)', 'c1'],
    ['a truncated array', '950180'],
    ['trailing bytes after the array', '910600'],
    ['an empty body', ''],
    ['a truncated str8', '9207d920616263'],
  ])('garbage (%s) → SB_PROTOCOL_INVALID_MSGPACK', (_name, body) => {
    expect(codeOf(() => parseBody(body))).toBe('SB_PROTOCOL_INVALID_MSGPACK');
  });

  it('every strict prefix of a valid body is SB_PROTOCOL_INVALID_MSGPACK', () => {
    const body = hex('960180a133af53747265616d696e67436f6e6361749091a132');
    for (let n = 0; n < body.length; n++) {
      expect(codeOf(() => messagePackHubProtocol.parse(body.subarray(0, n))), `prefix of ${n} bytes`).toBe(
        'SB_PROTOCOL_INVALID_MSGPACK',
      );
    }
  });

  it.each([
    ['a positive int, not an array', '06'],
    ['a map, not an array', '80'],
    ['an empty array', '90'],
    ['a string type', '91a131'],
    ['unknown type 0', '9100'],
    ['unknown type 10', '910a'],
    ['Invocation with 4 elements', '940180a130a44563686f'],
    ['Invocation with nil target', '950180a130c090'],
    ['Invocation with map arguments', '950180a130a44563686f80'],
    ['Invocation with int id', '950180 00 a44563686f90'],
    ['Invocation with int stream ids', '960180a130a44563686f909102'],
    ['Invocation with array headers', '950190a130a44563686f90'],
    ['Invocation with string headers', '9501a178a130a44563686f90'],
    ['Invocation with bin headers', '9501c40100a130a44563686f90'],
    ['StreamInvocation with nil id', '950480c0a653747265616d90'],
    ['StreamItem with 3 elements', '930280a132'],
    ['StreamItem with nil id', '940280c0a178'],
    ['Completion with 3 elements', '930380a132'],
    ['Completion with unknown result kind', '950380a13004c0'],
    ['Completion with result kind 3 but no result', '940380a13003'],
    ['Completion with result kind 1 but no error', '940380a13001'],
    ['Completion with nil id', '9403 80 c0 02'],
    ['CancelInvocation with 2 elements', '920580'],
    ['Close with an int error', '920705'],
    ['Ack without sequenceId', '9108'],
    ['Ack with string sequenceId', '9208a131'],
    ['Ack with negative sequenceId', '9208ff'],
    ['Sequence with float sequenceId', '9209cb3ff8000000000000'],
  ])('%s → SB_PROTOCOL_INVALID_MESSAGE', (_name, body) => {
    expect(codeOf(() => parseBody(body))).toBe('SB_PROTOCOL_INVALID_MESSAGE');
  });

  it('random bytes either parse or throw one of the two MessagePack codes', () => {
    let seed = 0x2545f491;
    const next = (): number => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return seed >>> 0;
    };
    const seen = new Set<string>();
    for (let i = 0; i < 3000; i++) {
      const body = new Uint8Array(1 + (next() % 24)).map(() => next() & 0xff);
      // Start most bodies with a fixarray header so the message-level checks get exercised too.
      if (i % 4 !== 0) body[0] = 0x91 + (next() % 6);
      const code = codeOf(() => messagePackHubProtocol.parse(body));
      if (code !== 'did not throw') expect(['SB_PROTOCOL_INVALID_MSGPACK', 'SB_PROTOCOL_INVALID_MESSAGE'], toHex(body)).toContain(code);
      seen.add(code);
    }
    expect(seen).toContain('SB_PROTOCOL_INVALID_MSGPACK');
    expect(seen).toContain('SB_PROTOCOL_INVALID_MESSAGE');
  });
});
