import { Decoder, Encoder } from '@msgpack/msgpack';
import { describe, expect, it } from 'vitest';
import { EnvelopeKind, TargetKind, decodeEnvelope } from './envelope.js';
import { SendEnvelopeWriter, encodeSendEnvelope } from './send-envelope.js';

/** What the generic encoder writes for the same envelope (the format receivers have always read). */
const generic = (origin: string, target: number, name: string, excluded: string[], payloads: Map<string, Uint8Array>) =>
  Buffer.from(new Encoder().encode([EnvelopeKind.Send, origin, target, name, excluded, Object.fromEntries(payloads)]));

const bytes = (n: number) => Uint8Array.from({ length: n }, (_, i) => i & 0xff);
const payloads = (...sizes: number[]) => new Map(sizes.map((n, i) => [i === 0 ? 'json' : `p${i}`, bytes(n)]));

describe('encodeSendEnvelope', () => {
  // Every boundary of every header form: fixstr/str8/str16/str32, bin8/16/32, fixarray/array16, fixmap/map16.
  const strings = ['', 'a', 'x'.repeat(31), 'x'.repeat(32), 'x'.repeat(255), 'x'.repeat(256), 'x'.repeat(65_535), 'x'.repeat(65_536), 'ü☃'.repeat(11), '😀'.repeat(8)];
  it.each(strings.map((s) => [s.length, s]))('origin and name of %i chars: the generic encoder’s bytes', (_n, s) => {
    const p = payloads(3);
    expect(Buffer.from(encodeSendEnvelope(1, s, TargetKind.Group, s, [], p))).toStrictEqual(generic(s, TargetKind.Group, s, [], p));
  });

  it.each([0, 1, 255, 256, 65_535, 65_536])('a payload of %i bytes', (n) => {
    const p = payloads(n, 5);
    expect(Buffer.from(encodeSendEnvelope(1, 's1', TargetKind.All, '', [], p))).toStrictEqual(generic('s1', TargetKind.All, '', [], p));
  });

  it.each([0, 1, 15, 16, 300])('%i excluded connection ids', (n) => {
    const ids = Array.from({ length: n }, (_, i) => `conn-${i}`);
    const p = payloads(10, 20);
    expect(Buffer.from(encodeSendEnvelope(1, 's1', TargetKind.User, 'u', ids, p))).toStrictEqual(generic('s1', TargetKind.User, 'u', ids, p));
  });

  it.each([1, 15, 16, 17])('%i payloads (map headers)', (n) => {
    const p = payloads(...Array.from({ length: n }, (_, i) => i * 40));
    expect(Buffer.from(encodeSendEnvelope(1, 's1', TargetKind.Connection, 'c', [], p))).toStrictEqual(generic('s1', TargetKind.Connection, 'c', [], p));
  });

  it('decodes back to the same envelope', () => {
    const p = new Map([
      ['json', Uint8Array.from([123, 125, 0x1e])],
      ['messagepack', Uint8Array.from([3, 0x93, 1, 2])],
    ]);
    expect(decodeEnvelope(encodeSendEnvelope(1, 'node-☃', TargetKind.Group, 'job:42', ['c1'], p))).toStrictEqual({
      kind: EnvelopeKind.Send, origin: 'node-☃', target: TargetKind.Group, name: 'job:42', excluded: ['c1'], payloads: p,
    });
  });

  it('with a send time: the generic encoder’s bytes for the 7-element array, decoded with sentAt', () => {
    const p = payloads(10, 20);
    for (const sentAt of [1_733_400_000_123.4567, 0, 1e15 + 0.5]) {
      const bytes = encodeSendEnvelope(1, 's1', TargetKind.Group, 'g', ['c1'], p, sentAt);
      const encoder = new Encoder();
      // The generic encoder writes an integral time as an integer; compare what it writes for floats.
      if (!Number.isInteger(sentAt)) expect(Buffer.from(bytes)).toStrictEqual(Buffer.from(encoder.encode([1, 's1', TargetKind.Group, 'g', ['c1'], Object.fromEntries(p), sentAt])));
      expect(decodeEnvelope(bytes)).toStrictEqual({ kind: EnvelopeKind.Send, origin: 's1', target: TargetKind.Group, name: 'g', excluded: ['c1'], payloads: p, sentAt });
    }
  });

  it('a reader of the first six elements (an older node) still finds the same send', () => {
    const p = payloads(4);
    const stamped = new Decoder().decode(encodeSendEnvelope(1, 's1', TargetKind.All, '', [], p, 1_733_400_000_000.25)) as unknown[];
    const plain = new Decoder().decode(encodeSendEnvelope(1, 's1', TargetKind.All, '', [], p)) as unknown[];
    expect(stamped.slice(0, 6)).toStrictEqual(plain);
    expect(stamped[6]).toBe(1_733_400_000_000.25);
  });

  it("a group's final send: `true` after the time (nil without one); older readers see the same send", () => {
    const p = payloads(4);
    const generic = new Encoder();
    for (const sentAt of [1_733_400_000_000.25, undefined]) {
      const bytes = encodeSendEnvelope(1, 's1', TargetKind.Group, 'job:42', [], p, sentAt, true);
      expect(Buffer.from(bytes)).toStrictEqual(Buffer.from(generic.encode([1, 's1', TargetKind.Group, 'job:42', [], Object.fromEntries(p), sentAt ?? null, true])));
      expect(decodeEnvelope(bytes)).toStrictEqual({ kind: EnvelopeKind.Send, origin: 's1', target: TargetKind.Group, name: 'job:42', excluded: [], payloads: p, ...(sentAt === undefined ? {} : { sentAt }), final: true });
      const older = new Decoder().decode(bytes) as unknown[];
      expect(older.slice(0, 6)).toStrictEqual(new Decoder().decode(encodeSendEnvelope(1, 's1', TargetKind.Group, 'job:42', [], p)) as unknown[]);
    }
    // Only a group send can be final.
    expect(decodeEnvelope(encodeSendEnvelope(1, 's1', TargetKind.All, '', [], p, 1, true))).not.toHaveProperty('final');
  });

  it('refuses a send time that is not a finite number', () => {
    expect(() => encodeSendEnvelope(1, 's', 1, 'n', [], payloads(1), Number.NaN)).toThrow(RangeError);
    expect(() => encodeSendEnvelope(1, 's', 1, 'n', [], payloads(1), Number.POSITIVE_INFINITY)).toThrow(RangeError);
  });

  it('rejects a kind or target that is not a one-byte enum', () => {
    expect(() => encodeSendEnvelope(1, 's', 128, 'n', [], payloads(1))).toThrow(RangeError);
    expect(() => encodeSendEnvelope(-1, 's', 1, 'n', [], payloads(1))).toThrow(RangeError);
    expect(() => encodeSendEnvelope(1, 's', 1.5, 'n', [], payloads(1))).toThrow(RangeError);
  });
});

describe('SendEnvelopeWriter (one per publisher: origin and protocol names encoded once)', () => {
  it('writes, send after send, the generic encoder’s bytes for each', () => {
    const writer = new SendEnvelopeWriter('node-☃'.repeat(5), ['json', 'messagepack']);
    const names = ['', 'job:42', 'x'.repeat(31), 'x'.repeat(32), 'ü☃'.repeat(100), '😀'.repeat(70)];
    for (const name of names) {
      for (const excluded of [[], ['c1', 'c2'], Array.from({ length: 20 }, (_, i) => `conn-${i}`)]) {
        const bodies = [bytes(name.length % 300), bytes(300)];
        const p = new Map([
          ['json', bodies[0]!],
          ['messagepack', bodies[1]!],
        ]);
        const sentAt = 1_733_400_000_000.5;
        expect(Buffer.from(writer.encode(TargetKind.Group, name, excluded, bodies, sentAt))).toStrictEqual(
          Buffer.from(new Encoder().encode([1, 'node-☃'.repeat(5), TargetKind.Group, name, excluded, Object.fromEntries(p), sentAt])),
        );
        expect(Buffer.from(writer.encode(TargetKind.Group, name, excluded, bodies, sentAt, true))).toStrictEqual(Buffer.from(encodeSendEnvelope(1, 'node-☃'.repeat(5), TargetKind.Group, name, excluded, p, sentAt, true)));
        expect(Buffer.from(writer.encode(TargetKind.User, name, excluded, bodies))).toStrictEqual(generic('node-☃'.repeat(5), TargetKind.User, name, excluded, p));
      }
    }
  });

  it('returns a plain Uint8Array, and refuses bodies that do not match its protocols', () => {
    const writer = new SendEnvelopeWriter('s1', ['json', 'messagepack']);
    const out = writer.encode(TargetKind.All, '', [], [bytes(1), bytes(2)]);
    expect(Object.getPrototypeOf(out)).toBe(Uint8Array.prototype);
    expect(() => writer.encode(TargetKind.All, '', [], [bytes(1)])).toThrow(RangeError);
    expect(() => writer.encode(200, '', [], [bytes(1), bytes(2)])).toThrow(RangeError);
  });
});
