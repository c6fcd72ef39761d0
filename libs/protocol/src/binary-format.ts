import { SwitchboardError } from './errors.js';
import { concat, tooLarge } from './text-format.js';

/** Largest length a 5-byte varint may carry (2^31 - 1), as in the SignalR spec. */
const MAX_VARINT_LENGTH = 0x7fffffff;

/** Bytes of the varint for `length` (1 to 5). */
function varintSize(length: number): number {
  let size = 1;
  for (let rest = Math.floor(length / 128); rest > 0; rest = Math.floor(rest / 128)) size++;
  return size;
}

/** Writes the varint of `length` (`size` bytes: 7 bits per byte, least significant group first) at the start of `out`. */
function putVarint(out: Uint8Array, length: number, size: number): void {
  let rest = length;
  for (let i = 0; i < size; i++) {
    out[i] = (rest & 0x7f) | (i < size - 1 ? 0x80 : 0);
    rest = Math.floor(rest / 128);
  }
}

/** The MessagePack framing prefix for a body of `length` bytes. */
export function writeVarint(length: number): Uint8Array {
  const out = new Uint8Array(varintSize(length));
  putVarint(out, length, out.length);
  return out;
}

/** Prefixes one MessagePack body with its varint length (one allocation: every message sent in MessagePack passes here). */
export function frameBinary(body: Uint8Array): Uint8Array {
  const prefix = varintSize(body.length);
  const out = new Uint8Array(prefix + body.length);
  putVarint(out, body.length, prefix);
  out.set(body, prefix);
  return out;
}

/**
 * Reads a varint at `offset`. Returns undefined when the prefix itself is cut off.
 * Throws on a prefix longer than 5 bytes or a length above 2^31-1.
 */
export function readVarint(data: Uint8Array, offset: number): { length: number; size: number } | undefined {
  let length = 0;
  let shift = 1;
  for (let i = 0; i < 5; i++) {
    if (offset + i >= data.length) return undefined;
    const b = data[offset + i]!;
    if (i === 4 && b > 0x07) break;
    length += (b & 0x7f) * shift;
    if ((b & 0x80) === 0) return { length, size: i + 1 };
    shift *= 128;
  }
  throw new SwitchboardError(
    'SB_PROTOCOL_INVALID_VARINT',
    `Invalid MessagePack length prefix: more than 5 bytes or above ${MAX_VARINT_LENGTH}. The peer is not speaking the SignalR MessagePack framing.`,
  );
}

/**
 * Splits a byte stream into varint-prefixed MessagePack bodies, keeping a cut-off tail for the
 * next chunk. A declared length above `maxMessageSize` is refused before any of it is buffered.
 */
export class BinaryFrameReader {
  private pending: Uint8Array | undefined;

  constructor(private readonly maxMessageSize: number) {}

  push(chunk: Uint8Array): Uint8Array[] {
    const data = this.pending ? concat(this.pending, chunk) : chunk;
    this.pending = undefined;
    const out: Uint8Array[] = [];
    let offset = 0;
    while (offset < data.length) {
      const prefix = readVarint(data, offset);
      if (!prefix) break;
      if (prefix.length > this.maxMessageSize) throw tooLarge(prefix.length, this.maxMessageSize);
      const start = offset + prefix.size;
      const end = start + prefix.length;
      if (end > data.length) break;
      out.push(data.subarray(start, end));
      offset = end;
    }
    if (offset < data.length) this.pending = data.slice(offset);
    return out;
  }

  get bufferedBytes(): number {
    return this.pending?.length ?? 0;
  }
}
