import { SwitchboardError } from './errors.js';
import type { HubProtocol, TransferFormat } from './hub-protocol.js';
import { RECORD_SEPARATOR, RECORD_SEPARATOR_CHAR } from './text-format.js';

/** What the client asks for in its first message: `{"protocol":"json","version":1}` + RS. */
export interface HandshakeRequest {
  readonly protocol: string;
  readonly version: number;
}

export type HandshakeParse =
  /** The RS has not arrived yet: wait for more bytes. */
  | { readonly done: false }
  /** A complete request; `rest` holds the bytes after the RS (hub messages sent right behind it). */
  | { readonly done: true; readonly request: HandshakeRequest; readonly rest: Uint8Array };

const decoder = new TextDecoder('utf-8', { fatal: true });
const encoder = new TextEncoder();

/** The success reply, exactly `{}` + RS (bytes 7B 7D 1E). */
export const HANDSHAKE_OK: Uint8Array = encoder.encode(`{}${RECORD_SEPARATOR_CHAR}`);

/** Encodes the error reply `{"error":"..."}` + RS; the server closes the connection after it. */
export function writeHandshakeError(error: string): Uint8Array {
  return encoder.encode(JSON.stringify({ error }) + RECORD_SEPARATOR_CHAR);
}

function bad(detail: string): SwitchboardError {
  return new SwitchboardError('SB_HANDSHAKE_INVALID', `Invalid handshake request: ${detail}. Send {"protocol":"json","version":1} followed by 0x1E.`);
}

/**
 * Parses the handshake from the start of `data`. Extra properties are ignored and order does not
 * matter; `protocol` (string) and `version` (integer) are required. The request is always JSON text,
 * whatever the hub protocol (it may arrive in a binary WebSocket frame).
 */
export function parseHandshake(data: Uint8Array): HandshakeParse {
  const end = data.indexOf(RECORD_SEPARATOR);
  if (end < 0) return { done: false };
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(data.subarray(0, end)));
  } catch {
    throw bad('not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw bad('not a JSON object');
  const obj = value as Record<string, unknown>;
  if (typeof obj['protocol'] !== 'string') throw bad(`'protocol' must be a string`);
  if (typeof obj['version'] !== 'number' || false) throw bad(`'version' must be an integer`);
  return { done: true, request: { protocol: obj['protocol'], version: obj['version'] }, rest: data.subarray(end + 1) };
}

/** The result of matching a handshake request against the server's protocols and the transport. */
export type ProtocolSelection =
  | { readonly ok: true; readonly protocol: HubProtocol; readonly version: number }
  | { readonly ok: false; readonly error: string; readonly code: SwitchboardError['code'] };

/** Picks the protocol for a handshake, with ASP.NET's exact error texts. */
export function selectProtocol(
  request: HandshakeRequest,
  protocols: readonly HubProtocol[],
  transportFormats: readonly TransferFormat[],
): ProtocolSelection {
  const protocol = protocols.find((p) => p.name === request.protocol);
  if (!protocol) {
    return { ok: false, code: 'SB_HANDSHAKE_UNSUPPORTED_PROTOCOL', error: `The protocol '${request.protocol}' is not supported.` };
  }
  if (request.version > protocol.version || request.version < 0) {
    return {
      ok: false,
      code: 'SB_HANDSHAKE_UNSUPPORTED_VERSION',
      error: `The server does not support version ${request.version} of the '${request.protocol}' protocol.`,
    };
  }
  if (!transportFormats.includes(protocol.transferFormat)) {
    return {
      ok: false,
      code: 'SB_HANDSHAKE_TRANSFER_FORMAT',
      error: `Cannot use the '${protocol.name}' protocol on the current transport. The transport does not support '${protocol.transferFormat}' transfer format.`,
    };
  }
  return { ok: true, protocol, version: request.version };
}
