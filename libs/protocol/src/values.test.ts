import { describe, it, expect } from 'vitest';
import { ERROR_CODES, isSwitchboardError, SwitchboardError } from './errors.js';
import { jsonHubProtocol, writeJsonText } from './json-protocol.js';
import {
  completionWithError,
  completionWithResult,
  isTrackable,
  MessageType,
  PING,
  voidCompletion,
  type HubMessage,
} from './messages.js';
import { messagePackHubProtocol } from './msgpack-protocol.js';
import { base64Encode, formatDate } from './values.js';

const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const RS = '\u001e';

describe('formatDate (System.Text.Json style)', () => {
  it.each([
    ['2000-01-01T00:00:00.000Z', '2000-01-01T00:00:00Z'],
    ['2000-01-01T00:00:00.500Z', '2000-01-01T00:00:00.5Z'],
    ['2000-01-01T00:00:00.050Z', '2000-01-01T00:00:00.05Z'],
    ['2000-01-01T00:00:00.120Z', '2000-01-01T00:00:00.12Z'],
    ['2000-01-01T00:00:00.123Z', '2000-01-01T00:00:00.123Z'],
    ['2000-01-01T00:00:00.001Z', '2000-01-01T00:00:00.001Z'],
    ['2024-02-29T23:59:59.000Z', '2024-02-29T23:59:59Z'],
    ['1969-12-31T23:59:59.900Z', '1969-12-31T23:59:59.9Z'],
    ['2030-06-15T12:00:10.000Z', '2030-06-15T12:00:10Z'],
  ])('%s → %s', (iso, expected) => {
    expect(formatDate(new Date(iso))).toBe(expected);
  });

  it('does not trim zeros from the seconds when the fraction is zero', () => {
    expect(formatDate(new Date('2000-01-01T00:00:10.000Z'))).toBe('2000-01-01T00:00:10Z');
    expect(formatDate(new Date('2000-01-01T00:00:00.000Z')).endsWith('00:00:00Z')).toBe(true);
  });
});

describe('base64Encode', () => {
  it('encodes [1,2,3] as AQID, and the RFC 4648 vectors', () => {
    expect(base64Encode(Uint8Array.from([1, 2, 3]))).toBe('AQID');
    const vectors: [string, string][] = [
      ['', ''],
      ['f', 'Zg=='],
      ['fo', 'Zm8='],
      ['foo', 'Zm9v'],
      ['foob', 'Zm9vYg=='],
      ['fooba', 'Zm9vYmE='],
      ['foobar', 'Zm9vYmFy'],
    ];
    for (const [raw, b64] of vectors) expect(base64Encode(new TextEncoder().encode(raw))).toBe(b64);
  });

  it('matches Node Buffer for every length 0..20 (random, all-0xFF and all-zero bytes)', () => {
    let seed = 12345;
    const rand = (): number => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) & 0xff;
    for (let len = 0; len <= 20; len++) {
      for (const bytes of [
        new Uint8Array(len).map(rand),
        new Uint8Array(len).fill(0xff),
        new Uint8Array(len),
        new Uint8Array(len).map((_, i) => (i * 37 + 200) & 0xff),
      ]) {
        expect(base64Encode(bytes), `len ${len}: ${toHex(bytes)}`).toBe(Buffer.from(bytes).toString('base64'));
      }
    }
  });

  it('matches Node Buffer for all 256 byte values and for a subarray view', () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    expect(base64Encode(all)).toBe(Buffer.from(all).toString('base64'));
    const view = all.subarray(100, 111);
    expect(base64Encode(view)).toBe(Buffer.from(view).toString('base64'));
  });
});

describe('JSON value conventions', () => {
  it('writes a Date argument as 2000-01-01T00:00:00Z (no .000)', () => {
    const m: HubMessage = { type: 1, target: 'M', arguments: [new Date('2000-01-01T00:00:00Z')] };
    expect(writeJsonText(m)).toBe(`{"type":1,"target":"M","arguments":["2000-01-01T00:00:00Z"]}${RS}`);
  });

  it('trims trailing zeros of nonzero milliseconds', () => {
    const m = completionWithResult('1', new Date('2000-01-01T00:00:00.500Z'));
    expect(writeJsonText(m)).toBe(`{"type":3,"invocationId":"1","result":"2000-01-01T00:00:00.5Z"}${RS}`);
  });

  it('formats Dates nested in objects, arrays and stream items', () => {
    const d = new Date('2001-02-03T04:05:06.780Z');
    const m: HubMessage = { type: 2, invocationId: '1', item: { when: d, list: [d, { d }] } };
    expect(writeJsonText(m)).toBe(
      `{"type":2,"invocationId":"1","item":{"when":"2001-02-03T04:05:06.78Z","list":["2001-02-03T04:05:06.78Z",{"d":"2001-02-03T04:05:06.78Z"}]}}${RS}`,
    );
  });

  it('writes Uint8Array as base64: [1,2,3] → "AQID"', () => {
    const m: HubMessage = { type: 1, target: 'M', arguments: [Uint8Array.from([1, 2, 3])] };
    expect(writeJsonText(m)).toBe(`{"type":1,"target":"M","arguments":["AQID"]}${RS}`);
  });

  it('writes a Buffer as base64, not as {"type":"Buffer","data":[...]}', () => {
    const m = completionWithResult('1', { bytes: Buffer.from([1, 2, 3]), empty: Buffer.alloc(0) });
    expect(writeJsonText(m)).toBe(`{"type":3,"invocationId":"1","result":{"bytes":"AQID","empty":""}}${RS}`);
  });

  it('writes bytes that are the StreamItem item itself', () => {
    const bytes = jsonHubProtocol.write({ type: 2, invocationId: '1', item: Uint8Array.from([0xff, 0xfe]) });
    expect(new TextDecoder().decode(bytes)).toBe(`{"type":2,"invocationId":"1","item":"//4="}${RS}`);
  });

  it('writes an invalid Date as null, like JSON.stringify, instead of throwing', () => {
    const m = completionWithResult('1', [new Date(NaN), new Date('2000-01-01T00:00:00Z')]);
    expect(writeJsonText(m)).toBe(`{"type":3,"invocationId":"1","result":[null,"2000-01-01T00:00:00Z"]}${RS}`);
  });

  it('leaves other values (numbers, booleans, null, strings that look like dates) untouched', () => {
    const m: HubMessage = { type: 1, target: 'M', arguments: [1.5, -0, true, null, '2000-01-01T00:00:00.000Z', { a: undefined }] };
    expect(writeJsonText(m)).toBe(`{"type":1,"target":"M","arguments":[1.5,0,true,null,"2000-01-01T00:00:00.000Z",{}]}${RS}`);
  });
});

describe('MessagePack value conventions', () => {
  const roundTrip = (value: unknown): unknown => {
    const bytes = messagePackHubProtocol.write(completionWithResult('1', value));
    const [body] = messagePackHubProtocol.createReader(1 << 20).push(bytes);
    const parsed = messagePackHubProtocol.parse(body!);
    if (parsed.type !== MessageType.Completion) throw new Error('not a completion');
    return parsed.result;
  };

  it('writes a whole-second Date as timestamp32 ext -1 (d6 ff + seconds)', () => {
    const bytes = messagePackHubProtocol.write({ type: 1, target: 'M', arguments: [new Date('2000-01-01T00:00:00Z')] });
    expect(toHex(bytes)).toContain('91d6ff386d4380'); // [ext -1: 946684800]
  });

  it('writes a Date with milliseconds as timestamp64 (d7 ff)', () => {
    const bytes = messagePackHubProtocol.write({ type: 1, target: 'M', arguments: [new Date('2000-01-01T00:00:00.5Z')] });
    // nanoseconds 500_000_000 << 2 in the upper 30 bits, seconds in the lower 34
    expect(toHex(bytes)).toContain('91d7ff77359400386d4380');
  });

  it.each(['2000-01-01T00:00:00Z', '2000-01-01T00:00:00.5Z', '1969-07-20T20:17:40.123Z', '2500-01-01T00:00:00.001Z'])(
    'round-trips the Date %s',
    (iso) => {
      const result = roundTrip(new Date(iso));
      expect(result).toBeInstanceOf(Date);
      expect((result as Date).toISOString()).toBe(new Date(iso).toISOString());
    },
  );

  it('writes Uint8Array as bin 8 and reads it back as Uint8Array', () => {
    const bytes = messagePackHubProtocol.write({ type: 1, target: 'M', arguments: [Uint8Array.from([1, 2, 3])] });
    expect(toHex(bytes)).toContain('91c403010203');
    const result = roundTrip(Uint8Array.from([1, 2, 3]));
    expect(result).toBeInstanceOf(Uint8Array);
    expect(Array.from(result as Uint8Array)).toEqual([1, 2, 3]);
  });

  it('writes a Buffer as bin too', () => {
    const bytes = messagePackHubProtocol.write({ type: 2, invocationId: '1', item: Buffer.from([9]) });
    expect(toHex(bytes)).toBe('08940280a131c40109');
  });

  it('uses the smallest integer encodings, float64 for non-integers and nil for undefined', () => {
    const bytes = messagePackHubProtocol.write({ type: 1, target: 'M', arguments: [42, -1, 300, 1.5, undefined, null, true] });
    expect(toHex(bytes)).toContain('972affcd012ccb3ff8000000000000c0c0c3');
  });

  it('round-trips nested maps with case-sensitive keys', () => {
    expect(roundTrip({ Name: 'a', name: 'b', list: [1, { x: null }] })).toStrictEqual({ Name: 'a', name: 'b', list: [1, { x: null }] });
  });
});

describe('message helpers', () => {
  it('numbers the message types as on the wire', () => {
    expect(MessageType).toStrictEqual({
      Invocation: 1,
      StreamItem: 2,
      Completion: 3,
      StreamInvocation: 4,
      CancelInvocation: 5,
      Ping: 6,
      Close: 7,
      Ack: 8,
      Sequence: 9,
    });
  });

  it('isTrackable is true for types 1-5 only', () => {
    const samples: HubMessage[] = [
      { type: 1, target: 'M', arguments: [] },
      { type: 2, invocationId: '1', item: 1 },
      voidCompletion('1'),
      { type: 4, invocationId: '1', target: 'S', arguments: [] },
      { type: 5, invocationId: '1' },
      PING,
      { type: 7 },
      { type: 8, sequenceId: 1 },
      { type: 9, sequenceId: 1 },
    ];
    expect(samples.map(isTrackable)).toEqual([true, true, true, true, true, false, false, false, false]);
  });

  it('builds completions', () => {
    expect(completionWithResult('1', null)).toStrictEqual({ type: 3, invocationId: '1', result: null, hasResult: true });
    expect(completionWithError('1', 'e')).toStrictEqual({ type: 3, invocationId: '1', error: 'e' });
    expect(voidCompletion('1')).toStrictEqual({ type: 3, invocationId: '1' });
  });

  it('PING is a frozen {type: 6}', () => {
    expect(PING).toStrictEqual({ type: 6 });
    expect(Object.isFrozen(PING)).toBe(true);
  });
});

describe('SwitchboardError', () => {
  it('carries its code and name, and isSwitchboardError filters by code', () => {
    const err = new SwitchboardError('SB_PROTOCOL_INVALID_JSON', 'bad');
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe('SwitchboardError');
    expect(err.code).toBe('SB_PROTOCOL_INVALID_JSON');
    expect(isSwitchboardError(err)).toBe(true);
    expect(isSwitchboardError(err, 'SB_PROTOCOL_INVALID_JSON')).toBe(true);
    expect(isSwitchboardError(err, 'SB_PROTOCOL_INVALID_MESSAGE')).toBe(false);
    expect(isSwitchboardError(new Error('x'))).toBe(false);
  });

  it('registers every protocol and handshake code the codecs throw', () => {
    for (const code of [
      'SB_PROTOCOL_MESSAGE_TOO_LARGE',
      'SB_PROTOCOL_INVALID_JSON',
      'SB_PROTOCOL_INVALID_MESSAGE',
      'SB_PROTOCOL_INVALID_MSGPACK',
      'SB_PROTOCOL_INVALID_VARINT',
      'SB_HANDSHAKE_INVALID',
      'SB_HANDSHAKE_UNSUPPORTED_PROTOCOL',
      'SB_HANDSHAKE_UNSUPPORTED_VERSION',
      'SB_HANDSHAKE_TRANSFER_FORMAT',
    ]) {
      expect(ERROR_CODES, code).toHaveProperty(code);
    }
  });
});
