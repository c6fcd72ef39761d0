import { availableParallelism } from 'node:os';
import { redisTargetFromEnv, type RedisTarget } from '@switchboard/backplane-redis';
import { ConfigError, intFromEnv, logLevelFromEnv, nodeIdFromEnv, type LogLevel } from '@switchboard/logging';
import { DEFAULT_WORKER_CONCURRENCY } from '@switchboard/jobs';

/** Worker configuration; the only place this app reads the environment. */
export interface WorkerConfig {
  readonly redis: RedisTarget;
  readonly prefix: string;
  /** POOL_SIZE: piscina threads. @defaultValue available CPUs */
  readonly poolSize: number;
  /**
   * WORKER_CONCURRENCY: jobs run at once. Independent of POOL_SIZE: jobs waiting on I/O hold no
   * thread, and CPU steps queue for the POOL_SIZE threads. @defaultValue 50
   */
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

export { ConfigError, type LogLevel } from '@switchboard/logging';

export function loadConfig(env: NodeJS.ProcessEnv = process.env): WorkerConfig {
  let redis: RedisTarget | undefined;
  try {
    redis = redisTargetFromEnv(env);
  } catch (err) {
    throw new ConfigError((err as Error).message);
  }
  if (!redis) throw new ConfigError('REDIS_URL (or REDIS_CLUSTER_NODES, or REDIS_SENTINELS with REDIS_SENTINEL_NAME) is required: workers take jobs from Redis, e.g. REDIS_URL=redis://127.0.0.1:6379.');
  const poolSize = intFromEnv(env, 'POOL_SIZE', availableParallelism(), 1, 1024);
  const logLevel = logLevelFromEnv(env);
  const workerId = nodeIdFromEnv(env, 'worker');
  return {
    redis,
    prefix: env['REDIS_PREFIX'] ?? 'sb:',
    poolSize,
    concurrency: intFromEnv(env, 'WORKER_CONCURRENCY', DEFAULT_WORKER_CONCURRENCY, 1, 10_000),
    lockDurationMs: intFromEnv(env, 'JOB_LOCK_MS', 10_000, 1000),
    stalledIntervalMs: intFromEnv(env, 'JOB_STALLED_INTERVAL_MS', 5_000, 500),
    logLevel,
    workerId,
    metricsPort: intFromEnv(env, 'METRICS_PORT', 0, 0, 65535),
    metricsHost: env['METRICS_HOST'] || '0.0.0.0',
    shutdownTimeoutMs: intFromEnv(env, 'SHUTDOWN_TIMEOUT_MS', 10_000, 1000, 600_000),
    statsIntervalMs: intFromEnv(env, 'STATS_INTERVAL_MS', 1000, 100, 60_000),
    jobsModule: env['JOBS_MODULE'] || undefined,
  };
}
