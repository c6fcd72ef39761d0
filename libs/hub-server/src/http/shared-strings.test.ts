import { describe, expect, it } from 'vitest';
import { RequestInfo } from './request-info.js';
import { shareHeaderValues, sharedString, sharedStringsHeld } from './shared-strings.js';
import type { IncomingMessage } from 'node:http';

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

  it('never holds a header that can carry a credential, nor a URL with a query (tokens)', () => {
    const secret = 'Bearer eyJ.secret.value';
    const headers = { host: 'hub.example', authorization: secret, cookie: 's=secret', 'x-api-key': 'k-secret', 'sec-websocket-protocol': 'token.secret', 'sec-websocket-key': 'abc==' };
    const req = { headers, socket: { remoteAddress: '10.0.0.7' } } as unknown as IncomingMessage;
    new RequestInfo(req, new URL('http://hub.example/hubs/chat?id=secret-connection-token&access_token=secret-jwt'));
    new RequestInfo(req, new URL('http://hub.example/hubs/chat'));
    const held = sharedStringsHeld();
    for (const [kind, values] of held) {
      expect(kind.startsWith(':') || !/authorization|cookie|key|protocol/.test(kind), kind).toBe(true);
      for (const v of values) expect(v, kind).not.toMatch(/secret/);
    }
    expect(held.get('host')).toContain('hub.example');
    expect(held.get(':url')).toContain('http://hub.example/hubs/chat');
    expect(held.has('x-junk-1')).toBe(false);
  });
});
