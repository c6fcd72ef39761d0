import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.js';

const REDIS = { REDIS_URL: 'redis://127.0.0.1:6379' };

function configError(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error(`loadConfig(${JSON.stringify(env)}) did not throw`);
}

describe('worker config (environment)', () => {
  it('defaults: no metrics server, a 10 s shutdown deadline, a generated worker id, info logs', () => {
    const c = loadConfig(REDIS);
    expect(c).toMatchObject({ redis: REDIS.REDIS_URL, prefix: 'sb:', metricsPort: 0, metricsHost: '0.0.0.0', shutdownTimeoutMs: 10_000, statsIntervalMs: 1000, logLevel: 'info', lockDurationMs: 10_000, stalledIntervalMs: 5000 });
    expect(c.concurrency).toBe(50); // not the pool size: jobs waiting on I/O hold no thread
    expect(c.workerId).toMatch(new RegExp(`^worker-${process.pid}-[0-9a-f]{6}$`));
  });

  it('reads every variable', () => {
    const c = loadConfig({ ...REDIS, REDIS_PREFIX: 'p:', POOL_SIZE: '3', WORKER_CONCURRENCY: '5', JOB_LOCK_MS: '2000', JOB_STALLED_INTERVAL_MS: '1000', LOG_LEVEL: 'warn', NODE_ID: 'w-1', METRICS_PORT: '9464', METRICS_HOST: '127.0.0.1', SHUTDOWN_TIMEOUT_MS: '30000', STATS_INTERVAL_MS: '250' });
    expect(c).toMatchObject({ prefix: 'p:', poolSize: 3, concurrency: 5, lockDurationMs: 2000, stalledIntervalMs: 1000, logLevel: 'warn', workerId: 'w-1', metricsPort: 9464, metricsHost: '127.0.0.1', shutdownTimeoutMs: 30_000, statsIntervalMs: 250 });
  });

  it.each([
    [{}, /^REDIS_URL \(or REDIS_CLUSTER_NODES, or REDIS_SENTINELS with REDIS_SENTINEL_NAME\) is required/],
    [{ ...REDIS, POOL_SIZE: '0' }, /^POOL_SIZE must be an integer from 1 to 1024, got '0'/],
    [{ ...REDIS, WORKER_CONCURRENCY: 'many' }, /^WORKER_CONCURRENCY must be an integer/],
    [{ ...REDIS, JOB_LOCK_MS: '10' }, /^JOB_LOCK_MS must be an integer from 1000/],
    [{ ...REDIS, LOG_LEVEL: 'trace' }, /^LOG_LEVEL must be one of debug, info, warn, error, silent; got 'trace'/],
    [{ ...REDIS, NODE_ID: 'a/b' }, /^NODE_ID must be 1-64 characters/],
    [{ ...REDIS, METRICS_PORT: '65536' }, /^METRICS_PORT must be an integer from 0 to 65535, got '65536'/],
    [{ ...REDIS, SHUTDOWN_TIMEOUT_MS: '999' }, /^SHUTDOWN_TIMEOUT_MS must be an integer from 1000 to 600000, got '999'/],
    [{ ...REDIS, STATS_INTERVAL_MS: '0' }, /^STATS_INTERVAL_MS must be an integer from 100 to 60000/],
  ])('%j is refused with a message naming the variable', (env, message) => {
    expect(configError(env as Record<string, string>)).toMatch(message);
  });
});
