import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { SwitchboardError } from '@switchboard/protocol';

/**
 * What a connection token proves: which connection, on which hub endpoint, for which user, until
 * when. The token is the only transport credential; the public connection id never is one.
 */
export interface TokenClaims {
  readonly connectionId: string;
  /** Lower-cased endpoint path, so a token for one hub cannot open another. */
  readonly endpoint: string;
  /** The authenticated user's id at negotiate time, or null for anonymous connections. */
  readonly userId: string | null;
  /** Expiry, milliseconds since the epoch. */
  readonly expiresAt: number;
  /**
   * When negotiate issued the token (ms since the epoch). An SSE stream or a first poll may
   * create the connection only shortly after it (see HttpTransports). Absent in older tokens.
   */
  readonly issuedAt?: number;
}

const VERSION = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const AAD = Buffer.from('switchboard/connection-token/v1');

/**
 * Connection tokens sealed with AES-256-GCM (encrypted and authenticated) under a key derived
 * from the shared secret with HKDF-SHA256. Every node with the same secret mints and accepts the
 * same tokens, so negotiate and the transport request may land on different nodes.
 * Layout: base64url(version(1) | iv(12) | ciphertext | tag(16)).
 */
export class ConnectionTokenCodec {
  private readonly key: Buffer;

  constructor(secret: string | Uint8Array) {
    const ikm = typeof secret === 'string' ? Buffer.from(secret, 'utf8') : Buffer.from(secret);
    if (ikm.length < 16) {
      throw new SwitchboardError('SB_CONFIG_INVALID', 'secret (HUB_SECRET) must be at least 16 bytes; use 32 random bytes, e.g. `openssl rand -base64 32`.');
    }
    this.key = Buffer.from(hkdfSync('sha256', ikm, Buffer.alloc(0), 'switchboard connection token key', 32));
  }

  mint(claims: TokenClaims): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(AAD);
    const fields: unknown[] = [claims.connectionId, claims.endpoint, claims.userId, claims.expiresAt];
    if (claims.issuedAt !== undefined) fields.push(claims.issuedAt);
    const body = JSON.stringify(fields);
    const ct = Buffer.concat([cipher.update(body, 'utf8'), cipher.final()]);
    return Buffer.concat([Buffer.of(VERSION), iv, ct, cipher.getAuthTag()]).toString('base64url');
  }

  /**
   * Opens a token. Returns undefined for anything forged, altered, malformed or expired at `now`;
   * the caller answers 404 without saying which, so probing learns nothing.
   */
  open(token: string, now: number): TokenClaims | undefined {
    if (token.length < 40 || token.length > 2048 || !/^[A-Za-z0-9_-]+$/.test(token)) return undefined;
    const raw = Buffer.from(token, 'base64url');
    // Only the canonical encoding is the token: the decoder ignores the unused low bits of the last
    // character (and a lone trailing character), so other spellings would decode to the same bytes.
    if (raw.toString('base64url') !== token) return undefined;
    if (raw.length < 1 + IV_BYTES + TAG_BYTES + 2 || raw[0] !== VERSION) return undefined;
    const iv = raw.subarray(1, 1 + IV_BYTES);
    const tag = raw.subarray(raw.length - TAG_BYTES);
    const ct = raw.subarray(1 + IV_BYTES, raw.length - TAG_BYTES);
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, iv);
      decipher.setAAD(AAD);
      decipher.setAuthTag(tag);
      const body = Buffer.concat([decipher.update(ct), decipher.final()]).toString('utf8');
      const [connectionId, endpoint, userId, expiresAt, issuedAt] = JSON.parse(body) as [string, string, string | null, number, number | undefined];
      if (typeof connectionId !== 'string' || typeof endpoint !== 'string' || typeof expiresAt !== 'number') return undefined;
      if (expiresAt <= now) return undefined;
      return { connectionId, endpoint, userId: typeof userId === 'string' ? userId : null, expiresAt, ...(typeof issuedAt === 'number' ? { issuedAt } : {}) };
    } catch {
      return undefined;
    }
  }
}
