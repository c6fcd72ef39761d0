import { RedisBus, type RedisTarget } from '@switchboard/backplane-redis';
import {
  BackplaneChannels,
  BusScaleOut,
  DEFAULT_CHANNEL_PREFIX,
  groupManager,
  hubClients,
  jsonLogger,
  type Bus,
  type ClientMethods,
  type GroupManager,
  type HubClients,
  type HubRef,
  type Logger,
} from '@switchboard/hub-server/backplane';
import { SwitchboardError } from '@switchboard/protocol';
import { cachedTargets } from './target-cache.js';
import { UnheardSends, type HubContextStats } from './unheard.js';

export interface HubContextOptions<C extends ClientMethods = ClientMethods> {
  /**
   * The hub: a `HubRef` shared with the hub node that maps it (`hubRef<C>('chat')`: the client
   * interface comes with it, and a misspelt ref does not compile), or its short name: `chat` for
   * the hub served at `/hubs/chat` (case-insensitive).
   */
  hub: string | HubRef<C>;
  /** A Redis URL, an ioredis client (Redis or Cluster, which stays yours to close), `{ cluster: [...] }`, or `{ sentinels: [...], name }`. */
  redis?: RedisTarget;
  /** A bus instead of Redis (an in-memory bus in tests). */
  bus?: Bus;
  /** Channel prefix; must match the hub nodes' (REDIS_PREFIX). @defaultValue 'sb:' */
  prefix?: string;
  /** Group change and client-result timeouts. @defaultValue 10000 / 30000 */
  ackTimeoutMs?: number;
  clientResultTimeoutMs?: number;
  /**
   * Where the context logs; also gets the "no hub node is subscribed to hub ..." warning (see
   * `stats()`). @defaultValue silent, except that warning: a JSON line on stderr
   */
  logger?: Logger;
}

/** A typed handle on a hub for processes that are not hub nodes. */
export interface HubContext<C extends ClientMethods> {
  readonly clients: HubClients<C>;
  readonly groups: GroupManager;
  /**
   * What the sends so far reached: `unheard` counts sends that no hub node received because no
   * node serves this hub at all (a wrong hub name or prefix, or no node running), which is also
   * logged; `noReceivers` includes the normal case of a group nobody is in. See `HubContextStats`.
   */
  stats(): HubContextStats;
  /** Closes the Redis connections it opened. Idempotent. */
  close(): Promise<void>;
}

/**
 * Creates a hub context: `ctx.clients.group('job:42').jobUpdated(update)` from a worker reaches
 * every browser in that group on every hub node. Wrong method names or argument types are
 * compile errors. Sends resolve once Redis accepted them (at-most-once delivery; see the
 * backplane README for guarantees) and reject with SB_BACKPLANE_UNAVAILABLE when Redis is down.
 * `createHubContext({ hub: jobsHub, redis })` takes `C` from the hub's `HubRef` (shared with the
 * node's `mapHub(jobsHub, ...)`); `createHubContext<JobsClient>({ hub: 'jobs', redis })` names it.
 */
export function createHubContext<C extends ClientMethods>(options: HubContextOptions<C>): HubContext<C> {
  const hubName = typeof options.hub === 'string' ? options.hub : options.hub?.name;
  if (!hubName || typeof hubName !== 'string') {
    throw new SwitchboardError('SB_CONFIG_INVALID', "hub is required: a hubRef, or the hub's short name, e.g. 'chat' for /hubs/chat.");
  }
  if (!options.bus && options.redis === undefined) {
    throw new SwitchboardError('SB_CONFIG_INVALID', 'redis is required: a Redis URL (e.g. redis://127.0.0.1:6379), an ioredis client, { cluster: [...] }, or { sentinels: [{ host, port }], name }.');
  }
  const ownedBus = options.bus ? undefined : new RedisBus({ redis: options.redis!, lazySubscriber: true, ...(options.logger ? { logger: options.logger } : {}) });
  const bus = options.bus ?? ownedBus!;
  const hub = hubName.toLowerCase();
  const prefix = options.prefix ?? DEFAULT_CHANNEL_PREFIX;
  const allChannel = new BackplaneChannels(prefix, hub).all;
  const unheard = new UnheardSends({ hub, prefix, allChannel, bus, logger: options.logger ?? jsonLogger('warn') });
  const scaleOut = new BusScaleOut({
    bus,
    hubName: hub,
    role: 'publisher',
    prefix,
    metrics: { sendPublished: (_hub, target, receivers) => unheard.published(target, receivers) },
    ackTimeoutMs: options.ackTimeoutMs,
    ...(options.logger ? { logger: options.logger } : {}),
  });
  let closed = false;
  return {
    // The proxies of groups, users and connections are kept (bounded): a worker sends to the same ones again and again.
    clients: cachedTargets(hubClients<C>(scaleOut, options.clientResultTimeoutMs ?? 30_000)),
    groups: groupManager(scaleOut),
    stats: () => unheard.stats(),
    async close() {
      if (closed) return;
      closed = true;
      await scaleOut.close();
      await ownedBus?.close();
    },
  };
}

export type { HubClients, ClientProxy, GroupManager, HubRef, HubRefOptions } from '@switchboard/hub-server/backplane';
export { hubRef } from '@switchboard/hub-server/backplane';
export { PRESENCE_TTL_MS, type HubContextStats } from './unheard.js';
