// The public API of @switchboard/protocol, listed name by name (no `export *`): a helper added to
// a module stays internal until it is listed here, and test/repo/public-api.test.ts snapshots
// this list. Marked `@internal`: exported for the other Switchboard packages and their tests, not
// for users; they may change in any release.

// Hub messages: the one discriminated union, with explicit type numbers.
export {
  MessageType,
  PING,
  completionWithError,
  completionWithResult,
  voidCompletion,
  isTrackable,
  type HubMessage,
  type MessageHeaders,
  type InvocationMessage,
  type StreamInvocationMessage,
  type StreamItemMessage,
  type CompletionMessage,
  type CancelInvocationMessage,
  type PingMessage,
  type CloseMessage,
  type AckMessage,
  type SequenceMessage,
} from './messages.js';
// The error registry.
export { ERROR_CODES, SwitchboardError, isSwitchboardError, type ErrorCode } from './errors.js';
// Hub protocols.
export type { HubProtocol, FrameReader, TransferFormat } from './hub-protocol.js';
export { jsonHubProtocol } from './json-protocol.js';
export { messagePackHubProtocol } from './msgpack-protocol.js';
export { MAX_JSON_DEPTH, MAX_MSGPACK_DEPTH } from './depth.js';
// Handshake.
export { HANDSHAKE_OK, parseHandshake, selectProtocol, writeHandshakeError, type HandshakeRequest, type HandshakeParse, type ProtocolSelection } from './handshake.js';
// Negotiate.
export {
  TRANSPORT_FORMATS,
  WebSocketCloseCode,
  type TransportName,
  type AvailableTransport,
  type NegotiateResponse,
  type NegotiateResponseV1,
  type NegotiateRedirect,
  type NegotiateError,
} from './negotiate.js';
// Framing.
export { RECORD_SEPARATOR, RECORD_SEPARATOR_CHAR, TextFrameReader } from './text-format.js';
export { BinaryFrameReader, writeVarint } from './binary-format.js';
/** @internal Joins byte arrays (hub-server's buffers). */
export { concat } from './text-format.js';
