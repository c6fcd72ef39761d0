import { BusScaleOut, type ScaleOutFactory } from '@switchboard/hub-server/backplane';
import type { Logger } from '@switchboard/hub-server/backplane';
import { RedisBus, type BusMetrics } from './redis-bus.js';
import type { RedisTarget } from './redis-config.js';

export { RedisBus, type RedisBusOptions, type BusMetrics } from './redis-bus.js';
export { parseClusterNodes, parseHostPorts, redisTargetFromEnv, describeTarget, type RedisTarget, type RedisSentinelTarget, type SentinelAddress } from './redis-config.js';
export {
  isRedisClient,
  isClusterClient,
  isSentinelTarget,
  assertClusterSeeds,
  assertSentinelTarget,
  invalidRedisTarget,
  describeValue,
  ACCEPTED_REDIS_TARGETS,
} from './client-shape.js';
export { sentinelOptions } from './sentinel.js';
export { createRedisClient, type RedisClientOptions, type RedisConnectTarget } from './redis-client.js';
export { quitClient, reconnectBackoff } from './client-lifecycle.js';

export interface RedisBackplaneOptions {
  redis: RedisTarget;
  /** Channel prefix shared by all nodes of one deployment (REDIS_PREFIX). @defaultValue 'sb:' */
  prefix?: string;
  /** Remote group change timeout. @defaultValue 10000 */
  ackTimeoutMs?: number;
  logger?: Logger;
  /** Publish, receive and error counters of the node's Redis bus, and the delay of arriving sends. @defaultValue none */
  metrics?: BusMetrics;
}

export interface RedisBackplane {
  readonly bus: RedisBus;
  /** Pass as `scaleOut` to `new HubServer(...)`: one BusScaleOut per hub over this node's bus. */
  readonly scaleOut: ScaleOutFactory;
  /** Closes the Redis connections (after `HubServer.close()`). */
  close(): Promise<void>;
}

/** The Redis scale-out for a hub node: one publisher and one subscriber connection per process. */
export function createRedisBackplane(options: RedisBackplaneOptions): RedisBackplane {
  const bus = new RedisBus({ redis: options.redis, ...(options.logger ? { logger: options.logger } : {}), ...(options.metrics ? { metrics: options.metrics } : {}) });
  return {
    bus,
    scaleOut: (hubName) =>
      new BusScaleOut({
        bus,
        hubName,
        prefix: options.prefix,
        ackTimeoutMs: options.ackTimeoutMs,
        ...(options.logger ? { logger: options.logger } : {}),
        ...(options.metrics ? { metrics: options.metrics } : {}),
      }),
    close: () => bus.close(),
  };
}
