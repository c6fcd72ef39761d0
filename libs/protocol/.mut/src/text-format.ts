import { SwitchboardError } from './errors.js';

/** The JSON protocol's record separator (0x1E) that ends every message and the handshake. */
export const RECORD_SEPARATOR = 0x1e;
export const RECORD_SEPARATOR_CHAR = '\u001e';

/**
 * Splits a byte stream into RS-terminated records. Units may end mid-record (a WebSocket frame or
 * POST body cut in the middle): the tail is kept until more bytes arrive. A pending tail longer
 * than `maxMessageSize` is refused so a peer cannot grow the buffer without bound.
 */
export class TextFrameReader {
  private pending: Uint8Array | undefined;

  constructor(private readonly maxMessageSize: number) {}

  /** Returns the complete records (without the RS) found so far, in order. */
  push(chunk: Uint8Array): Uint8Array[] {
    const data = this.pending ? concat(this.pending, chunk) : chunk;
    this.pending = undefined;
    const out: Uint8Array[] = [];
    let start = 0;
    for (;;) {
      const end = data.indexOf(RECORD_SEPARATOR, start);
      if (end < 0) break;
      if (end - start > this.maxMessageSize) throw tooLarge(end - start, this.maxMessageSize);
      out.push(data.subarray(start, end));
      start = end + 1;
    }
    if (start < data.length) {
      if (data.length - start > this.maxMessageSize) throw tooLarge(data.length - start, this.maxMessageSize);
      // Copy so the caller's chunk can be released or reused.
      this.pending = data.slice(start);
    }
    return out;
  }

  /** Bytes of an incomplete record waiting for the rest. */
  get bufferedBytes(): number {
    return this.pending?.length ?? 0;
  }
}

export function tooLarge(size: number, max: number): SwitchboardError {
  return new SwitchboardError(
    'SB_PROTOCOL_MESSAGE_TOO_LARGE',
    `The message of ${size} bytes (or more) exceeds the maximum message size of ${max} bytes. ` +
      'Send smaller messages or raise maxMessageSize on the server.',
  );
}

export function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}
