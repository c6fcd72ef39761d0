import { MessageType, SwitchboardError, completionWithError, isTrackable, type CompletionMessage, type HubMessage, type HubProtocol } from '@switchboard/protocol';
import type { HubEndpoint } from '../hub/hub-endpoint.js';
import type { ResolvedOptions } from '../options.js';
import { joinQueue } from './outbound-batch.js';
import type { StatefulReconnect } from './stateful-reconnect.js';
import type { Transport } from './transport.js';
import { writeScheduler, type SentTally, type Writable } from './write-scheduler.js';

/** ASP.NET's fixed text for a server-side close caused by an error. */
export const CLOSE_ERROR_TEXT = 'Connection closed with an error.';

/**
 * Queued output of this size leaves at the end of the turn whatever the write interval: a write
 * this large already amortizes its syscall, and holding more would let a burst overshoot
 * `maxBufferedBytes` (checked at each write) by up to an interval's worth of messages.
 */
const WRITE_NOW_BYTES = 16 * 1024;

/**
 * The output queue of a connection with nothing queued, shared by all of them: an idle connection
 * holds no array of its own (32 bytes each). Frozen, so a push onto it throws rather than queueing
 * into every connection; `queue` replaces it with a connection's own array on the first message.
 */
export const NOTHING_QUEUED: Uint8Array[] = Object.freeze([]) as unknown as Uint8Array[];

export type ConnectionState = 'handshake' | 'connecting' | 'connected' | 'closed';

/** How a connection is closed from the server side (see HubConnection.close). */
export interface CloseOptions {
  error?: string;
  allowReconnect?: boolean;
  cause?: unknown;
  clientError?: string;
}

/**
 * The outbound half of a hub connection (HubConnection extends it): the output queue, what goes
 * into it (framed sends from the scale-out, messages of this connection, tracked for replay under
 * stateful reconnect) and its write as one transport unit when the write scheduler says so
 * (write-scheduler.ts). Outbound messages queued together leave as one unit (several whole hub
 * messages per WebSocket frame), which the protocol allows and the client splits.
 */
export abstract class ConnectionOutput implements Writable {
  abstract readonly connectionId: string;
  protocol!: HubProtocol;
  protected state: ConnectionState = 'handshake';
  /** close() is under way (its flush must not start another close). */
  protected closing = false;
  protected lastSendAt: number;
  /** What waits for the next write, in order; NOTHING_QUEUED when empty (see there). */
  protected outQueue: Uint8Array[] = NOTHING_QUEUED;
  /** Bytes in `outQueue` since the last write (approximate after direct pushes; reset on every write). */
  protected outBytes = 0;
  /** Write scheduler state (see Writable). */
  lastWriteAt = 0;
  writeDue = 0;
  /** Stateful reconnect (sequence ids, replay buffer); set by a version-2 handshake where it is granted. */
  protected stateful: StatefulReconnect | undefined;

  constructor(
    readonly endpoint: HubEndpoint,
    readonly transport: Transport,
    readonly options: ResolvedOptions,
  ) {
    this.lastSendAt = options.now();
  }

  /** Disposes of the connection (HubConnection). */
  protected abstract finish(error: Error | undefined, closeTransport: boolean): void;

  /**
   * Queues an already framed Invocation (from the scale-out); with stateful reconnect it is
   * numbered and kept for replay, and may be held (see StatefulReconnect).
   */
  writeFramed(bytes: Uint8Array): void {
    if (this.stateful) this.writeTracked(bytes);
    else this.enqueue(bytes);
  }

  writeMessage(message: HubMessage): void {
    if (this.state === 'closed' || !this.protocol) return;
    const bytes = this.protocol.write(message);
    // An answer to the client's own call is not held back by the write interval.
    const urgent = message.type === MessageType.Completion;
    if (this.stateful && isTrackable(message)) this.writeTracked(bytes, urgent);
    else this.enqueue(bytes, urgent);
  }

  /**
   * Queues framed bytes; what is queued until the scheduler writes is written as one unit. While
   * connecting, the queue is held until the scale-out has added the connection (see `connect`).
   */
  protected enqueue(bytes: Uint8Array, urgent = false): void {
    if (this.state === 'closed') return;
    this.queue(bytes);
    this.outBytes += bytes.length;
    if (this.state !== 'connecting') writeScheduler.schedule(this, urgent || this.outBytes >= WRITE_NOW_BYTES);
  }

  /** Appends to the output queue (its own array from the first message on, see NOTHING_QUEUED). */
  private queue(bytes: Uint8Array): void {
    if (this.outQueue === NOTHING_QUEUED) this.outQueue = [bytes];
    else this.outQueue.push(bytes);
  }

  protected enqueueAll(list: readonly Uint8Array[]): void {
    for (const bytes of list) this.enqueue(bytes);
  }

  /** A trackable message under stateful reconnect: written now, or held until Acks (or a reattach) let it go. */
  private writeTracked(bytes: Uint8Array, urgent = false): void {
    if (this.state === 'closed') return;
    if (this.stateful!.add(bytes)) return this.enqueue(bytes, urgent);
    if (this.stateful!.heldBytes <= this.options.maxBufferedBytes) return;
    const message = `${this.stateful!.heldBytes} bytes are waiting for the client's acknowledgements, over maxBufferedBytes (${this.options.maxBufferedBytes}).`;
    this.options.logger.warn({ connectionId: this.connectionId, code: 'SB_RECONNECT_BUFFER_FULL' }, 'stateful reconnect: too many unacknowledged messages; closing with reconnect allowed');
    const cause = new SwitchboardError('SB_RECONNECT_BUFFER_FULL', message);
    if (this.stateful!.detached) this.finish(cause, false);
    else this.close({ error: `${CLOSE_ERROR_TEXT} SB_RECONNECT_BUFFER_FULL: ${message}`, allowReconnect: true, cause });
  }

  /** The server's cap on holding this connection's output (see Writable); read, not copied, so an idle connection carries no field for it. */
  get maxWriteDelayMs(): number {
    return this.options.maxWriteDelayMs;
  }

  /** The scheduler's write (see Writable); `tally` collects the metrics of its pass (reported once per hub). */
  writeQueued(tally: SentTally): void {
    this.flush(tally);
  }

  writeFailed(err: unknown): void {
    this.options.logger.error({ connectionId: this.connectionId, err }, 'writing to a connection failed');
  }

  /** Writes what is queued as one unit, now. */
  protected flush(tally?: SentTally): void {
    if (!tally) writeScheduler.wrote(this);
    const queue = this.outQueue;
    if (!queue.length || this.state === 'closed') return;
    this.outQueue = NOTHING_QUEUED;
    this.outBytes = 0;
    const data = joinQueue(queue);
    this.transport.send(data, !this.protocol || this.protocol.transferFormat === 'Text');
    const metrics = this.options.metrics;
    if (metrics?.messagesSent) {
      if (tally) tally.add(this.endpoint.name, metrics, queue.length, data.length);
      else metrics.messagesSent(this.endpoint.name, queue.length, data.length);
    }
    this.lastSendAt = this.options.now();
    // Not while closing: close() flushes its Close message through here (that was infinite recursion).
    if (this.transport.bufferedAmount > this.options.maxBufferedBytes && !this.closing) {
      this.options.logger.warn({ connectionId: this.connectionId, buffered: this.transport.bufferedAmount }, 'slow client: outbound buffer over maxBufferedBytes; closing with reconnect allowed');
      this.close({ error: `${CLOSE_ERROR_TEXT} The client reads too slowly.`, allowReconnect: true });
    }
  }

  sendCompletion(message: CompletionMessage): void {
    this.writeMessage(message);
  }

  completeWithError(invocationId: string | undefined, error: string): void {
    if (invocationId) this.writeMessage(completionWithError(invocationId, error));
  }

  /**
   * Ends the connection from the server side: a Close message (with `error` and
   * `allowReconnect` when given), then the transport closes with 1000.
   */
  close(opts: CloseOptions): void {
    if (this.state === 'closed' || this.closing) return;
    this.closing = true;
    if (this.protocol && this.state !== 'handshake') {
      this.queue(
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
}
