import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { CorsPolicy, normalizeOrigin } from './cors.js';

describe('CORS origin allow-list validation', () => {
  it('normalizes origins as browsers serialize them', () => {
    expect(normalizeOrigin('https://App.Example.com')).toBe('https://app.example.com');
    expect(normalizeOrigin('https://app.example.com:443')).toBe('https://app.example.com');
    expect(normalizeOrigin('http://localhost:5173')).toBe('http://localhost:5173');
  });

  it.each([
    ['*', /cors.origins must list exact origins; '\*' is not allowed/],
    ['null', /'null' is not allowed/],
    ['app.example.com', /'app.example.com' is not an origin/],
    ['https://app.example.com/', /no path or trailing slash/],
    ['https://app.example.com/path', /no path or trailing slash/],
    ['https://user:pw@app.example.com', /is not an origin/],
    ['ftp://app.example.com', /is not an origin/],
  ])('refuses %j, naming the option', (origin, message) => {
    expect(() => new CorsPolicy({ origins: [origin] })).toThrow(message);
  });

  it('names the option it is given (an environment variable)', () => {
    expect(() => normalizeOrigin('*', 'CORS_ORIGINS')).toThrow(/^CORS_ORIGINS must list exact origins/);
  });

  it('checks allowHeaders and maxAgeSeconds', () => {
    expect(() => new CorsPolicy({ origins: [], allowHeaders: ['bad header'] })).toThrow(/cors.allowHeaders/);
    expect(() => new CorsPolicy({ origins: [], maxAgeSeconds: -1 })).toThrow(/cors.maxAgeSeconds must be an integer >= 0/);
  });

  it('matches exactly', () => {
    const cors = new CorsPolicy({ origins: ['https://app.example.com'] });
    expect(cors.allows('https://app.example.com')).toBe(true);
    expect(cors.allows('https://app.example.com.evil.test')).toBe(false);
    expect(cors.allows('http://app.example.com')).toBe(false);
    expect(cors.allows('https://app.example.com:8443')).toBe(false);
    expect(cors.allows(undefined)).toBe(false);
  });
});

describe('CorsPolicy.allowsUpgrade', () => {
  const policy = new CorsPolicy({ origins: ['https://app.example.com'] });
  const req = (headers: Record<string, string>) => ({ headers }) as unknown as IncomingMessage;

  it('lets through no Origin, a listed one, and the request’s own host (any case, either scheme, or a forwarded host)', () => {
    expect(policy.allowsUpgrade(req({ host: 'hub.local:3000' }))).toBe(true);
    expect(policy.allowsUpgrade(req({ host: 'hub.local:3000', origin: 'https://app.example.com' }))).toBe(true);
    expect(policy.allowsUpgrade(req({ host: 'HUB.local:3000', origin: 'http://hub.local:3000' }))).toBe(true);
    expect(policy.allowsUpgrade(req({ host: 'hub.local:3000', origin: 'https://hub.local:3000' }))).toBe(true);
    expect(policy.allowsUpgrade(req({ host: '10.0.0.5:3000', 'x-forwarded-host': 'proxy.one, public.example.org', origin: 'https://public.example.org' }))).toBe(true);
  });

  it('refuses other hosts and ports, "null" and garbage', () => {
    for (const origin of ['https://evil.example.com', 'http://hub.local:3001', 'http://hub.local', 'null', '', '::']) {
      expect(policy.allowsUpgrade(req({ host: 'hub.local:3000', origin })), origin).toBe(false);
    }
  });
});
