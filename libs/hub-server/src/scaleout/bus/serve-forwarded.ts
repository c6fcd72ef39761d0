import { refusals } from '../../refusals.js';
import type { Logger } from '../../telemetry/logger.js';
import type { TransportReply, TransportRequestHandler } from '../transport-routing.js';
import type { Envelope } from './envelope.js';

const TEXT = 'text/plain; charset=utf-8';

/**
 * Serves an HTTP transport request another node forwarded to this one (the connection's owner):
 * the handler's reply, 404 without a handler, 500 (logged) when it threw. Undefined when the
 * origin aborted it meanwhile (its client went away: nothing is answered). `served` holds the
 * request's abort controller, by `${replyTo} ${requestId}`, while it runs.
 */
export async function serveForwarded(
  e: Extract<Envelope, { kind: 5 }>,
  handler: TransportRequestHandler | undefined,
  served: Map<string, AbortController>,
  logger: Logger,
): Promise<TransportReply | undefined> {
  const key = `${e.replyTo} ${e.requestId}`;
  const controller = new AbortController();
  served.set(key, controller);
  let reply: TransportReply;
  try {
    reply = handler
      ? await handler({ op: e.op, connectionId: e.connectionId, ...(e.body ? { body: e.body } : {}), signal: controller.signal })
      : { status: 404, body: Buffer.from(refusals.noConnection), contentType: TEXT };
  } catch (err) {
    logger.error({ err, connectionId: e.connectionId }, 'backplane: serving a forwarded transport request failed');
    reply = { status: 500, body: Buffer.from('The hub node holding the connection failed; see its log.'), contentType: TEXT };
  } finally {
    served.delete(key);
  }
  return controller.signal.aborted ? undefined : reply;
}
