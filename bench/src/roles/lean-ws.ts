import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';

/**
 * A minimal RFC 6455 client for load generation, so the load generator costs as little CPU as
 * possible and the servers are what is measured: one `net` socket, the HTTP upgrade written by
 * hand, and frames parsed in place from each read into one buffer shared by every socket of the
 * process (Node's `onread`), so receiving allocates nothing unless a frame spans two reads.
 * Text and binary frames go to the handler as `(buffer, start, end, binary)`; the buffer is reused
 * after the handler returns. Pings are answered; client frames are masked with a zero key (legal, and
 * the payload needs no copying). No extensions, no fragmented messages (none of the servers
 * measured fragments what it sends).
 */
const SHARED = Buffer.allocUnsafe(256 * 1024);

export class LeanWebSocket {
  closed = false;
  onClose: () => void = () => {};
  /** Frames received before a handler is set (copied): the setup phase reads them with `next`. */
  private readonly queue: Buffer[] = [];
  private wake: (() => void) | undefined;
  private handler: ((data: Buffer, start: number, end: number, binary: boolean) => void) | undefined;
  private carry: Buffer | undefined;
  private upgraded = false;
  private constructor(private readonly socket: Socket) {}

  /** `localAddress`: the source address to connect from (e.g. 127.0.0.2: every loopback source address has its own ephemeral ports). */
  static open(url: string, timeoutMs = 10_000, localAddress?: string): Promise<LeanWebSocket> {
    const u = new URL(url);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`WebSocket to ${url} did not open within ${timeoutMs} ms`));
      }, timeoutMs);
      const opened = () => {
        clearTimeout(timer);
        resolve(ws);
      };
      const failed = (err: Error) => {
        clearTimeout(timer);
        reject(err);
      };
      const socket = connect({
        host: u.hostname,
        port: Number(u.port),
        localAddress,
        noDelay: true,
        onread: {
          buffer: SHARED,
          callback: (n: number, buf: Uint8Array) => {
            ws.receive(buf as Buffer, n, opened, failed);
            return true;
          },
        },
      });
      const ws = new LeanWebSocket(socket);
      socket.once('connect', () => {
        socket.write(
          `GET ${u.pathname}${u.search} HTTP/1.1\r\nHost: ${u.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
            `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
        );
      });
      socket.on('error', failed);
      socket.on('close', () => {
        ws.closed = true;
        if (!ws.upgraded) failed(new Error(`WebSocket to ${url} closed before the upgrade`));
        ws.wake?.();
        ws.onClose();
      });
    });
  }

  /** The next queued frame (setup phase), or an error after `timeoutMs`. */
  async next(what: string, timeoutMs = 10_000): Promise<Buffer> {
    const deadline = Date.now() + timeoutMs;
    while (!this.queue.length) {
      const left = deadline - Date.now();
      if (left <= 0 || this.closed) throw new Error(`no ${what} within ${timeoutMs} ms${this.closed ? ' (socket closed)' : ''}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
    }
    return this.queue.shift()!;
  }

  /** From now on frames go to `handler` in place (queued ones first). */
  setHandler(handler: (data: Buffer, start: number, end: number, binary: boolean) => void): void {
    this.handler = handler;
    for (const q of this.queue.splice(0)) handler(q, 0, q.length, false);
  }

  private receive(chunk: Buffer, n: number, resolve: (ws: LeanWebSocket) => void, reject: (e: Error) => void): void {
    let buf = chunk;
    let end = n;
    if (this.carry) {
      buf = Buffer.concat([this.carry, chunk.subarray(0, n)]);
      end = buf.length;
      this.carry = undefined;
    }
    let off = 0;
    if (!this.upgraded) {
      const head = buf.indexOf('\r\n\r\n');
      if (head < 0 || head >= end) {
        this.carry = Buffer.from(buf.subarray(0, end));
        return;
      }
      const status = buf.toString('latin1', 0, Math.min(head, 40));
      if (!/^HTTP\/1\.1 101/.test(status)) {
        reject(new Error(`upgrade refused: ${buf.toString('latin1', 0, Math.min(end, 300))}`));
        this.socket.destroy();
        return;
      }
      this.upgraded = true;
      off = head + 4;
      resolve(this);
    }
    while (end - off >= 2) {
      const b0 = buf[off]!;
      let len = buf[off + 1]! & 0x7f;
      let header = 2;
      if (len === 126) {
        if (end - off < 4) break;
        len = buf.readUInt16BE(off + 2);
        header = 4;
      } else if (len === 127) {
        if (end - off < 10) break;
        len = buf.readUInt32BE(off + 2) * 2 ** 32 + buf.readUInt32BE(off + 6);
        header = 10;
      }
      if (end - off < header + len) break;
      const start = off + header;
      off = start + len;
      const opcode = b0 & 0x0f;
      if (opcode === 1 || opcode === 2) {
        if (this.handler) this.handler(buf, start, off, opcode === 2);
        else {
          this.queue.push(Buffer.from(buf.subarray(start, off)));
          this.wake?.();
        }
      }
      else if (opcode === 9) this.sendFrame(0x0a, buf.subarray(start, off));
      else if (opcode === 8) {
        this.sendFrame(0x08, buf.subarray(start, Math.min(off, start + 2)));
        this.socket.end();
      }
    }
    if (off < end) this.carry = Buffer.from(buf.subarray(off, end));
  }

  send(data: string | Uint8Array, binary = false): void {
    this.sendFrame(binary ? 0x02 : 0x01, typeof data === 'string' ? Buffer.from(data) : data);
  }

  private sendFrame(opcode: number, payload: Uint8Array): void {
    if (this.closed) return;
    const len = payload.length;
    const header = Buffer.alloc(len < 126 ? 6 : len < 65536 ? 8 : 14);
    header[0] = 0x80 | opcode;
    if (len < 126) header[1] = 0x80 | len;
    else if (len < 65536) {
      header[1] = 0x80 | 126;
      header.writeUInt16BE(len, 2);
    } else {
      header[1] = 0x80 | 127;
      header.writeUInt32BE(Math.floor(len / 2 ** 32), 2);
      header.writeUInt32BE(len >>> 0, 6);
    }
    // The 4-byte mask key stays zero: the payload goes out unchanged.
    this.socket.write(Buffer.concat([header, payload]));
  }

  close(): void {
    if (this.closed) return;
    this.sendFrame(0x08, Buffer.from([0x03, 0xe8]));
    this.socket.end();
  }

  terminate(): void {
    this.socket.destroy();
  }
}
