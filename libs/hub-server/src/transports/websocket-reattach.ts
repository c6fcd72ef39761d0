import type { WebSocket } from 'ws';
import type { HubEndpoint } from '../hub/hub-endpoint.js';
import type { Logger } from '../telemetry/logger.js';
import { refusals } from '../refusals.js';
import { TransportOp } from '../scaleout/transport-routing.js';

/**
 * WebSocket upgrades under stateful reconnect (protocol doc section 6.3).
 *
 * A client whose socket dropped opens a new WebSocket at the same URL (same `?id=` token), sends
 * a Sequence and replays what we did not acknowledge; it sends no handshake. On the node that holds
 * the connection the new socket simply replaces the old one (`reattachHubSocket` in attach.ts).
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

const NOT_FOUND = { kind: 'refuse', status: 404, text: refusals.noConnection } as const;

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
      if (reply?.status === 409) return { kind: 'refuse', status: 409, text: refusals.webSocketActive };
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
