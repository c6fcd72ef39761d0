/**
 * The one registry of Switchboard error codes. Every user-visible failure carries one of these
 * codes and a message that says what to do. `ERROR_CODES` is checked against the docs by a test.
 */
export const ERROR_CODES = {
  SB_PROTOCOL_MESSAGE_TOO_LARGE: 'An incoming message is larger than the maximum message size.',
  SB_PROTOCOL_INVALID_JSON: 'A JSON hub message is not valid JSON.',
  SB_PROTOCOL_INVALID_MESSAGE: 'A hub message does not have the fields its type requires.',
  SB_PROTOCOL_INVALID_MSGPACK: 'A MessagePack hub message cannot be decoded.',
  SB_PROTOCOL_INVALID_VARINT: 'A MessagePack length prefix is malformed or too large.',
  SB_PROTOCOL_INVALID_SEQUENCE: 'A stateful-reconnect Sequence message names an id beyond the messages the server received.',
  SB_HANDSHAKE_INVALID: 'The handshake request is not valid JSON with a string protocol and an integer version.',
  SB_HANDSHAKE_UNSUPPORTED_PROTOCOL: 'The handshake names a protocol this server does not support.',
  SB_HANDSHAKE_UNSUPPORTED_VERSION: 'The handshake asks for a newer protocol version than this server supports.',
  SB_HANDSHAKE_TRANSFER_FORMAT: 'The protocol needs a transfer format the transport cannot carry.',
  SB_HANDSHAKE_TIMEOUT: 'The client did not complete the handshake in time.',
  SB_CONNECTION_NOT_FOUND: 'No connection with that id exists.',
  SB_CONNECTION_CLOSED: 'The connection closed before the operation finished.',
  SB_CLIENT_RESULT_ERROR: "The client's handler threw, returned nothing, or has no handler for the method.",
  SB_CLIENT_RESULT_TIMEOUT: 'The client did not answer a client-result invocation in time.',
  SB_SERVER_TIMEOUT: 'The client sent nothing within the client timeout.',
  SB_TRANSPORT_INACTIVE: 'A long-polling connection had no poll for the disconnect timeout and was disposed.',
  SB_TRANSPORT_BODY_TOO_LARGE: 'A POST body on Server-Sent Events or long polling is larger than the limit.',
  SB_RECONNECT_TIMEOUT: 'A stateful-reconnect connection lost its WebSocket and was not reattached within the disconnect timeout.',
  SB_RECONNECT_BUFFER_FULL: 'A stateful-reconnect client acknowledged too little: the messages held for it exceeded maxBufferedBytes.',
  SB_INVOCATION_LIMIT: 'A connection sent more invocations than it may have in flight.',
  SB_CONNECTION_LIMIT: 'The hub node holds its maximum number of connections.',
  SB_AUTH_REQUIRED: 'The request needs a valid access token.',
  SB_ORIGIN_NOT_ALLOWED: 'A browser page on an origin that is not listed tried to open a WebSocket.',
  SB_BACKPLANE_UNAVAILABLE: 'The backplane (Redis) cannot be reached, so a cross-node operation failed.',
  SB_BACKPLANE_TIMEOUT: 'The node holding a connection did not answer a backplane request in time.',
  SB_BACKPLANE_INVALID: 'A backplane message could not be decoded and was ignored.',
  SB_JOB_UNKNOWN: 'A job name that no job definition has.',
  SB_JOB_INVALID_DATA: 'Job data that does not fit the job type.',
  SB_JOB_NOT_FOUND: 'A job id that is unknown or expired.',
  SB_JOB_FORBIDDEN: 'A job that belongs to another user.',
  SB_JOB_CANCELLED: 'The job was cancelled.',
  SB_HTTP_METHOD: 'An HTTP endpoint was called with a method it does not take.',
  SB_HTTP_CONTENT_TYPE: 'A request body was not sent as application/json.',
  SB_HTTP_INVALID_JSON: 'A request body is not valid JSON.',
  SB_HTTP_INVALID_BODY: 'A request body does not have the shape the endpoint takes.',
  SB_HTTP_BODY_TOO_LARGE: 'A request body is larger than the endpoint accepts.',
  SB_JOBS_UNAVAILABLE: 'Jobs are not available on this hub node (it runs without Redis).',
  SB_JOB_STATE_CONFLICT: 'An action that the job\'s state does not allow (retry a job that did not fail, remove one that has not finished).',
  SB_JOB_LIST_INVALID: 'A job list query with a bad state, name, limit or cursor.',
  SB_JOB_OPTIONS_INVALID: 'Enqueue options with a bad delay, priority or idempotency key.',
  SB_JOB_SET_INVALID: 'A job set (JOBS_MODULE, or the jobs option) that is not an array of distinct job definitions.',
  SB_JOB_NOT_IN_WORKER_SET: 'A worker took a job whose name is not in its own job set.',
  SB_INTERNAL: 'The server failed unexpectedly; details are in its log.',
  SB_CONFIG_INVALID: 'An option has an invalid value.',
} as const;
export type ErrorCode = keyof typeof ERROR_CODES;

/** An error with a stable code from {@link ERROR_CODES}. */
export class SwitchboardError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SwitchboardError';
    this.code = code;
  }
}

export function isSwitchboardError(err: unknown, code?: ErrorCode): err is SwitchboardError {
  return err instanceof SwitchboardError && (code === undefined || err.code === code);
}
