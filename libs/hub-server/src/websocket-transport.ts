import type { TransferFormat } from '@switchboard/protocol';
import type { WebSocket } from 'ws';
import type { Transport } from './transport.js';

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
 * The raw socket under a `ws` WebSocket when nothing of ws's is queued in front of it (ws queues
 * only while compressing or reading a Blob, neither of which this transport does), so a frame
 * written to it keeps its place; undefined otherwise (then `ws.send` is used).
 */
function idleSocket(ws: WebSocket): NodeJS.WritableStream | undefined {
  const internals = ws as unknown as { _socket?: NodeJS.WritableStream; _sender?: { _state?: number; _queue?: unknown[] } };
  const sender = internals._sender;
  return sender && sender._state === 0 && sender._queue?.length === 0 ? internals._socket : undefined;
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
  readonly name = 'WebSockets' as const;
  readonly formats: readonly TransferFormat[] = BOTH_FORMATS;
  private ws: WebSocket;
  private paused = false;

  /** `resumable`: opened with a connection token, so a later upgrade may reattach (stateful reconnect). */
  constructor(
    ws: WebSocket,
    readonly resumable = false,
  ) {
    this.ws = ws;
    replyNormalClosure(ws);
  }

  /** The socket in use; events from any other (replaced) socket must be ignored. */
  get socket(): WebSocket {
    return this.ws;
  }

  /** Continues over `ws` (a reattach): the previous socket, if still open, is terminated. */
  replaceSocket(ws: WebSocket): void {
    const previous = this.ws;
    this.ws = ws;
    replyNormalClosure(ws);
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

/**
 * When a client closes without a status code (the official client's `stop()` and a browser's
 * `close()` do), `ws` answers with an empty close frame, which the client reports as 1005.
 * ASP.NET answers 1000 and the official tests expect `code 1000, wasClean`; so answer 1000.
 * This reaches into ws's receiver ('conclude' event), a stable part of ws 8.
 */
function replyNormalClosure(ws: WebSocket): void {
  const receiver = (ws as unknown as { _receiver?: NodeJS.EventEmitter })._receiver;
  if (!receiver) return;
  const [original] = receiver.listeners('conclude') as ConcludeListener[];
  if (!original) return;
  receiver.removeListener('conclude', original);
  receiver.on('conclude', normalClosureWrapper(original));
}

type ConcludeListener = (this: unknown, code: number, reason: Buffer) => void;
/** ws registers the same module-level listener on every socket: one wrapper serves them all. */
const wrappers = new WeakMap<ConcludeListener, ConcludeListener>();

function normalClosureWrapper(original: ConcludeListener): ConcludeListener {
  let wrapper = wrappers.get(original);
  if (!wrapper) {
    wrapper = function (this: unknown, code: number, reason: Buffer) {
      original.call(this, code === 1005 ? 1000 : code, reason);
    };
    wrappers.set(original, wrapper);
  }
  return wrapper;
}
