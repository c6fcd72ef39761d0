import type { IncomingMessage } from 'node:http';
import { createPublicKey, createSecretKey, type JsonWebKeyInput, type KeyObject } from 'node:crypto';
import { SwitchboardError } from '@switchboard/protocol';
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import type { HubUser } from '../hub/hub.js';
import type { Logger } from '../telemetry/logger.js';

/**
 * Built-in JWT bearer validation (`HubServerOptions.jwt`). Exactly one key source: `secret`
 * (HS256), `publicKey` (PEM, RS256 / ES256) or `jwks` (a local JSON Web Key Set, keys chosen by
 * `kid`; never fetched over the network).
 */
export interface JwtBearerOptions {
  /** Shared secret for HMAC tokens (HS256), at least 32 bytes (RFC 7518: the key is at least the hash size). */
  secret?: string | Uint8Array;
  /** Public key as PEM (`-----BEGIN PUBLIC KEY-----` or a certificate) or a KeyObject, for RS256 / ES256 / EdDSA. */
  publicKey?: string | KeyObject;
  /** A JSON Web Key Set (the parsed contents of a JWKS file); the token's `kid` picks the key. */
  jwks?: JSONWebKeySet;
  /**
   * Accepted `alg` values. @defaultValue `['HS256']` with `secret`; the key's own algorithm with
   * `publicKey` (RSA: RS256, EC P-256: ES256, P-384: ES384, Ed25519: EdDSA); `['RS256', 'ES256']` with `jwks`
   */
  algorithms?: readonly string[];
  /** Required `iss` (one value or any of several). @defaultValue not checked */
  issuer?: string | readonly string[];
  /** Required `aud` (the token must name one of these). @defaultValue not checked */
  audience?: string | readonly string[];
  /** Leeway for `exp` and `nbf`, in seconds. @defaultValue 0 */
  clockToleranceSeconds?: number;
  /**
   * Refuse tokens without an `exp` claim: such a token never expires, so a leaked one works
   * forever. `false` accepts them (an issuer that does not set `exp`; apps/hub:
   * `AUTH_JWT_REQUIRE_EXP=false`). An `exp` that is present is always checked. @defaultValue true
   */
  requireExpiration?: boolean;
  /** Claim holding the user id (`HubUser.id`, what `clients.user(id)` targets); tokens without it are refused. @defaultValue 'sub' */
  userIdClaim?: string;
  /** Claim holding the display name. @defaultValue 'name' */
  nameClaim?: string;
  /**
   * Claim holding the roles: a string or an array of strings. A dotted path reaches into objects
   * (`realm_access.roles`) when no claim has that exact name. @defaultValue 'roles'
   */
  rolesClaim?: string;
  /** Clock (ms since the epoch) for `exp` / `nbf`; tests. @defaultValue Date.now */
  now?: () => number;
  /** Called with the reason when a presented token is refused (expired, bad signature, wrong audience...). Never given the token. */
  onRejected?: (reason: string, request: IncomingMessage) => void;
}

/** The access token of a request: `Authorization: Bearer <t>` first, else the `access_token` query parameter (WebSockets and SSE in browsers). */
export function bearerToken(req: IncomingMessage): string | undefined {
  const auth = req.headers.authorization;
  if (auth && /^bearer /i.test(auth)) return auth.slice(7).trim() || undefined;
  const q = req.url?.indexOf('?') ?? -1;
  if (q < 0) return undefined;
  const params = new URLSearchParams(req.url!.slice(q + 1));
  return params.get('access_token') || undefined;
}

/** Why a token without `exp` is refused, and how to accept such tokens (the hub app's variable and the option). */
export const NO_EXPIRATION =
  "the token has no 'exp' claim (expiration time), so it would never expire; tokens without one are refused. Have the issuer set 'exp', or accept such tokens with AUTH_JWT_REQUIRE_EXP=false (jwt.requireExpiration: false)";

function invalid(option: string, message: string): SwitchboardError {
  return new SwitchboardError('SB_CONFIG_INVALID', `jwt.${option} ${message}`);
}

function list(v: string | readonly string[] | undefined): string[] | undefined {
  if (v === undefined) return undefined;
  return typeof v === 'string' ? [v] : [...v];
}

/** The algorithms a public key can verify. */
function keyAlgorithms(key: KeyObject): string[] {
  const type = key.asymmetricKeyType;
  if (type === 'rsa') return ['RS256'];
  if (type === 'rsa-pss') return ['PS256'];
  if (type === 'ed25519') return ['EdDSA'];
  if (type === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    if (curve === 'prime256v1') return ['ES256'];
    if (curve === 'secp384r1') return ['ES384'];
    if (curve === 'secp521r1') return ['ES512'];
  }
  throw invalid('publicKey', `is a ${type ?? 'unknown'} key${type === 'ec' ? ` on curve ${key.asymmetricKeyDetails?.namedCurve}` : ''}, which JWT bearer validation does not support; use RSA, EC P-256/P-384/P-521 or Ed25519.`);
}

/** A claim by exact name, else by dotted path. */
function claim(payload: JWTPayload, name: string): unknown {
  if (name in payload) return payload[name];
  if (!name.includes('.')) return undefined;
  let v: unknown = payload;
  for (const part of name.split('.')) {
    if (typeof v !== 'object' || v === null) return undefined;
    v = (v as Record<string, unknown>)[part];
  }
  return v;
}

/**
 * Validates JWT access tokens with `jose` and turns their claims into a `HubUser`. `authenticate`
 * is what `HubServerOptions.authenticate` would be: a request without a token, or with one that
 * is invalid, is anonymous (undefined); hubs and methods that require a user refuse it.
 */
export class JwtBearer {
  private readonly key: KeyObject | JWTVerifyGetKey;
  private readonly algorithms: string[];
  private readonly issuer: string[] | undefined;
  private readonly audience: string[] | undefined;
  private readonly tolerance: number;
  private readonly requireExpiration: boolean;
  private readonly userIdClaim: string;
  private readonly nameClaim: string;
  private readonly rolesClaim: string;
  private readonly now: () => number;

  constructor(private readonly options: JwtBearerOptions) {
    const sources = (['secret', 'publicKey', 'jwks'] as const).filter((k) => options[k] !== undefined);
    if (sources.length !== 1) {
      throw new SwitchboardError('SB_CONFIG_INVALID', `jwt needs exactly one key source: secret (HS256), publicKey (PEM) or jwks; got ${sources.length ? sources.join(' and ') : 'none'}.`);
    }
    let defaults: string[];
    if (options.secret !== undefined) {
      const bytes = typeof options.secret === 'string' ? Buffer.from(options.secret, 'utf8') : Buffer.from(options.secret);
      if (bytes.length < 32) throw invalid('secret', `must be at least 32 bytes for HS256 (got ${bytes.length}); use e.g. \`openssl rand -base64 32\`.`);
      this.key = createSecretKey(bytes);
      defaults = ['HS256'];
    } else if (options.publicKey !== undefined) {
      let key: KeyObject;
      try {
        key = typeof options.publicKey === 'string' ? createPublicKey(options.publicKey) : options.publicKey;
      } catch (err) {
        throw invalid('publicKey', `is not a PEM public key or certificate: ${(err as Error).message}`);
      }
      if (key.type !== 'public') throw invalid('publicKey', `must be a public key, got a ${key.type} key.`);
      this.key = key;
      defaults = keyAlgorithms(key);
    } else {
      const jwks = options.jwks;
      if (typeof jwks !== 'object' || jwks === null || !Array.isArray(jwks.keys) || jwks.keys.length === 0) {
        throw invalid('jwks', 'must be a JSON Web Key Set: an object with a non-empty "keys" array.');
      }
      // Checked now (jose imports keys lazily): a bad key would otherwise refuse every token silently.
      jwks.keys.forEach((jwk, i) => {
        try {
          createPublicKey({ key: jwk as JsonWebKeyInput['key'], format: 'jwk' });
        } catch (err) {
          throw invalid('jwks', `is not a valid JSON Web Key Set: keys[${i}] is not an RSA, EC or OKP public key (${(err as Error).message}).`);
        }
      });
      this.key = createLocalJWKSet(jwks);
      defaults = ['RS256', 'ES256'];
    }
    this.algorithms = options.algorithms ? [...options.algorithms] : defaults;
    if (!this.algorithms.length || this.algorithms.some((a) => typeof a !== 'string' || a === 'none' || !a)) {
      throw invalid('algorithms', `must list JWS algorithms such as HS256, RS256 or ES256 ('none' is never accepted); got ${JSON.stringify(options.algorithms)}.`);
    }
    this.issuer = list(options.issuer);
    this.audience = list(options.audience);
    for (const [name, values] of [['issuer', this.issuer], ['audience', this.audience]] as const) {
      if (values && (!values.length || values.some((v) => typeof v !== 'string' || !v))) throw invalid(name, 'must be a non-empty string or a non-empty list of them.');
    }
    this.tolerance = options.clockToleranceSeconds ?? 0;
    if (!Number.isFinite(this.tolerance) || this.tolerance < 0) throw invalid('clockToleranceSeconds', `must be a number of seconds >= 0, got ${JSON.stringify(options.clockToleranceSeconds)}.`);
    if (options.requireExpiration !== undefined && typeof options.requireExpiration !== 'boolean') {
      throw invalid('requireExpiration', `must be true or false, got ${JSON.stringify(options.requireExpiration)}.`);
    }
    this.requireExpiration = options.requireExpiration ?? true;
    for (const k of ['userIdClaim', 'nameClaim', 'rolesClaim'] as const) {
      const v = options[k];
      if (v !== undefined && (typeof v !== 'string' || !v)) throw invalid(k, `must be a claim name, got ${JSON.stringify(v)}.`);
    }
    this.userIdClaim = options.userIdClaim ?? 'sub';
    this.nameClaim = options.nameClaim ?? 'name';
    this.rolesClaim = options.rolesClaim ?? 'roles';
    this.now = options.now ?? Date.now;
  }

  /** The user of a request, or undefined when it carries no valid token. */
  readonly authenticate = async (req: IncomingMessage): Promise<HubUser | undefined> => {
    const token = bearerToken(req);
    if (!token) return undefined;
    try {
      return await this.verify(token);
    } catch (err) {
      this.options.onRejected?.((err as Error).message, req);
      return undefined;
    }
  };

  /** Verifies a token and returns its user; throws an Error saying why it is refused. */
  async verify(token: string): Promise<HubUser> {
    let payload: JWTPayload;
    try {
      const options = {
        algorithms: this.algorithms,
        ...(this.issuer ? { issuer: this.issuer } : {}),
        ...(this.audience ? { audience: this.audience } : {}),
        clockTolerance: this.tolerance,
        currentDate: new Date(this.now()),
      };
      ({ payload } = typeof this.key === 'function' ? await jwtVerify(token, this.key, options) : await jwtVerify(token, this.key, options));
    } catch (err) {
      const code = (err as { code?: string }).code;
      throw new Error(`${code ? `${code}: ` : ''}${(err as Error).message}`);
    }
    // jose checks `exp` only when present; a token without it would never expire.
    if (this.requireExpiration && payload.exp === undefined) throw new Error(NO_EXPIRATION);
    const id = claim(payload, this.userIdClaim);
    if (typeof id !== 'string' || !id) throw new Error(`the token has no '${this.userIdClaim}' claim (the user id) or it is not a non-empty string`);
    const name = claim(payload, this.nameClaim);
    const rawRoles = claim(payload, this.rolesClaim);
    const roles = typeof rawRoles === 'string' ? [rawRoles] : Array.isArray(rawRoles) ? rawRoles.filter((r): r is string => typeof r === 'string') : [];
    return { id, ...(typeof name === 'string' ? { name } : {}), roles, claims: payload };
  }
}

/**
 * The HubServer's `onRejected`: refused tokens at debug level (any client can present garbage),
 * except a token refused only for lacking `exp`. That one passed the signature check, so it comes
 * from the configured issuer and every user of it is refused: a configuration matter the operator
 * must see, logged as a warning at most once a minute.
 */
export function logRejections(logger: Pick<Logger, 'debug' | 'warn'>, now: () => number = Date.now): NonNullable<JwtBearerOptions['onRejected']> {
  let lastWarned = -Infinity;
  return (reason, req) => {
    const remote = req.socket.remoteAddress;
    if (reason !== NO_EXPIRATION) return logger.debug({ reason, remote }, 'access token refused');
    if (now() - lastWarned < 60_000) return logger.debug({ reason, remote }, 'access token refused');
    lastWarned = now();
    logger.warn({ reason, remote }, 'access token refused: it has no exp claim (set AUTH_JWT_REQUIRE_EXP=false / jwt.requireExpiration: false to accept such tokens)');
  };
}
