import type { RedisOptions } from 'ioredis';
import { reconnectBackoff } from './client-lifecycle.js';
import { assertSentinelTarget } from './client-shape.js';
import type { RedisSentinelTarget } from './redis-config.js';

/**
 * The ioredis options that reach the master of a Sentinel group; every client builder spreads its
 * own options (offline queue, retries, timeouts) over them: `new Redis({ ...sentinelOptions(t), ... })`.
 * Validates `target` first (SB_CONFIG_INVALID naming the field).
 *
 * How a client follows a failover: when its connection drops (the master died, or Sentinel demoted
 * it and closed its clients), ioredis reconnects through the sentinels, asks them for the master's
 * address, connects, and checks with INFO that the node really is a master (a stale answer during
 * a failover is refused and asked again). Until the sentinels promote a replica (roughly
 * `down-after-milliseconds` plus the election) it keeps retrying with `retryStrategy`.
 *
 * `sentinelCommandTimeout` bounds each question to a sentinel, so a frozen sentinel is skipped
 * instead of holding the reconnect. `duplicate()` of such a client keeps these options.
 */
export function sentinelOptions(target: RedisSentinelTarget, option = 'redis'): RedisOptions {
  assertSentinelTarget(target, option);
  return {
    sentinels: target.sentinels.map(({ host, port }) => ({ host, port })),
    name: target.name,
    role: 'master',
    ...(target.sentinelPassword ? { sentinelPassword: target.sentinelPassword } : {}),
    ...(target.password ? { password: target.password } : {}),
    // Ask the sentinels again forever with a capped backoff, like every other reconnect here.
    sentinelRetryStrategy: reconnectBackoff,
    sentinelCommandTimeout: 2000,
  };
}
