import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';

/** What the server sent back on a raw TCP connection, and whether it closed it. */
export interface Exchange {
  readonly data: Buffer;
  /** The server ended or reset the connection within the wait. */
  readonly closed: boolean;
}

/**
 * Writes `request` (any bytes) on a new TCP connection and collects the answer until the server
 * closes, `done(data)` says it has enough, or `timeoutMs` passes; then destroys the socket.
 */
export function exchange(port: number, request: Uint8Array | readonly Uint8Array[], timeoutMs: number, done: (data: Buffer) => boolean = () => false): Promise<Exchange> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let settled = false;
    const finish = (closed: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ data: Buffer.concat(chunks), closed });
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    socket.on('data', (c: Buffer) => {
      chunks.push(c);
      if (done(Buffer.concat(chunks))) finish(false);
    });
    socket.on('error', () => finish(true));
    socket.on('close', () => finish(true));
    socket.on('connect', () => {
      for (const part of request instanceof Uint8Array ? [request] : request) socket.write(part);
    });
  });
}

/** The status of the first HTTP response in `data`, or undefined when there is none. */
export function statusOf(data: Buffer): number | undefined {
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(data.subarray(0, 32).toString('latin1'));
  return m ? Number(m[1]) : undefined;
}

/** Encodes one client WebSocket frame (masked, as clients must). */
export function clientFrame(opcode: number, payload: Uint8Array, fin = true): Buffer {
  const mask = randomBytes(4);
  const len = payload.length;
  const header = len < 126 ? Buffer.alloc(2) : len < 65536 ? Buffer.alloc(4) : Buffer.alloc(10);
  header[0] = (fin ? 0x80 : 0) | opcode;
  if (len < 126) header[1] = 0x80 | len;
  else if (len < 65536) {
    header[1] = 0x80 | 126;
    header.writeUInt16BE(len, 2);
  } else {
    header[1] = 0x80 | 127;
    header.writeBigUInt64BE(BigInt(len), 2);
  }
  const masked = Buffer.from(payload);
  for (let i = 0; i < masked.length; i++) masked[i]! ^= mask[i & 3]!;
  return Buffer.concat([header, mask, masked]);
}

/** The close code in the first close frame the server sent after the upgrade response, if any. */
export function serverCloseCode(data: Buffer): number | undefined {
  const start = data.indexOf('\r\n\r\n');
  if (start < 0) return undefined;
  let at = start + 4;
  while (at + 2 <= data.length) {
    const opcode = data[at]! & 0x0f;
    let len = data[at + 1]! & 0x7f;
    let header = 2;
    if (len === 126) {
      if (at + 4 > data.length) return undefined;
      len = data.readUInt16BE(at + 2);
      header = 4;
    } else if (len === 127) {
      if (at + 10 > data.length) return undefined;
      len = Number(data.readBigUInt64BE(at + 2));
      header = 10;
    }
    if (opcode === 0x8) return len >= 2 && at + header + 2 <= data.length ? data.readUInt16BE(at + header) : 1005;
    at += header + len;
  }
  return undefined;
}

/** The HTTP upgrade request for `path` (with its query), as a WebSocket client sends it. */
export function upgradeRequest(path: string): Buffer {
  return Buffer.from(
    `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\n\r\n`,
    'latin1',
  );
}

export type { Socket };
