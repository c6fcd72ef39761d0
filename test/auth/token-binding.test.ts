// The connection token is bound to the user it was issued to: with real JWTs, another user's
// requests are refused (403 + a log line) on WebSockets, Server-Sent Events and long polling, and
// an expired access token gets 401.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpRequest, LongPollingClient, RS, SseClient } from '../hub/http-client.js';
import { RawClient, UpgradeRefused } from '../hub/raw-client.js';
import { mintHs256, testJwtSecret } from '../support/jwt.js';
import { AUDIENCE, ISSUER, startAuthNode, type AuthNode } from './support.js';

const secret = testJwtSecret();
let node: AuthNode;
let alice: string;
let bob: string;
const DIFFERS = 'the user differs from the one the connection token was issued to';

beforeAll(async () => {
  node = await startAuthNode(secret);
  [alice, bob] = await Promise.all(['alice', 'bob'].map((sub) => mintHs256(secret, sub, { issuer: ISSUER, audience: AUDIENCE })));
});
afterAll(() => node?.close());

async function negotiateAs(jwt: string, hub = '/hubs/private'): Promise<string> {
  const res = await fetch(`${node.origin}${hub}/negotiate?negotiateVersion=1`, { method: 'POST', headers: { Authorization: `Bearer ${jwt}` }, signal: AbortSignal.timeout(3000) });
  expect(res.status).toBe(200);
  return ((await res.json()) as { connectionToken: string }).connectionToken;
}

async function refusedUpgrade(url: string): Promise<UpgradeRefused> {
  const err = await RawClient.open(url).then(
    (c) => {
      c.terminate();
      throw new Error(`the upgrade to ${url} was accepted`);
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(UpgradeRefused);
  return err as UpgradeRefused;
}

describe('a connection token used by another user', () => {
  it('WebSockets: bob cannot open alice’s connection (403), anonymous gets 401; alice can', async () => {
    const token = await negotiateAs(alice);
    const base = `${node.origin.replace('http', 'ws')}/hubs/private?id=${token}`;
    const before = node.logs.find(DIFFERS).length;
    const asBob = await refusedUpgrade(`${base}&access_token=${bob}`);
    expect([asBob.statusCode, asBob.body]).toEqual([403, 'The connection token was issued to another user.']);
    expect((await refusedUpgrade(base)).statusCode).toBe(401);
    expect(node.logs.find(DIFFERS).length).toBe(before + 2);
    const c = await RawClient.connected(`${base}&access_token=${alice}`);
    try {
      c.invoke('Whoami', [], '1');
      expect((await c.completion('1'))['result']).toMatchObject({ id: 'alice', transport: 'WebSockets' });
    } finally {
      c.terminate();
    }
  });

  it('Server-Sent Events: bob’s stream and bob’s POSTs are refused (403) and never reach alice’s connection', async () => {
    const token = await negotiateAs(alice);
    const url = `${node.origin}/hubs/private?id=${token}`;
    const before = node.logs.find(DIFFERS).length;
    const stolen = await SseClient.open(`${url}&access_token=${bob}`);
    expect(stolen.status).toBe(403);
    stolen.close();
    const sse = await SseClient.open(`${url}&access_token=${alice}`);
    try {
      expect(sse.status).toBe(200);
      const hs = await httpRequest(url, { method: 'POST', body: `{"protocol":"json","version":1}${RS}`, headers: { Authorization: `Bearer ${alice}` } });
      expect(hs.status).toBe(200);
      await sse.until(() => sse.events.length === 1, 'the handshake reply');
      const injected = await httpRequest(url, { method: 'POST', body: `{"type":1,"invocationId":"evil","target":"Whoami","arguments":[]}${RS}`, headers: { Authorization: `Bearer ${bob}` } });
      expect([injected.status, injected.body.toString()]).toEqual([403, 'The connection token was issued to another user.']);
      expect(node.logs.find(DIFFERS).length).toBe(before + 2);
      await httpRequest(url, { method: 'POST', body: `{"type":1,"invocationId":"1","target":"Whoami","arguments":[]}${RS}`, headers: { Authorization: `Bearer ${alice}` } });
      await sse.until(() => sse.messages().some((m) => m.type === 3), 'alice’s completion');
      expect(sse.messages()).toEqual([{ type: 3, invocationId: '1', result: { id: 'alice', name: null, roles: [], transport: 'ServerSentEvents' } }]);
    } finally {
      sse.close();
    }
  });

  it('long polling: bob’s polls, POSTs and DELETE are refused (403); alice’s keep working', async () => {
    const token = await negotiateAs(alice);
    const c = new LongPollingClient(`${node.origin}/hubs/private`, token);
    const asAlice = { Authorization: `Bearer ${alice}` };
    const asBob = { Authorization: `Bearer ${bob}` };
    expect((await c.poll({ headers: asAlice })).status).toBe(200);
    const before = node.logs.find(DIFFERS).length;
    expect((await c.poll({ headers: asBob })).status).toBe(403);
    expect((await httpRequest(c.url, { method: 'POST', body: `{"protocol":"json","version":1}${RS}`, headers: asBob })).status).toBe(403);
    expect((await httpRequest(c.url, { method: 'DELETE', headers: asBob })).status).toBe(403);
    expect(node.logs.find(DIFFERS).length).toBe(before + 3);
    expect((await httpRequest(c.url, { method: 'POST', body: `{"protocol":"json","version":1}${RS}`, headers: asAlice })).status).toBe(200);
    const reply = await c.poll({ headers: asAlice });
    expect([reply.status, reply.body.toString()]).toEqual([200, `{}${RS}`]);
    expect((await httpRequest(c.url, { method: 'DELETE', headers: asAlice })).status).toBe(202);
  });

  it('long polling: a poll with alice’s expired access token gets 401 (a client with automatic reconnect renegotiates with a fresh one), and is logged', async () => {
    const shortLived = await mintHs256(secret, 'alice', { issuer: ISSUER, audience: AUDIENCE, expiresIn: 1 });
    const token = await negotiateAs(shortLived);
    const c = new LongPollingClient(`${node.origin}/hubs/private`, token);
    expect((await c.poll({ headers: { Authorization: `Bearer ${shortLived}` } })).status).toBe(200);
    // exp has one-second granularity: wait until it has certainly passed.
    await new Promise((r) => setTimeout(r, 1100));
    const before = node.logs.find(DIFFERS).length;
    const expired = await c.poll({ headers: { Authorization: `Bearer ${shortLived}` } });
    expect([expired.status, expired.body.toString()]).toEqual([401, 'Unauthorized: this connection needs the access token of the user it was opened for.']);
    expect(node.logs.find(DIFFERS).length).toBe(before + 1);
    // A fresh token for the same user keeps the same connection going.
    expect((await httpRequest(c.url, { method: 'POST', body: `{"protocol":"json","version":1}${RS}`, headers: { Authorization: `Bearer ${alice}` } })).status).toBe(200);
    const reply = await c.poll({ headers: { Authorization: `Bearer ${alice}` } });
    expect([reply.status, reply.body.toString()]).toEqual([200, `{}${RS}`]);
    expect((await httpRequest(c.url, { method: 'DELETE', headers: { Authorization: `Bearer ${alice}` } })).status).toBe(202);
  });

  it('a token issued to anonymous cannot be used by a user, and the reverse (403 / 401)', async () => {
    const res = await fetch(`${node.origin}/hubs/open/negotiate?negotiateVersion=1`, { method: 'POST', signal: AbortSignal.timeout(3000) });
    const anonymousToken = ((await res.json()) as { connectionToken: string }).connectionToken;
    expect((await httpRequest(`${node.origin}/hubs/open?id=${anonymousToken}&access_token=${alice}`)).status).toBe(403);
    const aliceToken = await negotiateAs(alice, '/hubs/open');
    expect((await httpRequest(`${node.origin}/hubs/open?id=${aliceToken}`)).status).toBe(401);
  });
});
