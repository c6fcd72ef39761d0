import type { HubProtocol } from '@switchboard/protocol';
import type { Logger } from '../logger.js';
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

/**
 * What a node observes of the sends it receives over the bus. Called synchronously, once per
 * received send, on the hot path: keep it to a histogram observation; it must not throw.
 */
export interface BackplaneMetrics {
  /**
   * A send published by a hub context (a worker) or another node reached this node: `delayMs` from
   * its publish to its arrival here, before it is written to this node's connections (which holds
   * it at most the write-coalescing interval). Wall clocks of two processes: across machines it
   * includes their clock offset, and a negative difference (a clock behind) is reported as 0.
   * Not called for sends from versions that do not stamp them.
   */
  sendArrived?(hub: string, delayMs: number): void;
}
