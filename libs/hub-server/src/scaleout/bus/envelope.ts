import { Decoder, Encoder } from '@msgpack/msgpack';
import { SwitchboardError } from '@switchboard/protocol';
import { TransportOp, type TransportReply } from '../transport-routing.js';
import { encodeSendEnvelope } from './send-envelope.js';
import type { SendTarget } from './scaleout-options.js';

/**
 * Backplane envelopes: MessagePack arrays whose first element is the kind. A send carries the
 * hub message already framed for every protocol, so receiving nodes write bytes and never
 * re-serialize per recipient.
 */
export const EnvelopeKind = { Send: 1, GroupCommand: 2, Invoke: 3, Reply: 4, TransportRequest: 5, TransportAbort: 6, GroupCount: 7 } as const;
export const TargetKind = { All: 0, Group: 1, User: 2, Connection: 3 } as const;
export type TargetKind = (typeof TargetKind)[keyof typeof TargetKind];
/** The `SendTarget` name of each TargetKind (what `BackplaneMetrics.sendPublished` reports). */
export const SEND_TARGET_NAMES: Record<TargetKind, SendTarget> = { [TargetKind.All]: 'all', [TargetKind.Group]: 'group', [TargetKind.User]: 'user', [TargetKind.Connection]: 'connection' };
export const GroupAction = { Add: 1, Remove: 2 } as const;

export type Envelope =
  /**
   * `sentAt`: when it was published (ms since the epoch, the publisher's clock); absent from versions that predate it.
   * `final`: a group's last send (ScaleOut.sendGroupFinal): receivers remove their members of the group after writing it.
   */
  | { kind: typeof EnvelopeKind.Send; origin: string; target: TargetKind; name: string; excluded: string[]; payloads: Map<string, Uint8Array>; sentAt?: number; final?: true }
  | { kind: typeof EnvelopeKind.GroupCommand; requestId: string; replyTo: string; action: 1 | 2; connectionId: string; group: string }
  | { kind: typeof EnvelopeKind.Invoke; requestId: string; replyTo: string; connectionId: string; target: string; args: unknown[]; timeoutMs: number }
  | { kind: typeof EnvelopeKind.Reply; requestId: string; ok: boolean; value: unknown; code?: string }
  /** An HTTP transport request forwarded to the connection's owner; answered by a Reply whose value is `[status, body, contentType | nil]`. */
  | { kind: typeof EnvelopeKind.TransportRequest; requestId: string; replyTo: string; connectionId: string; op: TransportOp; body: Uint8Array | null }
  /** The client of a forwarded request (a poll) went away: the owner drops the request without answering. */
  | { kind: typeof EnvelopeKind.TransportAbort; requestId: string; replyTo: string }
  /** Published on a group's channel: every node holding members answers with a Reply whose value is its member count. */
  | { kind: typeof EnvelopeKind.GroupCount; requestId: string; replyTo: string; group: string };

const encoder = new Encoder();
const decoder = new Decoder();

export function encodeEnvelope(e: Envelope): Uint8Array {
  switch (e.kind) {
    case EnvelopeKind.Send:
      return encodeSendEnvelope(e.kind, e.origin, e.target, e.name, e.excluded, e.payloads, e.sentAt, e.final === true);
    case EnvelopeKind.GroupCommand:
      return encoder.encode([e.kind, e.requestId, e.replyTo, e.action, e.connectionId, e.group]);
    case EnvelopeKind.Invoke:
      return encoder.encode([e.kind, e.requestId, e.replyTo, e.connectionId, e.target, e.args, e.timeoutMs]);
    case EnvelopeKind.Reply:
      return encoder.encode([e.kind, e.requestId, e.ok, e.value ?? null, e.code ?? null]);
    case EnvelopeKind.TransportRequest:
      return encoder.encode([e.kind, e.requestId, e.replyTo, e.connectionId, e.op, e.body]);
    case EnvelopeKind.TransportAbort:
      return encoder.encode([e.kind, e.requestId, e.replyTo]);
    case EnvelopeKind.GroupCount:
      return encoder.encode([e.kind, e.requestId, e.replyTo, e.group]);
  }
}

function bad(detail: string): SwitchboardError {
  return new SwitchboardError('SB_BACKPLANE_INVALID', `Ignored a malformed backplane envelope: ${detail}. Is another program publishing on these channels?`);
}

const isStr = (v: unknown): v is string => typeof v === 'string';
const OPS = new Set<unknown>(Object.values(TransportOp));

/** Decodes and validates an envelope; throws SB_BACKPLANE_INVALID on anything malformed. */
export function decodeEnvelope(bytes: Uint8Array): Envelope {
  let v: unknown;
  try {
    v = decoder.decode(bytes);
  } catch (err) {
    throw bad(`not MessagePack (${(err as Error).message})`);
  }
  if (!Array.isArray(v)) throw bad('not an array');
  switch (v[0]) {
    case EnvelopeKind.Send: {
      const [, origin, target, name, excluded, payloads, sentAt, final] = v;
      if (!isStr(origin) || typeof target !== 'number' || target < 0 || target > 3 || !isStr(name)) throw bad('bad send header');
      if (!Array.isArray(excluded) || !excluded.every(isStr)) throw bad('bad excluded list');
      if (typeof payloads !== 'object' || payloads === null) throw bad('bad payload map');
      const map = new Map<string, Uint8Array>();
      for (const [k, b] of Object.entries(payloads)) if (b instanceof Uint8Array) map.set(k, b);
      if (!map.size) throw bad('no payloads');
      const send: Extract<Envelope, { kind: 1 }> = { kind: EnvelopeKind.Send, origin, target: target as TargetKind, name, excluded, payloads: map };
      if (typeof sentAt === 'number' && Number.isFinite(sentAt)) send.sentAt = sentAt;
      else if (sentAt !== undefined && sentAt !== null) throw bad('bad send time');
      if (final === true && target === TargetKind.Group) send.final = true;
      return send;
    }
    case EnvelopeKind.GroupCommand: {
      const [, requestId, replyTo, action, connectionId, group] = v;
      if (!isStr(requestId) || !isStr(replyTo) || (action !== 1 && action !== 2) || !isStr(connectionId) || !isStr(group)) throw bad('bad group command');
      return { kind: EnvelopeKind.GroupCommand, requestId, replyTo, action, connectionId, group };
    }
    case EnvelopeKind.Invoke: {
      const [, requestId, replyTo, connectionId, target, args, timeoutMs] = v;
      if (!isStr(requestId) || !isStr(replyTo) || !isStr(connectionId) || !isStr(target) || !Array.isArray(args) || typeof timeoutMs !== 'number') throw bad('bad invoke');
      return { kind: EnvelopeKind.Invoke, requestId, replyTo, connectionId, target, args, timeoutMs };
    }
    case EnvelopeKind.Reply: {
      const [, requestId, ok, value, code] = v;
      if (!isStr(requestId) || typeof ok !== 'boolean') throw bad('bad reply');
      return { kind: EnvelopeKind.Reply, requestId, ok, value, ...(isStr(code) ? { code } : {}) };
    }
    case EnvelopeKind.TransportRequest: {
      const [, requestId, replyTo, connectionId, op, body] = v;
      if (!isStr(requestId) || !isStr(replyTo) || !isStr(connectionId) || !OPS.has(op as number)) throw bad('bad transport request');
      if (body !== null && !(body instanceof Uint8Array)) throw bad('bad transport request body');
      return { kind: EnvelopeKind.TransportRequest, requestId, replyTo, connectionId, op: op as TransportOp, body };
    }
    case EnvelopeKind.TransportAbort: {
      const [, requestId, replyTo] = v;
      if (!isStr(requestId) || !isStr(replyTo)) throw bad('bad transport abort');
      return { kind: EnvelopeKind.TransportAbort, requestId, replyTo };
    }
    case EnvelopeKind.GroupCount: {
      const [, requestId, replyTo, group] = v;
      if (!isStr(requestId) || !isStr(replyTo) || !isStr(group)) throw bad('bad group count');
      return { kind: EnvelopeKind.GroupCount, requestId, replyTo, group };
    }
    default:
      throw bad(`unknown kind ${String(v[0])}`);
  }
}

/** A transport request's answer as the value of a Reply: `[status, body, contentType | nil]`. */
export function encodeTransportReply(reply: TransportReply): unknown[] {
  return [reply.status, reply.body, reply.contentType ?? null];
}

/** Validates the value of a transport request's Reply; throws SB_BACKPLANE_INVALID when malformed. */
export function decodeTransportReply(value: unknown): TransportReply {
  const [status, body, contentType] = Array.isArray(value) ? value : [];
  if (typeof status !== 'number' || !(body instanceof Uint8Array)) throw bad('bad transport reply');
  return { status, body, ...(typeof contentType === 'string' ? { contentType } : {}) };
}
