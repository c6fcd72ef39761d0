import { describe, expect, it } from 'vitest';
import { SwitchboardError } from '@switchboard/protocol';
import { ConnectionTokenCodec, type TokenClaims } from './token.js';

const SECRET = 'token-test-secret-0123456789abcdef';
const NOW = 1_750_000_000_000;
const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

function claims(overrides: Partial<TokenClaims> = {}): TokenClaims {
  return { connectionId: 'c0nnecti0nId_public-22', endpoint: '/hub', userId: null, expiresAt: NOW + 60_000, ...overrides };
}

/** Every token with exactly one character replaced by another base64url character. */
function* singleCharVariants(token: string, positions: Iterable<number>): Generator<[number, string]> {
  for (const i of positions) {
    for (const ch of BASE64URL) if (ch !== token[i]) yield [i, token.slice(0, i) + ch + token.slice(i + 1)];
  }
}

describe('ConnectionTokenCodec', () => {
  it('carries issuedAt when given, and leaves it out when not (tokens of older nodes)', () => {
    const codec = new ConnectionTokenCodec(SECRET);
    expect(codec.open(codec.mint(claims({ issuedAt: NOW - 5 })), NOW)).toEqual(claims({ issuedAt: NOW - 5 }));
    const without = codec.open(codec.mint(claims()), NOW);
    expect(without).toEqual(claims());
    expect(without && 'issuedAt' in without).toBe(false);
  });

  it('round-trips the claims, URL-safe, and different every time', () => {
    const codec = new ConnectionTokenCodec(SECRET);
    const c = claims({ userId: 'alice' });
    const a = codec.mint(c);
    const b = codec.mint(c);
    expect(a).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(a).not.toBe(b); // random IV
    expect(codec.open(a, NOW)).toEqual(c);
    expect(codec.open(b, NOW)).toEqual(c);
    expect(codec.open(codec.mint(claims()), NOW)).toEqual(claims());
  });

  it('keeps the claims secret: neither the connection id nor the endpoint shows in the token', () => {
    const codec = new ConnectionTokenCodec(SECRET);
    const token = codec.mint(claims({ userId: 'alice-user' }));
    const decoded = Buffer.from(token, 'base64url').toString('latin1');
    for (const plain of ['c0nnecti0nId_public-22', '/hub', 'alice-user']) {
      expect(decoded).not.toContain(plain);
      expect(token).not.toContain(plain);
    }
  });

  it('accepts tokens across instances with the same secret (string or bytes), not with another secret', () => {
    const token = new ConnectionTokenCodec(SECRET).mint(claims());
    expect(new ConnectionTokenCodec(SECRET).open(token, NOW)).toEqual(claims());
    expect(new ConnectionTokenCodec(Buffer.from(SECRET, 'utf8')).open(token, NOW)).toEqual(claims());
    expect(new ConnectionTokenCodec(`${SECRET}x`).open(token, NOW)).toBeUndefined();
  });

  it('refuses a token with any single byte altered (every position, several bit flips)', () => {
    const codec = new ConnectionTokenCodec(SECRET);
    const raw = Buffer.from(codec.mint(claims()), 'base64url');
    let checked = 0;
    for (let i = 0; i < raw.length; i++) {
      for (const mask of [0x01, 0x80, 0xff]) {
        const t = Buffer.from(raw);
        t[i]! ^= mask;
        expect(codec.open(t.toString('base64url'), NOW), `byte ${i} ^ ${mask}`).toBeUndefined();
        checked++;
      }
    }
    expect(checked).toBe(raw.length * 3);
  });

  // The raw token length decides whether the last base64url character carries unused bits, and it
  // depends on the endpoint path and user id; cover lengths of every residue mod 3.
  it.each(['/hub', '/hubs', '/other', '/hubs/chat'])('refuses a token with any single character altered (endpoint %s)', (endpoint) => {
    const codec = new ConnectionTokenCodec(SECRET);
    const token = codec.mint(claims({ endpoint }));
    expect(codec.open(token, NOW)?.endpoint).toBe(endpoint);
    const accepted: number[] = [];
    let checked = 0;
    for (const [i, variant] of singleCharVariants(token, Array.from(token, (_c, i) => i))) {
      checked++;
      if (codec.open(variant, NOW) !== undefined) accepted.push(i);
    }
    expect(checked).toBe(token.length * 63);
    expect(accepted).toEqual([]);
  });

  it('refuses truncated, extended, padded and non-base64url tokens', () => {
    const codec = new ConnectionTokenCodec(SECRET);
    const token = codec.mint(claims());
    for (const bad of [
      '',
      token.slice(0, -1),
      token.slice(1),
      token.slice(0, 40),
      `${token}A`,
      `${token}=`,
      `+${token.slice(1)}`,
      `${token.slice(0, 10)}.${token.slice(11)}`,
      'c0nnecti0nId_public-22',
      'x'.repeat(3000),
    ]) {
      expect(codec.open(bad, NOW), bad.slice(0, 50)).toBeUndefined();
    }
  });

  it('refuses a token of another version byte', () => {
    const codec = new ConnectionTokenCodec(SECRET);
    const raw = Buffer.from(codec.mint(claims()), 'base64url');
    raw[0] = 2;
    expect(codec.open(raw.toString('base64url'), NOW)).toBeUndefined();
  });

  it('expires exactly at expiresAt: valid one millisecond before, refused at and after', () => {
    const codec = new ConnectionTokenCodec(SECRET);
    const c = claims({ expiresAt: NOW + 1000 });
    const token = codec.mint(c);
    expect(codec.open(token, NOW + 999)).toEqual(c);
    expect(codec.open(token, NOW + 1000)).toBeUndefined();
    expect(codec.open(token, NOW + 1001)).toBeUndefined();
  });

  it.each([['short'], ['fifteen-bytes!!'], [new Uint8Array(15)], ['']])('throws SB_CONFIG_INVALID for a secret under 16 bytes (%s)', (secret) => {
    let caught: unknown;
    try {
      new ConnectionTokenCodec(secret);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(SwitchboardError);
    expect((caught as SwitchboardError).code).toBe('SB_CONFIG_INVALID');
    expect((caught as SwitchboardError).message).toContain('secret');
  });

  it('accepts a secret of exactly 16 bytes', () => {
    const codec = new ConnectionTokenCodec('sixteen-bytes!!!');
    expect(codec.open(codec.mint(claims()), NOW)).toEqual(claims());
  });
});
