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
  return { client: corkWrites(createRedisClient(target, { redis: { maxRetriesPerRequest: null }, cluster: { redisOptions: { maxRetriesPerRequest: null } } })), owned: true };
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

const corked = new WeakSet<Redis>();

/**
 * Commands sent in one turn of the event loop leave in one socket write (one `writev`), not one
 * write each: the socket is corked at the first command and uncorked on the next tick, as the
 * backplane does for publishes (`corkUntilNextTick`). A job's commands come in bursts (a worker's
 * store write and BullMQ's commands, an enqueue's snapshot and queue add, many jobs' updates in one
 * turn), and a write per command was the largest client cost in CPU profiles. Order is unchanged
 * (one socket), and so are the bounds: a command's `commandTimeout` starts when it is sent, as
 * before, and the write leaves at the end of the turn, before any timer can fire. Only commands
 * written straight to the socket (status 'ready') are affected; the offline queue and pipelines
 * are not. A Cluster's node connections are corked each as it is made. Returns the client.
 * For connections this package opens (never a caller's client); not for BullMQ's blocking one.
 */
export function corkWrites<C extends Redis | Cluster>(client: C): C {
  if (isClusterClient(client)) {
    for (const node of client.nodes()) corkWrites(node);
    client.on('+node', (node: Redis) => corkWrites(node));
    return client;
  }
  const redis = client as Redis;
  if (corked.has(redis)) return client;
  corked.add(redis);
  const send = redis.sendCommand;
  let pending = false;
  redis.sendCommand = (...args: Parameters<Redis['sendCommand']>) => {
    const stream = redis.stream;
    if (!pending && args[1] === undefined && redis.status === 'ready' && stream?.writable) {
      pending = true;
      stream.cork();
      process.nextTick(() => {
        pending = false;
        stream.uncork();
      });
    }
    return send.apply(redis, args);
  };
  return client;
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
  corkWrites(client);
  // Failures reach the caller as rejected commands; without a listener ioredis would print every
  // connection error of an outage to the console (not as JSON).
  client.on('error', () => {});
  return { client, owned: true };
}
