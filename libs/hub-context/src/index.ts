import { RedisBus, type RedisTarget } from '@switchboard/backplane-redis';
import {
  BusScaleOut,
  groupManager,
  hubClients,
  type Bus,
  type ClientMethods,
  type GroupManager,
  type HubClients,
  type Logger,
} from '@switchboard/hub-server/backplane';
import { SwitchboardError } from '@switchboard/protocol';

export interface HubContextOptions {
  /** The hub's short name: `chat` for the hub served at `/hubs/chat` (case-insensitive). */
  hub: string;
  /** A Redis URL, an ioredis client (Redis or Cluster, which stays yours to close), or `{ cluster: [...] }`. */
  redis?: RedisTarget;
  /** A bus instead of Redis (an in-memory bus in tests). */
  bus?: Bus;
  /** Channel prefix; must match the hub nodes' (REDIS_PREFIX). @defaultValue 'sb:' */
  prefix?: string;
  /** Group change and client-result timeouts. @defaultValue 10000 / 30000 */
  ackTimeoutMs?: number;
  clientResultTimeoutMs?: number;
  logger?: Logger;
}

/** A typed handle on a hub for processes that are not hub nodes. */
export interface HubContext<C extends ClientMethods> {
  readonly clients: HubClients<C>;
  readonly groups: GroupManager;
  /** Closes the Redis connections it opened. Idempotent. */
  close(): Promise<void>;
}

/**
 * Creates a hub context: `ctx.clients.group('job:42').jobUpdated(update)` from a worker reaches
 * every browser in that group on every hub node. Wrong method names or argument types are
 * compile errors. Sends resolve once Redis accepted them (at-most-once delivery; see the
 * backplane README for guarantees) and reject with SB_BACKPLANE_UNAVAILABLE when Redis is down.
 */
export function createHubContext<C extends ClientMethods>(options: HubContextOptions): HubContext<C> {
  if (!options.hub || typeof options.hub !== 'string') {
    throw new SwitchboardError('SB_CONFIG_INVALID', "hub is required: the hub's short name, e.g. 'chat' for /hubs/chat.");
  }
  if (!options.bus && options.redis === undefined) {
    throw new SwitchboardError('SB_CONFIG_INVALID', 'redis is required: a Redis URL (e.g. redis://127.0.0.1:6379), an ioredis client, or { cluster: [...] }.');
  }
  const ownedBus = options.bus ? undefined : new RedisBus({ redis: options.redis!, lazySubscriber: true, ...(options.logger ? { logger: options.logger } : {}) });
  const bus = options.bus ?? ownedBus!;
  const scaleOut = new BusScaleOut({
    bus,
    hubName: options.hub.toLowerCase(),
    role: 'publisher',
    ...(options.prefix !== undefined ? { prefix: options.prefix } : {}),
    ...(options.ackTimeoutMs !== undefined ? { ackTimeoutMs: options.ackTimeoutMs } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
  });
  let closed = false;
  return {
    clients: hubClients<C>(scaleOut, options.clientResultTimeoutMs ?? 30_000),
    groups: groupManager(scaleOut),
    async close() {
      if (closed) return;
      closed = true;
      await scaleOut.close();
      await ownedBus?.close();
    },
  };
}

export type { HubClients, ClientProxy, GroupManager } from '@switchboard/hub-server/backplane';
