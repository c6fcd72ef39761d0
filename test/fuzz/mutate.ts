import { writeVarint } from '@switchboard/protocol';
import type { Prng } from './prng.js';

/** A mutated input and the strategies that made it (for the report of a failing case). */
export interface Mutated {
  readonly bytes: Uint8Array;
  readonly steps: readonly string[];
}

/** Bytes that tend to matter to the parsers: separators, UTF-8 and MessagePack markers, JSON structure. */
const INTERESTING = [0x00, 0x1e, 0x7f, 0x80, 0xc0, 0xc1, 0xc3, 0xd9, 0xdc, 0xdd, 0xde, 0xdf, 0xc7, 0xd6, 0xf5, 0xff, 0x5b, 0x5d, 0x7b, 0x7d, 0x22, 0x5c, 0x3a, 0x2c, 0x91, 0x9f, 0x81, 0x8f];
const INVALID_UTF8 = [[0xc3, 0x28], [0xed, 0xa0, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xff], [0xc0, 0xaf], [0xe2, 0x82], [0xf4, 0x90, 0x80, 0x80]];
const JSON_TOKENS = ['{', '}', '[', ']', '"', ':', ',', 'null', 'true', '-', '"type":', '\u001e', '\\u0000', '\\ud800', '"__proto__":{}', '"constructor":', '1e400', '-0', '"arguments":', '"invocationId":', '"sequenceId":'];
const NUMBERS = ['-1', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '10', '1.5', '1e308', '-1e308', '9007199254740993', '4294967296', '2147483648', '18446744073709551616', '0.0000001'];
/** Varint prefixes: huge, over-long (more than 5 bytes), the 2^31-1 edge, zero, small. */
const VARINTS = [
  [0xff, 0xff, 0xff, 0xff, 0x07],
  [0xff, 0xff, 0xff, 0xff, 0x0f],
  [0xff, 0xff, 0xff, 0xff, 0xff, 0x01],
  [0x80, 0x80, 0x80, 0x80, 0x80, 0x00],
  [0x00],
  [0x01],
  [0x7f],
  [0x80, 0x01],
  [0xff, 0xff, 0x03],
];

const encoder = new TextEncoder();

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

type Strategy = (rng: Prng, input: Uint8Array, corpus: readonly Uint8Array[]) => Uint8Array;

const strategies: Record<string, Strategy> = {
  bitFlip(rng, input) {
    if (!input.length) return input;
    const out = input.slice();
    for (let n = rng.range(1, 8); n > 0; n--) out[rng.int(out.length)]! ^= 1 << rng.int(8);
    return out;
  },
  insertBytes(rng, input) {
    const at = rng.int(input.length + 1);
    const n = rng.range(1, 4);
    const bytes = Uint8Array.from({ length: n }, () => (rng.chance(0.6) ? rng.pick(INTERESTING) : rng.int(256)));
    return concat(input.subarray(0, at), bytes, input.subarray(at));
  },
  deleteBytes(rng, input) {
    if (!input.length) return input;
    const at = rng.int(input.length);
    const n = rng.range(1, Math.min(16, input.length - at));
    return concat(input.subarray(0, at), input.subarray(at + n));
  },
  duplicateRange(rng, input) {
    if (!input.length) return input;
    const at = rng.int(input.length);
    const n = rng.range(1, Math.min(64, input.length - at));
    const copies = rng.chance(0.1) ? rng.range(2, 200) : 1;
    const chunk = input.subarray(at, at + n);
    return concat(input.subarray(0, at + n), ...Array.from({ length: copies }, () => chunk), input.subarray(at + n));
  },
  splice(rng, input, corpus) {
    const other = rng.pick(corpus);
    return concat(input.subarray(0, rng.int(input.length + 1)), other.subarray(rng.int(other.length + 1)));
  },
  truncate(rng, input) {
    return input.subarray(0, rng.int(input.length + 1));
  },
  invalidUtf8(rng, input) {
    const at = rng.int(input.length + 1);
    return concat(input.subarray(0, at), Uint8Array.from(rng.pick(INVALID_UTF8)), input.subarray(at));
  },
  jsonToken(rng, input) {
    const at = rng.int(input.length + 1);
    return concat(input.subarray(0, at), encoder.encode(rng.pick(JSON_TOKENS)), input.subarray(at));
  },
  replaceNumber(rng, input) {
    const text = Buffer.from(input).toString('latin1');
    const runs = [...text.matchAll(/-?\d+/g)];
    if (!runs.length) return input;
    const run = rng.pick(runs);
    const at = run.index!;
    return concat(input.subarray(0, at), encoder.encode(rng.pick(NUMBERS)), input.subarray(at + run[0].length));
  },
  /** Rewrites the varint length prefix at the start (MessagePack framing). */
  corruptLength(rng, input) {
    let size = 0;
    while (size < input.length && size < 5 && (input[size]! & 0x80) !== 0) size++;
    size = Math.min(size + 1, input.length);
    const prefix = rng.chance(0.5) ? Uint8Array.from(rng.pick(VARINTS)) : writeVarint(rng.int(1 << rng.int(31)));
    return concat(prefix, input.subarray(size));
  },
  deepNest(rng, input) {
    const depth = rng.chance(0.2) ? rng.range(1000, 40_000) : rng.range(50, 130);
    const binary = input[0] !== 0x7b;
    if (binary) return concat(new Uint8Array(depth).fill(0x91), input);
    return concat(encoder.encode('['.repeat(depth)), input, encoder.encode(']'.repeat(depth)));
  },
  /** Inserts a complete nested empty array and a comma: sometimes lands as a valid deep argument. */
  insertNested(rng, input) {
    const depth = nestDepth(rng);
    const at = rng.int(input.length + 1);
    return concat(input.subarray(0, at), encoder.encode(`${'['.repeat(depth)}${']'.repeat(depth)},`), input.subarray(at));
  },
  randomBytes(rng) {
    return rng.bytes(rng.range(0, 64));
  },
};

function nestDepth(rng: Prng): number {
  return rng.chance(0.3) ? rng.range(1000, 40_000) : rng.range(50, 130);
}

/**
 * A well-formed Invocation of `Echo` whose argument nests `depth` arrays (random when omitted),
 * framed for the protocol: what a hostile client sends to make the server recurse.
 */
export function deepInvocation(rng: Prng, protocol: 'json' | 'messagepack', depth = nestDepth(rng)): Uint8Array {
  if (protocol === 'json') {
    return encoder.encode(`{"type":1,"invocationId":"1","target":"Echo","arguments":[${'['.repeat(depth)}${']'.repeat(depth)}]}\u001e`);
  }
  // [1, {}, "1", "Echo", [ [[[...nil]]] ]] written by hand: no encoder writes that deep.
  const head = Uint8Array.from([0x95, 0x01, 0x80, 0xa1, 0x31, 0xa4, 0x45, 0x63, 0x68, 0x6f, 0x91]);
  const body = concat(head, new Uint8Array(depth).fill(0x91), Uint8Array.of(0xc0));
  return concat(writeVarint(body.length), body);
}

const NAMES = Object.keys(strategies);

/** Applies one to four random strategies to `input`; `corpus` feeds splicing. */
export function mutate(rng: Prng, input: Uint8Array, corpus: readonly Uint8Array[]): Mutated {
  let bytes = input;
  const steps: string[] = [];
  for (let n = rng.range(1, 4); n > 0; n--) {
    const name = rng.pick(NAMES);
    bytes = strategies[name]!(rng, bytes, corpus);
    steps.push(name);
  }
  return { bytes, steps };
}

/** Cuts `bytes` into one to four chunks, as separate WebSocket frames or POST bodies would. */
export function chunks(rng: Prng, bytes: Uint8Array): Uint8Array[] {
  const n = rng.range(1, 4);
  const cuts = Array.from({ length: n - 1 }, () => rng.int(bytes.length + 1)).sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const cut of [...cuts, bytes.length]) {
    out.push(bytes.subarray(prev, cut));
    prev = cut;
  }
  return out;
}

export const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
