import type { EventEmitter } from 'node:events';
import type { WebSocket } from 'ws';

/*
 * Every use of `ws` internals, in one module. ws 8 gives no public way to do these three things:
 *  - write a ready-made frame straight to the socket when nothing of ws's is queued in front of it
 *    (the fan-out fast path, websocket-transport.ts): `_socket`, `_sender._state`, `_sender._queue`;
 *  - answer a client's Close without a status code with 1000 (ASP.NET's answer; ws answers an
 *    empty close frame, which clients report as 1005): the receiver's 'conclude' listener;
 *  - write a SignalR error Close before ws answers an oversized frame with 1009: a listener put in
 *    front of ws's own on the receiver's 'error'.
 * Each degrades to ws's public behaviour when the internal is missing (undefined socket, no
 * wrapper, no early listener). ws-internals.test.ts checks each internal on the installed ws and
 * fails loudly when a release changes one; the packages pin `ws` to the minor version it passed on
 * (~8.23.0 in libs/hub-server/package.json).
 */

interface WsInternals {
  _socket?: NodeJS.WritableStream;
  _sender?: { _state?: number; _queue?: unknown[] };
  _receiver?: EventEmitter;
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

/** Puts `listener` in front of ws's own 'error' listener on `receiver` (ws closes the socket in its own). */
export function prependReceiverErrorListener(receiver: EventEmitter, listener: (this: EventEmitter, err: Error & { code?: string }) => void): void {
  receiver.prependListener('error', listener);
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
