import { describe, expect, it } from 'vitest';
import { shareHeaderValues, sharedString } from './shared-strings.js';

// Whether two equal strings are one object cannot be seen from JavaScript (the scale benchmark
// measures it); these check that sharing never changes a value and that the table stays bounded.
describe('shared strings (request headers kept by connections)', () => {
  it('returns an equal value for any kind, length and repetition', () => {
    for (const v of ['websocket', 'Upgrade', '13', 'x'.repeat(600), '']) {
      expect(sharedString('test-kind', v)).toBe(v);
      expect(sharedString('test-kind', `${v}`)).toBe(v);
    }
  });

  it('shareHeaderValues keeps the object, its keys and every value; array values are left alone', () => {
    const cookies = ['a=1', 'b=2'];
    const headers: Record<string, string | string[] | undefined> = { host: 'example.org', 'sec-websocket-key': 'abc==', 'set-cookie': cookies, empty: undefined };
    const before = { ...headers };
    expect(shareHeaderValues(headers)).toBe(headers);
    expect(headers).toEqual(before);
    expect(headers['set-cookie']).toBe(cookies);
  });

  it('many distinct kinds and values (a client sending junk headers) are returned as they came', () => {
    for (let i = 0; i < 500; i++) {
      const h: Record<string, string> = { [`x-junk-${i}`]: `v${i}`, host: `h${i % 7}` };
      expect(shareHeaderValues(h)).toEqual({ [`x-junk-${i}`]: `v${i}`, host: `h${i % 7}` });
    }
  });
});
