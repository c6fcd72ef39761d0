import {
  HANDSHAKE_OK,
  MessageType,
  PING,
  SwitchboardError,
  completionWithError,
  concat,
  parseHandshake,
  selectProtocol,
  writeHandshakeError,
  type CompletionMessage,
  type FrameReader,
  type HubMessage,
  type HubProtocol,
} from '@switchboard/protocol';
import { runInvocation } from './dispatcher.js';
import type { HubEndpoint } from './hub-endpoint.js';
import type { ConnectionRequestInfo, HubCallContext, HubUser } from './hub.js';
import type { ResolvedOptions } from './options.js';
import type { LocalConnection } from './scaleout.js';
import type { Transport } from './transport.js';
import type { UploadStream } from './upload-stream.js';
import { Semaphore } from './semaphore.js';

/** ASP.NET's fixed text for a server-side close caused by an error. */
export const CLOSE_ERROR_TEXT = 'Connection closed with an error.';

type State = 'handshake' | 'connecting' | 'connected' | 'closed';

export interface ConnectionInit {
  readonly connectionId: string;
  readonly user: HubUser | undefined;
  readonly request: ConnectionRequestInfo;
}

/**
 * One hub connection: handshake, inbound parsing and dispatch, batched outbound writes,
 * keep-alive and timeouts, client results. Transport-independent.
 *
 * Outbound writes queued in one turn of the event loop leave as one transport unit (several
 * whole hub messages per WebSocket frame), which the protocol allows and the client splits.
 */
export class HubConnection implements LocalConnection {
  readonly connectionId: string;
  readonly user: HubUser | undefined;
  readonly userId: string | undefined;
  protocol!: HubProtocol;
  /** Running server-to-client streams, by invocation id. */
  readonly streams = new Map<string, AbortController>();
  /** Open client-to-server streams, by stream id. */
  readonly uploads = new Map<string, UploadStream>();
  readonly invocationSlots: Semaphore;
  readonly context: HubCallContext;

  private state: State = 'handshake';
  private handshakeBuffer: Uint8Array | undefined;
  private reader!: FrameReader;
  private readonly createdAt: number;
  private lastSendAt: number;
  private lastReceiveAt: number;
  private clientPinged = false;
  private outQueue: Uint8Array[] = [];
  private flushScheduled = false;
  private readonly pendingResults = new Map<string, { resolve: (v: unknown) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  private resultCounter = 0;
  private readonly lifetime = new AbortController();
  private heldChunks: Uint8Array[] | undefined = [];
  private pauseReasons = 0;
  private connectTask: Promise<void> | undefined;
  /** When the connection was reported opened (logs, metrics); undefined until then. */
  private openedAt: number | undefined;

  constructor(
    readonly endpoint: HubEndpoint,
    readonly transport: Transport,
    readonly options: ResolvedOptions,
    init: ConnectionInit,
    private readonly onFinished: (connection: HubConnection) => void,
  ) {
    this.connectionId = init.connectionId;
    this.user = init.user;
    this.userId = init.user?.id;
    this.createdAt = this.lastSendAt = this.lastReceiveAt = options.now();
    this.invocationSlots = new Semaphore(options.maxParallelInvocations);
    const conn = this;
    this.context = {
      connectionId: init.connectionId,
      user: init.user,
      request: init.request,
      transport: transport.name,
      get protocol() {
        return conn.protocol?.name ?? '';
      },
      items: new Map(),
      signal: this.lifetime.signal,
      clients: endpoint.callerClients(init.connectionId),
      groups: endpoint.groups,
      abort: () => this.close({}),
    };
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
    this.writeFramed(HANDSHAKE_OK);
    if (parsed.rest.length) this.heldChunks!.push(parsed.rest.slice());
    this.connectTask = this.connect();
  }

  private async connect(): Promise<void> {
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
    switch (message.type) {
      case MessageType.Invocation:
      case MessageType.StreamInvocation:
        void runInvocation(this, message);
        return;
      case MessageType.StreamItem:
        this.uploads.get(message.invocationId)?.push(message.item);
        return;
      case MessageType.Completion:
        return this.onCompletion(message);
      case MessageType.CancelInvocation:
        this.streams.get(message.invocationId)?.abort();
        return;
      case MessageType.Ping:
        this.clientPinged = true;
        return;
      case MessageType.Close:
        // A client Close ends the connection without an error and without reconnect permission.
        this.close({ clientError: message.error });
        return;
      case MessageType.Ack:
      case MessageType.Sequence:
        // Only meaningful with stateful reconnect, which this server never grants at negotiate.
        return;
    }
  }

  private onCompletion(message: CompletionMessage): void {
    const pending = this.pendingResults.get(message.invocationId);
    if (pending) {
      this.pendingResults.delete(message.invocationId);
      clearTimeout(pending.timer);
      if (message.error !== undefined) pending.reject(new SwitchboardError('SB_CLIENT_RESULT_ERROR', message.error));
      else pending.resolve(message.result);
      return;
    }
    const upload = this.uploads.get(message.invocationId);
    if (upload) {
      this.uploads.delete(message.invocationId);
      upload.complete(message.error);
    }
  }

  /**
   * Queues framed bytes; everything queued in this turn is written as one unit. While connecting,
   * the queue is held until the scale-out has added the connection (see `connect`).
   */
  writeFramed(bytes: Uint8Array): void {
    if (this.state === 'closed') return;
    this.outQueue.push(bytes);
    if (!this.flushScheduled && this.state !== 'connecting') {
      this.flushScheduled = true;
      queueMicrotask(this.flush);
    }
  }

  writeMessage(message: HubMessage): void {
    if (this.state === 'closed' || !this.protocol) return;
    this.writeFramed(this.protocol.write(message));
  }

  private readonly flush = (): void => {
    this.flushScheduled = false;
    const queue = this.outQueue;
    if (!queue.length || this.state === 'closed') return;
    this.outQueue = [];
    const data = queue.length === 1 ? queue[0]! : Buffer.concat(queue);
    this.transport.send(data, !this.protocol || this.protocol.transferFormat === 'Text');
    this.options.metrics?.messagesSent?.(this.endpoint.name, queue.length, data.length);
    this.lastSendAt = this.options.now();
    if (this.transport.bufferedAmount > this.options.maxBufferedBytes) {
      this.options.logger.warn({ connectionId: this.connectionId, buffered: this.transport.bufferedAmount }, 'slow client: outbound buffer over maxBufferedBytes; closing with reconnect allowed');
      this.close({ error: `${CLOSE_ERROR_TEXT} The client reads too slowly.`, allowReconnect: true });
    }
  };

  invokeClient(target: string, args: unknown[], timeoutMs: number): Promise<unknown> {
    if (this.state !== 'connected' && this.state !== 'connecting') {
      return Promise.reject(new SwitchboardError('SB_CONNECTION_CLOSED', `Connection '${this.connectionId}' disconnected.`));
    }
    const invocationId = `s${++this.resultCounter}`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pendingResults.delete(invocationId);
        reject(new SwitchboardError('SB_CLIENT_RESULT_TIMEOUT', `The client did not answer '${target}' within ${timeoutMs} ms. Check that it registers a handler with connection.on('${target}', ...) that returns a value.`));
      }, timeoutMs);
      timer.unref();
      this.pendingResults.set(invocationId, { resolve, reject, timer });
      this.writeMessage({ type: MessageType.Invocation, invocationId, target, arguments: args });
    });
  }

  sendCompletion(message: CompletionMessage): void {
    this.writeMessage(message);
  }

  completeWithError(invocationId: string | undefined, error: string): void {
    if (invocationId) this.writeMessage(completionWithError(invocationId, error));
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
      if (now - this.createdAt > this.options.handshakeTimeoutMs) this.refuseHandshake('Handshake was canceled.', 'SB_HANDSHAKE_TIMEOUT');
      return;
    }
    // Long polling has inherent keep-alive: no Pings either way, and its own inactivity rule.
    if (this.state !== 'connected' || this.transport.inherentKeepAlive) return;
    if (this.clientPinged && now - this.lastReceiveAt > this.options.clientTimeoutMs) {
      this.options.logger.warn({ connectionId: this.connectionId, code: 'SB_SERVER_TIMEOUT' }, `no message from the client for ${this.options.clientTimeoutMs} ms; closing`);
      this.close({ error: CLOSE_ERROR_TEXT, allowReconnect: true, cause: new SwitchboardError('SB_SERVER_TIMEOUT', 'client timeout') });
      return;
    }
    if (now - this.lastSendAt >= this.options.keepAliveIntervalMs && this.outQueue.length === 0) this.writeMessage(PING);
  }

  private refuseHandshake(error: string, reason: string): void {
    this.options.logger.warn({ connectionId: this.connectionId, hub: this.endpoint.name, reason }, `handshake refused: ${error}`);
    this.outQueue = [];
    this.transport.send(writeHandshakeError(error), true);
    this.finish(undefined, true);
  }

  private failProtocol(err: unknown): void {
    const e = err instanceof Error ? err : new Error(String(err));
    const code = e instanceof SwitchboardError ? e.code : 'SB_PROTOCOL_INVALID_MESSAGE';
    this.options.logger.warn({ connectionId: this.connectionId, hub: this.endpoint.name, code, error: e.message }, 'bad input from client; closing this connection');
    if (this.state === 'handshake') return this.refuseHandshake(`${e.message}`, code);
    this.close({ error: `${CLOSE_ERROR_TEXT} ${code}: ${e.message}`, allowReconnect: true, cause: e });
  }

  /**
   * Ends the connection from the server side: a Close message (with `error` and
   * `allowReconnect` when given), then the transport closes with 1000.
   */
  close(opts: { error?: string; allowReconnect?: boolean; cause?: unknown; clientError?: string }): void {
    if (this.state === 'closed') return;
    if (this.protocol && this.state !== 'handshake') {
      this.outQueue.push(
        this.protocol.write({
          type: MessageType.Close,
          ...(opts.error ? { error: opts.error } : {}),
          ...(opts.allowReconnect ? { allowReconnect: true } : {}),
        }),
      );
    }
    this.flush();
    const cause = opts.cause ?? (opts.clientError ? new Error(opts.clientError) : undefined);
    this.finish(cause instanceof Error ? cause : undefined, true);
  }

  /** The transport went away (socket closed or errored). */
  transportClosed(error: Error | undefined): void {
    if (this.state === 'closed') return;
    this.finish(error, false);
  }

  private finish(error: Error | undefined, closeTransport: boolean): void {
    const wasConnected = this.state === 'connected' || this.state === 'connecting';
    this.state = 'closed';
    this.outQueue = [];
    if (closeTransport) this.transport.close(1000);
    this.lifetime.abort();
    for (const c of this.streams.values()) c.abort();
    for (const u of this.uploads.values()) u.complete(new SwitchboardError('SB_CONNECTION_CLOSED', 'The connection closed before the upload stream completed.'));
    this.uploads.clear();
    for (const [id, p] of this.pendingResults) {
      clearTimeout(p.timer);
      p.reject(new SwitchboardError('SB_CONNECTION_CLOSED', `Connection '${this.connectionId}' disconnected.`));
      this.pendingResults.delete(id);
    }
    this.onFinished(this);
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
