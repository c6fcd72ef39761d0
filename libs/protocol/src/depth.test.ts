import { Encoder } from '@msgpack/msgpack';
import { describe, expect, it } from 'vitest';
import { MAX_JSON_DEPTH, MAX_MSGPACK_DEPTH, jsonDepthExceeds, valueDepthExceeds } from './depth.js';

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
const nested = (n: number, inner: unknown = null): unknown => {
  let v = inner;
  for (let i = 0; i < n; i++) v = [v];
  return v;
};

describe('jsonDepthExceeds', () => {
  it('counts nested arrays and objects, not scalars', () => {
    expect(jsonDepthExceeds(utf8('[[[1]]]'), 3)).toBe(false);
    expect(jsonDepthExceeds(utf8('[[[[1]]]]'), 3)).toBe(true);
    expect(jsonDepthExceeds(utf8('{"a":{"b":[1]}}'), 3)).toBe(false);
    expect(jsonDepthExceeds(utf8('{"a":{"b":[{}]}}'), 3)).toBe(true);
  });

  it('depth is the deepest point, not the number of brackets', () => {
    expect(jsonDepthExceeds(utf8('[' + '[],'.repeat(500) + '[]]'), 2)).toBe(false);
  });

  it('ignores brackets inside strings, escaped quotes included', () => {
    expect(jsonDepthExceeds(utf8(`["${'['.repeat(200)}"]`), 2)).toBe(false);
    expect(jsonDepthExceeds(utf8(`["\\"${'{'.repeat(200)}"]`), 2)).toBe(false);
    expect(jsonDepthExceeds(utf8(`["\\\\",${'['.repeat(200)}]`), 2)).toBe(true);
  });

  it('at the limit: 64 levels pass, 65 do not', () => {
    expect(MAX_JSON_DEPTH).toBe(64);
    expect(jsonDepthExceeds(utf8('['.repeat(64) + ']'.repeat(64)), MAX_JSON_DEPTH)).toBe(false);
    expect(jsonDepthExceeds(utf8('['.repeat(65) + ']'.repeat(65)), MAX_JSON_DEPTH)).toBe(true);
    expect(jsonDepthExceeds(utf8('['.repeat(100_000)), MAX_JSON_DEPTH)).toBe(true);
  });
});

describe('valueDepthExceeds (counted as the MessagePack encoder counts)', () => {
  it('agrees with @msgpack/msgpack: what it refuses to write is exactly what exceeds', () => {
    const encoder = new Encoder({ maxDepth: MAX_MSGPACK_DEPTH });
    for (const n of [97, 98, 99, 100, 101]) {
      for (const inner of [null, [], {}, { a: 1 }, new Uint8Array(3), new Date(0)]) {
        const value = nested(n, inner);
        let encodes = true;
        try {
          encoder.encode(value);
        } catch {
          encodes = false;
        }
        expect(valueDepthExceeds(value, MAX_MSGPACK_DEPTH), `${n} arrays around ${JSON.stringify(inner)}`).toBe(!encodes);
      }
    }
  });

  it('handles any depth iteratively, and maps too', () => {
    expect(valueDepthExceeds(nested(1_000_000), MAX_MSGPACK_DEPTH)).toBe(true);
    expect(valueDepthExceeds({ a: { b: { c: 1 } } }, 4)).toBe(false);
    expect(valueDepthExceeds({ a: { b: { c: 1 } } }, 3)).toBe(true);
    expect(valueDepthExceeds('scalar', 1)).toBe(false);
  });
});
