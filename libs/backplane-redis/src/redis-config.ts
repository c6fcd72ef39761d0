import { SwitchboardError } from '@switchboard/protocol';
import type { Cluster, ClusterNode, Redis } from 'ioredis';
import { describeValue, isClusterClient, isRedisClient, isSentinelTarget } from './client-shape.js';

/** One Redis Sentinel's address. */
export interface SentinelAddress {
  readonly host: string;
  readonly port: number;
}

/**
 * A master group watched by Redis Sentinel. Clients ask the sentinels where the master is, and ask
 * again after every disconnect, so they follow a failover by themselves.
 */
export interface RedisSentinelTarget {
  /** Some or all of the sentinels (ioredis learns the others from the first that answers). */
  readonly sentinels: readonly SentinelAddress[];
  /** The master group name (`sentinel monitor <name> ...` in the sentinels' configuration). */
  readonly name: string;
  /** AUTH for the sentinels themselves (their `requirepass`). @defaultValue none */
  readonly sentinelPassword?: string;
  /** AUTH for the data nodes (the master and its replicas). @defaultValue none */
  readonly password?: string;
}

/**
 * How to reach Redis: a URL (`redis://host:port/db`), an ioredis client (Redis or Cluster) that
 * the caller owns, the seed nodes of a Redis Cluster, or the sentinels of a Sentinel master group.
 */
export type RedisTarget = string | Redis | Cluster | { readonly cluster: readonly string[] | readonly ClusterNode[] } | RedisSentinelTarget;

/** Parses `host:port,host:port` (the value of `variable`, named in errors) into addresses. */
export function parseHostPorts(value: string, variable: string): { host: string; port: number }[] {
  const nodes = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((entry) => {
      // A host has no '/' or spaces (so a URL such as redis://h:7000 is refused, not read as host 'redis://h').
      const m = /^\[?([^\]\s/]+?)\]?:(\d+)$/.exec(entry);
      const port = m ? Number(m[2]) : 0;
      if (!m || port < 1 || port > 65535) {
        throw new SwitchboardError('SB_CONFIG_INVALID', `${variable} must be a comma-separated list of host:port (port 1-65535), got '${entry}'.`);
      }
      return { host: m[1]!, port };
    });
  if (!nodes.length) throw new SwitchboardError('SB_CONFIG_INVALID', `${variable} is set but lists no host:port.`);
  return nodes;
}

/** Parses `host:port,host:port` (REDIS_CLUSTER_NODES) into cluster seed nodes. */
export function parseClusterNodes(value: string): ClusterNode[] {
  return parseHostPorts(value, 'REDIS_CLUSTER_NODES');
}

/** Variables that mean something only with REDIS_SENTINELS; set alone they are refused, not ignored. */
const SENTINEL_ONLY = ['REDIS_SENTINEL_NAME', 'REDIS_SENTINEL_PASSWORD', 'REDIS_PASSWORD'] as const;

/**
 * Reads the Redis variables; undefined when none is set (in-memory scale-out). Precedence:
 * REDIS_SENTINELS (with REDIS_SENTINEL_NAME, REDIS_SENTINEL_PASSWORD, REDIS_PASSWORD), then
 * REDIS_CLUSTER_NODES, then REDIS_URL. REDIS_PASSWORD is for the Sentinel's data nodes only: a
 * URL carries its own (`redis://:password@host:port`), so REDIS_PASSWORD without REDIS_SENTINELS
 * is refused rather than silently ignored (a password that is not sent fails later with NOAUTH).
 */
export function redisTargetFromEnv(env: NodeJS.ProcessEnv): RedisTarget | undefined {
  const sentinels = env['REDIS_SENTINELS'];
  if (sentinels) {
    const name = env['REDIS_SENTINEL_NAME']?.trim();
    if (!name) {
      throw new SwitchboardError('SB_CONFIG_INVALID', "REDIS_SENTINEL_NAME is required with REDIS_SENTINELS: the master group name of the sentinels' `sentinel monitor <name> ...`, e.g. mymaster.");
    }
    const sentinelPassword = env['REDIS_SENTINEL_PASSWORD'] || undefined;
    const password = env['REDIS_PASSWORD'] || undefined;
    return { sentinels: parseHostPorts(sentinels, 'REDIS_SENTINELS'), name, ...(sentinelPassword ? { sentinelPassword } : {}), ...(password ? { password } : {}) };
  }
  const stray = SENTINEL_ONLY.find((v) => env[v]);
  if (stray) {
    const hint = stray === 'REDIS_PASSWORD' ? ' With REDIS_URL, put the password in the URL: redis://:password@host:port.' : '';
    throw new SwitchboardError('SB_CONFIG_INVALID', `${stray} is set but REDIS_SENTINELS is not; it applies only to Redis Sentinel. Set REDIS_SENTINELS or unset ${stray}.${hint}`);
  }
  const cluster = env['REDIS_CLUSTER_NODES'];
  if (cluster) return { cluster: parseClusterNodes(cluster) };
  const url = env['REDIS_URL'];
  if (!url) return undefined;
  if (!/^rediss?:\/\//.test(url)) throw new SwitchboardError('SB_CONFIG_INVALID', `REDIS_URL must start with redis:// or rediss://, got '${url}'.`);
  return url;
}

/** Describes a target for logs, without credentials (URL passwords masked, Sentinel passwords left out). */
export function describeTarget(target: RedisTarget): string {
  if (typeof target === 'string') return target.replace(/\/\/[^@]*@/, '//***@');
  if (isClusterClient(target)) return 'ioredis Cluster (caller-owned)';
  if (isRedisClient(target)) return 'ioredis client (caller-owned)';
  if (isSentinelTarget(target) && Array.isArray(target.sentinels)) {
    const at = target.sentinels.map((s) => `${(s as Partial<SentinelAddress> | null)?.host}:${(s as Partial<SentinelAddress> | null)?.port}`).join(',');
    return `sentinel master '${String(target.name)}' via ${at}`;
  }
  if (!Array.isArray((target as { cluster?: unknown } | null)?.cluster)) return describeValue(target);
  const { cluster } = target as { cluster: readonly (string | ClusterNode)[] };
  return `cluster ${cluster.map((n) => (typeof n === 'object' ? `${n.host}:${n.port}` : String(n))).join(',')}`;
}
