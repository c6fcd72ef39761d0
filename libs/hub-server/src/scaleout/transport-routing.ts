/**
 * Routing of HTTP transport requests (Server-Sent Events, long polling) between hub nodes.
 *
 * An HTTP-transport connection lives on one node (its owner: the node that received its first
 * transport request). Its later requests may land on any node (no sticky sessions); a node that
 * does not hold the connection forwards the request to the owner through the scale-out, and the
 * owner answers with the status and body the client gets.
 */

/** What a forwarded request asks the owner to do. Numbers are part of the backplane envelope. */
export const TransportOp = {
  /** POST: the body is delivered to the connection; reply 200 once it was. */
  Send: 1,
  /** Long-polling GET: reply with pending bytes, or wait for them up to the poll timeout. */
  Poll: 2,
  /** DELETE: the long-polling client is leaving; reply 202 and dispose of the connection. */
  Delete: 3,
  /** An SSE GET for a connection that already exists elsewhere: the owner says 400 or 409. */
  Stream: 4,
  /** A POST body over the size limit: the owner closes the connection with an error and replies 413. */
  Oversize: 5,
  /**
   * A WebSocket upgrade for this connection arrived at another node (a stateful-reconnect
   * reattach): 200 = the owner waits for it (send the client back to try again), 409 = it has a
   * WebSocket that cannot be taken over, 404 = gone or given up. See websocket-reattach.ts.
   */
  Reattach: 6,
} as const;
export type TransportOp = (typeof TransportOp)[keyof typeof TransportOp];

export interface ForwardedRequest {
  readonly op: TransportOp;
  readonly connectionId: string;
  /** The POST body (Send only). */
  readonly body?: Uint8Array;
  /** The POST declared a text Content-Type (raw connections tell text from binary by it); not forwarded. */
  readonly text?: boolean;
  /**
   * Aborted when the client's request went away before the reply (a poll the client abandoned):
   * the owner then keeps any pending data for the next poll instead of answering into the void.
   */
  readonly signal: AbortSignal;
}

/** The HTTP answer to a transport request, as the owner produced it. */
export interface TransportReply {
  readonly status: number;
  readonly body: Uint8Array;
  /** Absent for empty bodies. */
  readonly contentType?: string;
}

export type TransportRequestHandler = (request: ForwardedRequest) => Promise<TransportReply>;

/**
 * The optional scale-out capability that carries HTTP transport requests to the owning node.
 * Without it (the in-memory single-node scale-out) routing is local: a connection this node
 * does not hold does not exist.
 *
 * Contract:
 * - `hold` resolves once requests forwarded by any node for that connection reach this node's
 *   handler; holds are counted, and `release` undoes one.
 * - `forward` resolves with the owner's reply; with `undefined` when no node holds the
 *   connection (answered at once, without waiting for a timeout); rejects with
 *   SB_BACKPLANE_UNAVAILABLE when the bus is down and SB_BACKPLANE_TIMEOUT when the owner does
 *   not answer within `timeoutMs`. Aborting `signal` tells the owner the client went away.
 * - Requests from one node for one connection reach the owner in the order they were forwarded.
 */
export interface TransportRouter {
  /** Registers the handler for requests forwarded to this node (one per hub endpoint). */
  serveTransport(handler: TransportRequestHandler): void;
  holdConnection(connectionId: string): Promise<void>;
  releaseConnection(connectionId: string): Promise<void>;
  forwardTransport(request: ForwardedRequest, timeoutMs: number): Promise<TransportReply | undefined>;
}
