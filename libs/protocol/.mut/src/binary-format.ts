import { SwitchboardError } from './errors.js';
import { concat, tooLarge } from './text-format.js';

/** Largest length a 5-byte varint may carry (2^31 - 1), as in the SignalR spec. */
const MAX_VARINT_LENGTH = 0x7fffffff;

/** Writes the MessagePack framing prefix: 7 bits per byte, least significant group first. */
export function writeVarint(length: number): Uint8Array {
  const bytes: number[] = [];
  let rest = length;
  do {
    let b = rest & 0x7f;
    rest = Math.floor(rest / 128);
    if (rest > 0) b |= 0x80;
    bytes.push(b);
  } while (rest > 0);
  return Uint8Array.from(bytes);
}

/** Prefixes one MessagePack body with its varint length. */
export function frameBinary(body: Uint8Array): Uint8Array {
  const prefix = writeVarint(body.length);
  const out = new Uint8Array(prefix.length + body.length);
  out.set(prefix, 0);
  out.set(body, prefix.length);
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
