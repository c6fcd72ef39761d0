// Built-in JWT bearer validation with the official client on every transport: valid, expired,
// wrong signature, wrong audience and missing tokens; hub and method roles with ASP.NET's texts.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { within } from '../hub/fixture.js';
import { mintHs256, testJwtSecret } from '../support/jwt.js';
import { buildClient, clientPool, collectStream, type TransportName } from '../support/signalr.js';
import { AUDIENCE, ISSUER, negotiateRefused, startAuthNode, type AuthNode, type WhoamiResult } from './support.js';

const secret = testJwtSecret();
let node: AuthNode;
const pool = clientPool();
const token = (sub: string, options: Parameters<typeof mintHs256>[2] = {}) => mintHs256(secret, sub, { issuer: ISSUER, audience: AUDIENCE, ...options });

beforeAll(async () => {
  node = await startAuthNode(secret);
});
afterEach(() => pool.stopAll());
afterAll(() => node?.close());

const TRANSPORTS: TransportName[] = ['WebSockets', 'ServerSentEvents', 'LongPolling'];

describe.each(TRANSPORTS)('JWT bearer over %s (official client)', (transport) => {
  it('a valid token connects to a hub that requires a user; the user comes from the claims', async () => {
    const jwt = await token('alice', { name: 'Alice', roles: ['ops'] });
    const c = await within(pool.connect(`${node.origin}/hubs/private`, { transport, accessTokenFactory: () => jwt }), 5000, 'start');
    expect(await c.invoke<WhoamiResult>('Whoami')).toEqual({ id: 'alice', name: 'Alice', roles: ['ops'], transport });
  });

  it.each([
    ['expired', () => token('alice', { expiresIn: -5 })],
    ['signed with another key', () => mintHs256(testJwtSecret(), 'alice', { issuer: ISSUER, audience: AUDIENCE })],
    ['for another audience', () => token('alice', { audience: 'another-api' })],
    ['from another issuer', () => token('alice', { issuer: 'https://evil.test' })],
    ['missing', undefined],
  ] as const)('a token that is %s: negotiate answers 401 and start() rejects with the exact text', async (_what, make) => {
    const jwt = make ? await make() : undefined;
    const c = pool.track(buildClient(`${node.origin}/hubs/private`, { transport, ...(jwt ? { accessTokenFactory: () => jwt } : {}) }));
    await expect(within(c.start(), 5000, 'start')).rejects.toHaveProperty('message', negotiateRefused(401));
  });

  it('an invalid token on a hub open to everyone connects anonymously; methods that need a user refuse', async () => {
    const expired = await token('alice', { expiresIn: -5 });
    const c = await within(pool.connect(`${node.origin}/hubs/open`, { transport, accessTokenFactory: () => expired }), 5000, 'start');
    expect((await c.invoke<WhoamiResult>('Whoami')).id).toBeNull();
    await expect(c.invoke('UsersOnly')).rejects.toThrow("Failed to invoke 'UsersOnly' because user is unauthorized");
  });
});

describe('roles', () => {
  it('a hub with requireRoles: 403 for a user without the role (empty body: exact text), 401 anonymous, admin connects', async () => {
    const ops = await token('olga', { roles: ['ops'] });
    const denied = pool.track(buildClient(`${node.origin}/hubs/admin`, { accessTokenFactory: () => ops }));
    await expect(within(denied.start(), 5000, 'start')).rejects.toHaveProperty('message', negotiateRefused(403));
    const anonymous = pool.track(buildClient(`${node.origin}/hubs/admin`));
    await expect(within(anonymous.start(), 5000, 'start')).rejects.toHaveProperty('message', negotiateRefused(401));
    const admin = await token('ada', { roles: ['admin'] });
    const c = await within(pool.connect(`${node.origin}/hubs/admin`, { transport: 'LongPolling', accessTokenFactory: () => admin }), 5000, 'start');
    expect((await c.invoke<WhoamiResult>('Whoami')).roles).toEqual(['admin']);
    expect(node.logs.find('refused negotiate: the user lacks the required role').length).toBeGreaterThan(0);
  });

  it("a method with roles: others get ASP.NET's text (with the target as sent); any listed role is enough", async () => {
    const ops = await token('olga', { roles: ['ops'] });
    const c = await pool.connect(`${node.origin}/hubs/open`, { accessTokenFactory: () => ops });
    await expect(c.invoke('AdminOnly')).rejects.toThrow("Failed to invoke 'AdminOnly' because user is unauthorized");
    await expect(c.invoke('adminonly')).rejects.toThrow("Failed to invoke 'adminonly' because user is unauthorized");
    expect(await c.invoke('OpsOrAdmin')).toBe('ops or admin');
    expect(await c.invoke('UsersOnly')).toBe('hello olga');
    // A streaming method is checked the same way, and the connection keeps working after refusals.
    await expect(collectStream(c.stream('AdminCounter', 3))).rejects.toThrow("Failed to invoke 'AdminCounter' because user is unauthorized");
    expect(await c.invoke('Echo', 'still here')).toBe('still here');
    const admin = await token('ada', { roles: ['admin'] });
    const a = await pool.connect(`${node.origin}/hubs/open`, { protocol: 'messagepack', accessTokenFactory: () => admin });
    expect(await a.invoke('AdminOnly')).toBe('admin secret');
    expect(await collectStream(a.stream<number>('AdminCounter', 3))).toEqual([0, 1, 2]);
    await expect(a.invoke('OpsOrAdmin')).resolves.toBe('ops or admin');
  });

  it('an anonymous caller gets the same text for role and user methods', async () => {
    const c = await pool.connect(`${node.origin}/hubs/open`, { transport: 'LongPolling' });
    await expect(c.invoke('AdminOnly')).rejects.toThrow("Failed to invoke 'AdminOnly' because user is unauthorized");
    await expect(c.invoke('UsersOnly')).rejects.toThrow("Failed to invoke 'UsersOnly' because user is unauthorized");
  });
});

describe('access token expiry on a long-polling connection', () => {
  it('the next poll after expiry gets 401; the client reconnects with a fresh token from its factory', async () => {
    const lp = await startAuthNode(secret, { longPollTimeoutMs: 300 });
    try {
      const issued: string[] = [];
      // First token: valid for 1-2 s (exp has one-second granularity); later ones for 5 minutes.
      const factory = async () => {
        const t = await token('alice', { expiresIn: issued.length === 0 ? 2 : 300 });
        issued.push(t);
        return t;
      };
      const c = buildClient(`${lp.origin}/hubs/private`, { transport: 'LongPolling', accessTokenFactory: factory, reconnect: [0, 200, 500] });
      pool.track(c);
      const reconnected = new Promise<void>((resolve) => c.onreconnected(() => resolve()));
      await within(c.start(), 5000, 'start');
      expect((await c.invoke<WhoamiResult>('Whoami')).id).toBe('alice');
      await within(reconnected, 8000, 'the reconnect after the token expired');
      expect(issued.length).toBeGreaterThanOrEqual(2);
      expect((await c.invoke<WhoamiResult>('Whoami')).id).toBe('alice');
      // The server refused the expired token's poll (401) and logged it.
      expect(lp.logs.find('the user differs from the one the connection token was issued to').length).toBeGreaterThan(0);
    } finally {
      await pool.stopAll();
      await lp.close();
    }
  });
});
