import { describe, it, expect } from 'vitest';
import { BinaryFrameReader, frameBinary, readVarint, writeVarint } from './binary-format.js';
import { SwitchboardError } from './errors.js';
import { RECORD_SEPARATOR, RECORD_SEPARATOR_CHAR, TextFrameReader } from './text-format.js';

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
const text = (b: Uint8Array): string => new TextDecoder().decode(b);

/** The code of the SwitchboardError `fn` throws, or a description of what happened instead. */
function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return err instanceof SwitchboardError ? err.code : `not a SwitchboardError: ${String(err)}`;
  }
  return 'did not throw';
}

/** Feeds `unit` to a fresh reader cut at the given offsets and returns every body, as hex. */
function feed(make: () => { push(c: Uint8Array): Uint8Array[] }, unit: Uint8Array, cuts: number[]): string[] {
  const reader = make();
  const out: string[] = [];
  let prev = 0;
  for (const cut of [...cuts, unit.length]) {
    for (const body of reader.push(unit.slice(prev, cut))) out.push(toHex(body));
    prev = cut;
  }
  return out;
}

// The client→server JSON capture of doc section 4.2, as one transport unit.
const JSON_RECORDS = [
  '{"type":6}',
  '{"target":"Echo","arguments":["hi ☃"],"invocationId":"0","type":1}',
  '{"target":"Echo","arguments":["fire-and-forget"],"type":1}',
  '{"target":"Stream","arguments":[],"invocationId":"1","type":4}',
  '{"target":"StreamingConcat","arguments":[],"invocationId":"3","streamIds":["2"],"type":1}',
  '{"invocationId":"2","item":"x","type":2}',
  '{"invocationId":"2","item":"y","type":2}',
  '{"invocationId":"2","type":3}',
  '{"invocationId":"srv-1","result":42,"type":3}',
  '{"type":7}',
];
const JSON_UNIT = utf8(JSON_RECORDS.map((r) => r + RECORD_SEPARATOR_CHAR).join(''));
const JSON_BODIES = JSON_RECORDS.map((r) => toHex(utf8(r)));

// The MessagePack capture of doc section 5.3 (each prefixed with its varint length).
const MSGPACK_FRAMES = [
  '029106',
  '12950180a130a44563686f91a6686920e29883',
  '1a950180c0a44563686f91af666972652d616e642d666f72676574',
  '0d950480a131a653747265616d90',
  '19960180a133af53747265616d696e67436f6e6361749091a132',
  '07940280a132a178',
  '06940380a13202',
  '0b950380a57372762d31032a',
  '039207c0',
];
const MSGPACK_UNIT = hex(MSGPACK_FRAMES.join(''));
const MSGPACK_BODIES = MSGPACK_FRAMES.map((f) => f.slice(2)); // every prefix above is one byte

describe('TextFrameReader', () => {
  it('uses 0x1E as the record separator', () => {
    expect(RECORD_SEPARATOR).toBe(0x1e);
    expect(RECORD_SEPARATOR_CHAR).toBe('\u001e');
  });

  it('splits one unit holding the whole 4.2 capture into its ten records, in order', () => {
    const bodies = new TextFrameReader(1024).push(JSON_UNIT);
    expect(bodies.map(text)).toEqual(JSON_RECORDS);
  });

  it('yields the same records when the unit is cut in two at every offset', () => {
    for (let cut = 0; cut <= JSON_UNIT.length; cut++) {
      expect(feed(() => new TextFrameReader(1024), JSON_UNIT, [cut]), `cut at ${cut}`).toEqual(JSON_BODIES);
    }
  });

  it('yields the same records when the unit is cut in three at many offset pairs', () => {
    for (let a = 0; a <= JSON_UNIT.length; a += 3) {
      for (let b = a; b <= JSON_UNIT.length; b += 7) {
        expect(feed(() => new TextFrameReader(1024), JSON_UNIT, [a, b]), `cuts ${a},${b}`).toEqual(JSON_BODIES);
      }
    }
  });

  it('yields the same records when fed one byte at a time (including inside the UTF-8 of ☃)', () => {
    const cuts = Array.from({ length: JSON_UNIT.length }, (_, i) => i);
    expect(feed(() => new TextFrameReader(1024), JSON_UNIT, cuts)).toEqual(JSON_BODIES);
  });

  it('keeps a cut-off tail, reports it in bufferedBytes and returns nothing for it yet', () => {
    const reader = new TextFrameReader(1024);
    expect(reader.push(utf8('{"type":6}\u001e{"ty')).map(text)).toEqual(['{"type":6}']);
    expect(reader.bufferedBytes).toBe(4);
    expect(reader.push(utf8('pe":'))).toEqual([]);
    expect(reader.bufferedBytes).toBe(8);
    expect(reader.push(utf8('7}\u001e')).map(text)).toEqual(['{"type":7}']);
    expect(reader.bufferedBytes).toBe(0);
  });

  it('copies the tail, so the caller may reuse its chunk buffer', () => {
    const reader = new TextFrameReader(1024);
    const chunk = utf8('{"type":');
    reader.push(chunk);
    chunk.fill(0x41);
    expect(reader.push(utf8('6}\u001e')).map(text)).toEqual(['{"type":6}']);
  });

  it('returns an empty record for two adjacent separators (the parser rejects it later)', () => {
    expect(new TextFrameReader(16).push(utf8('\u001e\u001e')).map((b) => b.length)).toEqual([0, 0]);
  });

  it('accepts a record of exactly maxMessageSize bytes', () => {
    const reader = new TextFrameReader(10);
    expect(reader.push(utf8('0123456789\u001e')).map(text)).toEqual(['0123456789']);
  });

  it('refuses a complete record longer than maxMessageSize', () => {
    const err = (() => {
      try {
        new TextFrameReader(10).push(utf8('01234567890\u001e'));
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(SwitchboardError);
    expect((err as SwitchboardError).code).toBe('SB_PROTOCOL_MESSAGE_TOO_LARGE');
    expect((err as SwitchboardError).message).toContain('maxMessageSize');
  });

  it('refuses an oversize record that comes after a valid one in the same unit', () => {
    expect(codeOf(() => new TextFrameReader(10).push(utf8('{"type":6}\u001e01234567890\u001e')))).toBe(
      'SB_PROTOCOL_MESSAGE_TOO_LARGE',
    );
  });

  it('refuses an incomplete record as soon as it outgrows maxMessageSize', () => {
    expect(codeOf(() => new TextFrameReader(10).push(utf8('01234567890')))).toBe('SB_PROTOCOL_MESSAGE_TOO_LARGE');
    const reader = new TextFrameReader(10);
    expect(reader.push(utf8('0123456789'))).toEqual([]); // exactly the limit: still waiting
    expect(codeOf(() => reader.push(utf8('0')))).toBe('SB_PROTOCOL_MESSAGE_TOO_LARGE');
  });

  it('refuses an oversize record whose separator arrives in a later chunk', () => {
    const reader = new TextFrameReader(10);
    reader.push(utf8('01234567'));
    expect(codeOf(() => reader.push(utf8('890\u001e')))).toBe('SB_PROTOCOL_MESSAGE_TOO_LARGE');
  });
});

describe('varint length prefix', () => {
  const cases: [number, string][] = [
    [0, '00'],
    [1, '01'],
    [53, '35'],
    [127, '7f'],
    [128, '8001'],
    [5248, '8029'],
    [16383, 'ff7f'],
    [16384, '808001'],
    [2097152, '80808001'],
    [268435456, '8080808001'],
    [0x7fffffff, 'ffffffff07'],
  ];

  it.each(cases)('writes %i as %s', (n, bytes) => {
    expect(toHex(writeVarint(n))).toBe(bytes);
  });

  it.each(cases.filter(([n]) => n <= 2097152))('frameBinary prefixes a %i-byte body with %s', (n, bytes) => {
    const body = Uint8Array.from({ length: n }, (_, i) => i & 0xff);
    const framed = frameBinary(body);
    expect(toHex(framed.subarray(0, bytes.length / 2))).toBe(bytes);
    expect(framed.length).toBe(bytes.length / 2 + n);
    expect(Buffer.from(framed.subarray(bytes.length / 2)).equals(Buffer.from(body))).toBe(true);
  });

  it.each(cases)('reads %i back from %s, also at an offset', (n, bytes) => {
    expect(readVarint(hex(bytes), 0)).toEqual({ length: n, size: bytes.length / 2 });
    expect(readVarint(hex(`aabb${bytes}cc`), 2)).toEqual({ length: n, size: bytes.length / 2 });
  });

  it('returns undefined while the prefix itself is cut off', () => {
    expect(readVarint(new Uint8Array(0), 0)).toBeUndefined();
    expect(readVarint(hex('80'), 0)).toBeUndefined();
    expect(readVarint(hex('ffffffff'), 0)).toBeUndefined();
    expect(readVarint(hex('0580'), 1)).toBeUndefined();
  });

  it('rejects a 6-byte prefix', () => {
    expect(codeOf(() => readVarint(hex('808080808001'), 0))).toBe('SB_PROTOCOL_INVALID_VARINT');
  });

  it('rejects a 5-byte prefix above 2^31-1', () => {
    expect(codeOf(() => readVarint(hex('ffffffff08'), 0))).toBe('SB_PROTOCOL_INVALID_VARINT');
    expect(codeOf(() => readVarint(hex('ffffffff0f'), 0))).toBe('SB_PROTOCOL_INVALID_VARINT');
  });

  it('frameBinary prefixes a body with its length', () => {
    expect(toHex(frameBinary(hex('9106')))).toBe('029106');
    expect(toHex(frameBinary(new Uint8Array(0)))).toBe('00');
    const big = frameBinary(new Uint8Array(5248).fill(0xc0));
    expect(big.length).toBe(5250);
    expect(toHex(big.subarray(0, 3))).toBe('8029c0');
  });
});

describe('BinaryFrameReader', () => {
  it('splits one unit holding the whole 5.3 capture into its nine bodies, in order', () => {
    expect(new BinaryFrameReader(1024).push(MSGPACK_UNIT).map(toHex)).toEqual(MSGPACK_BODIES);
  });

  it('yields the same bodies when the unit is cut in two at every offset', () => {
    for (let cut = 0; cut <= MSGPACK_UNIT.length; cut++) {
      expect(feed(() => new BinaryFrameReader(1024), MSGPACK_UNIT, [cut]), `cut at ${cut}`).toEqual(MSGPACK_BODIES);
    }
  });

  it('yields the same bodies when the unit is cut in three at every offset pair', () => {
    for (let a = 0; a <= MSGPACK_UNIT.length; a++) {
      for (let b = a; b <= MSGPACK_UNIT.length; b++) {
        expect(feed(() => new BinaryFrameReader(1024), MSGPACK_UNIT, [a, b]), `cuts ${a},${b}`).toEqual(MSGPACK_BODIES);
      }
    }
  });

  it('yields the same bodies when fed one byte at a time', () => {
    const cuts = Array.from({ length: MSGPACK_UNIT.length }, (_, i) => i);
    expect(feed(() => new BinaryFrameReader(1024), MSGPACK_UNIT, cuts)).toEqual(MSGPACK_BODIES);
  });

  it('reassembles frames whose multi-byte varint prefix is cut at every position', () => {
    const a = new Uint8Array(5248).fill(0xa1);
    const b = new Uint8Array(300).fill(0xb2);
    const unit = hex(toHex(frameBinary(a)) + '029106' + toHex(frameBinary(b)));
    const expected = [toHex(a), '9106', toHex(b)];
    // Cut inside the first prefix (after byte 0), inside the last one, and everywhere near them.
    const interesting = [0, 1, 2, 3, 5250, 5251, 5252, 5253, 5254, 5255, 5256, unit.length];
    for (const cut of interesting) {
      expect(feed(() => new BinaryFrameReader(10_000), unit, [cut]), `cut at ${cut}`).toEqual(expected);
    }
  });

  it('keeps a cut-off tail and reports it in bufferedBytes', () => {
    const reader = new BinaryFrameReader(1024);
    expect(reader.push(hex('029106 0794'))).toHaveLength(1);
    expect(reader.bufferedBytes).toBe(2);
    expect(reader.push(hex('0280a132a1')).map(toHex)).toEqual([]);
    expect(reader.push(hex('78')).map(toHex)).toEqual(['940280a132a178']);
    expect(reader.bufferedBytes).toBe(0);
  });

  it('copies the tail, so the caller may reuse its chunk buffer', () => {
    const reader = new BinaryFrameReader(1024);
    const chunk = hex('079402');
    reader.push(chunk);
    chunk.fill(0);
    expect(reader.push(hex('80a132a178')).map(toHex)).toEqual(['940280a132a178']);
  });

  it('returns an empty body for a zero-length frame', () => {
    expect(new BinaryFrameReader(16).push(hex('00029106')).map(toHex)).toEqual(['', '9106']);
  });

  it('accepts a frame of exactly maxMessageSize bytes', () => {
    expect(new BinaryFrameReader(7).push(hex('07940280a132a178')).map(toHex)).toEqual(['940280a132a178']);
  });

  it('refuses a declared length above maxMessageSize even before the body arrives', () => {
    expect(codeOf(() => new BinaryFrameReader(6).push(hex('07')))).toBe('SB_PROTOCOL_MESSAGE_TOO_LARGE');
    expect(codeOf(() => new BinaryFrameReader(1000).push(hex('029106 8029')))).toBe('SB_PROTOCOL_MESSAGE_TOO_LARGE');
  });

  it('refuses an oversize length whose prefix completes in a later chunk', () => {
    const reader = new BinaryFrameReader(1000);
    expect(reader.push(hex('80'))).toEqual([]);
    expect(codeOf(() => reader.push(hex('29')))).toBe('SB_PROTOCOL_MESSAGE_TOO_LARGE');
  });

  it('rejects a malformed prefix with SB_PROTOCOL_INVALID_VARINT, also across chunks', () => {
    expect(codeOf(() => new BinaryFrameReader(1024).push(hex('808080808001')))).toBe('SB_PROTOCOL_INVALID_VARINT');
    expect(codeOf(() => new BinaryFrameReader(1024).push(hex('029106 ffffffff08')))).toBe('SB_PROTOCOL_INVALID_VARINT');
    const reader = new BinaryFrameReader(1024);
    expect(reader.push(hex('80808080'))).toEqual([]);
    expect(codeOf(() => reader.push(hex('80')))).toBe('SB_PROTOCOL_INVALID_VARINT');
  });
});
