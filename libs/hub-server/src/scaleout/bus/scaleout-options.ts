import type { HubProtocol } from '@switchboard/protocol';
import type { Logger } from '../../telemetry/logger.js';
import type { Bus } from './bus.js';

export interface BusScaleOutOptions {
  bus: Bus;
  /** The hub's short name (`chat` for `/hubs/chat`); part of every channel name. */
  hubName: string;
  /** Channel prefix shared by all nodes of a deployment. @defaultValue 'sb:' */
  prefix?: string;
  /** Unique per process; names this node's reply channel. @defaultValue random */
  serverId?: string;
  /** Protocols every publish is serialized for (all protocols any node offers). @defaultValue json, messagepack */
  protocols?: readonly HubProtocol[];
  /** How long a remote group change waits for the owning node. @defaultValue 10000 */
  ackTimeoutMs?: number;
  /** `node` hears sends to all; `publisher` (a hub context in a worker) only sends. @defaultValue 'node' */
  role?: 'node' | 'publisher';
  logger?: Logger;
  /** Hooks for how long sends took to arrive. @defaultValue none */
  metrics?: BackplaneMetrics;
}

/** The kind of channel a send was published on (see BackplaneChannels). */
export type SendTarget = 'all' | 'group' | 'user' | 'connection';

/**
 * What a scale-out observes of the sends it receives and publishes over the bus. Called
 * synchronously, once per send, on the hot path: keep it to a counter increment or a histogram
 * observation; it must not throw.
 */
export interface BackplaneMetrics {
  /**
   * A send this scale-out published was accepted by the bus, and `receivers` processes were
   * subscribed to its channel (PUBLISH's count). One call per channel (`groups([a, b])` is two).
   * Only `'all'` is heard by every node serving the hub, so 0 there means no node serves it;
   * 0 on a group, user or connection channel is normal (no node holds a member). Not called for
   * sends a node delivered to its own connections only, nor for failed publishes.
   */
  sendPublished?(hub: string, target: SendTarget, receivers: number): void;
  /**
   * A send published by a hub context (a worker) or another node reached this node: `delayMs` from
   * its publish to its arrival here, before it is written to this node's connections (which holds
   * it at most the write-coalescing interval). Wall clocks of two processes: across machines it
   * includes their clock offset, and a negative difference (a clock behind) is reported as 0.
   * Not called for sends from versions that do not stamp them.
   */
  sendArrived?(hub: string, delayMs: number): void;
}
