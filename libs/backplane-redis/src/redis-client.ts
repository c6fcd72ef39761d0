import { Cluster, Redis, type ClusterNode, type ClusterOptions, type RedisOptions } from 'ioredis';
import { assertClusterSeeds, isSentinelTarget } from './client-shape.js';
import type { RedisTarget } from './redis-config.js';
import { sentinelOptions } from './sentinel.js';

/** The targets a new client is opened for: all but a caller's own client (used as it is, or duplicated). */
export type RedisConnectTarget = Exclude<RedisTarget, Redis | Cluster>;

/** A builder's options for each kind of client: a cluster takes some at its own level, the rest per node (`redisOptions`). */
export interface RedisClientOptions {
  /** For a URL (`new Redis(url, redis)`) and a Sentinel group (`new Redis({ ...sentinelOptions(target), ...redis })`). */
  readonly redis: RedisOptions;
  /** For cluster seeds (`new Cluster(seeds, cluster)`). */
  readonly cluster: ClusterOptions;
}

/**
 * Opens a new ioredis client for `target`, owned by the caller (close it with `quitClient`): a
 * standalone client for a URL, a client of the group's master for Sentinel settings (it follows
 * failovers, see `sentinelOptions`), a Cluster client for `{ cluster: [...] }`. Every builder (the
 * bus, the job queue's connections) passes its own settings. Anything else is refused with
 * SB_CONFIG_INVALID (naming what was passed) instead of retrying a wrong address forever.
 */
export function createRedisClient(target: RedisConnectTarget, options: RedisClientOptions): Redis | Cluster {
  if (typeof target === 'string') return new Redis(target, options.redis);
  if (isSentinelTarget(target)) return new Redis({ ...sentinelOptions(target), ...options.redis });
  assertClusterSeeds(target);
  return new Cluster(target.cluster as ClusterNode[], options.cluster);
}
