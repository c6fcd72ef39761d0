import type { ServerResponse } from 'node:http';
import type { TransferFormat } from '@switchboard/protocol';
import { HttpInbound } from './http-inbound.js';
import type { Transport } from '../connection/transport.js';

const DATA = Buffer.from('data: ');
const CRLF = Buffer.from('\r\n');

/**
 * One outbound unit as one Server-Sent Event, as ASP.NET's formatter writes it: every line of the
 * payload (split on LF, a trailing CR removed) becomes `data: <line>\r\n`, and a blank line ends
 * the event. The client joins the lines with LF, so payloads without CR round-trip exactly (JSON
 * hub traffic has no raw line breaks at all: one event = `data: <records>\r\n\r\n`).
 */
export function formatSseEvent(payload: Uint8Array): Buffer {
  const buf = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
  const parts: Buffer[] = [];
  for (let start = 0; ; ) {
    const lf = buf.indexOf(0x0a, start);
    const end = lf < 0 ? buf.length : lf;
    const lineEnd = end > start && buf[end - 1] === 0x0d ? end - 1 : end;
    parts.push(DATA, buf.subarray(start, lineEnd), CRLF);
    if (lf < 0) break;
    start = lf + 1;
  }
  parts.push(CRLF);
  return Buffer.concat(parts);
}

/**
 * Server-Sent Events (server to client) over one held GET response; the client sends with POSTs
 * (HttpInbound). Text only: MessagePack is refused at the handshake with the transfer-format error.
 * The stream ends when the connection closes; when the client closes it (its `stop()` just closes
 * the EventSource) the owner tears the connection down.
 */
export class SseTransport extends HttpInbound implements Transport {
  readonly name = 'ServerSentEvents' as const;
  readonly formats: readonly TransferFormat[] = ['Text'];

  constructor(private readonly res: ServerResponse) {
    super();
  }

  /** Sends the stream head: 200 `text/event-stream`, unbuffered, then the `:\r\n` comment (makes browsers fire `open`). */
  start(): void {
    this.res.socket?.setNoDelay(true);
    this.res.writeHead(200, {
      'Content-Type': 'text/event-stream',
      'Cache-Control': 'no-cache, no-store',
      Pragma: 'no-cache',
      'Content-Encoding': 'identity',
      // nginx and similar proxies buffer responses unless told not to.
      'X-Accel-Buffering': 'no',
    });
    this.res.write(':\r\n');
  }

  get isOpen(): boolean {
    return !this.res.writableEnded && !this.res.destroyed;
  }

  send(data: Uint8Array): void {
    if (this.isOpen) this.res.write(formatSseEvent(data));
  }

  close(): void {
    this.endInbound();
    if (this.isOpen) this.res.end();
  }

  get bufferedAmount(): number {
    return this.res.writableLength;
  }
}
