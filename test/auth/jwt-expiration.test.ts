// Tokens without `exp` (they would never expire) are refused unless the operator allows them:
// `jwt.requireExpiration: false` in the library, AUTH_JWT_REQUIRE_EXP=false in the hub app.
import { SignJWT } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { within } from '../hub/fixture.js';
import { testJwtSecret } from '../support/jwt.js';
import type { StartedProcess } from '../support/processes.js';
import { buildClient, clientPool, type TransportName } from '../support/signalr.js';
import { startHubNode } from '../ops/support.js';
import { AUDIENCE, ISSUER, negotiateRefused, startAuthNode, type AuthNode, type WhoamiResult } from './support.js';

const secret = testJwtSecret();
const pool = clientPool();
afterEach(() => pool.stopAll());

/** A valid HS256 token for `sub` with no `exp` claim at all. */
function tokenWithoutExp(key: string, sub: string, claims: { iss?: string; aud?: string } = {}): Promise<string> {
  const jwt = new SignJWT({}).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).setSubject(sub).setIssuedAt();
  if (claims.iss) jwt.setIssuer(claims.iss);
  if (claims.aud) jwt.setAudience(claims.aud);
  return jwt.sign(Buffer.from(key, 'utf8'));
}

describe('HubServer jwt: a token without exp (official client)', () => {
  let strict: AuthNode;
  let lenient: AuthNode;
  beforeAll(async () => {
    strict = await startAuthNode(secret);
    lenient = await startAuthNode(secret, { jwt: { secret, issuer: ISSUER, audience: AUDIENCE, requireExpiration: false } });
  });
  afterAll(async () => {
    await strict?.close();
    await lenient?.close();
  });

  it.each<TransportName>(['WebSockets', 'LongPolling'])('is refused by default over %s: negotiate 401, and a warning says why and how to allow it', async (transport) => {
    const jwt = await tokenWithoutExp(secret, 'alice', { iss: ISSUER, aud: AUDIENCE });
    const c = pool.track(buildClient(`${strict.origin}/hubs/private`, { transport, accessTokenFactory: () => jwt }));
    await expect(within(c.start(), 5000, 'start')).rejects.toHaveProperty('message', negotiateRefused(401));
    const warned = strict.logs.find('access token refused: it has no exp claim');
    expect(warned.length).toBe(1); // once a minute, not once per request
    expect(JSON.stringify(warned[0])).toMatch(/no 'exp' claim.*AUTH_JWT_REQUIRE_EXP=false/);
  });

  it('the skipNegotiation WebSocket upgrade gets 401 too; on an open hub the caller is anonymous', async () => {
    const jwt = await tokenWithoutExp(secret, 'alice', { iss: ISSUER, aud: AUDIENCE });
    const direct = pool.track(buildClient(`${strict.origin}/hubs/private`, { skipNegotiation: true, accessTokenFactory: () => jwt }));
    await expect(within(direct.start(), 5000, 'start')).rejects.toThrow(/401|WebSocket failed to connect/);
    const open = await within(pool.connect(`${strict.origin}/hubs/open`, { accessTokenFactory: () => jwt }), 5000, 'start');
    expect((await open.invoke<WhoamiResult>('Whoami')).id).toBeNull();
  });

  it('requireExpiration: false accepts it (WebSockets, JSON and MessagePack)', async () => {
    const jwt = await tokenWithoutExp(secret, 'alice', { iss: ISSUER, aud: AUDIENCE });
    for (const protocol of ['json', 'messagepack'] as const) {
      const c = await within(pool.connect(`${lenient.origin}/hubs/private`, { protocol, accessTokenFactory: () => jwt }), 5000, 'start');
      expect((await c.invoke<WhoamiResult>('Whoami')).id).toBe('alice');
    }
  });
});

describe('apps/hub: AUTH_JWT_REQUIRE_EXP', () => {
  const hubSecret = 'jwt-expiration-hub-secret-32byte';
  const nodes: StartedProcess[] = [];
  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.stop()));
  });

  it('unset: a token without exp gets 401; AUTH_JWT_REQUIRE_EXP=false: it connects', async () => {
    const env = { HUB_SECRET: hubSecret, AUTH_JWT_SECRET: secret };
    const [strictNode, lenientNode] = await Promise.all([startHubNode(env), startHubNode({ ...env, AUTH_JWT_REQUIRE_EXP: 'false' })]);
    nodes.push(strictNode, lenientNode);
    const jwt = await tokenWithoutExp(secret, 'alice');
    const refused = pool.track(buildClient(`${strictNode.url}/hubs/clock`, { accessTokenFactory: () => jwt }));
    await expect(within(refused.start(), 5000, 'start')).rejects.toHaveProperty('message', negotiateRefused(401));
    const accepted = await within(pool.connect(`${lenientNode.url}/hubs/clock`, { accessTokenFactory: () => jwt }), 5000, 'start');
    expect(accepted.state).toBe('Connected');
  });
});
