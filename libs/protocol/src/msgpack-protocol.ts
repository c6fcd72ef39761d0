import { Decoder, Encoder } from '@msgpack/msgpack';
import { BinaryFrameReader, frameBinary } from './binary-format.js';
import { MAX_MSGPACK_DEPTH, valueDepthExceeds } from './depth.js';
import { SwitchboardError } from './errors.js';
import type { FrameReader, HubProtocol } from './hub-protocol.js';
import { MessageType, type HubMessage, type MessageHeaders } from './messages.js';

/** Completion result kinds of the MessagePack layout `[3, headers, id, kind, result?]`. */
const ResultKind = { Error: 1, Void: 2, NonVoid: 3 } as const;

// Default ext codec: Date <-> timestamp ext -1, bytes <-> bin, as the official client does.
const encoder = new Encoder();
const decoder = new Decoder();
const EMPTY_HEADERS: MessageHeaders = Object.freeze({}) as MessageHeaders;

function invalid(detail: string): SwitchboardError {
  return new SwitchboardError('SB_PROTOCOL_INVALID_MESSAGE', `Invalid MessagePack hub message: ${detail}.`);
}

function strAt(arr: unknown[], index: number, name: string, required: boolean): string | undefined {
  const v = arr[index];
  if (v === undefined || v === null) {
    if (required) throw invalid(`${name} (element ${index}) is required`);
    return undefined;
  }
  if (typeof v !== 'string') throw invalid(`${name} (element ${index}) must be a string`);
  return v;
}

function headersAt(arr: unknown[]): MessageHeaders | undefined {
  const h = arr[1];
  if (h === undefined || h === null) return undefined;
  if (typeof h !== 'object' || Array.isArray(h) || h instanceof Uint8Array) throw invalid('headers must be a map');
  return Object.keys(h).length ? (h as MessageHeaders) : undefined;
}

function streamIdsAt(arr: unknown[]): string[] | undefined {
  const s = arr[5];
  if (s === undefined || s === null) return undefined;
  if (!Array.isArray(s) || s.some((x) => typeof x !== 'string')) throw invalid('streamIds must be an array of strings');
  return s.length ? (s as string[]) : undefined;
}

function argsAt(arr: unknown[]): unknown[] {
  const a = arr[4];
  if (!Array.isArray(a)) throw invalid('arguments (element 4) must be an array');
  return a;
}

function minLength(arr: unknown[], n: number, what: string): void {
  if (arr.length < n) throw invalid(`${what} needs at least ${n} elements, got ${arr.length}`);
}

/** Converts a decoded MessagePack array into a typed hub message. Tolerates the client's short forms. */
export function arrayToMessage(value: unknown): HubMessage {
  if (!Array.isArray(value) || value.length === 0) throw invalid('a message must be a non-empty array');
  const type = value[0];
  if (typeof type !== 'number') throw invalid('the message type must be an integer');
  switch (type) {
    case MessageType.Invocation: {
      minLength(value, 5, 'Invocation');
      const headers = headersAt(value);
      // An empty invocation id means fire-and-forget, like nil (ASP.NET behaves the same).
      const invocationId = strAt(value, 2, 'invocationId', false);
      const streamIds = streamIdsAt(value);
      return {
        type,
        target: strAt(value, 3, 'target', true)!,
        arguments: argsAt(value),
        ...(invocationId ? { invocationId } : {}),
        ...(streamIds ? { streamIds } : {}),
        ...(headers ? { headers } : {}),
      };
    }
    case MessageType.StreamInvocation: {
      minLength(value, 5, 'StreamInvocation');
      const streamIds = streamIdsAt(value);
      return {
        type,
        invocationId: strAt(value, 2, 'invocationId', true)!,
        target: strAt(value, 3, 'target', true)!,
        arguments: argsAt(value),
        ...(streamIds ? { streamIds } : {}),
      };
    }
    case MessageType.StreamItem:
      minLength(value, 4, 'StreamItem');
      return { type, invocationId: strAt(value, 2, 'invocationId', true)!, item: value[3] };
    case MessageType.Completion: {
      minLength(value, 4, 'Completion');
      const invocationId = strAt(value, 2, 'invocationId', true)!;
      const kind = value[3];
      if (kind === ResultKind.Error) return { type, invocationId, error: strAt(value, 4, 'error', true)! };
      if (kind === ResultKind.Void) return { type, invocationId };
      if (kind === ResultKind.NonVoid) {
        minLength(value, 5, 'Completion with a result');
        return { type, invocationId, result: value[4], hasResult: true };
      }
      throw invalid(`unknown completion result kind ${String(kind)}`);
    }
    case MessageType.CancelInvocation:
      minLength(value, 3, 'CancelInvocation');
      return { type, invocationId: strAt(value, 2, 'invocationId', true)! };
    case MessageType.Ping:
      return { type };
    case MessageType.Close: {
      const error = strAt(value, 1, 'error', false);
      const allowReconnect = value[2] === true;
      return { type, ...(error ? { error } : {}), ...(allowReconnect ? { allowReconnect } : {}) };
    }
    case MessageType.Ack:
    case MessageType.Sequence: {
      minLength(value, 2, 'Ack/Sequence');
      const n = value[1];
      if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) throw invalid('sequenceId must be a non-negative integer');
      return { type, sequenceId: n };
    }
    default:
      throw invalid(`unknown message type ${type}`);
  }
}

/** The spec array layout for a message, as ASP.NET writes it. */
export function messageToArray(message: HubMessage): unknown[] {
  switch (message.type) {
    case MessageType.Invocation:
      return [
        message.type,
        message.headers ?? EMPTY_HEADERS,
        message.invocationId ?? null,
        message.target,
        message.arguments,
        message.streamIds ?? [],
      ];
    case MessageType.StreamInvocation:
      return [message.type, message.headers ?? EMPTY_HEADERS, message.invocationId, message.target, message.arguments, message.streamIds ?? []];
    case MessageType.StreamItem:
      return [message.type, message.headers ?? EMPTY_HEADERS, message.invocationId, message.item ?? null];
    case MessageType.Completion:
      if (message.error !== undefined) return [message.type, message.headers ?? EMPTY_HEADERS, message.invocationId, ResultKind.Error, message.error];
      if (message.hasResult) return [message.type, message.headers ?? EMPTY_HEADERS, message.invocationId, ResultKind.NonVoid, message.result ?? null];
      return [message.type, message.headers ?? EMPTY_HEADERS, message.invocationId, ResultKind.Void];
    case MessageType.CancelInvocation:
      return [message.type, message.headers ?? EMPTY_HEADERS, message.invocationId];
    case MessageType.Ping:
      return [message.type];
    case MessageType.Close:
      return [message.type, message.error ?? null, message.allowReconnect ?? false];
    case MessageType.Ack:
    case MessageType.Sequence:
      return [message.type, message.sequenceId];
  }
}

export const messagePackHubProtocol: HubProtocol = {
  name: 'messagepack',
  version: 2,
  transferFormat: 'Binary',
  createReader(maxMessageSize: number): FrameReader {
    return new BinaryFrameReader(maxMessageSize);
  },
  parse(body: Uint8Array): HubMessage {
    let value: unknown;
    try {
      value = decoder.decode(body);
    } catch (err) {
      throw new SwitchboardError(
        'SB_PROTOCOL_INVALID_MSGPACK',
        `A MessagePack hub message cannot be decoded (${(err as Error).message}). Each message must be one MessagePack array prefixed by its varint length.`,
      );
    }
    // Each level takes at least one byte, so only bodies longer than the limit can exceed it.
    if (body.length > MAX_MSGPACK_DEPTH && valueDepthExceeds(value, MAX_MSGPACK_DEPTH)) {
      throw new SwitchboardError('SB_PROTOCOL_INVALID_MSGPACK', `A MessagePack hub message nests arrays and maps deeper than ${MAX_MSGPACK_DEPTH} levels.`);
    }
    return arrayToMessage(value);
  },
  write(message: HubMessage): Uint8Array {
    // frameBinary copies at once, so the encoder's own buffer can be read in place (no extra copy).
    return frameBinary(encoder.encodeSharedRef(messageToArray(message)));
  },
};
