import { SwitchboardError, type ErrorCode } from '@switchboard/protocol';
import type { WebSocket } from 'ws';
import type { HubConnection } from '../connection/connection.js';
import { CLOSE_ERROR_TEXT } from '../connection/connection-output.js';
import type { Transport } from '../connection/transport.js';
import type { RawConnection, RawConnectionHandler } from '../hub/raw-endpoint.js';
import { transportOf, WebSocketTransport, type SocketOwner } from './websocket-transport.js';
import { releaseReadBuffers } from './ws-internals.js';

/*
 * Attaching a transport to a connection, for every transport and both kinds of connection, in one
 * place: the events of a WebSocket (first socket or a stateful-reconnect reattach) and the sinks
 * the HTTP transports (SSE, long polling) feed. A hub connection gets the transport's units and
 * its end; a raw connection (no hub protocol) gets its handler called.
 */

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

/**
 * Connects a socket's events to a hub connection (the transport's owner). Only the transport's
 * current socket counts, so a replaced socket's late close or message is ignored. A close without
 * a clean status (1000, 1001, or none) or a socket error reports an error: with stateful reconnect
 * the connection then waits for a reattach instead of ending.
 *
 * The listeners are module-level functions shared by every socket (ws calls them with the socket
 * as `this`; `transportOf` finds its transport): three closures and their context per connection
 * were about 220 bytes of every idle connection.
 */
export function attachHubSocket(ws: WebSocket, connection: HubConnection, transport: WebSocketTransport): void {
  transport.owner ??= connection;
  ws.on('message', onHubSocketMessage);
  ws.on('close', onHubSocketClose);
  ws.on('error', onHubSocketError);
}

/** The owner of `ws`'s transport when `ws` is that transport's current socket. */
function ownerOf(ws: WebSocket): SocketOwner | undefined {
  const transport = transportOf(ws);
  return transport?.socket === ws ? transport.owner : undefined;
}

function onHubSocketMessage(this: WebSocket, data: Buffer): void {
  ownerOf(this)?.receive(data);
  releaseReadBuffers(this);
}

function onHubSocketClose(this: WebSocket, code: number): void {
  ownerOf(this)?.transportClosed(code === 1000 || code === 1001 || code === 1005 ? undefined : new Error(`WebSocket closed with status code ${code}.`));
}

function onHubSocketError(this: WebSocket, err: Error): void {
  const owner = ownerOf(this);
  if (!owner) return;
  owner.options.logger.warn({ connectionId: owner.connectionId, err }, 'WebSocket error');
  owner.transportClosed(err);
}

/** Takes a connection over with a new socket (a reattach on the owning node). */
export function reattachHubSocket(ws: WebSocket, connection: HubConnection, transport: WebSocketTransport): void {
  if (!connection.resumable) {
    // It ended (or was refused) while the upgrade completed.
    ws.on('error', () => ws.terminate());
    ws.close(1000);
    return;
  }
  transport.replaceSocket(ws);
  attachHubSocket(ws, connection, transport);
  connection.reattached();
}

/**
 * A raw connection over a WebSocket: every message goes to the handler as it came (text or
 * binary), its close ends the connection; `onEnded` runs then (the server's bookkeeping).
 */
export function attachRawSocket(ws: WebSocket, connectionId: string, handler: RawConnectionHandler, onEnded: () => void): void {
  const transport = new WebSocketTransport(ws);
  const conn: RawConnection = { connectionId, send: (data, text) => transport.send(data, text), close: () => transport.close(1000) };
  ws.on('message', (data: Buffer, isBinary: boolean) => handler.onData(conn, data, !isBinary));
  ws.on('close', () => {
    onEnded();
    handler.onClosed?.(conn);
  });
  ws.on('error', () => ws.terminate());
  handler.onConnected?.(conn);
}
