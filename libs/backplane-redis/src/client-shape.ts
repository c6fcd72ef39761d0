import { SwitchboardError } from '@switchboard/protocol';
import type { Cluster, ClusterNode, Redis } from 'ioredis';
import type { RedisSentinelTarget } from './redis-config.js';

// Why duck typing and not `instanceof`: an application often ends up with two copies of ioredis
// (its own and ours, or two versions side by side in node_modules). A client made by the other
// copy fails `instanceof Redis` although it works perfectly, and used to fall through to the
// cluster branch, which then retried an undefined node list forever. These checks look only at
// ioredis' public surface, so a client from any copy of ioredis 5 or 6 is accepted, and anything
// else is refused at once with a message that says what was passed.

/** What a `redis` option accepts, for error messages. */
export const ACCEPTED_REDIS_TARGETS =
  'a redis:// or rediss:// URL, an ioredis client (new Redis(...) or new Cluster(...)), { cluster: ["host:port", ...] }, or { sentinels: [{ host, port }, ...], name: "<master group>" }';

const isObject = (x: unknown): x is Record<string, unknown> => (typeof x === 'object' || typeof x === 'function') && x !== null;

/**
 * True for an ioredis client, standalone or Cluster, from any copy of ioredis: it has the methods
 * the backplane calls (`duplicate`, `publish`, `subscribe`, `on`, `quit`, `disconnect`), a string
 * `status` and a boolean `isCluster`. A node-redis client (package `redis`) has no `status`
 * string nor `isCluster`, so it is not mistaken for one.
 */
export function isRedisClient(x: unknown): x is Redis | Cluster {
  return (
    isObject(x) &&
    typeof x['duplicate'] === 'function' &&
    typeof x['publish'] === 'function' &&
    typeof x['subscribe'] === 'function' &&
    typeof x['on'] === 'function' &&
    typeof x['quit'] === 'function' &&
    typeof x['disconnect'] === 'function' &&
    typeof x['status'] === 'string' &&
    typeof x['isCluster'] === 'boolean'
  );
}

/** True for an ioredis Cluster client (`isCluster === true`) from any copy of ioredis. */
export function isClusterClient(x: unknown): x is Cluster {
  return isRedisClient(x) && x.isCluster === true;
}

/** Describes a value that is not a valid `redis` option, without printing its contents (they may hold credentials). */
export function describeValue(x: unknown): string {
  if (x === null || x === undefined) return String(x);
  if (Array.isArray(x)) return `an array of ${x.length} item(s)`;
  if (!isObject(x)) return typeof x === 'string' ? 'a string' : `${typeof x} ${String(x)}`;
  if (typeof x['isOpen'] === 'boolean' && typeof x['connect'] === 'function' && typeof x['status'] !== 'string') {
    return 'what looks like a node-redis client (package "redis"); Switchboard works with ioredis';
  }
  const name = (x.constructor as { name?: unknown } | undefined)?.name;
  const keys = Object.keys(x).slice(0, 8);
  const shown = keys.length ? `with keys ${keys.join(', ')}${Object.keys(x).length > keys.length ? ', ...' : ''}` : 'with no keys';
  if (typeof name === 'string' && name && name !== 'Object') return `an instance of ${name} ${shown}, which is not an ioredis client`;
  return `a plain object ${shown}`;
}

/** The SB_CONFIG_INVALID error for a value that is none of the accepted `redis` targets. */
export function invalidRedisTarget(x: unknown, option = 'redis'): SwitchboardError {
  return new SwitchboardError('SB_CONFIG_INVALID', `${option} must be ${ACCEPTED_REDIS_TARGETS}; got ${describeValue(x)}.`);
}

/**
 * Asserts `{ cluster: [...] }` with at least one seed node; throws SB_CONFIG_INVALID otherwise.
 * Call it after the URL and client cases: what is left must be cluster seeds.
 */
export function assertClusterSeeds(x: unknown, option = 'redis'): asserts x is { readonly cluster: readonly string[] | readonly ClusterNode[] } {
  if (!isObject(x) || !Array.isArray(x['cluster'])) throw invalidRedisTarget(x, option);
  if (!x['cluster'].length) throw new SwitchboardError('SB_CONFIG_INVALID', `${option}.cluster must list at least one node.`);
}

/**
 * True for a value meant as Sentinel settings: an object (not a client) with a `sentinels` key.
 * Only the intent; `assertSentinelTarget` checks the contents.
 */
export function isSentinelTarget(x: unknown): x is RedisSentinelTarget {
  return isObject(x) && !isRedisClient(x) && 'sentinels' in x;
}

/**
 * Asserts `{ sentinels: [{ host, port }, ...], name, sentinelPassword?, password? }`; throws
 * SB_CONFIG_INVALID naming the first wrong field (never printing a password). ioredis would
 * otherwise throw a bare Error at construction, or retry a wrong address forever.
 */
export function assertSentinelTarget(x: unknown, option = 'redis'): asserts x is RedisSentinelTarget {
  if (!isObject(x) || !Array.isArray(x['sentinels'])) throw invalidRedisTarget(x, option);
  const bad = (message: string) => new SwitchboardError('SB_CONFIG_INVALID', `${option}.${message}`);
  if (!x['sentinels'].length) throw bad('sentinels must list at least one sentinel as { host, port }.');
  x['sentinels'].forEach((s: unknown, i: number) => {
    const host = isObject(s) ? s['host'] : undefined;
    const port = isObject(s) ? s['port'] : undefined;
    if (typeof host !== 'string' || !host || typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) {
      const got = isObject(s) ? `{ host: ${JSON.stringify(host)}, port: ${JSON.stringify(port)} }` : describeValue(s);
      throw bad(`sentinels[${i}] must be { host: string, port: 1-65535 }; got ${got}.`);
    }
  });
  if (typeof x['name'] !== 'string' || !x['name'].trim()) {
    throw bad("name must be the master group name of the sentinels' `sentinel monitor <name> ...` (a non-empty string).");
  }
  for (const key of ['sentinelPassword', 'password'] as const) {
    if (x[key] !== undefined && typeof x[key] !== 'string') throw bad(`${key} must be a string when set; got ${typeof x[key]}.`);
  }
}
