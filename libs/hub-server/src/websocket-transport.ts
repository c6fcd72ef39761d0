import type { TransferFormat } from '@switchboard/protocol';
import type { WebSocket } from 'ws';
import type { Transport } from './transport.js';

/** Time a closing socket gets to finish the close handshake before it is destroyed (ASP.NET: 5 s). */
const CLOSE_TIMEOUT_MS = 5000;

/** The WebSockets transport over a `ws` socket: text frames for JSON, binary for MessagePack. */
export class WebSocketTransport implements Transport {
  readonly name = 'WebSockets' as const;
  readonly formats: readonly TransferFormat[] = ['Text', 'Binary'];

  constructor(private readonly ws: WebSocket) {
    replyNormalClosure(ws);
  }

  send(data: Uint8Array, text: boolean): void {
    if (this.ws.readyState !== this.ws.OPEN) return;
    this.ws.send(data, { binary: !text, compress: false });
  }

  close(code: number, reason?: string): void {
    if (this.ws.readyState === this.ws.CLOSED || this.ws.readyState === this.ws.CLOSING) return;
    this.ws.close(code, reason);
    setTimeout(() => this.ws.terminate(), CLOSE_TIMEOUT_MS).unref();
  }

  get bufferedAmount(): number {
    return this.ws.bufferedAmount;
  }

  pause(): void {
    this.ws.pause();
  }

  resume(): void {
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
  const [original] = receiver.listeners('conclude') as ((code: number, reason: Buffer) => void)[];
  if (!original) return;
  receiver.removeListener('conclude', original);
  receiver.on('conclude', function (this: unknown, code: number, reason: Buffer) {
    original.call(this, code === 1005 ? 1000 : code, reason);
  });
}
