import type { WebSocket } from 'ws';
import type { HubConnection } from './connection.js';
import type { HubEndpoint } from './hub-endpoint.js';
import type { Logger } from './logger.js';
import { TransportOp } from './transport-routing.js';
import { frameTooLargeError, type WebSocketTransport } from './websocket-transport.js';

/**
 * WebSocket upgrades under stateful reconnect (protocol doc section 6.3).
 *
 * A client whose socket dropped opens a new WebSocket at the same URL (same `?id=` token), sends
 * a Sequence and replays what we did not acknowledge; it sends no handshake. On the node that holds
 * the connection the new socket simply replaces the old one (`HubConnection.reattached`).
 *
 * Behind a load balancer without sticky sessions the reattach may land on another node, which
 * cannot take a live connection over (its invocations, streams, timers and groups live in the
 * owner's memory). That node asks the backplane whether an owner waits for this connection
 * (TransportOp.Reattach) and, if one does, accepts the upgrade and closes it with 1013 (Try Again
 * Later) once the client's first frame arrived. The official JS client treats the close of a
 * reattached socket like any socket loss: it opens one more WebSocket at the same URL, which the
 * balancer sends to the next node, and so on until one reaches the owner. The owner bounds these
 * bounces (32 per reattach); afterwards, or when no owner waits, the upgrade gets 404 and the
 * client closes as after any failed reattach (automatic reconnect then negotiates anew).
 */

/** How long a bounced socket waits for the client's first frame before it is closed anyway. */
const BOUNCE_WAIT_MS = 2000;
/** How long the owner gets to answer the backplane question; no answer counts as no owner. */
const PROBE_TIMEOUT_MS = 2000;
/** The close code of a bounced reattach (RFC 6455 1013, Try Again Later). */
export const REATTACH_ELSEWHERE_CLOSE_CODE = 1013;

/** What to do with an upgrade for a connection this node does not hold. */
export type ReattachVerdict =
  /** No node holds it: a first upgrade, create the connection here. */
  | { readonly kind: 'open' }
  /** Its owner is another node and waits for a reattach: accept, then close so the client tries again. */
  | { readonly kind: 'bounce' }
  | { readonly kind: 'refuse'; readonly status: number; readonly text: string };

const NOT_FOUND = { kind: 'refuse', status: 404, text: 'No Connection with that ID' } as const;

/**
 * Decides an upgrade with a valid token on an endpoint that grants stateful reconnect, for a
 * connection this node does not hold. `issuedAt`: when negotiate issued the token.
 */
export async function verdictForUnheld(
  hub: HubEndpoint,
  connectionId: string,
  issuedAt: number | undefined,
  options: { now: () => number; disconnectTimeoutMs: number; logger: Logger },
): Promise<ReattachVerdict> {
  const router = hub.scaleOut.transports;
  if (router) {
    try {
      const reply = await router.forwardTransport({ op: TransportOp.Reattach, connectionId, signal: new AbortController().signal }, PROBE_TIMEOUT_MS);
      if (reply?.status === 200) return { kind: 'bounce' };
      if (reply?.status === 409) return { kind: 'refuse', status: 409, text: 'This connection already has an active WebSocket.' };
      if (reply) return NOT_FOUND;
    } catch (err) {
      // The backplane cannot tell: treat it as a first upgrade (the usual case), as without one.
      options.logger.warn({ connectionId, error: (err as Error).message }, 'stateful reconnect: could not ask the backplane who holds a connection; opening it here');
    }
  }
  // A first upgrade follows negotiate at once (the rule HTTP transports apply too); a late one is
  // a reattach whose connection ended (or whose node died): the client must start over.
  if (issuedAt !== undefined && options.now() - issuedAt > options.disconnectTimeoutMs) return NOT_FOUND;
  return { kind: 'open' };
}

/** Sends a reattach on to another node: closes the socket (1013) after the client's first frame. */
export function bounceReattach(ws: WebSocket, connectionId: string, logger: Logger): void {
  const close = () => {
    clearTimeout(timer);
    if (ws.readyState === ws.OPEN) ws.close(REATTACH_ELSEWHERE_CLOSE_CODE, 'The connection is held by another hub node; try again.');
  };
  // Closing at once could reach the client before its replay went out, which ends its reattach.
  const timer = setTimeout(close, BOUNCE_WAIT_MS);
  timer.unref();
  ws.once('message', close);
  ws.on('error', () => ws.terminate());
  logger.info({ connectionId }, 'stateful reconnect: the reattach reached a node that does not hold the connection; asking the client to try again');
}

/**
 * Connects a socket's events to a hub connection. Only the transport's current socket counts, so
 * a replaced socket's late close or message is ignored. A close without a clean status (1000,
 * 1001, or none) or a socket error reports an error: with stateful reconnect the connection then
 * waits for a reattach instead of ending.
 */
export function wireHubSocket(ws: WebSocket, connection: HubConnection, transport: WebSocketTransport, logger: Logger): void {
  // Runs inside ws's receiver 'error' emit: a throw there would be an uncaught exception.
  transport.onFrameTooLarge ??= () => {
    try {
      connection.refuseInput(frameTooLargeError(connection.options.maxMessageSize));
    } catch (err) {
      logger.error({ connectionId: connection.connectionId, err }, 'answering an oversized WebSocket frame failed');
    }
  };
  ws.on('message', (data: Buffer) => {
    if (transport.socket === ws) connection.receive(data);
  });
  ws.on('close', (code: number) => {
    if (transport.socket !== ws) return;
    connection.transportClosed(code === 1000 || code === 1001 || code === 1005 ? undefined : new Error(`WebSocket closed with status code ${code}.`));
  });
  ws.on('error', (err) => {
    if (transport.socket !== ws) return;
    logger.warn({ connectionId: connection.connectionId, err }, 'WebSocket error');
    connection.transportClosed(err);
  });
}

/** Takes a connection over with a new socket (a reattach on the owning node). */
export function reattach(ws: WebSocket, connection: HubConnection, transport: WebSocketTransport, logger: Logger): void {
  if (!connection.resumable) {
    // It ended (or was refused) while the upgrade completed.
    ws.on('error', () => ws.terminate());
    ws.close(1000);
    return;
  }
  transport.replaceSocket(ws);
  wireHubSocket(ws, connection, transport, logger);
  connection.reattached();
}
