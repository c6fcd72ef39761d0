// CORS on a hub server (the `cors` option): raw requests with listed and unlisted origins, for
// negotiate and the connection URL (POST, DELETE), preflights and simple requests; and the origin
// check on WebSocket upgrades that the allow-list turns on.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { httpRequest, LongPollingClient, RS, type HttpResult } from '../hub/http-client.js';
import { negotiateToken, startHub, type HubFixture } from '../hub/fixture.js';

const LISTED = 'https://app.example.com';
const ALSO_LISTED = 'http://localhost:5173';
const UNLISTED = 'https://evil.example.com';
let hub: HubFixture;

beforeAll(async () => {
  hub = await startHub({ cors: { origins: [LISTED, ALSO_LISTED], maxAgeSeconds: 120 } });
});
afterAll(() => hub?.close());

function preflight(url: string, origin: string, method: string, headers = 'x-signalr-user-agent, x-requested-with, authorization, content-type'): Promise<HttpResult> {
  return httpRequest(url, { method: 'OPTIONS', headers: { Origin: origin, 'Access-Control-Request-Method': method, 'Access-Control-Request-Headers': headers } });
}

const corsHeaders = (r: HttpResult) => Object.fromEntries(Object.entries(r.headers).filter(([k]) => k.startsWith('access-control-')));

describe('CORS preflights', () => {
  it('negotiate from a listed origin: 204 with the exact origin, credentials, POST and the SignalR headers', async () => {
    const r = await preflight(`${hub.url}/negotiate?negotiateVersion=1`, LISTED, 'POST');
    expect(r.status).toBe(204);
    expect(corsHeaders(r)).toEqual({
      'access-control-allow-origin': LISTED,
      'access-control-allow-credentials': 'true',
      'access-control-allow-methods': 'POST',
      'access-control-allow-headers': 'Authorization, Content-Type, X-Requested-With, X-SignalR-User-Agent',
      'access-control-max-age': '120',
    });
    expect(r.headers['vary']).toContain('Origin');
  });

  it('the connection URL (POST sends, DELETE) from a listed origin, with or without a token in the URL', async () => {
    for (const method of ['POST', 'DELETE', 'GET']) {
      const r = await preflight(`${hub.url}?id=whatever-token`, ALSO_LISTED, method);
      expect(r.status).toBe(204);
      expect(r.headers['access-control-allow-origin']).toBe(ALSO_LISTED);
      expect(r.headers['access-control-allow-credentials']).toBe('true');
      expect(r.headers['access-control-allow-methods']).toBe('GET, POST, DELETE');
    }
  });

  it('an unlisted origin gets 204 without any CORS header (the browser blocks the request)', async () => {
    for (const url of [`${hub.url}/negotiate?negotiateVersion=1`, `${hub.url}?id=x`]) {
      const r = await preflight(url, UNLISTED, 'POST');
      expect(r.status).toBe(204);
      expect(corsHeaders(r)).toEqual({});
    }
  });

  it('origins match exactly: another scheme, port or a suffix is unlisted', async () => {
    for (const origin of ['http://app.example.com', 'https://app.example.com:8443', 'https://app.example.com.evil.test', 'null']) {
      const r = await preflight(`${hub.url}/negotiate`, origin, 'POST');
      expect(r.headers['access-control-allow-origin']).toBeUndefined();
    }
  });

  it('an OPTIONS that is not a preflight (no Access-Control-Request-Method) is not answered as one', async () => {
    const r = await httpRequest(`${hub.url}/negotiate`, { method: 'OPTIONS', headers: { Origin: LISTED } });
    expect(r.status).toBe(405);
  });
});

describe('CORS on actual requests', () => {
  it('negotiate from a listed origin: the exact origin and credentials, never *', async () => {
    const r = await httpRequest(`${hub.url}/negotiate?negotiateVersion=1`, { method: 'POST', headers: { Origin: LISTED } });
    expect(r.status).toBe(200);
    expect(r.headers['access-control-allow-origin']).toBe(LISTED);
    expect(r.headers['access-control-allow-credentials']).toBe('true');
    expect(r.headers['vary']).toBe('Origin');
  });

  it('negotiate from an unlisted origin or with no Origin: answered, but without CORS headers', async () => {
    const unlisted = await httpRequest(`${hub.url}/negotiate?negotiateVersion=1`, { method: 'POST', headers: { Origin: UNLISTED } });
    expect(unlisted.status).toBe(200);
    expect(corsHeaders(unlisted)).toEqual({});
    const none = await httpRequest(`${hub.url}/negotiate?negotiateVersion=1`, { method: 'POST' });
    expect(corsHeaders(none)).toEqual({});
  });

  it('long polling from a listed origin: every poll, POST and the DELETE carry the CORS headers; error answers too', async () => {
    const neg = await httpRequest(`${hub.url}/negotiate?negotiateVersion=1`, { method: 'POST', headers: { Origin: LISTED } });
    const { connectionToken } = JSON.parse(neg.body.toString()) as { connectionToken: string };
    const c = new LongPollingClient(hub.url, connectionToken);
    const headers = { Origin: LISTED };
    const first = await c.poll({ headers });
    expect([first.status, first.headers['access-control-allow-origin']]).toEqual([200, LISTED]);
    const send = await httpRequest(c.url, { method: 'POST', body: `{"protocol":"json","version":1}${RS}`, headers });
    expect([send.status, send.headers['access-control-allow-origin'], send.headers['access-control-allow-credentials']]).toEqual([200, LISTED, 'true']);
    const reply = await c.poll({ headers });
    expect([reply.status, reply.headers['access-control-allow-origin']]).toEqual([200, LISTED]);
    const del = await httpRequest(c.url, { method: 'DELETE', headers });
    expect([del.status, del.headers['access-control-allow-origin']]).toEqual([202, LISTED]);
    const gone = await httpRequest(c.url, { method: 'POST', body: '', headers });
    expect([gone.status, gone.headers['access-control-allow-origin']]).toEqual([404, LISTED]);
    const unlisted = await httpRequest(c.url, { method: 'POST', body: '', headers: { Origin: UNLISTED } });
    expect(corsHeaders(unlisted)).toEqual({});
  });
});

describe('CORS is off without the option', () => {
  it('no CORS headers for any origin, and preflights are not answered', async () => {
    const plain = await startHub();
    try {
      const r = await httpRequest(`${plain.url}/negotiate?negotiateVersion=1`, { method: 'POST', headers: { Origin: LISTED } });
      expect(r.status).toBe(200);
      expect(corsHeaders(r)).toEqual({});
      const p = await preflight(`${plain.url}/negotiate`, LISTED, 'POST');
      expect(p.status).toBe(405);
      expect(corsHeaders(p)).toEqual({});
    } finally {
      await plain.close();
    }
  });
});

/** A WebSocket upgrade to `url` with these headers: 101 (then closed at once), or the refusal's status and body. */
function upgrade(url: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url.replace(/^http/, 'ws'), { headers, handshakeTimeout: 2000 });
    ws.once('open', () => {
      ws.terminate();
      resolve({ status: 101, body: '' });
    });
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    ws.once('error', reject);
  });
}

describe('WebSocket upgrades and the origin allow-list (cross-site WebSocket hijacking)', () => {
  it('with an allow-list: a listed origin, the node’s own origin and clients without Origin upgrade; another origin gets 403 SB_ORIGIN_NOT_ALLOWED', async () => {
    const own = new URL(hub.url).origin; // http://127.0.0.1:<port>, the Host the client sends
    for (const headers of [{ Origin: LISTED }, { Origin: ALSO_LISTED }, { Origin: own }, {}]) {
      expect((await upgrade(hub.url, headers)).status, JSON.stringify(headers)).toBe(101);
    }
    // The scheme is not compared (TLS may end at a proxy): https on the node's own host is its site too.
    expect((await upgrade(hub.url, { Origin: own.replace('http:', 'https:') })).status).toBe(101);
    for (const origin of [UNLISTED, 'null', 'http://127.0.0.1:1', 'https://app.example.com.evil.test', 'not a url']) {
      const r = await upgrade(hub.url, { Origin: origin });
      expect(r.status, origin).toBe(403);
      expect(r.body).toMatch(/^SB_ORIGIN_NOT_ALLOWED: .*list the origin in CORS_ORIGINS/);
    }
  });

  it('behind a proxy that rewrites Host, the public host in X-Forwarded-Host is the node’s own site', async () => {
    const headers = { Origin: 'https://public.example.org', 'X-Forwarded-Host': 'public.example.org' };
    expect((await upgrade(hub.url, headers)).status).toBe(101);
    expect((await upgrade(hub.url, { ...headers, 'X-Forwarded-Host': 'other.example.org' })).status).toBe(403);
  });

  it('the refusal comes before any token check: a token from negotiate does not help an unlisted origin', async () => {
    const { connectionToken } = await negotiateToken(hub.url);
    const url = `${hub.url}?id=${encodeURIComponent(connectionToken)}`;
    expect((await upgrade(url, { Origin: UNLISTED })).status).toBe(403);
    expect((await upgrade(url, { Origin: LISTED })).status).toBe(101);
  });

  it('without an allow-list every origin may upgrade (as before; CORS still blocks reading negotiate)', async () => {
    const plain = await startHub();
    try {
      expect((await upgrade(plain.url, { Origin: UNLISTED })).status).toBe(101);
    } finally {
      await plain.close();
    }
  });
});
