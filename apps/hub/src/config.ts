import { createPublicKey, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { redisTargetFromEnv, type RedisTarget } from '@switchboard/backplane-redis';
import { HUB_SERVER_DEFAULTS, JwtBearer, normalizeOrigin, type JwtBearerOptions } from '@switchboard/hub-server';
import { ConfigError, boolFromEnv, intFromEnv, logLevelFromEnv, nodeIdFromEnv, type LogLevel } from '@switchboard/logging';

/** Hub node configuration; the only place this app reads the environment. */
export interface HubConfig {
  /** TCP port (PORT). @defaultValue 3000 */
  readonly port: number;
  /** Interface to listen on (HOST). @defaultValue 0.0.0.0 */
  readonly host: string;
  /** Shared token secret (HUB_SECRET); random per process when unset (single-node only). */
  readonly secret: string;
  readonly secretIsEphemeral: boolean;
  /** LOG_LEVEL: debug, info, warn, error or silent. @defaultValue info */
  readonly logLevel: LogLevel;
  /** REDIS_URL or REDIS_CLUSTER_NODES; unset = in-memory scale-out (one node). */
  readonly redis: RedisTarget | undefined;
  /** REDIS_PREFIX: channel prefix shared by the nodes of one deployment. @defaultValue sb: */
  readonly redisPrefix: string;
  /** NODE_ID: this node's name in logs, metrics and the system view. @defaultValue hub-<pid>-<random> */
  readonly nodeId: string;
  /**
   * SHUTDOWN_DELAY_MS: after SIGTERM, how long the node keeps its connections while refusing new
   * ones (readyz 503), so a load balancer stops routing to it first. @defaultValue 0
   */
  readonly shutdownDelayMs: number;
  /** SHUTDOWN_TIMEOUT_MS: the most a shutdown may take before the process exits anyway (code 1). @defaultValue 10000 */
  readonly shutdownTimeoutMs: number;
  /** STATS_INTERVAL_MS: heartbeat and `systemStats` push period. @defaultValue 1000 */
  readonly statsIntervalMs: number;
  /** JWT bearer validation (AUTH_JWT_SECRET, AUTH_JWT_PUBLIC_KEY_FILE or AUTH_JWKS_FILE, and AUTH_JWT_*); undefined = no authentication. */
  readonly jwt: JwtBearerOptions | undefined;
  /** AUTH_REQUIRED: every hub and the REST API need a valid access token. @defaultValue true when a key is configured */
  readonly authRequired: boolean;
  /** JOBS_ADMIN_ROLE: users with this role may watch, get and cancel every job. @defaultValue admin */
  readonly jobsAdminRole: string;
  /**
   * JOBS_ROUTED_WATCHING: job watchers join routed (no Redis subscription per job; libs/jobs
   * README). Turn it off (0) when a worker of your own publishes job updates with
   * `clients.group(jobGroup(id))` instead of `publishUpdates`. @defaultValue true
   */
  readonly jobsRoutedWatching: boolean;
  /** CORS_ORIGINS: browser origins allowed cross-origin, with credentials. @defaultValue none */
  readonly corsOrigins: readonly string[];
  /**
   * MAX_CONNECTIONS as set: connections this node holds at most (0 = no limit: undefined). When
   * unset (`maxConnectionsSet` false), main.ts derives the cap from the open files limit
   * (fd-limit.ts). @defaultValue the open files limit minus a reserve (Linux); no limit elsewhere
   */
  readonly maxConnections: number | undefined;
  /** Whether MAX_CONNECTIONS is set (to any value, 0 included). */
  readonly maxConnectionsSet: boolean;
  /**
   * MAX_WRITE_DELAY_MS: under load, the most a message may be held back to leave in one frame with
   * the connection's next ones (the hub server's `maxWriteDelayMs`); 0 = never. @defaultValue 12
   */
  readonly maxWriteDelayMs: number;
  /** BENCH_HUB: also serve the benchmark hub at /hubs/bench (`1`/`true` or `0`/`false`). @defaultValue false */
  readonly benchHub: boolean;
  /**
   * JOBS_MODULE: path (relative to the working directory) or file: URL of an ES module whose default
   * export is the job set (the same module the workers load). @defaultValue the example set (`hash`, `pipeline`)
   */
  readonly jobsModule: string | undefined;
  /**
   * HUBS_MODULE: path or file: URL of an ES module whose default export maps your own hubs:
   * `export default (hubs) => { hubs.mapHub('/hubs/notifications', notifications); }`. @defaultValue none
   */
  readonly hubsModule: string | undefined;
  /**
   * REDIS_TIMEOUT_MS: the most a REST request or jobs hub method waits for Redis before it answers
   * SB_BACKPLANE_UNAVAILABLE (REST: 503 with Retry-After); while Redis is unreachable they answer
   * at once. @defaultValue 2000
   */
  readonly redisTimeoutMs: number;
}

export { ConfigError, LOG_LEVELS, type LogLevel } from '@switchboard/logging';

const JWT_ALGORITHMS = ['HS256', 'HS384', 'HS512', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];
const KEY_VARIABLES = ['AUTH_JWT_SECRET', 'AUTH_JWT_PUBLIC_KEY_FILE', 'AUTH_JWKS_FILE'] as const;
const AUTH_DETAILS = ['AUTH_JWT_ISSUER', 'AUTH_JWT_AUDIENCE', 'AUTH_JWT_ALGORITHMS', 'AUTH_JWT_CLOCK_TOLERANCE_S', 'AUTH_JWT_REQUIRE_EXP', 'AUTH_USER_CLAIM', 'AUTH_ROLES_CLAIM'] as const;

/** A comma-separated list; empty entries dropped. */
function listFromEnv(env: NodeJS.ProcessEnv, name: string): string[] | undefined {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return undefined;
  return raw.split(',').map((v) => v.trim()).filter(Boolean);
}

function readFileNamed(name: string, path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`${name}: cannot read '${path}': ${(err as Error).message}`);
  }
}

/** The AUTH_* variables: which key checks access tokens, and whether every request needs one. */
export function authFromEnv(env: NodeJS.ProcessEnv): { jwt: JwtBearerOptions | undefined; authRequired: boolean } {
  const keys = KEY_VARIABLES.filter((k) => env[k]);
  if (keys.length > 1) throw new ConfigError(`Set only one of ${KEY_VARIABLES.join(', ')}; got ${keys.join(' and ')}.`);
  const authRequired = boolFromEnv(env, 'AUTH_REQUIRED', keys.length === 1);
  if (!keys.length) {
    if (authRequired) throw new ConfigError(`AUTH_REQUIRED=true needs a key to check access tokens with: set ${KEY_VARIABLES.join(', or ')}.`);
    const stray = AUTH_DETAILS.find((k) => env[k]);
    if (stray) throw new ConfigError(`${stray} is set but no key is: set ${KEY_VARIABLES.join(', ')} too, or unset ${stray}.`);
    return { jwt: undefined, authRequired: false };
  }
  const jwt: { -readonly [K in keyof JwtBearerOptions]: JwtBearerOptions[K] } = {};
  const secret = env['AUTH_JWT_SECRET'];
  const keyFile = env['AUTH_JWT_PUBLIC_KEY_FILE'];
  const jwksFile = env['AUTH_JWKS_FILE'];
  if (secret) {
    if (Buffer.byteLength(secret) < 32) throw new ConfigError('AUTH_JWT_SECRET must be at least 32 bytes (HS256 needs a 256-bit key); generate one with `openssl rand -base64 32`.');
    jwt.secret = secret;
  } else if (keyFile) {
    const pem = readFileNamed('AUTH_JWT_PUBLIC_KEY_FILE', keyFile);
    try {
      if (createPublicKey(pem).type !== 'public') throw new Error('not a public key');
    } catch (err) {
      throw new ConfigError(`AUTH_JWT_PUBLIC_KEY_FILE: '${keyFile}' is not a PEM public key or certificate (${(err as Error).message}).`);
    }
    jwt.publicKey = pem;
  } else if (jwksFile) {
    const text = readFileNamed('AUTH_JWKS_FILE', jwksFile);
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new ConfigError(`AUTH_JWKS_FILE: '${jwksFile}' is not JSON; it must hold a JSON Web Key Set {"keys": [...]}.`);
    }
    const set = parsed as { keys?: unknown };
    if (typeof set !== 'object' || set === null || !Array.isArray(set.keys) || !set.keys.length) {
      throw new ConfigError(`AUTH_JWKS_FILE: '${jwksFile}' must hold a JSON Web Key Set with a non-empty "keys" array.`);
    }
    jwt.jwks = set as JwtBearerOptions['jwks'];
  }
  const issuer = listFromEnv(env, 'AUTH_JWT_ISSUER');
  if (issuer) jwt.issuer = issuer;
  const audience = listFromEnv(env, 'AUTH_JWT_AUDIENCE');
  if (audience) jwt.audience = audience;
  const algorithms = listFromEnv(env, 'AUTH_JWT_ALGORITHMS');
  if (algorithms) {
    const unknown = algorithms.find((a) => !JWT_ALGORITHMS.includes(a));
    if (unknown) throw new ConfigError(`AUTH_JWT_ALGORITHMS must list algorithms from ${JWT_ALGORITHMS.join(', ')}; got '${unknown}'.`);
    jwt.algorithms = algorithms;
  }
  jwt.clockToleranceSeconds = intFromEnv(env, 'AUTH_JWT_CLOCK_TOLERANCE_S', 0, 0, 3600);
  // Tokens without `exp` never expire; refused unless the operator says the issuer omits it.
  jwt.requireExpiration = boolFromEnv(env, 'AUTH_JWT_REQUIRE_EXP', true);
  for (const [name, option] of [['AUTH_USER_CLAIM', 'userIdClaim'], ['AUTH_ROLES_CLAIM', 'rolesClaim']] as const) {
    const v = env[name]?.trim();
    if (v) jwt[option] = v;
  }
  try {
    new JwtBearer(jwt);
  } catch (err) {
    throw new ConfigError(`${keys[0]}: ${(err as Error).message}`);
  }
  return { jwt, authRequired };
}

/** CORS_ORIGINS: exact origins (scheme://host[:port]), comma-separated; `*` refused. */
export function corsOriginsFromEnv(env: NodeJS.ProcessEnv): string[] {
  try {
    return (listFromEnv(env, 'CORS_ORIGINS') ?? []).map((o) => normalizeOrigin(o, 'CORS_ORIGINS'));
  } catch (err) {
    throw new ConfigError((err as Error).message);
  }
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): HubConfig {
  const port = intFromEnv(env, 'PORT', 3000, 0, 65535);
  const logLevel = logLevelFromEnv(env);
  const rawSecret = env['HUB_SECRET'];
  if (rawSecret !== undefined && rawSecret !== '' && Buffer.byteLength(rawSecret) < 16) {
    throw new ConfigError('HUB_SECRET must be at least 16 bytes; generate one with `openssl rand -base64 32`.');
  }
  const secretIsEphemeral = !rawSecret;
  let redis: RedisTarget | undefined;
  try {
    redis = redisTargetFromEnv(env);
  } catch (err) {
    throw new ConfigError((err as Error).message);
  }
  const jobsAdminRole = env['JOBS_ADMIN_ROLE'] || 'admin';
  if (!/^[^\s,]{1,128}$/.test(jobsAdminRole)) throw new ConfigError(`JOBS_ADMIN_ROLE must be one role name (no spaces or commas), got '${jobsAdminRole}'.`);
  const shutdownDelayMs = intFromEnv(env, 'SHUTDOWN_DELAY_MS', 0, 0, 600_000);
  const shutdownTimeoutMs = intFromEnv(env, 'SHUTDOWN_TIMEOUT_MS', 10_000, 1000, 600_000);
  if (shutdownDelayMs >= shutdownTimeoutMs) {
    throw new ConfigError(`SHUTDOWN_DELAY_MS (${shutdownDelayMs}) must be below SHUTDOWN_TIMEOUT_MS (${shutdownTimeoutMs}): the delay is part of the shutdown.`);
  }
  return {
    redis,
    redisPrefix: env['REDIS_PREFIX'] ?? 'sb:',
    port,
    host: env['HOST'] || '0.0.0.0',
    secret: rawSecret || randomBytes(32).toString('base64'),
    secretIsEphemeral,
    logLevel,
    nodeId: nodeIdFromEnv(env, 'hub'),
    shutdownDelayMs,
    shutdownTimeoutMs,
    statsIntervalMs: intFromEnv(env, 'STATS_INTERVAL_MS', 1000, 100, 60_000),
    benchHub: boolFromEnv(env, 'BENCH_HUB', false),
    jobsModule: env['JOBS_MODULE'] || undefined,
    hubsModule: env['HUBS_MODULE'] || undefined,
    redisTimeoutMs: intFromEnv(env, 'REDIS_TIMEOUT_MS', 2000, 50, 60_000),
    ...authFromEnv(env),
    jobsAdminRole,
    jobsRoutedWatching: boolFromEnv(env, 'JOBS_ROUTED_WATCHING', true),
    corsOrigins: corsOriginsFromEnv(env),
    maxConnections: intFromEnv(env, 'MAX_CONNECTIONS', 0, 0, 10_000_000) || undefined,
    maxConnectionsSet: (env['MAX_CONNECTIONS'] ?? '') !== '',
    maxWriteDelayMs: intFromEnv(env, 'MAX_WRITE_DELAY_MS', HUB_SERVER_DEFAULTS.maxWriteDelayMs, 0, 1000),
  };
}
