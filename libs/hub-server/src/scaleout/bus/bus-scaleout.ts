import { randomBytes } from 'node:crypto';
import { SwitchboardError, isSwitchboardError, jsonHubProtocol, messagePackHubProtocol } from '@switchboard/protocol';
import { LocalConnectionStore } from '../local-connections.js';
import { silentLogger, type Logger } from '../../telemetry/logger.js';
import { OutboundMessage, type LocalConnection, type RestoredScope, type ScaleOut } from '../scaleout.js';
import type { ForwardedRequest, TransportReply, TransportRequestHandler, TransportRouter } from '../transport-routing.js';
import type { Bus } from './bus.js';
import type { BusScaleOutOptions } from './scaleout-options.js';
import { SendMetrics } from './send-metrics.js';
import { BackplaneChannels, DEFAULT_CHANNEL_PREFIX } from './channels.js';
import { ChannelSubscriptions } from './channel-subscriptions.js';
import { PendingReplies, PendingSums } from './pending-replies.js';
import { BusPublisher } from './bus-publisher.js';
import { serveForwarded } from './serve-forwarded.js';
import { EnvelopeKind, GroupAction, TargetKind, decodeEnvelope, decodeTransportReply, encodeTransportReply, type Envelope } from './envelope.js';

/**
 * The scale-out over a publish/subscribe bus: all routing logic, written once; the bus (in
 * memory or Redis) only publishes and delivers.
 *
 * - Sends are written to this node's own matching connections first, then published; receiving
 *   nodes skip envelopes they sent themselves. A node therefore keeps serving its own
 *   connections while the bus is down, and the publish error says only remote nodes missed it.
 * - A send to one connection held here never touches the bus.
 * - Group commands and client-result calls for a connection on another node go to that
 *   connection's channel, where only its owner listens. PUBLISH's receiver count tells at once
 *   when no node holds it (SB_CONNECTION_NOT_FOUND), so nothing waits for a timeout in that case.
 * - Group and user channels are subscribed while this node holds at least one member, except for
 *   routed members (`addToGroupRouted`): their sends come on this node's own channel
 *   (`sendGroupVia` names the node), so a routed group costs the bus no subscription.
 * - HTTP transport requests (SSE, long polling) that land on another node are forwarded to the
 *   owner on the connection's channel and answered on the origin's return channel
 *   (TransportRouter); the owner holds that channel from the connection's first transport
 *   request, before its handshake.
 */
export class BusScaleOut implements ScaleOut, TransportRouter {
  readonly local = new LocalConnectionStore();
  readonly channels: BackplaneChannels;
  readonly serverId: string;
  private readonly bus: Bus;
  /** Encodes and publishes sends and other envelopes. */
  private readonly publisher: BusPublisher;
  private readonly ackTimeoutMs: number;
  private readonly logger: Logger;
  private readonly report: SendMetrics;
  private readonly pending = new PendingReplies();
  private readonly sums = new PendingSums();
  /** The group, user and connection channels subscribed, and their subscribes in flight. */
  private readonly subscriptions: ChannelSubscriptions;
  private readonly allSubscribed: Promise<void>;
  private readonly removeListener: () => void;
  private readonly removeRestored: () => void;
  private readonly restoredListeners = new Set<(scope: RestoredScope) => void>();
  private returnsReady: Promise<void> | undefined;
  /** This node's own channel (routed groups' sends), subscribed from the start like the all channel. */
  private readonly nodeReady: Promise<void>;
  /** Groups with members here whose channel is not subscribed: all their members joined routed. */
  private readonly routed = new Set<string>();
  private transportHandler: TransportRequestHandler | undefined;
  /** Transport requests forwarded to this node and not answered yet, by `${replyTo} ${requestId}`. */
  private readonly served = new Map<string, AbortController>();
  private closed = false;

  constructor(options: BusScaleOutOptions) {
    this.bus = options.bus;
    this.subscriptions = new ChannelSubscriptions(options.bus);
    this.channels = new BackplaneChannels(options.prefix ?? DEFAULT_CHANNEL_PREFIX, options.hubName);
    this.serverId = options.serverId ?? randomBytes(12).toString('base64url');
    this.ackTimeoutMs = options.ackTimeoutMs ?? 10_000;
    this.logger = options.logger ?? silentLogger;
    this.report = new SendMetrics(options.hubName, options.metrics, this.logger);
    this.publisher = new BusPublisher(this.bus, this.serverId, options.protocols ?? [jsonHubProtocol, messagePackHubProtocol], this.report);
    this.removeListener = this.bus.onMessage((channel, payload) => {
      if (this.channels.owns(channel)) this.onBusMessage(payload);
    });
    this.removeRestored = this.bus.onRestored?.(() => this.restored()) ?? (() => {});
    const node = (options.role ?? 'node') === 'node';
    const subscribe = (channel: string, what: string) => this.bus.subscribe(channel).catch((err) => this.logger.error({ err }, `backplane: subscribing to ${what} failed`));
    this.allSubscribed = node ? subscribe(this.channels.all, 'the all channel') : Promise.resolve();
    // Subscribed once, for good (the bus restores it after an outage): a routed join never waits for it after the start.
    this.nodeReady = node ? subscribe(this.channels.node(this.serverId), "this node's channel") : Promise.resolve();
  }

  /** This scale-out carries HTTP transport requests between nodes. */
  get transports(): TransportRouter {
    return this;
  }

  async onConnected(connection: LocalConnection): Promise<void> {
    const newUser = connection.userId !== undefined && !this.local.hasUser(connection.userId);
    this.local.add(connection);
    const user = connection.userId === undefined ? undefined : this.channels.user(connection.userId);
    await Promise.all([
      this.allSubscribed,
      this.holdConnection(connection.connectionId),
      user === undefined ? undefined : newUser ? this.subscriptions.track(user, true) : this.subscriptions.inFlight(user),
    ]);
  }

  async onDisconnected(connection: LocalConnection): Promise<void> {
    const groups = this.local.remove(connection);
    const drops = [this.releaseConnection(connection.connectionId)];
    for (const g of groups) if (!this.local.hasGroup(g) && !this.routed.delete(g)) drops.push(this.subscriptions.track(this.channels.group(g), false));
    if (connection.userId !== undefined && !this.local.hasUser(connection.userId)) drops.push(this.subscriptions.track(this.channels.user(connection.userId), false));
    await Promise.all(drops);
  }

  async sendAll(message: OutboundMessage, excluded?: readonly string[]): Promise<void> {
    this.local.writeAll(message, excluded);
    await this.publishSend(this.channels.all, TargetKind.All, '', message, excluded);
  }

  async sendConnection(connectionId: string, message: OutboundMessage): Promise<void> {
    if (this.local.writeConnection(connectionId, message)) return;
    await this.publishSend(this.channels.connection(connectionId), TargetKind.Connection, connectionId, message);
  }

  async sendConnections(connectionIds: readonly string[], message: OutboundMessage): Promise<void> {
    await Promise.all([...new Set(connectionIds)].map((id) => this.sendConnection(id, message)));
  }

  async sendGroup(group: string, message: OutboundMessage, excluded?: readonly string[]): Promise<void> {
    this.local.writeGroup(group, message, excluded);
    await this.publishSend(this.channels.group(group), TargetKind.Group, group, message, excluded);
  }

  async sendGroups(groups: readonly string[], message: OutboundMessage): Promise<void> {
    await Promise.all([...new Set(groups)].map((g) => this.sendGroup(g, message)));
  }

  /** Every node (this one first) writes it to its members of the group, then removes them (see ScaleOut). */
  async sendGroupFinal(group: string, message: OutboundMessage): Promise<void> {
    this.local.writeGroup(group, message);
    this.clearLocal(group);
    await this.publishSend(this.channels.group(group), TargetKind.Group, group, message, undefined, true);
  }

  /** Local members first, then each named node's own channel (this node's skipped: written already). */
  async sendGroupVia(nodes: readonly string[], group: string, message: OutboundMessage, final: boolean): Promise<void> {
    this.local.writeGroup(group, message);
    if (final) this.clearLocal(group);
    const remote = nodes.length === 1 ? (nodes[0] === this.serverId ? [] : nodes) : [...new Set(nodes)].filter((n) => n !== this.serverId);
    await Promise.all(remote.map((n) => this.publishSend(this.channels.node(n), TargetKind.Group, group, message, undefined, final)));
  }

  async sendUser(userId: string, message: OutboundMessage): Promise<void> {
    this.local.writeUser(userId, message);
    await this.publishSend(this.channels.user(userId), TargetKind.User, userId, message);
  }

  async sendUsers(userIds: readonly string[], message: OutboundMessage): Promise<void> {
    await Promise.all([...new Set(userIds)].map((u) => this.sendUser(u, message)));
  }

  async addToGroup(connectionId: string, group: string): Promise<void> {
    const conn = this.local.get(connectionId);
    if (conn) return this.addLocal(conn, group);
    await this.request(connectionId, this.ackTimeoutMs, `adding connection '${connectionId}' to group '${group}'`, (requestId, replyTo) => ({
      kind: EnvelopeKind.GroupCommand, requestId, replyTo, action: GroupAction.Add, connectionId, group,
    }));
  }

  async addToGroupRouted(connectionId: string, group: string): Promise<string | undefined> {
    await this.nodeReady;
    // Looked up after the wait: a connection that left meanwhile is not added back.
    const conn = this.local.get(connectionId);
    if (!conn) return undefined;
    // Its first member here: the channel stays unsubscribed (a member that joined with `add` keeps it subscribed).
    if (this.local.addToGroup(conn, group)) this.routed.add(group);
    return this.serverId;
  }

  async removeFromGroup(connectionId: string, group: string): Promise<void> {
    const conn = this.local.get(connectionId);
    if (conn) return this.removeLocal(conn, group);
    await this.request(connectionId, this.ackTimeoutMs, `removing connection '${connectionId}' from group '${group}'`, (requestId, replyTo) => ({
      kind: EnvelopeKind.GroupCommand, requestId, replyTo, action: GroupAction.Remove, connectionId, group,
    }));
  }

  /**
   * Every node holding members of the group is subscribed to its channel: a count request published
   * there reaches exactly those nodes (PUBLISH says how many), and each answers with its local
   * count, this node included when it holds members.
   */
  async groupCount(group: string): Promise<number> {
    await (this.returnsReady ??= this.bus.subscribe(this.channels.returns(this.serverId)));
    const { id, result, expect } = this.sums.open(this.ackTimeoutMs, `counting the members of group '${group}'`);
    try {
      expect(await this.publish(this.channels.group(group), { kind: EnvelopeKind.GroupCount, requestId: id, replyTo: this.channels.returns(this.serverId), group }));
    } catch (err) {
      this.sums.drop(id);
      throw err;
    }
    return result;
  }

  invokeConnection(connectionId: string, target: string, args: unknown[], timeoutMs: number): Promise<unknown> {
    const conn = this.local.get(connectionId);
    if (conn) return conn.invokeClient(target, args, timeoutMs);
    // The owner applies `timeoutMs` and answers with its own timeout error; the origin waits a
    // little longer so that clear answer wins over the generic backplane timeout.
    return this.request(connectionId, timeoutMs + 2000, `the client result '${target}' of connection '${connectionId}'`, (requestId, replyTo) => ({
      kind: EnvelopeKind.Invoke, requestId, replyTo, connectionId, target, args, timeoutMs,
    }));
  }

  onRestored(listener: (scope: RestoredScope) => void): () => void {
    this.restoredListeners.add(listener);
    return () => this.restoredListeners.delete(listener);
  }

  /** The bus is back after an outage: each listener gets this node's groups and a local-only write. */
  private restored(): void {
    if (this.closed || !this.restoredListeners.size) return;
    const scope: RestoredScope = { groups: this.local.groupNames(), route: this.serverId, writeGroupLocal: (group, message) => this.local.writeGroup(group, message) };
    for (const l of this.restoredListeners) {
      try {
        l(scope);
      } catch (err) {
        this.logger.error({ err }, 'backplane: a restore listener threw');
      }
    }
  }

  serveTransport(handler: TransportRequestHandler): void {
    this.transportHandler = handler;
  }

  holdConnection(connectionId: string): Promise<void> {
    return this.subscriptions.hold(this.channels.connection(connectionId));
  }

  releaseConnection(connectionId: string): Promise<void> {
    return this.subscriptions.release(this.channels.connection(connectionId));
  }

  async forwardTransport(request: ForwardedRequest, timeoutMs: number): Promise<TransportReply | undefined> {
    const { connectionId, signal } = request;
    let requestId: string | undefined;
    const abort = () => {
      if (requestId === undefined || !this.pending.has(requestId)) return;
      this.pending.settle(requestId, undefined, new Error('The client went away before the reply.'));
      const replyTo = this.channels.returns(this.serverId);
      this.publish(this.channels.connection(connectionId), { kind: EnvelopeKind.TransportAbort, requestId, replyTo }).catch(() => {});
    };
    signal.addEventListener('abort', abort, { once: true });
    try {
      const value = await this.request(connectionId, timeoutMs, `a transport request of connection '${connectionId}'`, (id, replyTo) => {
        requestId = id;
        return { kind: EnvelopeKind.TransportRequest, requestId: id, replyTo, connectionId, op: request.op, body: request.body ?? null };
      });
      return decodeTransportReply(value);
    } catch (err) {
      if (isSwitchboardError(err, 'SB_CONNECTION_NOT_FOUND')) return undefined;
      throw err;
    } finally {
      signal.removeEventListener('abort', abort);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.removeListener();
    this.removeRestored();
    this.restoredListeners.clear();
    for (const c of this.served.values()) c.abort();
    const closed = new SwitchboardError('SB_BACKPLANE_UNAVAILABLE', 'The scale-out closed before the remote node answered.');
    this.pending.rejectAll(closed);
    this.sums.rejectAll(closed);
  }

  private async addLocal(conn: LocalConnection, group: string): Promise<void> {
    const channel = this.channels.group(group);
    // The first member, or the first not routed: subscribe. Otherwise the first one's subscribe may
    // still be in flight; wait for it.
    const first = this.local.addToGroup(conn, group);
    await (first || this.routed.delete(group) ? this.subscriptions.track(channel, true) : this.subscriptions.inFlight(channel));
  }

  private async removeLocal(conn: LocalConnection, group: string): Promise<void> {
    if (this.local.removeFromGroup(conn, group) && !this.routed.delete(group)) await this.subscriptions.track(this.channels.group(group), false);
  }

  /** After a group's final send was written here: its members leave, its channel is dropped. */
  private clearLocal(group: string): void {
    if (!this.local.clearGroup(group) || this.routed.delete(group)) return;
    this.subscriptions.track(this.channels.group(group), false).catch((err: unknown) => this.logger.warn({ err, group }, 'backplane: unsubscribing a closed group failed'));
  }

  /** Not async: its callers are, so a framing error thrown here rejects their send. */
  private publishSend(channel: string, target: TargetKind, name: string, message: OutboundMessage, excluded?: readonly string[], final = false): Promise<void> {
    return this.publisher.send(channel, target, name, message, excluded, final);
  }

  private publish(channel: string, envelope: Envelope): Promise<number> {
    return this.publisher.envelope(channel, envelope);
  }

  /** Sends a request to the node holding `connectionId` and waits for its reply. */
  private async request(connectionId: string, timeoutMs: number, what: string, build: (requestId: string, replyTo: string) => Envelope): Promise<unknown> {
    this.returnsReady ??= this.bus.subscribe(this.channels.returns(this.serverId));
    await this.returnsReady;
    const { id: requestId, result } = this.pending.open(timeoutMs, () => `No hub node answered ${what} within ${timeoutMs} ms; the node holding the connection may be down or overloaded.`);
    const drop = () => this.pending.drop(requestId);
    let receivers: number;
    try {
      receivers = await this.publish(this.channels.connection(connectionId), build(requestId, this.channels.returns(this.serverId)));
    } catch (err) {
      drop();
      throw err;
    }
    if (receivers === 0) {
      drop();
      throw new SwitchboardError('SB_CONNECTION_NOT_FOUND', `Connection '${connectionId}' does not exist on any hub node. It may have disconnected; use the id the client reports now.`);
    }
    return result;
  }

  private onBusMessage(payload: Uint8Array): void {
    let e: Envelope;
    try {
      e = decodeEnvelope(payload);
    } catch (err) {
      this.logger.warn({ err }, 'backplane: ignored a malformed message');
      return;
    }
    switch (e.kind) {
      case EnvelopeKind.Send:
        if (e.origin === this.serverId) return;
        if (this.report.arrivals && e.sentAt !== undefined) this.report.arrived(e.sentAt);
        this.deliver(e);
        return;
      case EnvelopeKind.GroupCommand:
        return void this.applyGroupCommand(e);
      case EnvelopeKind.Invoke:
        return void this.runInvoke(e);
      case EnvelopeKind.Reply:
        if (!this.sums.add(e.requestId, e.ok, e.value)) this.pending.settleReply(e.requestId, e.ok, e.value, e.code);
        return;
      case EnvelopeKind.GroupCount:
        return void this.reply(e.replyTo, e.requestId, true, this.local.groupSize(e.group));
      case EnvelopeKind.TransportRequest:
        return void this.serveTransportRequest(e);
      case EnvelopeKind.TransportAbort:
        this.served.get(`${e.replyTo} ${e.requestId}`)?.abort();
    }
  }

  private async serveTransportRequest(e: Extract<Envelope, { kind: 5 }>): Promise<void> {
    const reply = await serveForwarded(e, this.transportHandler, this.served, this.logger);
    if (reply) await this.reply(e.replyTo, e.requestId, true, encodeTransportReply(reply));
  }

  private deliver(e: Extract<Envelope, { kind: 1 }>): void {
    const message = OutboundMessage.preserialized(e.payloads);
    try {
      if (e.target === TargetKind.All) this.local.writeAll(message, e.excluded);
      else if (e.target === TargetKind.Group) this.local.writeGroup(e.name, message, e.excluded);
      else if (e.target === TargetKind.User) this.local.writeUser(e.name, message);
      else this.local.writeConnection(e.name, message);
      if (e.final) this.clearLocal(e.name); // a group's last send (only groups have it): its members leave
    } catch (err) {
      this.logger.error({ err }, 'backplane: delivering a message to local connections failed');
    }
  }

  private async applyGroupCommand(e: Extract<Envelope, { kind: 2 }>): Promise<void> {
    const conn = this.local.get(e.connectionId);
    if (!conn) return this.reply(e.replyTo, e.requestId, false, `Connection '${e.connectionId}' does not exist.`, 'SB_CONNECTION_NOT_FOUND');
    try {
      if (e.action === GroupAction.Add) await this.addLocal(conn, e.group);
      else await this.removeLocal(conn, e.group);
      await this.reply(e.replyTo, e.requestId, true, null);
    } catch (err) {
      await this.reply(e.replyTo, e.requestId, false, (err as Error).message, isSwitchboardError(err) ? err.code : undefined);
    }
  }

  private async runInvoke(e: Extract<Envelope, { kind: 3 }>): Promise<void> {
    const conn = this.local.get(e.connectionId);
    if (!conn) return this.reply(e.replyTo, e.requestId, false, `Connection '${e.connectionId}' does not exist.`, 'SB_CONNECTION_NOT_FOUND');
    try {
      await this.reply(e.replyTo, e.requestId, true, await conn.invokeClient(e.target, e.args, e.timeoutMs));
    } catch (err) {
      await this.reply(e.replyTo, e.requestId, false, (err as Error).message, isSwitchboardError(err) ? err.code : undefined);
    }
  }

  private async reply(replyTo: string, requestId: string, ok: boolean, value: unknown, code?: string): Promise<void> {
    try {
      await this.publish(replyTo, { kind: EnvelopeKind.Reply, requestId, ok, value, ...(code ? { code } : {}) });
    } catch (err) {
      this.logger.warn({ err, requestId }, 'backplane: could not send a reply');
    }
  }
}
