import { SwitchboardError, type ErrorCode } from '@switchboard/protocol';
import { CLOSE_ERROR_TEXT, type HubConnection } from './connection.js';
import type { RawConnection, RawConnectionHandler } from './raw-endpoint.js';
import type { Transport } from './transport.js';

/** A connection over an HTTP transport, as that transport drives it: a hub connection or a raw one. */
export interface SessionSink {
  receive(chunk: Uint8Array, text: boolean): void;
  /** The transport ended (stream closed, DELETE, disposal); `error` when it failed. No-op once ended. */
  transportClosed(error: Error | undefined): void;
  /** Closes with an error Close that allows reconnecting: input the transport refused. */
  fail(code: ErrorCode, message: string): void;
}

export function hubSink(connection: HubConnection): SessionSink {
  return {
    receive: (chunk) => connection.receive(chunk),
    transportClosed: (error) => connection.transportClosed(error),
    fail: (code, message) => connection.close({ error: `${CLOSE_ERROR_TEXT} ${code}: ${message}`, allowReconnect: true, cause: new SwitchboardError(code, message) }),
  };
}

/** A raw connection (no hub protocol) over an HTTP transport; `onEnded` runs once. */
export function rawSink(handler: RawConnectionHandler, transport: Transport, connectionId: string, onEnded: () => void): SessionSink {
  let ended = false;
  const end = () => {
    if (ended) return;
    ended = true;
    transport.close(1000);
    handler.onClosed?.(conn);
    onEnded();
  };
  const conn: RawConnection = { connectionId, send: (data, text) => !ended && transport.send(data, text), close: end };
  handler.onConnected?.(conn);
  return {
    receive: (chunk, text) => {
      if (!ended) handler.onData(conn, chunk, text);
    },
    transportClosed: end,
    fail: end,
  };
}
