import type { EventEmitter } from 'node:events';
import type { WebSocket } from 'ws';

/*
 * Every use of `ws` internals, in one module. ws 8 gives no public way to do these things:
 *  - write a ready-made frame straight to the socket when nothing of ws's is queued in front of it
 *    (the fan-out fast path, websocket-transport.ts): `_socket`, `_sender._state`, `_sender._queue`;
 *  - answer a client's Close without a status code with 1000 (ASP.NET's answer; ws answers an
 *    empty close frame, which clients report as 1005): the receiver's 'conclude' listener;
 *  - write a SignalR error Close before ws answers an oversized frame with 1009: ws's own listener
 *    on the receiver's 'error' wrapped so that ours runs first, and the socket of a receiver
 *    (ws's `kWebSocket` symbol property) to find whose it is;
 *  - let go of the receiver's empty chunk list's backing store (`_buffers`) between messages;
 *  - answer pings from a listener shared by every socket (ws's receiver 'ping' listener wrapped),
 *    instead of ws's `autoPong`, which costs a closure per socket.
 * Each degrades to ws's public behaviour when the internal is missing (undefined socket, no
 * wrapper, no early listener). ws-internals.test.ts checks each internal on the installed ws and
 * fails loudly when a release changes one; the packages pin `ws` to the minor version it passed on
 * (~8.23.0 in libs/hub-server/package.json).
 */

interface WsInternals {
  _socket?: NodeJS.WritableStream;
  _sender?: { _state?: number; _queue?: unknown[] };
  _receiver?: EventEmitter & { _buffers?: unknown[] };
}

/** ws's error code for a frame over `maxPayload` (its receiver emits it before reading the frame). */
export const FRAME_TOO_LARGE_CODE = 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH';

/**
 * The raw socket under `ws` when nothing of ws's is queued in front of it (ws queues only while
 * compressing or reading a Blob, neither of which the transport does), so a frame written to it
 * keeps its place; undefined otherwise (then use `ws.send`).
 */
export function idleSocket(ws: WebSocket): NodeJS.WritableStream | undefined {
  const internals = ws as unknown as WsInternals;
  const sender = internals._sender;
  return sender && sender._state === 0 && sender._queue?.length === 0 ? internals._socket : undefined;
}

/** ws's frame parser of `ws` (an EventEmitter), or undefined when this ws has none where expected. */
export function receiverOf(ws: WebSocket): EventEmitter | undefined {
  return (ws as unknown as WsInternals)._receiver;
}

/** ws's `kWebSocket` symbol (`Symbol('websocket')`), found on the first receiver asked about. */
let kWebSocket: symbol | undefined;

/** The WebSocket whose frame parser `receiver` is (ws keeps it under its `kWebSocket` symbol), or undefined. */
export function webSocketOf(receiver: object): WebSocket | undefined {
  kWebSocket ??= Object.getOwnPropertySymbols(receiver).find((s) => s.description === 'websocket');
  if (!kWebSocket) return undefined;
  const ws = (receiver as Record<symbol, unknown>)[kWebSocket] as WebSocket | undefined;
  return ws && receiverOf(ws) === receiver ? ws : undefined;
}

/**
 * Lets go of the backing store of the receiver's chunk list when it is empty (call it between
 * messages). ws pushes each socket chunk onto `_buffers` and shifts it off once parsed; V8's
 * optimized `shift` keeps the array's capacity, so every socket that ever received a message
 * holds a 17-slot store (152 bytes) while it idles. Setting the length of an empty array to 0
 * trims it; the next chunk allocates a new one (an allocation per chunk, as small as any).
 */
export function releaseReadBuffers(ws: WebSocket): void {
  const buffers = (ws as unknown as WsInternals)._receiver?._buffers;
  if (buffers && buffers.length === 0) buffers.length = 0;
}

type ReceiverListener = (this: EventEmitter, ...args: unknown[]) => void;
type ReceiverErrorListener = (this: EventEmitter, err: Error & { code?: string }) => void;
/** The shared wrapper of each (ws's listener, ours) pair, and which of ours each wrapper runs. */
const wrappersOf = new WeakMap<ReceiverListener, WeakMap<ReceiverListener, ReceiverListener>>();
const wrappedBy = new WeakMap<ReceiverListener, ReceiverListener>();

/**
 * Makes `listener` run before ws's own `event` listener on `receiver`. ws registers the same
 * module-level listener on every receiver, so it is replaced by a wrapper shared by every socket:
 * a socket costs no listener array and no closure. Where ws's is not the only listener,
 * `listener` is prepended instead. Idempotent for the same `listener`.
 */
export function runBeforeReceiver<A extends unknown[]>(receiver: EventEmitter, event: string, listener: (this: EventEmitter, ...args: A) => void): void {
  const ours = listener as unknown as ReceiverListener;
  const listeners = receiver.listeners(event) as ReceiverListener[];
  if (listeners.some((l) => l === ours || wrappedBy.get(l) === ours)) return;
  if (listeners.length !== 1) {
    receiver.prependListener(event, ours);
    return;
  }
  const original = listeners[0]!;
  let byListener = wrappersOf.get(original);
  if (!byListener) wrappersOf.set(original, (byListener = new WeakMap()));
  let wrapper = byListener.get(ours);
  if (!wrapper) {
    wrapper = function (this: EventEmitter, ...args: unknown[]) {
      ours.apply(this, args);
      original.apply(this, args);
    };
    byListener.set(ours, wrapper);
    wrappedBy.set(wrapper, ours);
  }
  receiver.removeListener(event, original);
  receiver.on(event, wrapper);
}

/** `runBeforeReceiver` for 'error': ws closes the socket in its own listener (with 1009 for an oversized frame). */
export function runBeforeReceiverErrors(receiver: EventEmitter, listener: ReceiverErrorListener): void {
  runBeforeReceiver(receiver, 'error', listener);
}

/**
 * When a client closes without a status code (the official client's `stop()` and a browser's
 * `close()` do), `ws` answers with an empty close frame, which the client reports as 1005.
 * ASP.NET answers 1000 and the official tests expect `code 1000, wasClean`; so answer 1000, by
 * wrapping ws's 'conclude' listener on the receiver.
 */
export function replyNormalClosure(ws: WebSocket): void {
  const receiver = receiverOf(ws);
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
