import { SwitchboardError, type TransferFormat } from '@switchboard/protocol';
import type { WebSocket } from 'ws';
import type { Transport } from '../connection/transport.js';
import type { Logger } from '../telemetry/logger.js';
import { FRAME_TOO_LARGE_CODE, idleSocket, receiverOf, replyNormalClosure, runBeforeReceiver, runBeforeReceiverErrors, webSocketOf } from './ws-internals.js';

/** Shared by every transport object (a per-connection array is memory for nothing). */
const BOTH_FORMATS: readonly TransferFormat[] = Object.freeze(['Text', 'Binary'] as const);

const TEXT = { binary: false, compress: false };
const BINARY = { binary: true, compress: false };

/**
 * Fan-out fast path. A server frame is not masked, so the WebSocket frame of a message is the same
 * bytes for every recipient: a group send writes one shared buffer per message (built once, see
 * `frameOf`) straight to each socket, one `write` each, instead of ws's per-send header
 * allocation and two corked writes. Larger units (batches) go through `ws.send` (no copy).
 */
const DIRECT_MAX_BYTES = 4096;
let lastData: Uint8Array | undefined;
let lastText = false;
let lastFrame: Buffer | undefined;

/** The complete unfragmented frame for `data`; the last one is kept (a broadcast asks for it N times in a row). */
function frameOf(data: Uint8Array, text: boolean): Buffer {
  if (data === lastData && text === lastText) return lastFrame!;
  const length = data.length;
  const header = length < 126 ? 2 : 4;
  const frame = Buffer.allocUnsafe(header + length);
  frame[0] = text ? 0x81 : 0x82;
  if (header === 2) frame[1] = length;
  else {
    frame[1] = 126;
    frame.writeUInt16BE(length, 2);
  }
  frame.set(data, header);
  lastData = data;
  lastText = text;
  lastFrame = frame;
  return frame;
}

/**
 * The largest WebSocket message `ws` accepts (its `maxPayload`). A frame may batch several hub
 * messages (the official client joins what it queued while a send was in flight), so it is above
 * `maxMessageSize`, which the hub protocol reader enforces per message with an error Close. A
 * larger frame is refused by `ws` as soon as its header says its length, before it is buffered:
 * see `watchOversizedFrames` for how the client still gets an error Close.
 */
export function webSocketFrameLimit(maxMessageSize: number): number {
  return Math.max(1024 * 1024, maxMessageSize * 4);
}

/** What a client that sent a frame over `webSocketFrameLimit(maxMessageSize)` is told (in its error Close, or its handshake error). */
export function frameTooLargeError(maxMessageSize: number): SwitchboardError {
  const limit = webSocketFrameLimit(maxMessageSize);
  return new SwitchboardError(
    'SB_PROTOCOL_MESSAGE_TOO_LARGE',
    `A WebSocket frame larger than ${limit} bytes arrived; this server takes hub messages of at most ${maxMessageSize} bytes (maxMessageSize) and frames of at most ${limit} bytes. ` +
      'Send smaller messages (split large data, or send it as a client-to-server stream), or raise maxMessageSize on the server.',
  );
}

/** Time a closing socket gets to finish the close handshake before it is destroyed (ASP.NET: 5 s). */
const CLOSE_TIMEOUT_MS = 5000;

/**
 * The WebSockets transport over a `ws` socket: text frames for JSON, binary for MessagePack.
 * With stateful reconnect the socket can be replaced (`replaceSocket`): the connection above
 * keeps this transport object and never sees the swap; while no socket is open, sends are dropped
 * (the connection keeps what matters in its replay buffer).
 */
export class WebSocketTransport implements Transport {
  private ws: WebSocket;
  private paused = false;
  /**
   * The hub connection over this transport (attach.ts): it gets the socket's messages and its end
   * through listeners shared by every socket (`transportOf` finds the transport of a socket), and
   * is told when the peer sent a frame over `webSocketFrameLimit`, while the socket is still open:
   * `ws` closes it with 1009 right after `refuseInput` returns, so what is written there
   * synchronously is the last thing the peer reads (the hub connection writes its error Close).
   * An object (the connection itself), not closures: an idle connection should cost little.
   */
  owner: SocketOwner | undefined;

  /** `resumable`: opened with a connection token, so a later upgrade may reattach (stateful reconnect). */
  constructor(
    ws: WebSocket,
    readonly resumable = false,
  ) {
    this.ws = ws;
    transports.set(ws, this);
    replyNormalClosure(ws);
    watchOversizedFrames(ws);
  }

  // On the prototype, not fields: 16 bytes less per connection.
  get name(): 'WebSockets' {
    return 'WebSockets';
  }

  get formats(): readonly TransferFormat[] {
    return BOTH_FORMATS;
  }

  /** The socket in use; events from any other (replaced) socket must be ignored. */
  get socket(): WebSocket {
    return this.ws;
  }

  /** Continues over `ws` (a reattach): the previous socket, if still open, is terminated. */
  replaceSocket(ws: WebSocket): void {
    const previous = this.ws;
    this.ws = ws;
    transports.set(ws, this);
    replyNormalClosure(ws);
    watchOversizedFrames(ws);
    if (this.paused) ws.pause();
    if (previous.readyState !== previous.CLOSED) previous.terminate();
  }

  send(data: Uint8Array, text: boolean): void {
    const ws = this.ws;
    if (ws.readyState !== ws.OPEN) return;
    const socket = idleSocket(ws);
    if (socket && data.length <= DIRECT_MAX_BYTES) socket.write(frameOf(data, text));
    else ws.send(data, text ? TEXT : BINARY);
  }

  close(code: number, reason?: string): void {
    const ws = this.ws;
    if (ws.readyState === ws.CLOSED || ws.readyState === ws.CLOSING) return;
    ws.close(code, reason);
    setTimeout(() => ws.terminate(), CLOSE_TIMEOUT_MS).unref();
  }

  get bufferedAmount(): number {
    return this.ws.bufferedAmount;
  }

  pause(): void {
    this.paused = true;
    this.ws.pause();
  }

  resume(): void {
    this.paused = false;
    this.ws.resume();
  }
}

/** What a transport tells about an oversized frame (see `WebSocketTransport.owner`): a hub connection is one. */
export interface FrameTooLargeHandler {
  readonly connectionId: string;
  readonly options: { readonly maxMessageSize: number; readonly logger: Logger };
  /** Handles the error as bad input (writes the SignalR error Close, synchronously). */
  refuseInput(err: SwitchboardError): void;
}

/** The owner of a transport (`WebSocketTransport.owner`): a hub connection. */
export interface SocketOwner extends FrameTooLargeHandler {
  readonly options: FrameTooLargeHandler['options'] & { readonly maxBufferedBytes: number };
  /** One received message. */
  receive(chunk: Uint8Array): void;
  /** The socket closed or failed; `error` unless it closed cleanly. */
  transportClosed(error: Error | undefined): void;
}

/**
 * The transport of every socket one was made for (the first socket and each reattach's), so that
 * listeners shared by every socket find theirs: a WeakMap entry costs less than a closure (and its
 * context) per listener, and the socket's entry goes with it.
 */
const transports = new WeakMap<WebSocket, WebSocketTransport>();

/** The transport `ws` was given to (its current socket or a replaced one), if any. */
export function transportOf(ws: WebSocket): WebSocketTransport | undefined {
  return transports.get(ws);
}

/**
 * A frame over `maxPayload` makes ws's receiver fail with WS_ERR_UNSUPPORTED_MESSAGE_LENGTH, and
 * ws's own listener on the receiver's 'error' at once closes the socket with 1009 and only then
 * emits 'error' on the WebSocket: too late to send anything (a close frame was already written).
 * A listener put in front of ws's on the receiver runs while the socket is still open, so the
 * transport's owner can write the SignalR error Close first; the official client then reports
 * `Server returned an error on close: ...` instead of `WebSocket closed with status code: 1009`.
 * Reaches into ws's receiver (ws-internals.ts); without it the socket only gets ws's 1009.
 */
function watchOversizedFrames(ws: WebSocket): void {
  const receiver = receiverOf(ws);
  if (receiver) runBeforeReceiverErrors(receiver, onReceiverError);
}

function onReceiverError(this: object, err: Error & { code?: string }): void {
  if (err.code !== FRAME_TOO_LARGE_CODE) return;
  const ws = webSocketOf(this);
  const transport = ws && transports.get(ws);
  // Only the transport's current socket speaks for the connection (a replaced one is ignored).
  if (!transport || transport.socket !== ws || ws.readyState !== ws.OPEN) return;
  const handler = transport.owner;
  if (!handler) return;
  // Runs inside ws's receiver 'error' emit: a throw here would be an uncaught exception.
  try {
    handler.refuseInput(frameTooLargeError(handler.options.maxMessageSize));
  } catch (err) {
    handler.options.logger.error({ connectionId: handler.connectionId, err }, 'answering an oversized WebSocket frame failed');
  }
}

/**
 * Output waiting to be written past which a peer that pings is cut off, when the socket has no
 * owner to say (the hub's default `maxBufferedBytes`).
 */
const PONG_BACKLOG_BYTES = 4 * 1024 * 1024;

/**
 * Answers the peer's pings with pongs (RFC 6455 5.5.2) on a socket of a server whose ws runs
 * without `autoPong` (server.ts): ws's own answer costs every socket a closure and four fields
 * (about 130 bytes of an idle connection) to count unsent pongs. Here one listener serves every
 * socket, run from ws's receiver (ws-internals.ts); where that internal is missing, a listener on
 * the socket's 'ping' event (shared too, one more event on the socket). Where ws cuts off a peer
 * with 60 pongs unsent, this cuts off one whose socket has more than the owner's
 * `maxBufferedBytes` waiting when it pings: a peer that pings and does not read cannot make the
 * server buffer without bound.
 */
export function answerPings(ws: WebSocket): void {
  const receiver = receiverOf(ws);
  if (receiver && webSocketOf(receiver) === ws) runBeforeReceiver(receiver, 'ping', onReceiverPing);
  else ws.on('ping', onSocketPing);
}

function onReceiverPing(this: object, data: Buffer): void {
  const ws = webSocketOf(this);
  if (ws) pong(ws, data);
}

function onSocketPing(this: WebSocket, data: Buffer): void {
  pong(this, data);
}

function pong(ws: WebSocket, data: Buffer): void {
  if (ws.readyState !== ws.OPEN) return;
  const limit = transports.get(ws)?.owner?.options.maxBufferedBytes ?? PONG_BACKLOG_BYTES;
  if (ws.bufferedAmount > limit) return void ws.terminate();
  ws.pong(data, false);
}
