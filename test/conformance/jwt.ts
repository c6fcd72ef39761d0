import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Minimal HS256 JWT for the conformance app's `/generateJwtToken` and `/authorizedhub`, which the
 * official functional tests use. Built-in JWT validation for apps comes with the auth work.
 */
export function signJwt(claims: Record<string, unknown>, key: Buffer): string {
  const header = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');
  const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
  const sig = createHmac('sha256', key).update(`${header}.${payload}`).digest('base64url');
  return `${header}.${payload}.${sig}`;
}

/** Returns the claims of a valid, unexpired HS256 token, or undefined. */
export function verifyJwt(token: string, key: Buffer, nowSeconds: number): Record<string, unknown> | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  const [header, payload, sig] = parts as [string, string, string];
  const expected = createHmac('sha256', key).update(`${header}.${payload}`).digest();
  const given = Buffer.from(sig, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
  try {
    const h = JSON.parse(Buffer.from(header, 'base64url').toString('utf8')) as { alg?: string };
    if (h.alg !== 'HS256') return undefined;
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
    if (typeof claims['exp'] === 'number' && claims['exp'] <= nowSeconds) return undefined;
    return claims;
  } catch {
    return undefined;
  }
}
