import { createRedisClient, isClusterClient, isRedisClient, reconnectBackoff, type RedisTarget } from '@switchboard/backplane-redis';
import type { Cluster, Redis } from 'ioredis';

// The job queue's connection settings. Opening a client for each target form (URL, cluster seeds,
// Sentinel group), the reconnect backoff and closing (`quitClient`) are @switchboard/backplane-redis'
// helpers; what is here is only which options each use gets. A Sentinel client finds the new
// master after a failover.

/**
 * A command connection for BullMQ and the job store. BullMQ needs `maxRetriesPerRequest: null`
 * (blocking commands must survive reconnects). Returns whether the caller owns (must close) it.
 */
export function commandClient(target: RedisTarget): { client: Redis | Cluster; owned: boolean } {
  if (isRedisClient(target)) return { client: target, owned: false };
  return { client: createRedisClient(target, { redis: { maxRetriesPerRequest: null }, cluster: { redisOptions: { maxRetriesPerRequest: null } } }), owned: true };
}

/**
 * A connection for status work (heartbeats, the system view, readiness): no offline queue, so
 * a command fails at once while Redis is unreachable instead of waiting for it to return, and
 * its `status` is 'ready' exactly while Redis can be reached. Always owned by the caller.
 */
export function failFastClient(target: RedisTarget): Redis | Cluster {
  let client: Redis | Cluster;
  if (isClusterClient(target)) client = target.duplicate(undefined, { enableOfflineQueue: false, clusterRetryStrategy: reconnectBackoff });
  else if (isRedisClient(target)) client = target.duplicate({ enableOfflineQueue: false, maxRetriesPerRequest: 1, retryStrategy: reconnectBackoff });
  else {
    client = createRedisClient(target, {
      redis: { enableOfflineQueue: false, maxRetriesPerRequest: 1, retryStrategy: reconnectBackoff },
      cluster: { enableOfflineQueue: false, clusterRetryStrategy: reconnectBackoff, redisOptions: { maxRetriesPerRequest: 1 } },
    });
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

/**
 * The connection for request paths (JobsService: REST, the jobs hub, the CLI): no offline queue, so a
 * command fails at once while Redis is unreachable instead of queueing for the whole outage (what
 * BullMQ recommends for producers), and `commandTimeout` so a Redis that accepts the connection but
 * does not answer (frozen, overloaded) fails too. Reconnects by itself. Returns whether the caller
 * owns (must close) it; a caller's own client is used as it is.
 */
export function requestClient(target: RedisTarget, timeoutMs: number): { client: Redis | Cluster; owned: boolean } {
  if (isRedisClient(target)) return { client: target, owned: false };
  const client = createRedisClient(target, {
    redis: { enableOfflineQueue: false, maxRetriesPerRequest: 1, commandTimeout: timeoutMs, retryStrategy: reconnectBackoff },
    cluster: { enableOfflineQueue: false, clusterRetryStrategy: reconnectBackoff, redisOptions: { maxRetriesPerRequest: 1, commandTimeout: timeoutMs } },
  });
  // Failures reach the caller as rejected commands; without a listener ioredis would print every
  // connection error of an outage to the console (not as JSON).
  client.on('error', () => {});
  return { client, owned: true };
}
