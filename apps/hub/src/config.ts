import { randomBytes } from 'node:crypto';
import { redisTargetFromEnv, type RedisTarget } from '@switchboard/backplane-redis';

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
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';
export const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error', 'silent'];

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** An integer variable in [min, max]; `fallback` when unset or empty. The message names the variable. */
export function intFromEnv(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!/^\s*-?\d+\s*$/.test(raw) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new ConfigError(`${name} must be an integer from ${min} to ${max}, got '${raw}'.`);
  }
  return n;
}

/** NODE_ID: letters, digits, '.', '_', '-' (it becomes a metrics label and a Redis hash field). */
export function nodeIdFromEnv(env: NodeJS.ProcessEnv, role: 'hub' | 'worker'): string {
  const raw = env['NODE_ID'];
  if (raw === undefined || raw === '') return `${role}-${process.pid}-${randomBytes(3).toString('hex')}`;
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(raw)) throw new ConfigError(`NODE_ID must be 1-64 characters from A-Z a-z 0-9 . _ -, got '${raw}'.`);
  return raw;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): HubConfig {
  const port = intFromEnv(env, 'PORT', 3000, 0, 65535);
  const logLevel = (env['LOG_LEVEL'] || 'info') as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) throw new ConfigError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}; got '${env['LOG_LEVEL']}'.`);
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
  };
}
