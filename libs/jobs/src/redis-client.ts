import { assertClusterSeeds, isClusterClient, isRedisClient, isSentinelTarget, sentinelOptions, type RedisTarget } from '@switchboard/backplane-redis';
import { Cluster, Redis, type ClusterNode } from 'ioredis';

/**
 * A command connection for BullMQ and the job store. BullMQ needs `maxRetriesPerRequest: null`
 * (blocking commands must survive reconnects). Returns whether the caller owns (must close) it.
 * Every builder here takes each target form (URL, caller's client, cluster seeds, Sentinel group)
 * and keeps its own options for each; a Sentinel client finds the new master after a failover.
 */
export function commandClient(target: RedisTarget): { client: Redis | Cluster; owned: boolean } {
  if (typeof target === 'string') return { client: new Redis(target, { maxRetriesPerRequest: null }), owned: true };
  if (isRedisClient(target)) return { client: target, owned: false };
  if (isSentinelTarget(target)) return { client: new Redis({ ...sentinelOptions(target), maxRetriesPerRequest: null }), owned: true };
  assertClusterSeeds(target);
  return { client: new Cluster(target.cluster as ClusterNode[], { redisOptions: { maxRetriesPerRequest: null } }), owned: true };
}

/** Reconnect forever with a capped backoff (up to 2 s between attempts). */
const retryStrategy = (times: number): number => Math.min(50 * 2 ** Math.min(times, 6), 2000);

/**
 * A connection for status work (heartbeats, the system view, readiness): no offline queue, so
 * a command fails at once while Redis is unreachable instead of waiting for it to return, and
 * its `status` is 'ready' exactly while Redis can be reached. Always owned by the caller.
 */
export function failFastClient(target: RedisTarget): Redis | Cluster {
  let client: Redis | Cluster;
  if (typeof target === 'string') client = new Redis(target, { enableOfflineQueue: false, maxRetriesPerRequest: 1, retryStrategy });
  else if (isClusterClient(target)) client = target.duplicate(undefined, { enableOfflineQueue: false, clusterRetryStrategy: retryStrategy });
  else if (isRedisClient(target)) client = target.duplicate({ enableOfflineQueue: false, maxRetriesPerRequest: 1, retryStrategy });
  else if (isSentinelTarget(target)) client = new Redis({ ...sentinelOptions(target), enableOfflineQueue: false, maxRetriesPerRequest: 1, retryStrategy });
  else {
    assertClusterSeeds(target);
    client = new Cluster(target.cluster as ClusterNode[], { enableOfflineQueue: false, clusterRetryStrategy: retryStrategy, redisOptions: { maxRetriesPerRequest: 1 } });
  }
  // Failures surface as rejected commands and as `status`; without a listener ioredis would print
  // every connection error of an outage to the console.
  client.on('error', () => {});
  return client;
}

/** A second connection with the same settings (BullMQ workers and subscribers need their own). */
export function duplicateClient(client: Redis | Cluster): Redis | Cluster {
  return isClusterClient(client) ? client.duplicate() : client.duplicate({ maxRetriesPerRequest: null });
}

export async function quit(client: Redis | Cluster): Promise<void> {
  try {
    await Promise.race([client.quit(), new Promise((r) => setTimeout(r, 1000))]);
  } catch {
    // already closed
  }
  client.disconnect();
}

/**
 * The connection for request paths (JobsService: REST, the jobs hub, the CLI): no offline queue, so a
 * command fails at once while Redis is unreachable instead of queueing for the whole outage (what
 * BullMQ recommends for producers), and `commandTimeout` so a Redis that accepts the connection but
 * does not answer (frozen, overloaded) fails too. Reconnects by itself. Returns whether the caller
 * owns (must close) it; a caller's own client is used as it is.
 */
export function requestClient(target: RedisTarget, timeoutMs: number): { client: Redis | Cluster; owned: boolean } {
  if (typeof target !== 'string' && isRedisClient(target)) return { client: target, owned: false };
  let client: Redis | Cluster;
  if (typeof target === 'string') client = new Redis(target, { enableOfflineQueue: false, maxRetriesPerRequest: 1, commandTimeout: timeoutMs, retryStrategy });
  else if (isSentinelTarget(target)) client = new Redis({ ...sentinelOptions(target), enableOfflineQueue: false, maxRetriesPerRequest: 1, commandTimeout: timeoutMs, retryStrategy });
  else {
    assertClusterSeeds(target);
    client = new Cluster(target.cluster as ClusterNode[], { enableOfflineQueue: false, clusterRetryStrategy: retryStrategy, redisOptions: { maxRetriesPerRequest: 1, commandTimeout: timeoutMs } });
  }
  // Failures reach the caller as rejected commands; without a listener ioredis would print every
  // connection error of an outage to the console (not as JSON).
  client.on('error', () => {});
  return { client, owned: true };
}
