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
  readonly logLevel: 'debug' | 'info' | 'warn' | 'error' | 'silent';
  /** REDIS_URL or REDIS_CLUSTER_NODES; unset = in-memory scale-out (one node). */
  readonly redis: RedisTarget | undefined;
  /** REDIS_PREFIX: channel prefix shared by the nodes of one deployment. @defaultValue sb: */
  readonly redisPrefix: string;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): HubConfig {
  const port = env['PORT'] === undefined || env['PORT'] === '' ? 3000 : Number(env['PORT']);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError(`PORT must be an integer from 0 to 65535, got '${env['PORT']}'.`);
  const logLevel = (env['LOG_LEVEL'] || 'info') as HubConfig['logLevel'];
  if (!['debug', 'info', 'warn', 'error', 'silent'].includes(logLevel)) throw new ConfigError(`LOG_LEVEL must be one of debug, info, warn, error, silent; got '${env['LOG_LEVEL']}'.`);
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
  return {
    redis,
    redisPrefix: env['REDIS_PREFIX'] ?? 'sb:',
    port,
    host: env['HOST'] || '0.0.0.0',
    secret: rawSecret || randomBytes(32).toString('base64'),
    secretIsEphemeral,
    logLevel,
  };
}
