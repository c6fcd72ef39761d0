import { Encoder } from '@msgpack/msgpack';
import { SwitchboardError } from '@switchboard/protocol';
import { describe, expect, it } from 'vitest';
import { TransportOp } from '../transport-routing.js';
import { EnvelopeKind, GroupAction, TargetKind, decodeEnvelope, decodeTransportReply, encodeEnvelope, encodeTransportReply, type Envelope } from './envelope.js';

const msgpack = (v: unknown) => new Encoder().encode(v);

function invalid(bytes: Uint8Array): SwitchboardError {
  try {
    decodeEnvelope(bytes);
  } catch (err) {
    return err as SwitchboardError;
  }
  throw new Error('decodeEnvelope accepted malformed input');
}

describe('backplane envelopes', () => {
  const send: Envelope = {
    kind: EnvelopeKind.Send,
    origin: 'server-1',
    target: TargetKind.Group,
    name: 'room:1',
    excluded: ['c1', 'c2'],
    payloads: new Map([
      ['json', new Uint8Array([123, 125, 0x1e])],
      ['messagepack', new Uint8Array([3, 0x93, 1, 2])],
    ]),
  };

  it.each([
    ['send to a group', send],
    ['send to all, nobody excluded', { ...send, target: TargetKind.All, name: '', excluded: [] }],
    ['send to a user', { ...send, target: TargetKind.User, name: 'u1' }],
    ['send to a connection', { ...send, target: TargetKind.Connection, name: 'c9', excluded: [] }],
    ['send with its publish time', { ...send, sentAt: 1_733_400_000_123.375 }],
    ['group add', { kind: EnvelopeKind.GroupCommand, requestId: '7', replyTo: 'sb:chat:internal:return:s1', action: GroupAction.Add, connectionId: 'c1', group: 'g' }],
    ['group remove', { kind: EnvelopeKind.GroupCommand, requestId: '8', replyTo: 'r', action: GroupAction.Remove, connectionId: 'c1', group: 'g' }],
    ['invoke', { kind: EnvelopeKind.Invoke, requestId: '9', replyTo: 'r', connectionId: 'c1', target: 'Ask', args: ['q', 1, { a: [true, null] }], timeoutMs: 30_000 }],
    ['ok reply', { kind: EnvelopeKind.Reply, requestId: '9', ok: true, value: { answer: 42 } }],
    ['ok reply without a value', { kind: EnvelopeKind.Reply, requestId: '9', ok: true, value: null }],
    ['error reply with a code', { kind: EnvelopeKind.Reply, requestId: '10', ok: false, value: 'gone', code: 'SB_CONNECTION_NOT_FOUND' }],
    ['transport send', { kind: EnvelopeKind.TransportRequest, requestId: '11', replyTo: 'r', connectionId: 'c1', op: TransportOp.Send, body: new Uint8Array([123, 125, 0x1e]) }],
    ['transport poll', { kind: EnvelopeKind.TransportRequest, requestId: '12', replyTo: 'r', connectionId: 'c1', op: TransportOp.Poll, body: null }],
    ['transport delete', { kind: EnvelopeKind.TransportRequest, requestId: '13', replyTo: 'r', connectionId: 'c1', op: TransportOp.Delete, body: null }],
    ['transport abort', { kind: EnvelopeKind.TransportAbort, requestId: '12', replyTo: 'r' }],
    ['group count', { kind: EnvelopeKind.GroupCount, requestId: 'n3', replyTo: 'r', group: 'job:42' }],
    ['transport reply', { kind: EnvelopeKind.Reply, requestId: '12', ok: true, value: [200, new Uint8Array([1, 2]), 'application/octet-stream'] }],
  ] as [string, Envelope][])('round-trips %s', (_name, envelope) => {
    const bytes = encodeEnvelope(envelope);
    expect(bytes).toBeInstanceOf(Uint8Array);
    expect(decodeEnvelope(bytes)).toEqual(envelope);
  });

  it('encodes a forwarded poll as the documented array (byte fixture)', () => {
    const bytes = encodeEnvelope({ kind: EnvelopeKind.TransportRequest, requestId: '1', replyTo: 'r', connectionId: 'c', op: TransportOp.Poll, body: null });
    // fixarray(6): 5, "1", "r", "c", 2, nil
    expect(Buffer.from(bytes).toString('hex')).toBe('9605a131a172a16302c0');
    expect(Buffer.from(encodeEnvelope({ kind: EnvelopeKind.TransportAbort, requestId: '1', replyTo: 'r' })).toString('hex')).toBe('9306a131a172');
  });

  it('a transport reply value round-trips, and a malformed one is refused with SB_BACKPLANE_INVALID', () => {
    const reply = { status: 204, body: new Uint8Array(0) };
    const decoded = decodeEnvelope(encodeEnvelope({ kind: EnvelopeKind.Reply, requestId: '1', ok: true, value: encodeTransportReply(reply) }));
    expect(decodeTransportReply(decoded.kind === EnvelopeKind.Reply ? decoded.value : undefined)).toEqual(reply);
    for (const bad of [null, [], ['200', new Uint8Array(0)], [200, 'body']]) {
      expect(() => decodeTransportReply(bad)).toThrow(expect.objectContaining({ code: 'SB_BACKPLANE_INVALID' }));
    }
  });

  it('keeps the payload bytes of a send exactly', () => {
    const decoded = decodeEnvelope(encodeEnvelope(send));
    if (decoded.kind !== EnvelopeKind.Send) throw new Error('not a send');
    expect([...decoded.payloads.keys()].sort()).toEqual(['json', 'messagepack']);
    for (const [name, bytes] of send.payloads) {
      expect(decoded.payloads.get(name)).toBeInstanceOf(Uint8Array);
      expect(Buffer.from(decoded.payloads.get(name)!).equals(Buffer.from(bytes))).toBe(true);
    }
  });

  it('an undefined reply value travels as null and no code stays absent', () => {
    const decoded = decodeEnvelope(encodeEnvelope({ kind: EnvelopeKind.Reply, requestId: '1', ok: true, value: undefined }));
    expect(decoded).toEqual({ kind: EnvelopeKind.Reply, requestId: '1', ok: true, value: null });
    expect('code' in decoded).toBe(false);
  });

  it.each([
    ['not MessagePack', new Uint8Array([0xc1]), /not MessagePack/],
    ['empty input', new Uint8Array(), /not MessagePack/],
    ['text, not an array', new TextEncoder().encode('hello'), /not an array|not MessagePack/],
    ['a map, not an array', msgpack({ kind: 1 }), /not an array/],
    ['an unknown kind', msgpack([9, 'x']), /unknown kind 9/],
    ['a send with a number origin', msgpack([1, 5, 0, '', [], { json: new Uint8Array([1]) }]), /bad send header/],
    ['a send with target 4', msgpack([1, 's', 4, '', [], { json: new Uint8Array([1]) }]), /bad send header/],
    ['a send with target -1', msgpack([1, 's', -1, '', [], { json: new Uint8Array([1]) }]), /bad send header/],
    ['a send with a bad excluded list', msgpack([1, 's', 0, '', [1], { json: new Uint8Array([1]) }]), /bad excluded list/],
    ['a send without payloads', msgpack([1, 's', 0, '', [], {}]), /no payloads/],
    ['a send with string payloads', msgpack([1, 's', 0, '', [], { json: '{}' }]), /no payloads/],
    ['a send with a null payload map', msgpack([1, 's', 0, '', [], null]), /bad payload map/],
    ['a send with a string send time', msgpack([1, 's', 0, '', [], { json: new Uint8Array([1]) }, 'now']), /bad send time/],
    ['a group command with action 3', msgpack([2, '1', 'r', 3, 'c', 'g']), /bad group command/],
    ['a group command without a group', msgpack([2, '1', 'r', 1, 'c']), /bad group command/],
    ['an invoke without args', msgpack([3, '1', 'r', 'c', 'T', 'nope', 1000]), /bad invoke/],
    ['an invoke without a timeout', msgpack([3, '1', 'r', 'c', 'T', []]), /bad invoke/],
    ['a reply with a non-boolean ok', msgpack([4, '1', 1, null, null]), /bad reply/],
    ['a reply with a number request id', msgpack([4, 1, true, null, null]), /bad reply/],
    ['a transport request with op 0', msgpack([5, '1', 'r', 'c', 0, null]), /bad transport request/],
    ['a transport request with op 9', msgpack([5, '1', 'r', 'c', 9, null]), /bad transport request/],
    ['a transport request with a string body', msgpack([5, '1', 'r', 'c', 1, 'text']), /bad transport request body/],
    ['a transport request without a connection', msgpack([5, '1', 'r', null, 1, null]), /bad transport request/],
    ['a transport abort without a reply channel', msgpack([6, '1']), /bad transport abort/],
    ['a group count without a group', msgpack([7, 'n1', 'r']), /bad group count/],
  ])('refuses %s with SB_BACKPLANE_INVALID', (_name, bytes, detail) => {
    const err = invalid(bytes);
    expect(err).toBeInstanceOf(SwitchboardError);
    expect(err.code).toBe('SB_BACKPLANE_INVALID');
    expect(err.message).toMatch(detail);
    expect(err.message).toMatch(/^Ignored a malformed backplane envelope/);
  });
});

describe('the send time of a send envelope', () => {
  it('is absent when the publisher predates it (6 elements) or wrote nil', () => {
    const payloads = { json: new Uint8Array([1]) };
    expect(decodeEnvelope(msgpack([1, 's', 0, '', [], payloads]))).not.toHaveProperty('sentAt');
    expect(decodeEnvelope(msgpack([1, 's', 0, '', [], payloads, null]))).not.toHaveProperty('sentAt');
  });

  it('is read as an integer too (a generic encoder writes a whole number of ms as one)', () => {
    expect(decodeEnvelope(msgpack([1, 's', 0, '', [], { json: new Uint8Array([1]) }, 1_733_400_000_000]))).toMatchObject({ sentAt: 1_733_400_000_000 });
  });
});
