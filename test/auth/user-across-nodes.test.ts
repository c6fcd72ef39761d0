// clients.user(id) reaches every connection of a JWT user on every node (two hub nodes over a
// private Redis), whatever the transport, and nobody else.
import { createRedisBackplane, type RedisBackplane } from '@switchboard/backplane-redis';
import { silentLogger } from '@switchboard/hub-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { within } from '../hub/fixture.js';
import { mintHs256, testJwtSecret } from '../support/jwt.js';
import { startRedis, uniquePrefix, type PrivateRedis } from '../support/redis.js';
import { clientPool, nextCalls } from '../support/signalr.js';
import { AUDIENCE, ISSUER, startAuthNode, type AuthNode, type WhoamiResult } from './support.js';

const secret = testJwtSecret();
let redis: PrivateRedis;
const backplanes: RedisBackplane[] = [];
let nodeA: AuthNode;
let nodeB: AuthNode;
const pool = clientPool();
const token = (sub: string) => mintHs256(secret, sub, { issuer: ISSUER, audience: AUDIENCE });

beforeAll(async () => {
  redis = await startRedis();
  const prefix = uniquePrefix('auth-users');
  for (let i = 0; i < 2; i++) backplanes.push(createRedisBackplane({ redis: redis.url, prefix, logger: silentLogger }));
  [nodeA, nodeB] = await Promise.all(backplanes.map((b) => startAuthNode(secret, {}, b.scaleOut)));
});
afterAll(async () => {
  await pool.stopAll();
  await Promise.allSettled([nodeA?.close(), nodeB?.close()]);
  await Promise.allSettled(backplanes.map((b) => b.close()));
  await redis?.stop();
});

describe('clients.user across two hub nodes with JWT users', () => {
  it("bob's message to alice reaches both of alice's connections (node A over WebSockets, node B over long polling), not bob's or carol's", async () => {
    const [alice, bob, carol] = await Promise.all(['alice', 'bob', 'carol'].map(token));
    const aliceA = await pool.connect(`${nodeA.origin}/hubs/open`, { transport: 'WebSockets', accessTokenFactory: () => alice! });
    const aliceB = await pool.connect(`${nodeB.origin}/hubs/open`, { transport: 'LongPolling', protocol: 'messagepack', accessTokenFactory: () => alice! });
    const bobB = await pool.connect(`${nodeB.origin}/hubs/open`, { transport: 'ServerSentEvents', accessTokenFactory: () => bob! });
    const carolA = await pool.connect(`${nodeA.origin}/hubs/open`, { accessTokenFactory: () => carol! });
    expect((await aliceB.invoke<WhoamiResult>('Whoami')).id).toBe('alice');
    const others: string[] = [];
    for (const c of [bobB, carolA]) c.on('Message', (text: string) => others.push(text));
    const gotA = nextCalls(aliceA, 'Message', 1, 5000);
    const gotB = nextCalls(aliceB, 'Message', 1, 5000);
    await within(bobB.invoke('SendToUser', 'alice', 'hi alice'), 5000, 'SendToUser');
    expect(await gotA).toEqual([['hi alice']]);
    expect(await gotB).toEqual([['hi alice']]);
    // Give a stray delivery time to arrive, then check nobody else got it.
    await new Promise((r) => setTimeout(r, 200));
    expect(others).toEqual([]);
  });

  it('the user id is the JWT sub: a connection of another user with the same display name is not targeted', async () => {
    const [impostor, real] = await Promise.all([
      mintHs256(secret, 'mallory', { issuer: ISSUER, audience: AUDIENCE, name: 'dave' }),
      mintHs256(secret, 'dave', { issuer: ISSUER, audience: AUDIENCE, name: 'Dave' }),
    ]);
    const m = await pool.connect(`${nodeA.origin}/hubs/open`, { accessTokenFactory: () => impostor });
    const d = await pool.connect(`${nodeB.origin}/hubs/open`, { transport: 'LongPolling', accessTokenFactory: () => real });
    const wrong: string[] = [];
    m.on('Message', (text: string) => wrong.push(text));
    const got = nextCalls(d, 'Message', 1, 5000);
    await m.invoke('SendToUser', 'dave', 'for dave');
    expect(await got).toEqual([['for dave']]);
    await new Promise((r) => setTimeout(r, 200));
    expect(wrong).toEqual([]);
  });
});
