import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.js';

function configError(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error(`loadConfig(${JSON.stringify(env)}) did not throw`);
}

describe('hub config (environment)', () => {
  it('defaults: port 3000, no Redis, a generated node id, no shutdown delay, a 10 s shutdown deadline, 1 s stats', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({ port: 3000, host: '0.0.0.0', redis: undefined, redisPrefix: 'sb:', logLevel: 'info', shutdownDelayMs: 0, shutdownTimeoutMs: 10_000, statsIntervalMs: 1000, secretIsEphemeral: true, benchHub: false });
    expect(c.nodeId).toMatch(new RegExp(`^hub-${process.pid}-[0-9a-f]{6}$`));
    expect(loadConfig({}).nodeId).not.toBe(c.nodeId);
  });

  it('reads every variable', () => {
    const c = loadConfig({
      PORT: '0',
      HOST: '127.0.0.1',
      HUB_SECRET: 'x'.repeat(16),
      LOG_LEVEL: 'debug',
      REDIS_URL: 'redis://127.0.0.1:6380',
      REDIS_PREFIX: 'app1:',
      NODE_ID: 'hub-eu.1_a',
      SHUTDOWN_DELAY_MS: '2000',
      SHUTDOWN_TIMEOUT_MS: '15000',
      STATS_INTERVAL_MS: '500',
      BENCH_HUB: '1',
    });
    expect(c).toMatchObject({ port: 0, host: '127.0.0.1', secret: 'x'.repeat(16), secretIsEphemeral: false, logLevel: 'debug', redis: 'redis://127.0.0.1:6380', redisPrefix: 'app1:', nodeId: 'hub-eu.1_a', shutdownDelayMs: 2000, shutdownTimeoutMs: 15_000, statsIntervalMs: 500, benchHub: true });
  });

  it.each([
    [{ PORT: '70000' }, /^PORT must be an integer from 0 to 65535, got '70000'/],
    [{ PORT: '3.5' }, /^PORT must be an integer/],
    [{ LOG_LEVEL: 'loud' }, /^LOG_LEVEL must be one of debug, info, warn, error, silent; got 'loud'/],
    [{ HUB_SECRET: 'short' }, /^HUB_SECRET must be at least 16 bytes/],
    [{ REDIS_URL: 'http://x' }, /^REDIS_URL must start with redis:\/\//],
    [{ NODE_ID: 'has space' }, /^NODE_ID must be 1-64 characters/],
    [{ NODE_ID: 'x'.repeat(65) }, /^NODE_ID must be 1-64 characters/],
    [{ SHUTDOWN_DELAY_MS: '-1' }, /^SHUTDOWN_DELAY_MS must be an integer from 0 to 600000, got '-1'/],
    [{ SHUTDOWN_TIMEOUT_MS: '500' }, /^SHUTDOWN_TIMEOUT_MS must be an integer from 1000 to 600000, got '500'/],
    [{ SHUTDOWN_TIMEOUT_MS: 'soon' }, /^SHUTDOWN_TIMEOUT_MS must be an integer/],
    [{ SHUTDOWN_DELAY_MS: '5000', SHUTDOWN_TIMEOUT_MS: '5000' }, /^SHUTDOWN_DELAY_MS \(5000\) must be below SHUTDOWN_TIMEOUT_MS \(5000\)/],
    [{ STATS_INTERVAL_MS: '50' }, /^STATS_INTERVAL_MS must be an integer from 100 to 60000, got '50'/],
    [{ BENCH_HUB: 'yes' }, /^BENCH_HUB must be 1, true, 0 or false, got 'yes'/],
  ])('%j is refused with a message naming the variable', (env, message) => {
    expect(configError(env)).toMatch(message);
  });
});
