import { redisTargetFromEnv, type RedisTarget } from '@switchboard/backplane-redis';

/** Clock worker configuration; the only place this app reads the environment. */
export interface ClockConfig {
  /** REDIS_SENTINELS, REDIS_CLUSTER_NODES or REDIS_URL (required: the worker reaches hub nodes only through Redis). */
  readonly redis: RedisTarget;
  /** REDIS_PREFIX. @defaultValue sb: */
  readonly prefix: string;
  /** INTERVAL_MS between two onTimeReceived calls. @defaultValue 1000 */
  readonly intervalMs: number;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): ClockConfig {
  let redis: RedisTarget | undefined;
  try {
    redis = redisTargetFromEnv(env);
  } catch (err) {
    throw new ConfigError((err as Error).message);
  }
  if (!redis) throw new ConfigError('set REDIS_URL (e.g. redis://127.0.0.1:6379), REDIS_CLUSTER_NODES, or REDIS_SENTINELS with REDIS_SENTINEL_NAME; the worker reaches hub nodes only through Redis.');
  const raw = env['INTERVAL_MS'];
  const intervalMs = raw === undefined || raw === '' ? 1000 : Number(raw);
  if (!Number.isInteger(intervalMs) || intervalMs < 10) throw new ConfigError(`INTERVAL_MS must be an integer >= 10, got '${raw}'.`);
  return { redis, prefix: env['REDIS_PREFIX'] ?? 'sb:', intervalMs };
}
