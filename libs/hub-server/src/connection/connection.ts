import {
  HANDSHAKE_OK,
  MessageType,
  PING,
  SwitchboardError,
  concat,
  isTrackable,
  parseHandshake,
  selectProtocol,
  writeHandshakeError,
  type FrameReader,
  type HubMessage,
} from '@switchboard/protocol';
import { runInvocation, type InvocationPort } from './dispatcher.js';
import type { HubEndpoint } from '../hub/hub-endpoint.js';
import { ConnectionContext } from './connection-context.js';
import type { ConnectionRequestInfo, HubUser } from '../hub/hub.js';
import type { ResolvedOptions } from '../options.js';
import type { LocalConnection } from '../scaleout/scaleout.js';
import { StatefulReconnect } from './stateful-reconnect.js';
import type { Transport } from './transport.js';
import { CLOSE_ERROR_TEXT, ConnectionOutput, NOTHING_QUEUED } from './connection-output.js';
import { Invocations } from './invocations.js';

/** Reattach attempts sent back from other nodes before the client is refused (see `reattachElsewhere`). */
const MAX_REATTACH_BOUNCES = 32;

export interface ConnectionInit {
  readonly connectionId: string;
  readonly user: HubUser | undefined;
  readonly request: ConnectionRequestInfo;
  /** When the connection token it was opened with expires; undefined without one (skipNegotiation). */
  readonly tokenExpiresAt?: number | undefined;
}

/**
 * What a connection tells the server that holds it (server.ts). One object serves many
 * connections: a closure per connection (with its context) was about 130 bytes of each.
 */
export interface ConnectionHost {
  /** The connection finished (closed, or disposed of after a lost stateful-reconnect socket). */
  connectionFinished(connection: HubConnection): void;
}

/**
 * One hub connection: handshake, inbound parsing and dispatch, keep-alive and timeouts, client
 * results, stateful reconnect, closing. Transport-independent. Its output (queue, batched
 * writes) is ConnectionOutput's (connection-output.ts).
 */
export class HubConnection extends ConnectionOutput implements LocalConnection, InvocationPort {
  readonly connectionId: string;
  readonly user: HubUser | undefined;
  readonly userId: string | undefined;
  readonly context: ConnectionContext;

  /** See ConnectionInit. */
  readonly tokenExpiresAt: number | undefined;

  private handshakeBuffer: Uint8Array | undefined;
  private reader!: FrameReader;
  private lastReceiveAt: number;
  private clientPinged = false;
  // Created on first use (see `invocations`, `lifetimeSignal`): an idle connection should cost
  // little memory.
  private lazyInvocations: Invocations | undefined;
  private lifetime: AbortController | undefined;
  private heldChunks: Uint8Array[] | undefined = [];
  private pauseReasons = 0;
  /** `connect` while it runs (a disconnect waits for it); dropped when it is done. */
  private connectTask: Promise<void> | undefined;
  /** When the connection was reported opened (logs, metrics); undefined until then. */
  private openedAt: number | undefined;
  /** Reattach attempts that landed on other nodes since the last reattach here (see `reattachElsewhere`). */
  private bounces = 0;

  constructor(
    endpoint: HubEndpoint,
    transport: Transport,
    options: ResolvedOptions,
    init: ConnectionInit,
    private readonly host: ConnectionHost,
  ) {
    super(endpoint, transport, options);
    this.connectionId = init.connectionId;
    this.user = init.user;
    this.userId = init.user?.id;
    this.tokenExpiresAt = init.tokenExpiresAt;
    this.lastReceiveAt = this.lastSendAt;
    this.context = new ConnectionContext(this, init.request);
  }

  /** This connection's invocation state, both ways (see Invocations). */
  get invocations(): Invocations {
    return (this.lazyInvocations ??= new Invocations(this.options.maxParallelInvocations));
  }

  invocationsIdle(): void {
    if (this.lazyInvocations?.idle) this.lazyInvocations = undefined;
  }

  /** Aborted when the connection closes (already aborted if it has). */
  get lifetimeSignal(): AbortSignal {
    if (!this.lifetime) {
      this.lifetime = new AbortController();
      if (this.state === 'closed') this.lifetime.abort();
    }
    return this.lifetime.signal;
  }

  get isClosed(): boolean {
    return this.state === 'closed';
  }

  get isConnected(): boolean {
    return this.state === 'connected';
  }

  /** Opened (logged and counted as open) and not closed yet: what connection stats count. */
  get isOpen(): boolean {
    return this.openedAt !== undefined && this.state !== 'closed';
  }

  /** Feeds one received transport unit. Never throws: bad input closes this connection only. */
  receive(chunk: Uint8Array): void {
    if (this.state === 'closed') return;
    this.lastReceiveAt = this.options.now();
    try {
      if (this.state === 'handshake') return this.receiveHandshake(chunk);
      if (this.heldChunks) {
        this.heldChunks.push(chunk);
        return;
      }
      this.receiveMessages(chunk);
    } catch (err) {
      this.failProtocol(err);
    }
  }

  private receiveHandshake(chunk: Uint8Array): void {
    const data = this.handshakeBuffer ? concat(this.handshakeBuffer, chunk) : chunk;
    const parsed = parseHandshake(data);
    if (!parsed.done) {
      if (data.length > this.options.maxMessageSize) return this.refuseHandshake('Handshake was canceled.', 'handshake larger than maxMessageSize');
      this.handshakeBuffer = data.slice();
      return;
    }
    this.handshakeBuffer = undefined;
    const selection = selectProtocol(parsed.request, this.options.protocols, this.transport.formats);
    if (!selection.ok) return this.refuseHandshake(selection.error, selection.code);
    this.protocol = selection.protocol;
    this.reader = this.protocol.createReader(this.options.maxMessageSize);
    this.state = 'connecting';
    // As ASP.NET: granted at negotiate (so the client sends version 2) and possible on this transport.
    const stateful = this.endpoint.statefulReconnect;
    if (stateful && selection.version >= 2 && this.transport.resumable) this.stateful = new StatefulReconnect(stateful.bufferSize);
    this.enqueue(HANDSHAKE_OK);
    if (parsed.rest.length) this.heldChunks!.push(parsed.rest.slice());
    this.connectTask = this.connect();
  }

  private async connect(): Promise<void> {
    try {
      await this.connectAndOpen();
    } finally {
      this.connectTask = undefined;
    }
  }

  private async connectAndOpen(): Promise<void> {
    try {
      await this.endpoint.scaleOut.onConnected(this);
      if (this.isClosed) return;
      this.state = 'connected';
      // The handshake answer (and anything sent to the connection meanwhile) leaves only now: when
      // the client's start() resolves, every node and process can reach its id (no spurious
      // SB_CONNECTION_NOT_FOUND for a groups.add right after connecting).
      this.flush();
      await this.endpoint.definition.onConnected?.(this.context);
    } catch (err) {
      this.options.logger.error({ connectionId: this.connectionId, hub: this.endpoint.name, err }, 'onConnected failed; closing the connection');
      const detail = this.options.detailedErrors && err instanceof Error ? ` ${err.name}: ${err.message}` : '';
      this.close({ error: `${CLOSE_ERROR_TEXT}${detail}`, allowReconnect: false, cause: err });
      return;
    }
    if (this.isClosed) return;
    this.openedAt = this.options.now();
    this.options.metrics?.connectionOpened?.(this.endpoint.name, this.transport.name, this.protocol.name);
    this.options.logger.info(
      { connectionId: this.connectionId, hub: this.endpoint.name, transport: this.transport.name, protocol: this.protocol.name, user: this.userId },
      'connection opened',
    );
    const held = this.heldChunks ?? [];
    this.heldChunks = undefined;
    try {
      for (const c of held) this.receiveMessages(c);
    } catch (err) {
      this.failProtocol(err);
    }
  }

  private receiveMessages(chunk: Uint8Array): void {
    let count = 0;
    try {
      for (const body of this.reader.push(chunk)) {
        if (this.isClosed) return;
        count++;
        this.dispatch(this.protocol.parse(body));
      }
    } finally {
      this.options.metrics?.messagesReceived?.(this.endpoint.name, count, chunk.length);
    }
  }

  private dispatch(message: HubMessage): void {
    // Stateful reconnect: a replayed message this connection already processed is dropped.
    if (this.stateful && isTrackable(message) && !this.stateful.accept()) return;
    switch (message.type) {
      case MessageType.Invocation:
      case MessageType.StreamInvocation:
        void runInvocation(this, message);
        return;
      case MessageType.StreamItem:
        this.lazyInvocations?.pushItem(message.invocationId, message.item);
        return;
      case MessageType.Completion:
        this.lazyInvocations?.complete(message);
        return;
      case MessageType.CancelInvocation:
        this.lazyInvocations?.cancel(message.invocationId);
        return;
      case MessageType.Ping:
        this.clientPinged = true;
        return;
      case MessageType.Close:
        // A client Close ends the connection without an error and without reconnect permission.
        this.close({ clientError: message.error });
        return;
      case MessageType.Ack:
        // Ignored without stateful reconnect, as ASP.NET does.
        if (this.stateful) this.enqueueAll(this.stateful.ack(message.sequenceId));
        return;
      case MessageType.Sequence:
        this.stateful?.resetSequence(message.sequenceId);
        return;
    }
  }

  invokeClient(target: string, args: unknown[], timeoutMs: number): Promise<unknown> {
    if (this.state !== 'connected' && this.state !== 'connecting') {
      return Promise.reject(new SwitchboardError('SB_CONNECTION_CLOSED', `Connection '${this.connectionId}' disconnected.`));
    }
    return this.invocations.clientResults.start(target, timeoutMs, (invocationId) =>
      this.writeMessage({ type: MessageType.Invocation, invocationId, target, arguments: args }),
    );
  }

  /** Pauses reading (upload stream backpressure); reasons are counted so pauses nest. */
  setPaused(paused: boolean): void {
    this.pauseReasons += paused ? 1 : -1;
    if (paused && this.pauseReasons === 1) this.transport.pause();
    if (!paused && this.pauseReasons === 0) this.transport.resume();
  }

  /** Runs keep-alive and timeouts; called by the server's heartbeat. */
  heartbeat(now: number): void {
    if (this.state === 'handshake') {
      // Nothing is written before the handshake completes, so `lastSendAt` is still the creation
      // time (a field less per connection than a `createdAt` of its own).
      if (now - this.lastSendAt > this.options.handshakeTimeoutMs) this.refuseHandshake('Handshake was canceled.', 'SB_HANDSHAKE_TIMEOUT');
      return;
    }
    if (this.stateful && this.state === 'connected' && !this.statefulHeartbeat(now)) return;
    // Long polling has inherent keep-alive: no Pings either way, and its own inactivity rule.
    if (this.state !== 'connected' || this.transport.inherentKeepAlive) return;
    if (this.clientPinged && now - this.lastReceiveAt > this.options.clientTimeoutMs) {
      this.options.logger.warn({ connectionId: this.connectionId, code: 'SB_SERVER_TIMEOUT' }, `no message from the client for ${this.options.clientTimeoutMs} ms; closing`);
      this.close({ error: CLOSE_ERROR_TEXT, allowReconnect: true, cause: new SwitchboardError('SB_SERVER_TIMEOUT', 'client timeout') });
      return;
    }
    if (now - this.lastSendAt >= this.options.keepAliveIntervalMs && this.outQueue.length === 0) this.writeMessage(PING);
  }

  /** Stateful reconnect's share of the heartbeat: the reattach deadline, and the Ack (about once a second, when it moved). False while detached. */
  private statefulHeartbeat(now: number): boolean {
    const stateful = this.stateful!;
    if (stateful.detached) {
      if (stateful.expired(now, this.options.disconnectTimeoutMs)) {
        this.options.logger.info({ connectionId: this.connectionId, code: 'SB_RECONNECT_TIMEOUT' }, 'stateful reconnect: no reattach in time; disposing of the connection');
        this.finish(new SwitchboardError('SB_RECONNECT_TIMEOUT', `The WebSocket was lost and the client did not reattach within ${this.options.disconnectTimeoutMs} ms (disconnectTimeoutMs).`), false);
      }
      return false;
    }
    const ack = stateful.takeAck();
    if (ack !== undefined) this.writeMessage({ type: MessageType.Ack, sequenceId: ack });
    return true;
  }

  /** Whether a new WebSocket may take this connection over (stateful reconnect granted, handshake done, not closed). */
  get resumable(): boolean {
    return this.stateful !== undefined && this.state === 'connected';
  }

  /**
   * The transport now runs over a new socket (a reattach): announce the oldest unacknowledged
   * message with a Sequence, write every unacknowledged message again, and continue. Input cut off
   * on the old socket is dropped; the client replays it.
   */
  reattached(): void {
    if (!this.resumable) return;
    const now = this.options.now();
    this.reader = this.protocol.createReader(this.options.maxMessageSize);
    this.lastReceiveAt = now;
    this.bounces = 0;
    const { sequenceId, replay } = this.stateful!.reattach(now);
    // Anything still queued is either in the replay or may be dropped (Pings, Acks).
    this.outQueue = [this.protocol.write({ type: MessageType.Sequence, sequenceId }), ...replay];
    this.flush();
    this.options.logger.info({ connectionId: this.connectionId, sequenceId, replayed: replay.length }, 'stateful reconnect: the client reattached');
  }

  /**
   * A reattach for this connection reached another node, which asks whether to send the client
   * back to try again (it does, up to a bound, so a client that keeps landing elsewhere gives up).
   */
  reattachElsewhere(): boolean {
    return this.resumable && ++this.bounces <= MAX_REATTACH_BOUNCES;
  }

  private refuseHandshake(error: string, reason: string): void {
    this.options.logger.warn({ connectionId: this.connectionId, hub: this.endpoint.name, reason }, `handshake refused: ${error}`);
    this.outQueue = NOTHING_QUEUED;
    this.transport.send(writeHandshakeError(error), true);
    this.finish(undefined, true);
  }

  /** Bad input found by the transport (an oversized WebSocket frame): handled as `receive` would, written synchronously. */
  refuseInput(err: SwitchboardError): void {
    this.failProtocol(err);
  }

  private failProtocol(err: unknown): void {
    const e = err instanceof Error ? err : new Error(String(err));
    const code = e instanceof SwitchboardError ? e.code : 'SB_PROTOCOL_INVALID_MESSAGE';
    this.options.logger.warn({ connectionId: this.connectionId, hub: this.endpoint.name, code, error: e.message }, 'bad input from client; closing this connection');
    if (this.state === 'handshake') return this.refuseHandshake(`${e.message}`, code);
    this.close({ error: `${CLOSE_ERROR_TEXT} ${code}: ${e.message}`, allowReconnect: true, cause: e });
  }

  /**
   * The transport went away (socket closed or errored). With stateful reconnect, a socket lost
   * without a clean close (`error` set) keeps the connection for `disconnectTimeoutMs`, waiting for
   * the client to reattach; a clean close ends it.
   */
  transportClosed(error: Error | undefined): void {
    if (this.state === 'closed') return;
    if (error && this.resumable) {
      if (!this.stateful!.detached) {
        this.stateful!.detach(this.options.now());
        this.options.logger.info({ connectionId: this.connectionId, reason: error.message }, 'stateful reconnect: the WebSocket was lost; waiting for the client to reattach');
      }
      return;
    }
    this.finish(error, false);
  }

  protected finish(error: Error | undefined, closeTransport: boolean): void {
    const wasConnected = this.state === 'connected' || this.state === 'connecting';
    this.state = 'closed';
    this.outQueue = NOTHING_QUEUED;
    if (closeTransport) this.transport.close(1000);
    this.lifetime?.abort();
    this.lazyInvocations?.end(this.connectionId);
    this.host.connectionFinished(this);
    if (wasConnected) void this.disconnect(error);
  }

  private async disconnect(error: Error | undefined): Promise<void> {
    // Removal must follow the add, even when the add is still in flight (an async backplane).
    await this.connectTask;
    try {
      await this.endpoint.scaleOut.onDisconnected(this);
    } catch (err) {
      this.options.logger.error({ connectionId: this.connectionId, err }, 'scale-out failed to remove the connection');
    }
    try {
      await this.endpoint.definition.onDisconnected?.(this.context, error);
    } catch (err) {
      this.options.logger.error({ connectionId: this.connectionId, err }, 'onDisconnected failed');
    }
    if (this.openedAt !== undefined) {
      this.options.metrics?.connectionClosed?.(this.endpoint.name, this.transport.name, this.protocol.name, this.options.now() - this.openedAt);
    }
    this.options.logger.info({ connectionId: this.connectionId, hub: this.endpoint.name, ...(error ? { reason: error.message } : {}) }, 'connection closed');
  }
}
