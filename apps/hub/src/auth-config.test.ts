import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.js';

const dir = mkdtempSync(join(tmpdir(), 'sb-auth-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const SECRET = 'x'.repeat(32);
const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const pemFile = join(dir, 'key.pem');
writeFileSync(pemFile, publicKey.export({ type: 'spki', format: 'pem' }));
const jwksFile = join(dir, 'jwks.json');
writeFileSync(jwksFile, JSON.stringify({ keys: [{ ...publicKey.export({ format: 'jwk' }), kid: 'k1', alg: 'ES256' }] }));
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

function configError(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error(`loadConfig(${JSON.stringify(env)}) did not throw`);
}

describe('hub config: authentication, CORS and limits', () => {
  it('defaults: no authentication, no CORS origins, no connection cap, admin role "admin"', () => {
    expect(loadConfig({})).toMatchObject({ jwt: undefined, authRequired: false, corsOrigins: [], maxConnections: undefined, jobsAdminRole: 'admin', maxWriteDelayMs: 12, jobsRoutedWatching: true });
    expect(loadConfig({ JOBS_ROUTED_WATCHING: '0' }).jobsRoutedWatching).toBe(false);
  });

  it('MAX_WRITE_DELAY_MS sets the write coalescing cap; 0 turns coalescing off', () => {
    expect(loadConfig({ MAX_WRITE_DELAY_MS: '25' }).maxWriteDelayMs).toBe(25);
    expect(loadConfig({ MAX_WRITE_DELAY_MS: '0' }).maxWriteDelayMs).toBe(0);
  });

  it('AUTH_JWT_SECRET turns authentication on and makes it required unless AUTH_REQUIRED=false', () => {
    expect(loadConfig({ AUTH_JWT_SECRET: SECRET })).toMatchObject({ jwt: { secret: SECRET, clockToleranceSeconds: 0, requireExpiration: true }, authRequired: true });
    expect(loadConfig({ AUTH_JWT_SECRET: SECRET, AUTH_REQUIRED: 'false' }).authRequired).toBe(false);
  });

  it('AUTH_JWT_REQUIRE_EXP: tokens without exp are refused unless it is false', () => {
    expect(loadConfig({ AUTH_JWT_SECRET: SECRET, AUTH_JWT_REQUIRE_EXP: 'false' }).jwt?.requireExpiration).toBe(false);
    expect(loadConfig({ AUTH_JWT_SECRET: SECRET, AUTH_JWT_REQUIRE_EXP: '1' }).jwt?.requireExpiration).toBe(true);
    expect(loadConfig({ AUTH_JWT_SECRET: SECRET, AUTH_JWT_REQUIRE_EXP: '' }).jwt?.requireExpiration).toBe(true);
  });

  it('reads every AUTH_* variable, a PEM key file and a JWKS file', () => {
    const c = loadConfig({
      AUTH_JWT_PUBLIC_KEY_FILE: pemFile,
      AUTH_JWT_ISSUER: 'https://idp.example.com',
      AUTH_JWT_AUDIENCE: 'switchboard, api',
      AUTH_JWT_ALGORITHMS: 'ES256',
      AUTH_JWT_CLOCK_TOLERANCE_S: '30',
      AUTH_USER_CLAIM: 'oid',
      AUTH_ROLES_CLAIM: 'realm_access.roles',
      JOBS_ADMIN_ROLE: 'ops-admin',
      CORS_ORIGINS: 'https://App.example.com, http://localhost:5173',
      MAX_CONNECTIONS: '5000',
    });
    expect(c.jwt).toMatchObject({ issuer: ['https://idp.example.com'], audience: ['switchboard', 'api'], algorithms: ['ES256'], clockToleranceSeconds: 30, userIdClaim: 'oid', rolesClaim: 'realm_access.roles' });
    expect(c.jwt?.publicKey).toContain('BEGIN PUBLIC KEY');
    expect(c).toMatchObject({ authRequired: true, jobsAdminRole: 'ops-admin', corsOrigins: ['https://app.example.com', 'http://localhost:5173'], maxConnections: 5000 });
    expect(loadConfig({ AUTH_JWKS_FILE: jwksFile }).jwt?.jwks?.keys[0]).toMatchObject({ kid: 'k1' });
    expect(loadConfig({ MAX_CONNECTIONS: '0' })).toMatchObject({ maxConnections: undefined, maxConnectionsSet: true });
    // Unset: main.ts derives the cap from the open files limit (fd-limit.ts).
    expect(loadConfig({ MAX_CONNECTIONS: '' })).toMatchObject({ maxConnections: undefined, maxConnectionsSet: false });
    expect(loadConfig({}).maxConnectionsSet).toBe(false);
    expect(c.maxConnectionsSet).toBe(true);
  });

  it.each([
    [{ AUTH_JWT_SECRET: SECRET, AUTH_JWKS_FILE: jwksFile }, /^Set only one of AUTH_JWT_SECRET, AUTH_JWT_PUBLIC_KEY_FILE, AUTH_JWKS_FILE; got AUTH_JWT_SECRET and AUTH_JWKS_FILE/],
    [{ AUTH_JWT_SECRET: 'short' }, /^AUTH_JWT_SECRET must be at least 32 bytes/],
    [{ AUTH_JWT_PUBLIC_KEY_FILE: join(dir, 'missing.pem') }, /^AUTH_JWT_PUBLIC_KEY_FILE: cannot read '.*missing.pem'/],
    [{ AUTH_JWT_PUBLIC_KEY_FILE: file('bad.pem', 'hello') }, /^AUTH_JWT_PUBLIC_KEY_FILE: '.*bad.pem' is not a PEM public key/],
    [{ AUTH_JWKS_FILE: file('bad.json', '{nope') }, /^AUTH_JWKS_FILE: '.*bad.json' is not JSON/],
    [{ AUTH_JWKS_FILE: file('empty.json', '{"keys":[]}') }, /^AUTH_JWKS_FILE: '.*empty.json' must hold a JSON Web Key Set with a non-empty "keys" array/],
    [{ AUTH_JWKS_FILE: file('junk.json', '{"keys":[{"kty":"nope"}]}') }, /^AUTH_JWKS_FILE: jwt.jwks is not a valid JSON Web Key Set/],
    [{ AUTH_REQUIRED: 'true' }, /^AUTH_REQUIRED=true needs a key to check access tokens with/],
    [{ AUTH_REQUIRED: 'maybe', AUTH_JWT_SECRET: SECRET }, /^AUTH_REQUIRED must be 1, true, 0 or false, got 'maybe'/],
    [{ AUTH_JWT_AUDIENCE: 'api' }, /^AUTH_JWT_AUDIENCE is set but no key is/],
    [{ AUTH_JWT_REQUIRE_EXP: 'false' }, /^AUTH_JWT_REQUIRE_EXP is set but no key is/],
    [{ AUTH_JWT_SECRET: SECRET, AUTH_JWT_REQUIRE_EXP: 'never' }, /^AUTH_JWT_REQUIRE_EXP must be 1, true, 0 or false, got 'never'/],
    [{ AUTH_JWT_SECRET: SECRET, AUTH_JWT_ALGORITHMS: 'HS256,none' }, /^AUTH_JWT_ALGORITHMS must list algorithms from HS256, .*; got 'none'/],
    [{ AUTH_JWT_SECRET: SECRET, AUTH_JWT_CLOCK_TOLERANCE_S: '-1' }, /^AUTH_JWT_CLOCK_TOLERANCE_S must be an integer from 0 to 3600/],
    [{ CORS_ORIGINS: '*' }, /^CORS_ORIGINS must list exact origins; '\*' is not allowed/],
    [{ CORS_ORIGINS: 'https://ok.example.com,https://app.example.com/path' }, /^CORS_ORIGINS: 'https:\/\/app.example.com\/path' is not an origin/],
    [{ MAX_CONNECTIONS: '-5' }, /^MAX_CONNECTIONS must be an integer from 0 to 10000000, got '-5'/],
    [{ JOBS_ADMIN_ROLE: 'two roles' }, /^JOBS_ADMIN_ROLE must be one role name/],
    [{ MAX_WRITE_DELAY_MS: '1001' }, /^MAX_WRITE_DELAY_MS must be an integer from 0 to 1000, got '1001'/],
    [{ MAX_WRITE_DELAY_MS: 'fast' }, /^MAX_WRITE_DELAY_MS must be an integer from 0 to 1000, got 'fast'/],
  ])('%j is refused with a message naming the variable', (env, message) => {
    expect(configError(env)).toMatch(message);
  });
});
