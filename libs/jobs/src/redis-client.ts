import { SwitchboardError } from '@switchboard/protocol';
import type { RedisTarget } from '@switchboard/backplane-redis';
import { Cluster, Redis, type ClusterNode } from 'ioredis';

/**
 * A command connection for BullMQ and the job store. BullMQ needs `maxRetriesPerRequest: null`
 * (blocking commands must survive reconnects). Returns whether the caller owns (must close) it.
 */
export function commandClient(target: RedisTarget): { client: Redis | Cluster; owned: boolean } {
  if (typeof target === 'string') return { client: new Redis(target, { maxRetriesPerRequest: null }), owned: true };
  if (target instanceof Redis || target instanceof Cluster) return { client: target, owned: false };
  if (!target.cluster.length) throw new SwitchboardError('SB_CONFIG_INVALID', 'redis.cluster must list at least one node.');
  return { client: new Cluster(target.cluster as ClusterNode[], { redisOptions: { maxRetriesPerRequest: null } }), owned: true };
}

/** A second connection with the same settings (BullMQ workers and subscribers need their own). */
export function duplicateClient(client: Redis | Cluster): Redis | Cluster {
  return client instanceof Cluster ? client.duplicate() : client.duplicate({ maxRetriesPerRequest: null });
}

export async function quit(client: Redis | Cluster): Promise<void> {
  try {
    await Promise.race([client.quit(), new Promise((r) => setTimeout(r, 1000))]);
  } catch {
    // already closed
  }
  client.disconnect();
}
