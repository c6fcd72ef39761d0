/**
 * The MessagePack of a Send envelope, `[1, origin, target, name, excluded, { protocol: bytes }]`,
 * then `sentAt` (a float64, ms since the epoch) when given, then `true` for a group's final send
 * (`sentAt` is nil there when not given), written by hand: byte for byte what the generic encoder
 * writes (smallest str/bin/array/map header for each length, positive fixints, float64 for the
 * time), so receivers decode it as before. Nodes that predate `sentAt` or `final` read the first
 * six (seven) elements and ignore the rest, so a rolling upgrade mixes versions safely (an older
 * node delivers a final send and keeps the group's members).
 *
 * Why: every message a worker sends goes through here, and the generic encoder walks an array,
 * a map built for it (`Object.fromEntries`), and copies its result out of a shared buffer. One
 * size computation and one allocation cost a fraction of that (bench/README.md, "Publisher cost").
 */
export function encodeSendEnvelope(
  kind: number,
  origin: string,
  target: number,
  name: string,
  excluded: readonly string[],
  payloads: ReadonlyMap<string, Uint8Array>,
  sentAt?: number,
  final = false,
): Uint8Array {
  return new SendEnvelopeWriter(origin, [...payloads.keys()], kind).encode(target, name, excluded, [...payloads.values()], sentAt, final);
}

/**
 * `encodeSendEnvelope` for one publisher: what never changes between its sends (the origin and
 * the protocol names, as MessagePack strings) is encoded once here, and a send passes only its
 * framed bodies, in the order of `protocols` (no Map, no envelope object per send).
 */
export class SendEnvelopeWriter {
  /** The kind (a fixint) and the origin string, as written after the array header. */
  private readonly head: Buffer;
  /** The payload map's header and each protocol name's string, in order. */
  private readonly mapHeader: Buffer;
  private readonly keys: readonly Buffer[];
  private readonly fixedSize: number;

  constructor(origin: string, protocols: readonly string[], kind = 1) {
    fixint(kind);
    this.head = Buffer.allocUnsafe(1 + strSize(origin));
    this.head[0] = kind;
    writeStr(this.head, 1, origin);
    this.mapHeader = Buffer.allocUnsafe(countHeader(protocols.length));
    writeCount(this.mapHeader, 0, protocols.length, 0x80, 0xde);
    this.keys = protocols.map((key) => {
      const out = Buffer.allocUnsafe(strSize(key));
      writeStr(out, 0, key);
      return out;
    });
    // Array header and target byte, then the constant parts.
    this.fixedSize = 2 + this.head.length + this.mapHeader.length + this.keys.reduce((n, k) => n + k.length, 0);
  }

  /** `bodies[i]` is the message framed for the i-th protocol given to the constructor. */
  encode(target: number, name: string, excluded: readonly string[], bodies: readonly Uint8Array[], sentAt?: number, final = false): Uint8Array {
    fixint(target);
    if (bodies.length !== this.keys.length) throw new RangeError(`Send envelope: ${bodies.length} bodies for ${this.keys.length} protocols.`);
    const stamped = sentAt !== undefined;
    if (stamped && !Number.isFinite(sentAt)) throw new RangeError(`Send envelope time is not a finite number: ${sentAt}.`);
    const nameBytes = Buffer.byteLength(name, 'utf8');
    // The time (float64, or nil before a final flag); the flag.
    let size = this.fixedSize + (stamped ? 9 : final ? 1 : 0) + (final ? 1 : 0) + strHeader(nameBytes) + nameBytes + countHeader(excluded.length);
    for (const id of excluded) size += strSize(id);
    for (const body of bodies) size += binHeader(body.length) + body.length;

    const out = Buffer.allocUnsafe(size);
    out[0] = final ? 0x98 : stamped ? 0x97 : 0x96; // fixarray of 8, 7 or 6
    out.set(this.head, 1);
    let pos = 1 + this.head.length;
    out[pos++] = target;
    pos = writeStr(out, pos, name, nameBytes);
    pos = writeCount(out, pos, excluded.length, 0x90, 0xdc);
    for (const id of excluded) pos = writeStr(out, pos, id);
    out.set(this.mapHeader, pos);
    pos += this.mapHeader.length;
    for (let i = 0; i < bodies.length; i++) {
      const key = this.keys[i]!;
      out.set(key, pos);
      pos = writeBin(out, pos + key.length, bodies[i]!);
    }
    if (stamped) {
      out[pos++] = 0xcb; // float64
      out.writeDoubleBE(sentAt, pos);
      pos += 8;
    } else if (final) out[pos++] = 0xc0; // nil
    if (final) out[pos++] = 0xc3; // true
    if (pos !== size) throw new Error(`Send envelope size mismatch: wrote ${pos} of ${size} bytes.`);
    // A plain Uint8Array, as the generic encoder returns (a decoder given a Buffer hands out Buffers).
    return new Uint8Array(out.buffer, out.byteOffset, size);
  }
}

/** Kind and target are small enums: one byte each (a positive fixint). */
function fixint(n: number): void {
  if (!Number.isInteger(n) || n < 0 || n > 0x7f) throw new RangeError(`Send envelope field out of range: ${n}.`);
}

function strSize(s: string): number {
  const n = Buffer.byteLength(s, 'utf8');
  return n + strHeader(n);
}

function strHeader(n: number): number {
  return n < 32 ? 1 : n < 0x100 ? 2 : n < 0x10000 ? 3 : 5;
}

/** `n`: the string's UTF-8 length, when the caller has it already (it is not free). */
function writeStr(out: Buffer, pos: number, s: string, n = Buffer.byteLength(s, 'utf8')): number {
  if (n < 32) out[pos++] = 0xa0 | n;
  else pos = writeLength(out, pos, n, 0xd9);
  return pos + out.write(s, pos, n, 'utf8');
}

function binHeader(n: number): number {
  return n < 0x100 ? 2 : n < 0x10000 ? 3 : 5;
}

function writeBin(out: Buffer, pos: number, bytes: Uint8Array): number {
  pos = writeLength(out, pos, bytes.length, 0xc4);
  out.set(bytes, pos);
  return pos + bytes.length;
}

/** A str/bin header with an 8-, 16- or 32-bit length: `tag8` (0xd9 str8, 0xc4 bin8), then the two wider tags after it. */
function writeLength(out: Buffer, pos: number, n: number, tag8: number): number {
  if (n < 0x100) {
    out[pos] = tag8;
    out[pos + 1] = n;
    return pos + 2;
  }
  if (n < 0x10000) {
    out[pos] = tag8 + 1;
    out.writeUInt16BE(n, pos + 1);
    return pos + 3;
  }
  out[pos] = tag8 + 2;
  out.writeUInt32BE(n, pos + 1);
  return pos + 5;
}

/** Header size of an array or map of `n` entries: fix form below 16, then 16- and 32-bit forms. */
function countHeader(n: number): number {
  return n < 16 ? 1 : n < 0x10000 ? 3 : 5;
}

/** `fix` is the fix form's tag (0x90 array, 0x80 map); `wide` the 16-bit form's (0xdc, 0xde), the 32-bit one follows it. */
function writeCount(out: Buffer, pos: number, n: number, fix: number, wide: number): number {
  if (n < 16) {
    out[pos++] = fix | n;
  } else if (n < 0x10000) {
    out[pos++] = wide;
    out.writeUInt16BE(n, pos);
    pos += 2;
  } else {
    out[pos++] = wide + 1;
    out.writeUInt32BE(n, pos);
    pos += 4;
  }
  return pos;
}
