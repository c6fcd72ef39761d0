import { availableParallelism } from 'node:os';
import { redisTargetFromEnv, type RedisTarget } from '@switchboard/backplane-redis';

/** Worker configuration; the only place this app reads the environment. */
export interface WorkerConfig {
  readonly redis: RedisTarget;
  readonly prefix: string;
  /** POOL_SIZE: piscina threads. @defaultValue available CPUs */
  readonly poolSize: number;
  /** WORKER_CONCURRENCY: jobs run at once. @defaultValue POOL_SIZE */
  readonly concurrency: number;
  /** JOB_LOCK_MS: lock lifetime; a dead worker's job is resumed elsewhere after about this. @defaultValue 10000 */
  readonly lockDurationMs: number;
  /** JOB_STALLED_INTERVAL_MS. @defaultValue 5000 */
  readonly stalledIntervalMs: number;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

function int(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new ConfigError(`${name} must be an integer >= ${min}, got '${raw}'.`);
  return n;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): WorkerConfig {
  let redis: RedisTarget | undefined;
  try {
    redis = redisTargetFromEnv(env);
  } catch (err) {
    throw new ConfigError((err as Error).message);
  }
  if (!redis) throw new ConfigError('REDIS_URL (or REDIS_CLUSTER_NODES) is required: workers take jobs from Redis, e.g. REDIS_URL=redis://127.0.0.1:6379.');
  const poolSize = int(env, 'POOL_SIZE', availableParallelism(), 1);
  return {
    redis,
    prefix: env['REDIS_PREFIX'] ?? 'sb:',
    poolSize,
    concurrency: int(env, 'WORKER_CONCURRENCY', poolSize, 1),
    lockDurationMs: int(env, 'JOB_LOCK_MS', 10_000, 1000),
    stalledIntervalMs: int(env, 'JOB_STALLED_INTERVAL_MS', 5_000, 500),
  };
}
