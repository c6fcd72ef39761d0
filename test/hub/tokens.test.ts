import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { negotiateToken, startHub, type HubFixture } from './fixture.js';
import { RS, rawPool, refusedUpgrade } from './raw-client.js';

const INVALID_TOKEN_LOG = 'refused a transport request with an invalid or expired connection token';

/** The token with the character at `i` replaced by another base64url character. */
function alterAt(token: string, i: number, replacement?: string): string {
  const ch = replacement ?? (token[i] === 'A' ? 'B' : 'A');
  return token.slice(0, i) + ch + token.slice(i + 1);
}

async function expectNotFound(url: string): Promise<void> {
  const refused = await refusedUpgrade(url);
  expect(refused.statusCode).toBe(404);
  expect(refused.body).toBe('No Connection with that ID');
}

describe('connection tokens across hub nodes', () => {
  let a: HubFixture;
  let b: HubFixture;
  let stranger: HubFixture;
  const raw = rawPool();

  beforeAll(async () => {
    [a, b, stranger] = await Promise.all([startHub(), startHub(), startHub({ secret: 'a-completely-different-secret-!!' })]);
  });
  afterEach(() => raw.terminateAll());
  afterAll(async () => {
    await Promise.all([a?.close(), b?.close(), stranger?.close()]);
  });

  it('a token minted by node A opens a connection on node B (same HUB_SECRET)', async () => {
    const { connectionId, connectionToken } = await negotiateToken(a.url);
    const client = await raw.open(b.wsUrl(connectionToken));
    expect(await client.handshake('json', 1)).toEqual({});
    expect(client.frames[0]!.data.toString('utf8')).toBe(`{}${RS}`);
    client.invoke('Echo', ['across nodes'], '1');
    expect(await client.completion('1')).toEqual({ type: 3, invocationId: '1', result: 'across nodes' });
    // The connection on B carries the public id that A handed out at negotiate.
    client.invoke('ConnectionId', [], '2');
    expect((await client.completion('2'))['result']).toBe(connectionId);
    expect(b.server.connectionCount).toBe(1);
    expect(a.server.connectionCount).toBe(0);
  });

  it('refuses a token with one character altered, at several positions including the tag (404)', async () => {
    const { connectionToken: token } = await negotiateToken(a.url);
    const positions = [0, 1, 7, 20, Math.floor(token.length / 2), token.length - 22, token.length - 10, token.length - 2, token.length - 1];
    for (const i of positions) await expectNotFound(b.wsUrl(alterAt(token, i)));
    // The unaltered token still works afterwards, so the refusals were about the alterations.
    const ok = await raw.open(b.wsUrl(token));
    expect(await ok.handshake()).toEqual({});
  });

  it('refuses every other spelling of the last character, including ones that decode to the same bytes', async () => {
    // On /other the token's byte length is not a multiple of 3, so its last base64url character has
    // unused low bits: without a canonical-encoding check some alterations would decode unchanged.
    const { connectionToken: token } = await negotiateToken(`${a.origin}/other`);
    expect(Buffer.from(token, 'base64url').length % 3).not.toBe(0);
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const statuses = new Set<number>();
    for (const ch of alphabet) {
      if (ch === token.at(-1)) continue;
      statuses.add((await refusedUpgrade(b.wsUrl(alterAt(token, token.length - 1, ch), '/other'))).statusCode);
    }
    expect([...statuses]).toEqual([404]);
  });

  it('refuses the public connectionId used as the token (404)', async () => {
    const { connectionId, connectionToken } = await negotiateToken(a.url);
    expect(connectionId).not.toBe(connectionToken);
    await expectNotFound(a.wsUrl(connectionId));
    await expectNotFound(b.wsUrl(connectionId));
  });

  it('refuses a token minted by a node with a different secret (404)', async () => {
    const { connectionToken } = await negotiateToken(stranger.url);
    await expectNotFound(a.wsUrl(connectionToken));
    // ...while the node that minted it accepts it.
    const ok = await raw.open(stranger.wsUrl(connectionToken));
    expect(await ok.handshake()).toEqual({});
  });

  it('refuses a token issued for another hub path on the same server (404)', async () => {
    const { connectionToken } = await negotiateToken(`${a.origin}/other`);
    await expectNotFound(a.wsUrl(connectionToken, '/hub'));
    const ok = await raw.open(a.wsUrl(connectionToken, '/other'));
    expect(await ok.handshake()).toEqual({});
  });

  it.each([
    ['a short word', 'garbage'],
    ['a long run of one letter', 'x'.repeat(120)],
    ['random base64url bytes', randomBytes(90).toString('base64url')],
    ['percent-encoded bytes', '%00%ff%1e'],
    ['a path', '..%2F..%2Fetc%2Fpasswd'],
  ])('refuses random garbage as a token: %s (404)', async (_label, garbage) => {
    await expectNotFound(a.wsUrl(garbage));
  });

  it('logs refusals without the token itself', async () => {
    const { connectionToken } = await negotiateToken(a.url);
    const altered = alterAt(connectionToken, 30);
    const before = a.logs.find(INVALID_TOKEN_LOG).length;
    await expectNotFound(a.wsUrl(altered));
    const entry = await a.logs.waitFor(INVALID_TOKEN_LOG);
    expect(a.logs.find(INVALID_TOKEN_LOG).length).toBe(before + 1);
    expect(entry.level).toBe('warn');
    expect(entry.obj['path']).toBe('/hub');
    const all = JSON.stringify(a.logs.entries);
    expect(all).not.toContain(connectionToken);
    expect(all).not.toContain(altered);
  });

  it('answers 400 to a non-upgrade GET without id', async () => {
    const res = await fetch(a.url, { signal: AbortSignal.timeout(2000) });
    expect(res.status).toBe(400);
    expect(await res.text()).toBe('Connection ID required');
  });

  it('answers 404 to a non-upgrade GET with an altered id, and 400/405 to HTTP requests for a WebSocket connection', async () => {
    const { connectionToken } = await negotiateToken(a.url);
    const bad = await fetch(`${a.url}?id=${alterAt(connectionToken, 5)}`, { signal: AbortSignal.timeout(2000) });
    expect(bad.status).toBe(404);
    const client = await raw.open(a.wsUrl(connectionToken));
    expect(await client.handshake()).toEqual({});
    const get = await fetch(`${a.url}?id=${connectionToken}`, { signal: AbortSignal.timeout(2000) });
    expect(get.status).toBe(400);
    expect(await get.text()).toBe('Cannot change transports mid-connection');
    const post = await fetch(`${a.url}?id=${connectionToken}`, { method: 'POST', body: 'x', signal: AbortSignal.timeout(2000) });
    expect(post.status).toBe(405);
  });

  it('refuses a second concurrent WebSocket with the same token (409) and keeps the first', async () => {
    const { connectionToken } = await negotiateToken(a.url);
    const first = await raw.open(a.wsUrl(connectionToken));
    expect(await first.handshake()).toEqual({});
    const second = await refusedUpgrade(a.wsUrl(connectionToken));
    expect(second.statusCode).toBe(409);
    first.invoke('Echo', ['still here'], '1');
    expect((await first.completion('1'))['result']).toBe('still here');
    // Before the handshake counts too: the transport is bound as soon as the socket opens.
    const { connectionToken: t2 } = await negotiateToken(a.url);
    const early = await raw.open(a.wsUrl(t2));
    expect((await refusedUpgrade(a.wsUrl(t2))).statusCode).toBe(409);
    expect(await early.handshake()).toEqual({});
  });

  it('refuses to reopen a connection whose token was already used and closed on this node (404)', async () => {
    const { connectionToken } = await negotiateToken(a.url);
    const first = await raw.open(a.wsUrl(connectionToken));
    expect(await first.handshake()).toEqual({});
    const before = a.server.connectionCount;
    first.ws.close();
    const deadline = Date.now() + 3000;
    while (a.server.connectionCount >= before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(a.server.connectionCount).toBe(before - 1);
    await expectNotFound(a.wsUrl(connectionToken));
  });
});

describe('connection token expiry', () => {
  let clock = 1_800_000_000_000;
  let hub: HubFixture;
  const raw = rawPool();

  beforeAll(async () => {
    hub = await startHub({ now: () => clock, tokenTtlMs: 1000 });
  });
  afterEach(() => raw.terminateAll());
  afterAll(async () => hub?.close());

  it('accepts a token until tokenTtlMs has passed, then refuses it (404)', async () => {
    const start = clock;
    const first = await negotiateToken(hub.url);
    const second = await negotiateToken(hub.url);
    clock = start + 999;
    const ok = await raw.open(hub.wsUrl(first.connectionToken));
    expect(await ok.handshake()).toEqual({});
    clock = start + 1000;
    await expectNotFound(hub.wsUrl(second.connectionToken));
    clock = start + 60_000;
    await expectNotFound(hub.wsUrl(second.connectionToken));
    // A fresh negotiate at the new time gets a working token.
    const fresh = await negotiateToken(hub.url);
    const again = await raw.open(hub.wsUrl(fresh.connectionToken));
    expect(await again.handshake()).toEqual({});
  });

  it('refuses an expired token with a real clock too (tokenTtlMs: 1)', async () => {
    const node = await startHub({ tokenTtlMs: 1 });
    try {
      const { connectionToken } = await negotiateToken(node.url);
      await new Promise((r) => setTimeout(r, 5));
      await expectNotFound(node.wsUrl(connectionToken));
    } finally {
      await node.close();
    }
  });
});
