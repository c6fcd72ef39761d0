import { randomBytes } from 'node:crypto';
import { SignJWT, type JWTPayload } from 'jose';

/** An HS256 secret for tests (32 bytes, as AUTH_JWT_SECRET requires). */
export function testJwtSecret(): string {
  return randomBytes(32).toString('base64');
}

export interface MintOptions {
  /** Seconds from now until `exp`; negative for an expired token. @defaultValue 300 */
  expiresIn?: number;
  roles?: string[];
  name?: string;
  issuer?: string;
  audience?: string;
  /** Extra claims. */
  claims?: JWTPayload;
}

/** Signs an HS256 access token for `sub` with `secret` (a test identity provider). */
export function mintHs256(secret: string | Uint8Array, sub: string, options: MintOptions = {}): Promise<string> {
  const key = typeof secret === 'string' ? Buffer.from(secret, 'utf8') : secret;
  const nowS = Math.floor(Date.now() / 1000);
  const jwt = new SignJWT({ ...options.claims, ...(options.roles ? { roles: options.roles } : {}), ...(options.name ? { name: options.name } : {}) })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(sub)
    .setIssuedAt(nowS)
    .setExpirationTime(nowS + (options.expiresIn ?? 300));
  if (options.issuer) jwt.setIssuer(options.issuer);
  if (options.audience) jwt.setAudience(options.audience);
  return jwt.sign(key);
}
