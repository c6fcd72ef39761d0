import { MAX_JSON_DEPTH, jsonDepthExceeds } from './depth.js';
import { SwitchboardError } from './errors.js';
import type { FrameReader, HubProtocol } from './hub-protocol.js';
import { MessageType, type HubMessage, type MessageHeaders } from './messages.js';
import { RECORD_SEPARATOR_CHAR, TextFrameReader } from './text-format.js';
import { base64Encode, formatDate } from './values.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * JSON.stringify replacer: bytes become base64 strings and dates ISO-8601 without a fractional
 * part when it is zero, as ASP.NET writes them (the official tests compare the exact text).
 * `this[key]` is the raw value, before Date.prototype.toJSON / Buffer.prototype.toJSON ran.
 */
function replacer(this: Record<string, unknown>, key: string, value: unknown): unknown {
  const raw = this[key];
  // An invalid Date becomes null, as Date.prototype.toJSON (and the official client) makes it.
  if (raw instanceof Date) return Number.isNaN(raw.getTime()) ? null : formatDate(raw);
  if (raw instanceof Uint8Array) return base64Encode(raw);
  return value;
}

function invalid(detail: string): SwitchboardError {
  return new SwitchboardError('SB_PROTOCOL_INVALID_MESSAGE', `Invalid JSON hub message: ${detail}.`);
}

function str(obj: Record<string, unknown>, key: string, required: boolean): string | undefined {
  const v = obj[key];
  if (v === undefined || v === null) {
    if (required) throw invalid(`'${key}' is required`);
    return undefined;
  }
  if (typeof v !== 'string') throw invalid(`'${key}' must be a string`);
  return v;
}

function headersOf(obj: Record<string, unknown>): MessageHeaders | undefined {
  const h = obj['headers'];
  if (h === undefined || h === null) return undefined;
  if (typeof h !== 'object' || Array.isArray(h)) throw invalid(`'headers' must be an object`);
  return h as MessageHeaders;
}

function streamIdsOf(obj: Record<string, unknown>): string[] | undefined {
  const s = obj['streamIds'];
  if (s === undefined || s === null) return undefined;
  if (!Array.isArray(s) || s.some((x) => typeof x !== 'string')) throw invalid(`'streamIds' must be an array of strings`);
  return s.length ? (s as string[]) : undefined;
}

function argumentsOf(obj: Record<string, unknown>): unknown[] {
  const a = obj['arguments'];
  if (!Array.isArray(a)) throw invalid(`'arguments' must be an array`);
  return a;
}

function sequenceIdOf(obj: Record<string, unknown>): number {
  const n = obj['sequenceId'];
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) throw invalid(`'sequenceId' must be a non-negative integer`);
  return n;
}

/** Converts a parsed JSON object into a typed hub message, validating the fields its type needs. */
export function jsonToMessage(value: unknown): HubMessage {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid('not a JSON object');
  const obj = value as Record<string, unknown>;
  const type = obj['type'];
  if (typeof type !== 'number') throw invalid(`'type' must be a number`);
  switch (type) {
    case MessageType.Invocation: {
      const invocationId = str(obj, 'invocationId', false);
      const streamIds = streamIdsOf(obj);
      const headers = headersOf(obj);
      return {
        type,
        target: str(obj, 'target', true)!,
        arguments: argumentsOf(obj),
        ...(invocationId ? { invocationId } : {}),
        ...(streamIds ? { streamIds } : {}),
        ...(headers ? { headers } : {}),
      };
    }
    case MessageType.StreamInvocation: {
      const streamIds = streamIdsOf(obj);
      return {
        type,
        invocationId: str(obj, 'invocationId', true)!,
        target: str(obj, 'target', true)!,
        arguments: argumentsOf(obj),
        ...(streamIds ? { streamIds } : {}),
      };
    }
    case MessageType.StreamItem:
      if (!('item' in obj)) throw invalid(`a StreamItem needs an 'item'`);
      return { type, invocationId: str(obj, 'invocationId', true)!, item: obj['item'] };
    case MessageType.Completion: {
      const invocationId = str(obj, 'invocationId', true)!;
      const error = str(obj, 'error', false);
      if (error !== undefined) {
        if ('result' in obj && obj['result'] !== null) throw invalid('a Completion cannot carry both a result and an error');
        return { type, invocationId, error };
      }
      if ('result' in obj) return { type, invocationId, result: obj['result'], hasResult: true };
      return { type, invocationId };
    }
    case MessageType.CancelInvocation:
      return { type, invocationId: str(obj, 'invocationId', true)! };
    case MessageType.Ping:
      return { type };
    case MessageType.Close: {
      const error = str(obj, 'error', false);
      const allowReconnect = obj['allowReconnect'] === true;
      return { type, ...(error ? { error } : {}), ...(allowReconnect ? { allowReconnect } : {}) };
    }
    case MessageType.Ack:
    case MessageType.Sequence:
      return { type, sequenceId: sequenceIdOf(obj) };
    default:
      throw invalid(`unknown message type ${type}`);
  }
}

/** Builds the JSON object written on the wire, in ASP.NET's property order (type first). */
export function messageToJson(message: HubMessage): Record<string, unknown> {
  switch (message.type) {
    case MessageType.Invocation:
    case MessageType.StreamInvocation: {
      const out: Record<string, unknown> = { type: message.type };
      if (message.headers) out['headers'] = message.headers;
      if (message.invocationId) out['invocationId'] = message.invocationId;
      out['target'] = message.target;
      out['arguments'] = message.arguments;
      if (message.streamIds?.length) out['streamIds'] = message.streamIds;
      return out;
    }
    case MessageType.StreamItem:
      return { type: message.type, invocationId: message.invocationId, item: message.item ?? null };
    case MessageType.Completion: {
      const out: Record<string, unknown> = { type: message.type, invocationId: message.invocationId };
      if (message.error !== undefined) out['error'] = message.error;
      else if (message.hasResult) out['result'] = message.result ?? null;
      return out;
    }
    case MessageType.CancelInvocation:
      return { type: message.type, invocationId: message.invocationId };
    case MessageType.Ping:
      return { type: message.type };
    case MessageType.Close: {
      const out: Record<string, unknown> = { type: message.type };
      if (message.error !== undefined) out['error'] = message.error;
      if (message.allowReconnect !== undefined) out['allowReconnect'] = message.allowReconnect;
      return out;
    }
    case MessageType.Ack:
    case MessageType.Sequence:
      return { type: message.type, sequenceId: message.sequenceId };
  }
}

/** How deep `plainJson` looks before it leaves the value to the replacer (which also ends a cycle's scan). */
const PLAIN_SCAN_DEPTH = 32;

/**
 * True when `JSON.stringify(value)` without the replacer writes what it writes with it: nothing
 * inside is a Date, a Uint8Array or an object with its own `toJSON` (whose output the replacer
 * would see). A replacer turns off V8's fast serializer and costs a call per key (measured: about
 * 3x the time of the plain call for a small invocation), while this scan is one pass over the
 * values. A Date is caught by its `toJSON`; a Buffer too, a bare Uint8Array by its type.
 * Inherited enumerable keys are visited too (harmless: at worst the replacer path runs). Deep or
 * cyclic values answer false at the depth limit, so a cycle still ends in JSON.stringify's
 * TypeError after a short scan.
 */
function plainJson(value: unknown, depth: number): boolean {
  if (typeof value !== 'object' || value === null) return true;
  if (depth > PLAIN_SCAN_DEPTH || value instanceof Uint8Array) return false;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (!plainJson(value[i], depth + 1)) return false;
    return true;
  }
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return false;
  for (const key in value) if (!plainJson((value as Record<string, unknown>)[key], depth + 1)) return false;
  return true;
}

/** Serializes to the JSON text of one framed message (with the trailing RS). */
export function writeJsonText(message: HubMessage): string {
  const json = messageToJson(message);
  return (plainJson(json, 0) ? JSON.stringify(json) : JSON.stringify(json, replacer)) + RECORD_SEPARATOR_CHAR;
}

export const jsonHubProtocol: HubProtocol = {
  name: 'json',
  version: 2,
  transferFormat: 'Text',
  createReader(maxMessageSize: number): FrameReader {
    return new TextFrameReader(maxMessageSize);
  },
  parse(body: Uint8Array): HubMessage {
    if (jsonDepthExceeds(body, MAX_JSON_DEPTH)) {
      throw new SwitchboardError('SB_PROTOCOL_INVALID_JSON', `A JSON hub message nests arrays and objects deeper than ${MAX_JSON_DEPTH} levels (the limit ASP.NET applies too).`);
    }
    let value: unknown;
    try {
      // Any failure, including a RangeError from an engine whose parser recurses, is the client's bad input.
      value = JSON.parse(decoder.decode(body));
    } catch (err) {
      throw new SwitchboardError(
        'SB_PROTOCOL_INVALID_JSON',
        `A JSON hub message is not valid UTF-8 JSON (${(err as Error).message}). Each message must be one JSON object followed by the 0x1E record separator.`,
      );
    }
    return jsonToMessage(value);
  },
  write(message: HubMessage): Uint8Array {
    return encoder.encode(writeJsonText(message));
  },
};
