import { generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { exportJWK, SignJWT, type JWTPayload } from 'jose';
import { describe, expect, it } from 'vitest';
import { admit } from '../hub/access.js';
import { bearerToken, JwtBearer, logRejections, NO_EXPIRATION, type JwtBearerOptions } from './jwt.js';

const SECRET = 'a-shared-hs256-secret-of-32-bytes!';
const NOW = 1_800_000_000_000;
const nowS = NOW / 1000;
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });

function sign(claims: JWTPayload, key: KeyObject | Uint8Array, alg: string, header: Record<string, unknown> = {}): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg, ...header }).sign(key);
}
const hs = (claims: JWTPayload, secret = SECRET) => sign(claims, Buffer.from(secret), 'HS256');
const bearer = (options: Omit<JwtBearerOptions, 'now'>) => new JwtBearer({ now: () => NOW, ...options });
const request = (headers: Record<string, string>, url = '/hub'): IncomingMessage => ({ headers, url, socket: {} }) as unknown as IncomingMessage;

describe('JwtBearer: HS256 with a shared secret', () => {
  const auth = bearer({ secret: SECRET, issuer: 'https://issuer.test', audience: 'switchboard' });
  const good = { sub: 'alice', name: 'Alice', roles: ['admin', 'ops'], iss: 'https://issuer.test', aud: 'switchboard', exp: nowS + 60 };

  it('a valid token gives the user: id from sub, name, roles, all claims', async () => {
    const user = await auth.verify(await hs(good));
    expect(user).toMatchObject({ id: 'alice', name: 'Alice', roles: ['admin', 'ops'] });
    expect(user.claims?.['iss']).toBe('https://issuer.test');
  });

  it.each([
    ['expired', { ...good, exp: nowS - 1 }, /ERR_JWT_EXPIRED/],
    ['not yet valid', { ...good, nbf: nowS + 30 }, /ERR_JWT_CLAIM_VALIDATION_FAILED.*nbf/],
    ['wrong audience', { ...good, aud: 'another-api' }, /ERR_JWT_CLAIM_VALIDATION_FAILED.*aud/],
    ['no audience', { ...good, aud: undefined }, /ERR_JWT_CLAIM_VALIDATION_FAILED.*aud/],
    ['wrong issuer', { ...good, iss: 'https://evil.test' }, /ERR_JWT_CLAIM_VALIDATION_FAILED.*iss/],
    ['no sub', { ...good, sub: undefined }, /no 'sub' claim/],
    ['an empty sub', { ...good, sub: '' }, /no 'sub' claim/],
  ])('refuses a token that is %s', async (_what, claims, reason) => {
    await expect(auth.verify(await hs(claims))).rejects.toThrow(reason);
  });

  it('refuses a token signed with another secret, and an altered payload', async () => {
    await expect(auth.verify(await hs(good, 'another-secret-that-is-32-bytes-long'))).rejects.toThrow(/ERR_JWS_SIGNATURE_VERIFICATION_FAILED/);
    const [h, , s] = (await hs(good)).split('.');
    const forged = Buffer.from(JSON.stringify({ ...good, sub: 'mallory' })).toString('base64url');
    await expect(auth.verify(`${h}.${forged}.${s}`)).rejects.toThrow(/ERR_JWS_SIGNATURE_VERIFICATION_FAILED/);
  });

  it("refuses alg 'none' and algorithms it was not told to accept", async () => {
    const none = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify(good)).toString('base64url')}.`;
    await expect(auth.verify(none)).rejects.toThrow(/ERR_JOSE_ALG_NOT_ALLOWED|ERR_JWS_INVALID/);
    await expect(auth.verify(await sign(good, Buffer.from(SECRET), 'HS512'))).rejects.toThrow(/ERR_JOSE_ALG_NOT_ALLOWED/);
  });

  it('clockToleranceSeconds lets a just-expired token through', async () => {
    const lenient = bearer({ secret: SECRET, clockToleranceSeconds: 30 });
    await expect(lenient.verify(await hs({ sub: 'a', exp: nowS - 10 }))).resolves.toMatchObject({ id: 'a' });
    await expect(lenient.verify(await hs({ sub: 'a', exp: nowS - 31 }))).rejects.toThrow(/ERR_JWT_EXPIRED/);
  });

  it('userIdClaim, nameClaim and rolesClaim pick other claims; roles may be a string or a dotted path', async () => {
    const custom = bearer({ secret: SECRET, userIdClaim: 'oid', nameClaim: 'preferred_username', rolesClaim: 'realm_access.roles' });
    const user = await custom.verify(await hs({ oid: 'u-1', preferred_username: 'ana', realm_access: { roles: ['admin', 7] }, exp: nowS + 60 }));
    expect(user).toMatchObject({ id: 'u-1', name: 'ana', roles: ['admin'] });
    expect((await bearer({ secret: SECRET, rolesClaim: 'role' }).verify(await hs({ sub: 'b', role: 'ops', exp: nowS + 60 }))).roles).toEqual(['ops']);
    expect((await bearer({ secret: SECRET }).verify(await hs({ sub: 'c', exp: nowS + 60 }))).roles).toEqual([]);
    // A claim whose name has dots (URL-style claim names) is read by its exact name first.
    const url = 'http://schemas.microsoft.com/ws/2008/06/identity/claims/role';
    expect((await bearer({ secret: SECRET, rolesClaim: url }).verify(await hs({ sub: 'd', [url]: ['x'], exp: nowS + 60 }))).roles).toEqual(['x']);
  });

  it('authenticate reads the Bearer header, else access_token; an invalid token is anonymous and reported (without the token)', async () => {
    const reasons: string[] = [];
    const a = new JwtBearer({ secret: SECRET, now: () => NOW, onRejected: (reason) => reasons.push(reason) });
    const token = await hs({ sub: 'alice', exp: nowS + 60 });
    expect(await a.authenticate(request({ authorization: `Bearer ${token}` }))).toMatchObject({ id: 'alice' });
    expect(await a.authenticate(request({}, `/hub?id=x&access_token=${token}`))).toMatchObject({ id: 'alice' });
    expect(await a.authenticate(request({}))).toBeUndefined();
    const expired = await hs({ sub: 'alice', exp: nowS - 5 });
    expect(await a.authenticate(request({ authorization: `Bearer ${expired}` }))).toBeUndefined();
    expect(reasons).toHaveLength(1);
    expect(reasons[0]).toMatch(/ERR_JWT_EXPIRED/);
    expect(reasons[0]).not.toContain(expired);
  });
});

describe('JwtBearer: tokens without exp (requireExpiration)', () => {
  const noExp = { sub: 'alice' };

  it("refuses a token without exp by default, saying so and how to allow it; onRejected gets that reason", async () => {
    await expect(bearer({ secret: SECRET }).verify(await hs(noExp))).rejects.toThrow(NO_EXPIRATION);
    expect(NO_EXPIRATION).toMatch(/no 'exp' claim.*AUTH_JWT_REQUIRE_EXP=false \(jwt.requireExpiration: false\)/);
    const reasons: string[] = [];
    const a = new JwtBearer({ secret: SECRET, now: () => NOW, onRejected: (reason) => reasons.push(reason) });
    const token = await hs(noExp);
    expect(await a.authenticate(request({ authorization: `Bearer ${token}` }))).toBeUndefined();
    expect(reasons).toEqual([NO_EXPIRATION]);
    // Public keys too: the rule is about the claims, not the key.
    const rs = bearer({ publicKey: rsa.publicKey.export({ type: 'spki', format: 'pem' }).toString() });
    await expect(rs.verify(await sign(noExp, rsa.privateKey, 'RS256'))).rejects.toThrow(NO_EXPIRATION);
  });

  it('requireExpiration: false accepts it; an exp that is present is still checked', async () => {
    const lenient = bearer({ secret: SECRET, requireExpiration: false });
    await expect(lenient.verify(await hs(noExp))).resolves.toMatchObject({ id: 'alice' });
    await expect(lenient.verify(await hs({ sub: 'alice', exp: nowS - 1 }))).rejects.toThrow(/ERR_JWT_EXPIRED/);
    await expect(bearer({ secret: SECRET, requireExpiration: true }).verify(await hs({ sub: 'alice', exp: nowS + 1 }))).resolves.toMatchObject({ id: 'alice' });
  });
});

describe('logRejections (the HubServer onRejected)', () => {
  it('a token without exp is a warning (once a minute) naming the fix; other refusals are debug lines', () => {
    const lines: [string, string, object][] = [];
    let t = 0;
    const log = logRejections({ debug: (o, m) => lines.push(['debug', m!, o]), warn: (o, m) => lines.push(['warn', m!, o]) }, () => t);
    const req = { socket: { remoteAddress: '10.0.0.1' } } as unknown as IncomingMessage;
    log('ERR_JWT_EXPIRED: "exp" claim timestamp check failed', req);
    log(NO_EXPIRATION, req);
    t = 59_000;
    log(NO_EXPIRATION, req);
    t = 61_000;
    log(NO_EXPIRATION, req);
    expect(lines.map(([level]) => level)).toEqual(['debug', 'warn', 'debug', 'warn']);
    expect(lines[1]![1]).toMatch(/no exp claim.*AUTH_JWT_REQUIRE_EXP=false/);
    expect(lines[1]![2]).toEqual({ reason: NO_EXPIRATION, remote: '10.0.0.1' });
  });
});

describe('JwtBearer: RS256 / ES256 with a public key or a JWKS', () => {
  const claims = { sub: 'bob', exp: nowS + 60 };

  it('a PEM public key (RSA → RS256, EC P-256 → ES256)', async () => {
    const rs = bearer({ publicKey: rsa.publicKey.export({ type: 'spki', format: 'pem' }).toString() });
    expect(await rs.verify(await sign(claims, rsa.privateKey, 'RS256'))).toMatchObject({ id: 'bob' });
    const es = bearer({ publicKey: ec.publicKey.export({ type: 'spki', format: 'pem' }).toString() });
    expect(await es.verify(await sign(claims, ec.privateKey, 'ES256'))).toMatchObject({ id: 'bob' });
    // Signed by another key pair: refused.
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 });
    await expect(rs.verify(await sign(claims, other.privateKey, 'RS256'))).rejects.toThrow(/ERR_JWS_SIGNATURE_VERIFICATION_FAILED/);
  });

  it('refuses an HS256 token "signed" with the public key (algorithm confusion)', async () => {
    const pem = rsa.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const rs = bearer({ publicKey: pem });
    await expect(rs.verify(await sign(claims, Buffer.from(pem), 'HS256'))).rejects.toThrow(/ERR_JOSE_ALG_NOT_ALLOWED/);
  });

  it('a JWKS: the kid picks the key; an unknown kid is refused', async () => {
    const rsaJwk = { ...(await exportJWK(rsa.publicKey)), kid: 'rsa-1', alg: 'RS256', use: 'sig' };
    const ecJwk = { ...(await exportJWK(ec.publicKey)), kid: 'ec-1', alg: 'ES256', use: 'sig' };
    const auth = bearer({ jwks: { keys: [rsaJwk, ecJwk] } });
    expect(await auth.verify(await sign(claims, rsa.privateKey, 'RS256', { kid: 'rsa-1' }))).toMatchObject({ id: 'bob' });
    expect(await auth.verify(await sign(claims, ec.privateKey, 'ES256', { kid: 'ec-1' }))).toMatchObject({ id: 'bob' });
    await expect(auth.verify(await sign(claims, rsa.privateKey, 'RS256', { kid: 'unknown' }))).rejects.toThrow(/ERR_JWKS_NO_MATCHING_KEY/);
  });
});

describe('JwtBearer options are checked at construction, naming the option', () => {
  it.each([
    [{}, /jwt needs exactly one key source: secret \(HS256\), publicKey \(PEM\) or jwks; got none/],
    [{ secret: SECRET, jwks: { keys: [{}] } }, /got secret and jwks/],
    [{ secret: 'short' }, /jwt.secret must be at least 32 bytes/],
    [{ publicKey: 'not a pem' }, /jwt.publicKey is not a PEM public key/],
    [{ jwks: { keys: [] } }, /jwt.jwks must be a JSON Web Key Set/],
    [{ jwks: { keys: [{ kty: 'oct', k: 'c2VjcmV0' }] } }, /jwt.jwks is not a valid JSON Web Key Set: keys\[0\] is not an RSA, EC or OKP public key/],
    [{ secret: SECRET, algorithms: ['none'] }, /jwt.algorithms must list JWS algorithms/],
    [{ secret: SECRET, audience: [] }, /jwt.audience must be a non-empty string/],
    [{ secret: SECRET, clockToleranceSeconds: -1 }, /jwt.clockToleranceSeconds must be a number of seconds >= 0/],
    [{ secret: SECRET, rolesClaim: '' }, /jwt.rolesClaim must be a claim name/],
    [{ secret: SECRET, requireExpiration: 'no' as unknown as boolean }, /jwt.requireExpiration must be true or false, got "no"/],
  ] as [JwtBearerOptions, RegExp][])('%j', (options, message) => {
    expect(() => new JwtBearer(options)).toThrow(message);
  });

  it('a secret of random bytes works as well as a string', async () => {
    const key = randomBytes(32);
    expect(await new JwtBearer({ secret: key }).verify(await sign({ sub: 'z', exp: Math.floor(Date.now() / 1000) + 60 }, key, 'HS256'))).toMatchObject({ id: 'z' });
  });
});

describe('bearerToken and admit', () => {
  it('reads Authorization: Bearer (any case) first, then access_token', () => {
    expect(bearerToken(request({ authorization: 'bearer abc' }, '/x?access_token=q'))).toBe('abc');
    expect(bearerToken(request({}, '/x?id=1&access_token=q'))).toBe('q');
    expect(bearerToken(request({ authorization: 'Basic abc' }))).toBeUndefined();
    expect(bearerToken(request({}, '/x?access_token='))).toBeUndefined();
  });

  it('admits by user and roles (any of them)', () => {
    const alice = { id: 'alice', roles: ['ops'] };
    expect(admit({}, undefined)).toBe('ok');
    expect(admit({ requireUser: true }, undefined)).toBe('unauthenticated');
    expect(admit({ requireUser: true }, alice)).toBe('ok');
    expect(admit({ roles: ['admin'] }, undefined)).toBe('unauthenticated');
    expect(admit({ roles: ['admin'] }, alice)).toBe('forbidden');
    expect(admit({ roles: ['admin', 'ops'] }, alice)).toBe('ok');
    expect(admit({ roles: [] }, undefined)).toBe('ok');
    expect(admit({ roles: ['admin'] }, { id: 'x' })).toBe('forbidden');
  });
});
