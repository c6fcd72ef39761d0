import { randomBytes } from 'node:crypto';
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
  /** LOG_LEVEL: debug, info, warn, error or silent. @defaultValue info */
  readonly logLevel: LogLevel;
  /** NODE_ID: this worker's id in logs, metrics and the system view. @defaultValue worker-<pid>-<random> */
  readonly workerId: string;
  /** METRICS_PORT: serve GET /metrics and /healthz on this port; 0 = no metrics server. @defaultValue 0 */
  readonly metricsPort: number;
  /** METRICS_HOST: interface of the metrics server. @defaultValue 0.0.0.0 */
  readonly metricsHost: string;
  /**
   * SHUTDOWN_TIMEOUT_MS: after SIGTERM, the most the process takes to exit. Running jobs may
   * finish until 1 s before it; the rest are handed back to the queue. @defaultValue 10000
   */
  readonly shutdownTimeoutMs: number;
  /** STATS_INTERVAL_MS: heartbeat period for the system view. @defaultValue 1000 */
  readonly statsIntervalMs: number;
  /**
   * JOBS_MODULE: path (relative to the working directory) or file: URL of an ES module whose default
   * export is the job set. Unset: the example job set (`hash`, `pipeline`). @defaultValue the example set
   */
  readonly jobsModule: string | undefined;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';
const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error', 'silent'];

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** An integer variable in [min, max]; `fallback` when unset or empty. The message names the variable. */
function int(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!/^\s*-?\d+\s*$/.test(raw) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new ConfigError(`${name} must be an integer from ${min} to ${max}, got '${raw}'.`);
  }
  return n;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): WorkerConfig {
  let redis: RedisTarget | undefined;
  try {
    redis = redisTargetFromEnv(env);
  } catch (err) {
    throw new ConfigError((err as Error).message);
  }
  if (!redis) throw new ConfigError('REDIS_URL (or REDIS_CLUSTER_NODES, or REDIS_SENTINELS with REDIS_SENTINEL_NAME) is required: workers take jobs from Redis, e.g. REDIS_URL=redis://127.0.0.1:6379.');
  const poolSize = int(env, 'POOL_SIZE', availableParallelism(), 1, 1024);
  const logLevel = (env['LOG_LEVEL'] || 'info') as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) throw new ConfigError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}; got '${env['LOG_LEVEL']}'.`);
  const rawId = env['NODE_ID'];
  if (rawId !== undefined && rawId !== '' && !/^[A-Za-z0-9._-]{1,64}$/.test(rawId)) {
    throw new ConfigError(`NODE_ID must be 1-64 characters from A-Z a-z 0-9 . _ -, got '${rawId}'.`);
  }
  return {
    redis,
    prefix: env['REDIS_PREFIX'] ?? 'sb:',
    poolSize,
    concurrency: int(env, 'WORKER_CONCURRENCY', poolSize, 1, 10_000),
    lockDurationMs: int(env, 'JOB_LOCK_MS', 10_000, 1000),
    stalledIntervalMs: int(env, 'JOB_STALLED_INTERVAL_MS', 5_000, 500),
    logLevel,
    workerId: rawId || `worker-${process.pid}-${randomBytes(3).toString('hex')}`,
    metricsPort: int(env, 'METRICS_PORT', 0, 0, 65535),
    metricsHost: env['METRICS_HOST'] || '0.0.0.0',
    shutdownTimeoutMs: int(env, 'SHUTDOWN_TIMEOUT_MS', 10_000, 1000, 600_000),
    statsIntervalMs: int(env, 'STATS_INTERVAL_MS', 1000, 100, 60_000),
    jobsModule: env['JOBS_MODULE'] || undefined,
  };
}
