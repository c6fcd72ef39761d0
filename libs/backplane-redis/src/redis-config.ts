import { SwitchboardError } from '@switchboard/protocol';
import type { Cluster, ClusterNode, Redis } from 'ioredis';
import { describeValue, isClusterClient, isRedisClient } from './client-shape.js';

/**
 * How to reach Redis: a URL (`redis://host:port/db`), an ioredis client (Redis or Cluster) that
 * the caller owns, or the seed nodes of a Redis Cluster.
 */
export type RedisTarget = string | Redis | Cluster | { readonly cluster: readonly string[] | readonly ClusterNode[] };

/** Parses `host:port,host:port` (REDIS_CLUSTER_NODES) into cluster seed nodes. */
export function parseClusterNodes(value: string): ClusterNode[] {
  const nodes = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((entry) => {
      // A host has no '/' or spaces (so a URL such as redis://h:7000 is refused, not read as host 'redis://h').
      const m = /^\[?([^\]\s/]+?)\]?:(\d+)$/.exec(entry);
      const port = m ? Number(m[2]) : 0;
      if (!m || port < 1 || port > 65535) {
        throw new SwitchboardError('SB_CONFIG_INVALID', `REDIS_CLUSTER_NODES must be a comma-separated list of host:port (port 1-65535), got '${entry}'.`);
      }
      return { host: m[1]!, port };
    });
  if (!nodes.length) throw new SwitchboardError('SB_CONFIG_INVALID', 'REDIS_CLUSTER_NODES is set but lists no host:port.');
  return nodes;
}

/** Reads REDIS_URL / REDIS_CLUSTER_NODES; undefined when neither is set (in-memory scale-out). */
export function redisTargetFromEnv(env: NodeJS.ProcessEnv): RedisTarget | undefined {
  const cluster = env['REDIS_CLUSTER_NODES'];
  if (cluster) return { cluster: parseClusterNodes(cluster) };
  const url = env['REDIS_URL'];
  if (!url) return undefined;
  if (!/^rediss?:\/\//.test(url)) throw new SwitchboardError('SB_CONFIG_INVALID', `REDIS_URL must start with redis:// or rediss://, got '${url}'.`);
  return url;
}

/** Describes a target for logs without credentials. */
export function describeTarget(target: RedisTarget): string {
  if (typeof target === 'string') return target.replace(/\/\/[^@]*@/, '//***@');
  if (isClusterClient(target)) return 'ioredis Cluster (caller-owned)';
  if (isRedisClient(target)) return 'ioredis client (caller-owned)';
  if (!Array.isArray((target as { cluster?: unknown } | null)?.cluster)) return describeValue(target);
  return `cluster ${target.cluster.map((n) => (typeof n === 'object' ? `${n.host}:${n.port}` : String(n))).join(',')}`;
}
