import { MessageType, jsonHubProtocol, type HubProtocol, type InvocationMessage } from '@switchboard/protocol';
import type { TransportRouter } from './transport-routing.js';

/**
 * An outbound client invocation, serialized lazily once per protocol and then shared: a broadcast
 * to N connections does one serialization per protocol in use and N writes of the same bytes.
 * A message received from a backplane arrives already serialized for every protocol.
 */
export class OutboundMessage {
  private json: Uint8Array | undefined;
  /** MessagePack has its own field too: every send is framed for both, and a Map per message showed in a send's cost. */
  private messagepack: Uint8Array | undefined;
  private other: Map<string, Uint8Array> | undefined;

  /** `message` may be omitted when bytes for every protocol in use are supplied. */
  constructor(private message: InvocationMessage | undefined) {}

  static invocation(target: string, args: unknown[]): OutboundMessage {
    return new OutboundMessage({ type: MessageType.Invocation, target, arguments: args });
  }

  /** Wraps bytes already framed per protocol name (from a backplane envelope). */
  static preserialized(byProtocol: ReadonlyMap<string, Uint8Array>): OutboundMessage {
    const out = new OutboundMessage(undefined);
    for (const [name, bytes] of byProtocol) out.set(name, bytes);
    return out;
  }

  private set(name: string, bytes: Uint8Array): void {
    if (name === 'json') this.json = bytes;
    else if (name === 'messagepack') this.messagepack = bytes;
    else (this.other ??= new Map()).set(name, bytes);
  }

  private get(name: string): Uint8Array | undefined {
    return name === 'json' ? this.json : name === 'messagepack' ? this.messagepack : this.other?.get(name);
  }

  /** The complete framed bytes for `protocol`, computed on first use. */
  framed(protocol: HubProtocol): Uint8Array {
    let bytes = this.get(protocol.name);
    if (!bytes) {
      bytes = protocol.write(this.invocation());
      this.set(protocol.name, bytes);
    }
    return bytes;
  }

  /** The invocation; rebuilt from the JSON bytes when only bytes were received. */
  invocation(): InvocationMessage {
    if (this.message) return this.message;
    if (!this.json) throw new Error('OutboundMessage has neither a message nor JSON bytes to rebuild it from.');
    const parsed = jsonHubProtocol.parse(this.json.subarray(0, this.json.length - 1));
    if (parsed.type !== MessageType.Invocation) throw new Error('Backplane bytes are not an Invocation.');
    return (this.message = parsed);
  }
}

/** What a scale-out implementation needs from a connection held by this node. */
export interface LocalConnection {
  readonly connectionId: string;
  /** Authenticated user id, when there is one; `clients.user(id)` targets these. */
  readonly userId: string | undefined;
  readonly protocol: HubProtocol;
  /** Queues already framed bytes (for this connection's protocol) for writing. */
  writeFramed(bytes: Uint8Array): void;
  /** Invokes a client method expecting a result and resolves with the client's answer. */
  invokeClient(target: string, args: unknown[], timeoutMs: number): Promise<unknown>;
}

/**
 * The one seam for every send and group change of a hub (SignalR's HubLifetimeManager). Hub code
 * never knows which implementation it has: `MemoryScaleOut` for one node, a Redis backplane for
 * many. One instance serves one hub endpoint.
 *
 * Contract, for every implementation:
 * - A send resolves once the message is handed to local sockets and, when the implementation has
 *   a bus, published to it. It does not wait for remote delivery (at-most-once).
 * - Messages from one sender to one target keep their order; there is no order across targets.
 * - Sends to targets with no connections succeed and do nothing.
 * - `addToGroup`/`removeFromGroup` resolve when the node holding the connection applied them, and
 *   reject with a SwitchboardError if the connection is unknown or that node does not answer.
 * - `invokeConnection` resolves with the client's result, or rejects with its error text, or with
 *   SB_CONNECTION_NOT_FOUND / SB_CONNECTION_CLOSED / SB_CLIENT_RESULT_TIMEOUT.
 */
export interface ScaleOut {
  onConnected(connection: LocalConnection): Promise<void>;
  onDisconnected(connection: LocalConnection): Promise<void>;
  sendAll(message: OutboundMessage, excludedConnectionIds?: readonly string[]): Promise<void>;
  sendConnection(connectionId: string, message: OutboundMessage): Promise<void>;
  sendConnections(connectionIds: readonly string[], message: OutboundMessage): Promise<void>;
  sendGroup(group: string, message: OutboundMessage, excludedConnectionIds?: readonly string[]): Promise<void>;
  sendGroups(groups: readonly string[], message: OutboundMessage): Promise<void>;
  /**
   * The group's last send: written to its members like `sendGroup`, then every node removes its
   * members from the group (and drops the group's channel). Members that join afterwards are not
   * affected. For a group whose purpose ends with this message (a finished job's watchers), so
   * its members need not stay in it until they disconnect. Optional for other implementations:
   * without it, `HubClients.groupFinal` sends like `group`.
   */
  sendGroupFinal?(group: string, message: OutboundMessage): Promise<void>;
  sendUser(userId: string, message: OutboundMessage): Promise<void>;
  sendUsers(userIds: readonly string[], message: OutboundMessage): Promise<void>;
  addToGroup(connectionId: string, group: string): Promise<void>;
  /**
   * Routed membership, for groups with one publisher that can name their nodes (a job's watchers):
   * adds a connection held by this node to `group` without subscribing the group's channel, and
   * resolves with this node's route id once the node's own channel is live. Sends reach such a
   * member only through `sendGroupVia` naming that id (the publisher stores it with what it sends
   * about, e.g. the job's record). Resolves undefined when the connection is not held here or the
   * implementation has nothing to route (one node): then use `addToGroup`. `removeFromGroup` and
   * final sends remove routed members as any; `groupCount` does not count them.
   */
  addToGroupRouted?(connectionId: string, group: string): Promise<string | undefined>;
  /**
   * Sends to `group`'s members on the nodes named by their route ids, through each node's own
   * channel (no node subscribes the group's channel for it), and to this node's own members. `final` as in
   * `sendGroupFinal`. Without it, `HubClients.groupVia` sends like `group`/`groupFinal`.
   */
  sendGroupVia?(nodes: readonly string[], group: string, message: OutboundMessage, final: boolean): Promise<void>;
  removeFromGroup(connectionId: string, group: string): Promise<void>;
  /**
   * Members of `group` on every node right now (a connection counts once); 0 for an unknown group.
   * Rejects with SB_BACKPLANE_UNAVAILABLE / SB_BACKPLANE_TIMEOUT when nodes cannot be asked.
   */
  groupCount(group: string): Promise<number>;
  invokeConnection(connectionId: string, target: string, args: unknown[], timeoutMs: number): Promise<unknown>;
  /**
   * Carries Server-Sent Events and long-polling requests to the node holding the connection
   * (see TransportRouter). Absent = one node: such requests are served locally only.
   */
  readonly transports?: TransportRouter;
  /**
   * Registers a listener for "this node's backplane is back after an outage": sends from other
   * processes to the groups of `scope` may have been lost here meanwhile. Absent where nothing can
   * be lost (one node). Returns a remover.
   */
  onRestored?(listener: (scope: RestoredScope) => void): () => void;
  /** Releases resources (subscriptions, timers). Idempotent. */
  close(): Promise<void>;
}

/** What a backplane restore concerns on one node (ScaleOut.onRestored). */
export interface RestoredScope {
  /** The groups with members on this node. */
  readonly groups: readonly string[];
  /** This node's route id, for routed groups whose publishers must learn it again (see `addToGroupRouted`). */
  readonly route?: string;
  /** Writes `message` to this node's members of `group` only (every node resyncs its own). */
  writeGroupLocal(group: string, message: OutboundMessage): void;
}

/** Creates the scale-out for one hub endpoint; `hubName` is the endpoint's short name (`chat`). */
export type ScaleOutFactory = (hubName: string) => ScaleOut;
