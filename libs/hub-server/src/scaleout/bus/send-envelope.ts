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
  fixint(kind);
  fixint(target);
  const stamped = sentAt !== undefined;
  if (stamped && !Number.isFinite(sentAt)) throw new RangeError(`Send envelope time is not a finite number: ${sentAt}.`);
  // Array header, kind, target; the time (float64, or nil before a final flag); the flag.
  let size = 3 + (stamped ? 9 : final ? 1 : 0) + (final ? 1 : 0) + strSize(origin) + strSize(name) + countHeader(excluded.length);
  for (const id of excluded) size += strSize(id);
  size += countHeader(payloads.size);
  for (const [key, bytes] of payloads) size += strSize(key) + binHeader(bytes.length) + bytes.length;

  const out = Buffer.allocUnsafe(size);
  let pos = 0;
  out[pos++] = final ? 0x98 : stamped ? 0x97 : 0x96; // fixarray of 8, 7 or 6
  out[pos++] = kind;
  pos = writeStr(out, pos, origin);
  out[pos++] = target;
  pos = writeStr(out, pos, name);
  pos = writeCount(out, pos, excluded.length, 0x90, 0xdc);
  for (const id of excluded) pos = writeStr(out, pos, id);
  pos = writeCount(out, pos, payloads.size, 0x80, 0xde);
  for (const [key, bytes] of payloads) {
    pos = writeStr(out, pos, key);
    pos = writeBin(out, pos, bytes);
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

/** Kind and target are small enums: one byte each (a positive fixint). */
function fixint(n: number): void {
  if (!Number.isInteger(n) || n < 0 || n > 0x7f) throw new RangeError(`Send envelope field out of range: ${n}.`);
}

function strSize(s: string): number {
  const n = Buffer.byteLength(s, 'utf8');
  return n + (n < 32 ? 1 : n < 0x100 ? 2 : n < 0x10000 ? 3 : 5);
}

function writeStr(out: Buffer, pos: number, s: string): number {
  const n = Buffer.byteLength(s, 'utf8');
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
